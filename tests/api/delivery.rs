//! Delivery that never stalls: a message that cannot be built or delivered holds back
//! only the later messages of its own Slack thread; it is retried with backoff, given up
//! after its tries, and shown to the admin with Retry and Discard.
//!
//! Layout in every test: thread A (root, reply) is queued before thread B (root, reply),
//! and A's root is the bad one. Under per-account order B would wait behind A.

use std::collections::HashMap;

use serde_json::{Value, json};
use slackdesk::jobs::deliver_once;
use slackdesk::storage::outbox;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::{
    Backend, Options, TestApp, event_callback, eventually, fake_slack, hidden_value, spawn_app_with,
};

const PUSH_PATH: &str = "/z/acme/api/v2/any_channel/push";
const A_ROOT: &str = "1700000001.000100";
const A_REPLY: &str = "1700000001.000200";
const B_ROOT: &str = "1700000002.000100";
const B_REPLY: &str = "1700000002.000200";
/// A thread that starts while A's root waits out its backoff.
const C_ROOT: &str = "1700000003.000100";

fn id(ts: &str) -> String {
    format!("slack:T0TEAM:C0CHAN:{ts}")
}

/// Zendesk's push: a request naming a resource in `refuse` gets that HTTP status;
/// otherwise each resource gets its code from `codes` (default `success`), and every
/// resource after a failed one is `halted`, as Zendesk documents.
#[derive(Clone, Default)]
struct ZendeskPush {
    refuse: HashMap<String, u16>,
    codes: HashMap<String, &'static str>,
}

impl Respond for ZendeskPush {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let resources = body["external_resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for resource in &resources {
            if let Some(status) = self
                .refuse
                .get(resource["external_id"].as_str().unwrap_or(""))
            {
                return ResponseTemplate::new(*status).set_body_json(
                    json!({"error": "InvalidValue", "description": "bad resource"}),
                );
            }
        }
        let mut failed = false;
        let results: Vec<Value> = resources
            .iter()
            .map(|r| {
                let external_id = r["external_id"].as_str().unwrap_or("");
                let code = if failed {
                    "halted"
                } else {
                    self.codes.get(external_id).copied().unwrap_or("success")
                };
                failed |= code != "success";
                json!({"external_resource_id": external_id, "status": {"code": code}})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
    }
}

/// An app with one account (push or pull), both threads queued, Slack serving every
/// message except A's root, which fails with `slack_error` (when given).
async fn two_threads(backend: Backend, push: bool, slack_error: Option<&str>) -> (TestApp, String) {
    let app = spawn_app_with(backend, Options::default()).await;
    let metadata = app.create_account(push).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    if let Some(code) = slack_error {
        slack_fails(&app, A_ROOT, code).await;
    }
    for (ts, thread) in [
        (A_ROOT, A_ROOT),
        (A_REPLY, A_ROOT),
        (B_ROOT, B_ROOT),
        (B_REPLY, B_ROOT),
    ] {
        fake_slack::serve_message(&app.slack, ts, thread, "U0ALICE", "Need help").await;
        app.enqueue(&metadata, ts, thread).await;
    }
    (app, metadata)
}

/// `conversations.replies` answers `ok:false` with `code` for the message at `ts`
/// (mounted first, so it wins over the message served later).
async fn slack_fails(app: &TestApp, ts: &str, code: &str) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .and(body_string_contains(format!("oldest={ts}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": code})))
        .with_priority(2)
        .mount(&app.slack)
        .await;
}

async fn start_thread_c(app: &TestApp, metadata: &str) {
    fake_slack::serve_message(&app.slack, C_ROOT, C_ROOT, "U0ALICE", "Another question").await;
    app.enqueue(metadata, C_ROOT, C_ROOT).await;
}

async fn mount_push(app: &TestApp, push: ZendeskPush) {
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .respond_with(push)
        .mount(&app.zendesk)
        .await;
}

/// Every resource Zendesk accepted (answered `success`), in the order pushed.
async fn pushed_ids(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    for request in app.zendesk.received_requests().await.unwrap_or_default() {
        if request.url.path() != PUSH_PATH {
            continue;
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        for resource in body["external_resources"].as_array().unwrap() {
            ids.push(resource["external_id"].as_str().unwrap().to_owned());
        }
    }
    ids
}

async fn row(app: &TestApp, ts: &str) -> (i64, String, Option<String>, i64) {
    sqlx::query_as::<_, (i64, String, Option<String>, i64)>(
        "SELECT seq, state, last_error, attempts FROM outbox WHERE external_id = $1",
    )
    .bind(id(ts))
    .fetch_one(app.state.db.pool())
    .await
    .unwrap()
}

async fn admin_page(app: &TestApp, metadata: &str) -> String {
    let page = app.open_admin("Support Slack", metadata, true).await;
    assert_eq!(page.status(), 200);
    page.text().await.unwrap()
}

async fn act(app: &TestApp, session: &str, seq: i64, action: &str) -> reqwest::Response {
    app.post_form(
        "/channel/admin/deliveries",
        &[
            ("session", session),
            ("seq", &seq.to_string()),
            ("action", action),
        ],
    )
    .await
}

async fn a_slack_read_failure_holds_back_only_its_own_thread_until_retried(backend: Backend) {
    let (app, metadata) = two_threads(backend, true, Some("internal_error")).await;
    mount_push(&app, ZendeskPush::default()).await;

    deliver_once(&app.state).await.unwrap();

    let pushed = pushed_ids(&app).await;
    assert_eq!(
        pushed,
        vec![id(B_ROOT), id(B_REPLY)],
        "thread B flows past A"
    );
    let (a_seq, state, code, _) = row(&app, A_ROOT).await;
    assert_eq!(
        (state.as_str(), code.as_deref()),
        ("pending", Some("internal_error"))
    );
    let (_, reply_state, _, reply_attempts) = row(&app, A_REPLY).await;
    assert_eq!(
        (reply_state.as_str(), reply_attempts),
        ("pending", 0),
        "A's reply waits untried"
    );
    start_thread_c(&app, &metadata).await;
    deliver_once(&app.state).await.unwrap();
    assert_eq!(
        pushed_ids(&app).await,
        vec![id(B_ROOT), id(B_REPLY), id(C_ROOT)],
        "a new thread goes out while A waits"
    );

    // The admin sees it by id and code, and retries it once Slack answers again.
    let page = admin_page(&app, &metadata).await;
    assert!(page.contains(&format!("id=\"delivery-{a_seq}\"")), "{page}");
    assert!(page.contains("internal_error"));
    assert!(page.contains("1 stuck (retrying), 0 given up"), "{page}");
    let session = hidden_value(&page, "session").unwrap();
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .and(body_string_contains(format!("oldest={A_ROOT}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "messages": [{"type": "message", "ts": A_ROOT, "thread_ts": A_ROOT, "user": "U0ALICE", "text": "Need help"}],
            "has_more": false
        })))
        .with_priority(1)
        .mount(&app.slack)
        .await;
    let retried = act(&app, &session, a_seq, "retry").await;
    assert_eq!(retried.status(), 200);
    assert!(
        retried
            .text()
            .await
            .unwrap()
            .contains(&format!("Delivery {a_seq} will be retried now."))
    );

    deliver_once(&app.state).await.unwrap();

    let pushed = pushed_ids(&app).await;
    assert_eq!(
        pushed,
        vec![id(B_ROOT), id(B_REPLY), id(C_ROOT), id(A_ROOT), id(A_REPLY)],
        "A's root reaches Zendesk before its reply"
    );
    assert_eq!(outbox::depth(&app.state.db).await.unwrap(), 0);
}

/// A workspace problem (`missing_scope`) is not the message's fault: the row waits (about
/// five minutes a try, 24 hours at most) instead of dying, and the settings page says what
/// Slack refused. Here only A's read is refused, so B goes on.
async fn a_missing_scope_holds_the_workspace_and_is_shown_to_the_admin(backend: Backend) {
    let (app, metadata) = two_threads(backend, true, Some("missing_scope")).await;
    mount_push(&app, ZendeskPush::default()).await;

    deliver_once(&app.state).await.unwrap();

    let (_, state, code, _) = row(&app, A_ROOT).await;
    assert_eq!(
        (state.as_str(), code.as_deref()),
        ("pending", Some("missing_scope")),
        "waits, not dead"
    );
    assert_eq!(row(&app, B_ROOT).await.1, "delivered");
    let page = admin_page(&app, &metadata).await;
    assert!(page.contains("id=\"workspace-attention\""), "{page}");
    assert!(
        page.contains("Slack refused slackdesk here (missing_scope)"),
        "{page}"
    );
}

async fn a_permanent_slack_error_is_given_up_at_once_and_can_be_discarded(backend: Backend) {
    let (app, metadata) = two_threads(backend, true, Some("thread_not_found")).await;
    mount_push(&app, ZendeskPush::default()).await;

    deliver_once(&app.state).await.unwrap();

    let (a_seq, state, code, _) = row(&app, A_ROOT).await;
    assert_eq!(
        (state.as_str(), code.as_deref()),
        ("dead", Some("thread_not_found"))
    );
    assert!(pushed_ids(&app).await.contains(&id(B_REPLY)));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    let account = TestApp::account_id(&metadata);
    assert!(
        metrics.contains(&format!(
            "slackdesk_account_dead_deliveries{{account=\"{account}\"}} 1"
        )),
        "{metrics}"
    );
    assert!(
        metrics.contains("slackdesk_event_to_zendesk_seconds_count 3"),
        "B's two and A's reply, which goes on once A's root is given up: {metrics}"
    );

    // Another account's settings cannot touch it; its own can discard it.
    let other = app.create_account(true).await;
    let other_page = admin_page(&app, &other).await;
    let other_session = hidden_value(&other_page, "session").unwrap();
    assert_eq!(
        act(&app, &other_session, a_seq, "discard").await.status(),
        404
    );
    assert_eq!(row(&app, A_ROOT).await.1, "dead");
    let page = admin_page(&app, &metadata).await;
    assert!(page.contains("0 stuck (retrying), 1 given up"), "{page}");
    let session = hidden_value(&page, "session").unwrap();
    let discarded = act(&app, &session, a_seq, "discard").await;
    assert_eq!(discarded.status(), 200);
    assert!(
        discarded
            .text()
            .await
            .unwrap()
            .contains("No stuck or given-up deliveries.")
    );
    assert_eq!(row(&app, A_ROOT).await.1, "discarded");
}

async fn a_push_zendesk_refuses_is_split_to_find_the_bad_resource(backend: Backend) {
    let (app, _) = two_threads(backend, true, None).await;
    mount_push(
        &app,
        ZendeskPush {
            refuse: HashMap::from([(id(A_ROOT), 400)]),
            ..ZendeskPush::default()
        },
    )
    .await;

    deliver_once(&app.state).await.unwrap();

    let (_, state, code, _) = row(&app, A_ROOT).await;
    assert_eq!(
        (state.as_str(), code.as_deref()),
        ("dead", Some("push_rejected_400"))
    );
    for ts in [B_ROOT, B_REPLY] {
        assert_eq!(row(&app, ts).await.1, "delivered", "{ts}");
    }
    deliver_once(&app.state).await.unwrap();
    assert_eq!(
        row(&app, A_REPLY).await.1,
        "delivered",
        "A's reply goes on after A's root is given up"
    );
}

async fn a_processing_error_is_final_after_three_tries_and_halted_ones_are_resent(
    backend: Backend,
) {
    let (app, _) = two_threads(backend, true, None).await;
    mount_push(
        &app,
        ZendeskPush {
            codes: HashMap::from([(id(A_ROOT), "processing_error")]),
            ..ZendeskPush::default()
        },
    )
    .await;

    let (_, _, _, attempts) = eventually("A's root to be given up", 30, || async {
        let _ = deliver_once(&app.state).await;
        let row = row(&app, A_ROOT).await;
        (row.1 == "dead").then_some(row)
    })
    .await;

    assert_eq!(attempts, 3);
    assert_eq!(
        row(&app, A_ROOT).await.2.as_deref(),
        Some("processing_error")
    );
    let pushed = pushed_ids(&app).await;
    for ts in [B_ROOT, B_REPLY] {
        assert_eq!(
            row(&app, ts).await.1,
            "delivered",
            "{ts} halted, then resent"
        );
        assert_eq!(
            row(&app, ts).await.3,
            1,
            "{ts}: a halt is not counted as a try"
        );
    }
    let first_push_len = 4;
    assert!(
        pushed.len() > first_push_len,
        "halted resources were resent: {pushed:?}"
    );
}

/// Zendesk halts everything after a failed resource in a request: the others reach
/// Zendesk in the same round, not one queue round trip later each.
async fn halted_resources_are_resent_at_once_but_never_ahead_of_their_thread(backend: Backend) {
    let (app, _) = two_threads(backend, true, None).await;
    mount_push(
        &app,
        ZendeskPush {
            codes: HashMap::from([(id(A_ROOT), "processing_error")]),
            ..ZendeskPush::default()
        },
    )
    .await;

    deliver_once(&app.state).await.expect("one delivery round");

    for ts in [B_ROOT, B_REPLY] {
        assert_eq!(row(&app, ts).await.1, "delivered", "{ts} after one round");
    }
    assert_eq!(
        row(&app, A_REPLY).await.1,
        "pending",
        "A's reply waits behind A's root"
    );
    let pushed = pushed_ids(&app).await;
    assert_eq!(
        pushed.iter().filter(|p| **p == id(A_REPLY)).count(),
        1,
        "A's reply is not resent ahead of its root: {pushed:?}"
    );
}

async fn a_pull_skips_the_stuck_thread_and_serves_the_others(backend: Backend) {
    let (app, metadata) = two_threads(backend, false, Some("internal_error")).await;

    let first: Value = app
        .post_form("/channel/pull", &[("metadata", &metadata), ("state", "")])
        .await
        .json()
        .await
        .unwrap();

    let ids: Vec<&str> = first["external_resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id(B_ROOT), id(B_REPLY)]);
    let (_, state, code, attempts) = row(&app, A_ROOT).await;
    assert_eq!(
        (state.as_str(), code.as_deref(), attempts),
        ("pending", Some("internal_error"), 1)
    );
    start_thread_c(&app, &metadata).await;
    let second: Value = app
        .post_form(
            "/channel/pull",
            &[
                ("metadata", &metadata),
                ("state", first["state"].as_str().unwrap()),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = second["external_resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![id(C_ROOT)],
        "a new thread goes out; A waits out its backoff and its reply never goes first"
    );
    assert_eq!(row(&app, B_REPLY).await.1, "delivered");
}

async fn a_removal_retried_after_a_reinstall_keeps_the_new_token(backend: Backend) {
    let (app, _) = two_threads(backend, true, None).await;
    let mut removal = event_callback(json!({"type": "app_uninstalled"}));
    removal["event_time"] = json!(chrono::Utc::now().timestamp() - 120);

    let answer = app.post_slack_event(&removal).await;

    assert_eq!(answer.status(), 200);
    let team = crate::support::team();
    let kept = slackdesk::storage::slack_workspaces::find(&app.state.db, &app.state.keys, &team)
        .await
        .unwrap()
        .unwrap();
    assert!(
        kept.bot_token.is_some(),
        "the token installed after the removal stays"
    );
    let fresh = event_callback(json!({"type": "app_uninstalled"}));
    app.post_slack_event(&fresh).await;
    let removed = slackdesk::storage::slack_workspaces::find(&app.state.db, &app.state.keys, &team)
        .await
        .unwrap()
        .unwrap();
    assert!(
        removed.bot_token.is_none(),
        "a removal after the install deletes it"
    );
}

/// Two replicas deliver 20 threads while one thread's root keeps failing: every other
/// resource reaches Zendesk once, each thread in order, and the bad thread waits.
async fn two_replicas_deliver_around_a_stuck_thread_exactly_once(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::echo_messages(&app.slack).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    slack_fails(&app, "1700000100.000100", "internal_error").await;
    mount_push(&app, ZendeskPush::default()).await;
    for thread in 0..20 {
        let root = format!("17000001{thread:02}.000100");
        let reply = format!("17000001{thread:02}.000200");
        app.enqueue(&metadata, &root, &root).await;
        app.enqueue(&metadata, &reply, &root).await;
    }
    let (_, replica) = app.spawn_replica().await;

    let drain = |state: slackdesk::startup::AppState| async move {
        for _ in 0..100 {
            deliver_once(&state).await.unwrap();
        }
    };
    tokio::join!(drain(app.state.clone()), drain(replica));

    let pushed = pushed_ids(&app).await;
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &pushed {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(
        counts.len(),
        38,
        "every resource but the stuck thread's two: {pushed:?}"
    );
    assert!(
        counts.values().all(|n| *n == 1),
        "pushed once each: {counts:?}"
    );
    for thread in 1..20 {
        let root = pushed
            .iter()
            .position(|p| p.ends_with(&format!("17000001{thread:02}.000100")));
        let reply = pushed
            .iter()
            .position(|p| p.ends_with(&format!("17000001{thread:02}.000200")));
        assert!(root < reply, "thread {thread} in order");
    }
    assert_eq!(row(&app, "1700000100.000100").await.1, "pending");
    assert_eq!(
        row(&app, "1700000100.000200").await.3,
        0,
        "the stuck thread's reply never tried"
    );
}

on_both_databases!(
    a_slack_read_failure_holds_back_only_its_own_thread_until_retried,
    a_permanent_slack_error_is_given_up_at_once_and_can_be_discarded,
    a_missing_scope_holds_the_workspace_and_is_shown_to_the_admin,
    a_push_zendesk_refuses_is_split_to_find_the_bad_resource,
    a_processing_error_is_final_after_three_tries_and_halted_ones_are_resent,
    halted_resources_are_resent_at_once_but_never_ahead_of_their_thread,
    a_pull_skips_the_stuck_thread_and_serves_the_others,
    a_removal_retried_after_a_reinstall_keeps_the_new_token,
    two_replicas_deliver_around_a_stuck_thread_exactly_once
);
