//! Slack to Zendesk through the Events API: signed events become tickets and comments.

use serde_json::{Value, json};
use slackdesk::jobs::{deliver_once, run_slack_jobs_once};
use slackdesk::storage::channel_links::{ChannelSettings, StartMode};
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::fake_slack;
use crate::support::schemas::assert_matches_schema;
use crate::support::{
    Backend, Options, SIGNING_SECRET, TestApp, event_callback, eventually, message_event,
    spawn_app, spawn_app_with,
};

const TOP: &str = "1700000000.000100";
const REPLY: &str = "1700000010.000200";

async fn linked_app(backend: Backend, push: bool, settings: ChannelSettings) -> (TestApp, String) {
    let app = spawn_app_with(
        backend,
        Options {
            workers: false,
            ..Options::default()
        },
    )
    .await;
    let metadata = app.create_account(push).await;
    app.connect_slack(&metadata).await;
    app.link_channel_with(&metadata, settings).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    (app, metadata)
}

async fn pull(app: &TestApp, metadata: &str, state: &str) -> Value {
    app.post_form("/channel/pull", &[("metadata", metadata), ("state", state)])
        .await
        .json()
        .await
        .unwrap()
}

async fn url_verification_is_answered_and_bad_signatures_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let challenge = json!({"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});

    let response = app.post_slack_event(&challenge).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<Value>().await.unwrap()["challenge"],
        challenge["challenge"]
    );

    let body = challenge.to_string().into_bytes();
    let forged = app
        .http
        .post(app.url("/slack/events"))
        .header(
            "x-slack-request-timestamp",
            chrono::Utc::now().timestamp().to_string(),
        )
        .header("x-slack-signature", "v0=0000")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let stale = app
        .post_slack_raw(body, chrono::Utc::now().timestamp() - 600, None)
        .await;
    assert_eq!(
        stale.status(),
        401,
        "a replayed request from ten minutes ago is refused"
    );
    let _ = SIGNING_SECRET;
}

async fn a_top_level_message_and_its_reply_reach_zendesk_as_one_ticket(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    fake_slack::serve_message(
        &app.slack,
        TOP,
        TOP,
        "U0ALICE",
        "VPN is *down* for <@U0BOB>",
    )
    .await;
    fake_slack::serve_message(&app.slack, REPLY, TOP, "U0ALICE", "still down").await;
    fake_slack::serve_user(&app.slack, "U0BOB", "Bob").await;

    assert_eq!(
        app.post_slack_event(&message_event(
            "U0ALICE",
            TOP,
            None,
            "VPN is *down* for <@U0BOB>"
        ))
        .await
        .status(),
        200
    );
    assert_eq!(
        app.post_slack_event(&message_event("U0ALICE", REPLY, Some(TOP), "still down"))
            .await
            .status(),
        200
    );

    let body = pull(&app, &metadata, "").await;
    assert_matches_schema("pull_payload.json", &body);
    let resources = body["external_resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    let thread = format!("slack:T0TEAM:C0CHAN:{TOP}");
    assert_eq!(resources[0]["external_id"], thread);
    assert_eq!(
        resources[1]["external_id"],
        format!("slack:T0TEAM:C0CHAN:{REPLY}")
    );
    assert!(resources.iter().all(|r| r["thread_id"] == thread));
    assert_eq!(resources[0]["author"]["name"], "Alice");
    assert_eq!(
        resources[0]["message"], "VPN is down for @Bob",
        "mrkdwn rendered, mention resolved"
    );
    assert!(
        resources[0]["html_message"]
            .as_str()
            .unwrap()
            .contains("<strong>down</strong>")
    );
    assert!(
        fake_slack::received(&app.slack, "conversations.replies")
            .await
            .is_empty(),
        "the content came with the events: Slack was not read again"
    );
    assert!(
        resources[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "subject")
    );
}

async fn a_reply_in_a_thread_that_is_not_a_ticket_is_ignored(backend: Backend) {
    let (app, _) = linked_app(backend, false, ChannelSettings::default()).await;

    app.post_slack_event(&message_event(
        "U0ALICE",
        REPLY,
        Some("1600000000.000001"),
        "old thread",
    ))
    .await;

    assert!(app.queued().await.is_empty());
}

async fn retried_events_and_unlinked_channels_queue_nothing_more(backend: Backend) {
    let (app, _) = linked_app(backend, false, ChannelSettings::default()).await;
    let event = message_event("U0ALICE", TOP, None, "hello");
    let body = event.to_string().into_bytes();

    app.post_slack_raw(body.clone(), chrono::Utc::now().timestamp(), None)
        .await;
    let retry = app
        .post_slack_raw(body, chrono::Utc::now().timestamp(), Some(1))
        .await;
    assert_eq!(retry.status(), 200);
    let mut other_channel = message_event("U0ALICE", REPLY, None, "elsewhere");
    other_channel["event"]["channel"] = json!("C0OTHER");
    app.post_slack_event(&other_channel).await;

    assert_eq!(app.queued().await.len(), 1);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("slackdesk_slack_events_total{outcome=\"duplicate\"} 1"),
        "{metrics}"
    );
}

async fn our_own_posts_never_come_back(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "help"))
        .await;
    fake_slack::accept_posts(&app.slack, "1700000050.000500").await;
    let reply = app
        .post_form(
            "/channel/channelback",
            &[
                ("metadata", &metadata),
                ("thread_id", &format!("slack:T0TEAM:C0CHAN:{TOP}")),
                ("message", "On it"),
                ("request_unique_identifier", "r1"),
            ],
        )
        .await;
    assert_eq!(reply.status(), 200);

    // Slack echoes our post to us, once as our bot user and once as a bot message.
    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700000050.000500",
        Some(TOP),
        "On it",
    ))
    .await;
    let mut bot = message_event("U0BOT", "1700000060.000600", Some(TOP), "bot says");
    bot["event"]["bot_id"] = json!("B0BOT");
    app.post_slack_event(&bot).await;

    assert_eq!(
        app.queued().await.len(),
        1,
        "only the customer's message is queued"
    );
}

async fn edits_and_deletions_follow_the_channel_settings(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    fake_slack::serve_message(&app.slack, TOP, TOP, "U0ALICE", "fixed text").await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "typo"))
        .await;
    let edit = event_callback(
        json!({"type": "message", "subtype": "message_changed", "channel": "C0CHAN", "ts": "1700000020.000000",
        "message": {"type": "message", "user": "U0ALICE", "ts": TOP, "text": "fixed text", "edited": {"user": "U0ALICE", "ts": "1700000020.000000"}},
        "previous_message": {"type": "message", "user": "U0ALICE", "ts": TOP, "text": "typo"}}),
    );
    let delete = event_callback(
        json!({"type": "message", "subtype": "message_deleted", "channel": "C0CHAN", "ts": "1700000030.000000",
        "deleted_ts": TOP, "previous_message": {"type": "message", "user": "U0ALICE", "ts": TOP, "text": "fixed text"}}),
    );

    let first = pull(&app, &metadata, "").await;
    let state = first["state"].as_str().unwrap().to_owned();
    app.post_slack_event(&edit).await;
    app.post_slack_event(&delete).await;

    let body = pull(&app, &metadata, &state).await;
    assert_matches_schema("pull_payload.json", &body);
    let resources = body["external_resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    assert_eq!(
        resources[0]["external_id"],
        format!("slack:T0TEAM:C0CHAN:{TOP}:edit:1700000020.000000")
    );
    assert!(
        resources[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("(edited in Slack)")
    );
    assert_eq!(resources[1]["internal_note"], true);
    assert!(
        resources[1]["message"]
            .as_str()
            .unwrap()
            .contains("deleted")
    );

    let quiet = ChannelSettings {
        sync_edits: false,
        sync_deletes: false,
        ..ChannelSettings::default()
    };
    app.link_channel_with(&metadata, quiet).await;
    let mut later_edit = edit.clone();
    later_edit["event_id"] = json!("EvLaterEdit");
    later_edit["event"]["message"]["edited"]["ts"] = json!("1700000040.000000");
    app.post_slack_event(&later_edit).await;
    assert_eq!(app.queued().await.len(), 3, "edits are off now");
}

async fn a_reaction_starts_a_ticket_with_the_thread_so_far(backend: Backend) {
    let settings = ChannelSettings {
        start: StartMode::Reaction,
        start_emoji: "sos".into(),
        ..ChannelSettings::default()
    };
    let (app, metadata) = linked_app(backend, false, settings).await;
    fake_slack::serve_thread(
        &app.slack,
        TOP,
        &[
            (TOP, "U0ALICE", "printer jam"),
            (REPLY, "U0ALICE", "tray 2"),
        ],
    )
    .await;

    app.post_slack_event(&message_event("U0ALICE", TOP, None, "printer jam"))
        .await;
    assert!(
        app.queued().await.is_empty(),
        "a plain message starts nothing in reaction mode"
    );
    let wrong = event_callback(
        json!({"type": "reaction_added", "user": "U0CAROL", "reaction": "eyes", "item": {"type": "message", "channel": "C0CHAN", "ts": REPLY}}),
    );
    app.post_slack_event(&wrong).await;
    let reaction = event_callback(
        json!({"type": "reaction_added", "user": "U0CAROL", "reaction": "sos", "item": {"type": "message", "channel": "C0CHAN", "ts": REPLY}}),
    );
    app.post_slack_event(&reaction).await;
    assert_eq!(run_slack_jobs_once(&app.state).await.unwrap(), 1);

    let queued = app.queued().await;
    assert_eq!(
        queued,
        vec![
            (format!("slack:T0TEAM:C0CHAN:{TOP}"), TOP.to_owned()),
            (format!("slack:T0TEAM:C0CHAN:{REPLY}"), TOP.to_owned())
        ]
    );
    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700000090.000900",
        Some(TOP),
        "fixed?",
    ))
    .await;
    assert_eq!(
        app.queued().await.len(),
        3,
        "later replies follow the ticket"
    );
    let _ = metadata;
}

async fn one_persons_messages_within_the_window_join_one_ticket(backend: Backend) {
    let settings = ChannelSettings {
        same_sender_minutes: 10,
        ..ChannelSettings::default()
    };
    let (app, _) = linked_app(backend, false, settings).await;

    app.post_slack_event(&message_event("U0ALICE", TOP, None, "first"))
        .await;
    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700000020.000100",
        None,
        "second",
    ))
    .await;
    app.post_slack_event(&message_event(
        "U0BOB",
        "1700000030.000100",
        None,
        "someone else",
    ))
    .await;
    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700000040.000100",
        Some("1700000020.000100"),
        "reply to the second",
    ))
    .await;

    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700000050.000100",
        None,
        "after Bob spoke",
    ))
    .await;
    app.post_slack_event(&message_event(
        "U0ALICE",
        "1700001000.000100",
        None,
        "much later",
    ))
    .await;

    let threads: Vec<String> = app
        .queued()
        .await
        .into_iter()
        .map(|(_, thread)| thread)
        .collect();
    assert_eq!(
        threads,
        vec![
            TOP,
            TOP,
            "1700000030.000100",
            TOP,
            "1700000050.000100",
            "1700001000.000100"
        ],
        "only consecutive messages within the window group"
    );
}

async fn removing_the_app_deletes_the_token_and_asks_for_a_new_connection(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;

    app.post_slack_event(&event_callback(json!({"type": "app_uninstalled"})))
        .await;

    let workspace = slackdesk::storage::slack_workspaces::find(
        &app.state.db,
        &app.state.keys,
        &crate::support::team(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(workspace.bot_token.is_none());
    let tokens: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM slack_workspaces WHERE bot_token IS NOT NULL")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(tokens, 0);
    let body = pull(&app, &metadata, "").await;
    assert_matches_schema("pull_payload.json", &body);
    assert_eq!(body["metadata_needs_update"], true);
}

async fn a_new_ticket_gets_the_ticket_reaction_in_slack(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    fake_slack::accept_reactions(&app.slack).await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "help"))
        .await;
    let created = json!({"events": [{"type_id": "resources_created_from_external_ids", "timestamp": "2026-11-21T10:00:00Z",
        "subdomain": "acme", "integration_name": "slackdesk", "integration_id": "1",
        "data": {"request_id": "r", "resource_events": [{"type_id": "comment_on_new_ticket",
            "external_id": format!("slack:T0TEAM:C0CHAN:{TOP}"), "ticket_id": 77, "comment_id": 1}]}}]});

    app.post_json("/channel/events", &created).await;
    run_slack_jobs_once(&app.state).await.unwrap();

    let reactions = fake_slack::received(&app.slack, "reactions.add").await;
    assert_eq!(reactions.len(), 1);
    assert_eq!(fake_slack::field(&reactions[0], "name"), Some("ticket"));
    assert_eq!(fake_slack::field(&reactions[0], "timestamp"), Some(TOP));
    let _ = metadata;
}

async fn a_new_ticket_gets_the_channels_priority_and_type(backend: Backend) {
    let settings = ChannelSettings {
        ticket_priority: Some("high".into()),
        ticket_type: Some("incident".into()),
        ticket_reaction: String::new(),
        ..ChannelSettings::default()
    };
    let (app, _) = linked_app(backend, false, settings).await;
    crate::statuses::connect_account(&app, "acme", &[1001]).await;
    Mock::given(method("PUT"))
        .and(path("/z/acme/api/v2/tickets/77.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {"id": 77}})))
        .mount(&app.zendesk)
        .await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "outage!"))
        .await;
    let created = json!({"events": [{"type_id": "resources_created_from_external_ids", "timestamp": "2026-11-21T10:00:00Z",
        "subdomain": "acme", "integration_name": "slackdesk", "integration_id": "1",
        "data": {"request_id": "r", "resource_events": [{"type_id": "comment_on_new_ticket",
            "external_id": format!("slack:T0TEAM:C0CHAN:{TOP}"), "ticket_id": 77, "comment_id": 1}]}}]});

    app.post_json("/channel/events", &created).await;
    run_slack_jobs_once(&app.state).await.unwrap();

    let updates: Vec<Value> = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "PUT" && r.url.path() == "/z/acme/api/v2/tickets/77.json")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        updates,
        vec![json!({"ticket": {"priority": "high", "type": "incident"}})]
    );
}

async fn files_reach_zendesk_through_signed_expiring_links(backend: Backend) {
    let (app, metadata) = linked_app(backend, true, ChannelSettings::default()).await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "messages": [
            {"type": "message", "ts": TOP, "user": "U0ALICE", "text": "log attached",
             "files": [{"id": "F0LOG", "name": "vpn.log", "mode": "hosted"}]}]})),
        )
        .mount(&app.slack)
        .await;
    fake_slack::serve_file(&app.slack, "F0LOG", "vpn.log", b"line 1\nline 2\n").await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [{"external_resource_id": format!("slack:T0TEAM:C0CHAN:{TOP}"), "status": {"code": "success"}}]})))
        .mount(&app.zendesk)
        .await;
    let mut event = message_event("U0ALICE", TOP, None, "log attached");
    event["event"]["subtype"] = json!("file_share");
    event["event"]["files"] = json!([{"id": "F0LOG", "name": "vpn.log", "mode": "hosted"}]);

    app.post_slack_event(&event).await;
    deliver_once(&app.state).await.unwrap();

    let push: Value = serde_json::from_slice(
        &app.zendesk
            .received_requests()
            .await
            .unwrap()
            .last()
            .unwrap()
            .body,
    )
    .unwrap();
    assert_matches_schema("push_parameters.json", &push);
    let file_url = push["external_resources"][0]["file_urls"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(file_url.starts_with("https://slackdesk.example.com/slack/files/T0TEAM/F0LOG/"));
    let local = file_url.replace("https://slackdesk.example.com", &app.address);
    let download = app.http.get(&local).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert!(
        download.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("vpn.log")
    );
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        b"line 1\nline 2\n"
    );
    let tampered = local.replacen("/F0LOG/", "/F0OTHER/", 1);
    assert_eq!(app.http.get(&tampered).send().await.unwrap().status(), 403);
    let parts: Vec<&str> = local.rsplitn(3, '/').collect();
    let expired = format!("{}/1/{}", parts[2], parts[0]);
    assert_eq!(app.http.get(&expired).send().await.unwrap().status(), 403);
    let _ = metadata;
}

async fn a_message_deleted_before_zendesk_got_it_never_reaches_zendesk(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "oops, wrong channel"))
        .await;
    let delete = event_callback(
        json!({"type": "message", "subtype": "message_deleted", "channel": "C0CHAN",
        "deleted_ts": TOP, "previous_message": {"type": "message", "user": "U0ALICE", "ts": TOP}}),
    );

    app.post_slack_event(&delete).await;

    let body = pull(&app, &metadata, "").await;
    assert_eq!(
        body["external_resources"].as_array().unwrap().len(),
        0,
        "no ticket, and no lone deletion note"
    );
}

async fn a_reply_that_arrives_before_its_first_message_is_not_lost(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    let now = chrono::Utc::now().timestamp();
    let (root, reply) = (format!("{now}.000100"), format!("{}.000200", now + 1));
    fake_slack::serve_message(&app.slack, &root, &root, "U0ALICE", "the question").await;

    // Slack's first delivery of the root failed; the reply comes first, the root's retry later.
    app.post_slack_event(&message_event(
        "U0ALICE",
        &reply,
        Some(&root),
        "more detail",
    ))
    .await;
    app.post_slack_event(&message_event("U0ALICE", &root, None, "the question"))
        .await;

    let body = pull(&app, &metadata, "").await;
    let ids: Vec<&str> = body["external_resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            format!("slack:T0TEAM:C0CHAN:{root}"),
            format!("slack:T0TEAM:C0CHAN:{reply}")
        ],
        "the ticket starts with its first message"
    );
}

async fn after_a_restart_content_is_read_back_from_slack_by_id(backend: Backend) {
    let (app, metadata) = linked_app(backend, false, ChannelSettings::default()).await;
    app.post_slack_event(&message_event("U0ALICE", TOP, None, "kept in memory only"))
        .await;
    fake_slack::serve_message(&app.slack, TOP, TOP, "U0ALICE", "read back from Slack").await;
    let (replica, _) = app.spawn_replica().await;

    let body: Value = app
        .http
        .post(format!("{replica}/channel/pull"))
        .form(&[("metadata", metadata.as_str()), ("state", "")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(
        body["external_resources"][0]["message"], "read back from Slack",
        "a fresh process has no content in memory"
    );
}

on_both_databases!(
    a_message_deleted_before_zendesk_got_it_never_reaches_zendesk,
    a_reply_that_arrives_before_its_first_message_is_not_lost,
    after_a_restart_content_is_read_back_from_slack_by_id,
    url_verification_is_answered_and_bad_signatures_refused,
    a_top_level_message_and_its_reply_reach_zendesk_as_one_ticket,
    a_reply_in_a_thread_that_is_not_a_ticket_is_ignored,
    retried_events_and_unlinked_channels_queue_nothing_more,
    our_own_posts_never_come_back,
    edits_and_deletions_follow_the_channel_settings,
    a_reaction_starts_a_ticket_with_the_thread_so_far,
    one_persons_messages_within_the_window_join_one_ticket,
    removing_the_app_deletes_the_token_and_asks_for_a_new_connection,
    a_new_ticket_gets_the_ticket_reaction_in_slack,
    a_new_ticket_gets_the_channels_priority_and_type,
    files_reach_zendesk_through_signed_expiring_links
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_pushes_a_signed_event_without_anyone_pulling() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            workers: true,
            ..Options::default()
        },
    )
    .await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    app.link_channel_with(&metadata, ChannelSettings::default())
        .await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    fake_slack::serve_message(&app.slack, TOP, TOP, "U0ALICE", "help").await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [{"external_resource_id": format!("slack:T0TEAM:C0CHAN:{TOP}"), "status": {"code": "success"}}]})))
        .mount(&app.zendesk)
        .await;

    app.post_slack_event(&message_event("U0ALICE", TOP, None, "help"))
        .await;

    eventually("the ticket to be pushed", 10, || async {
        let pushed = app
            .zendesk
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .any(|r| r.url.path().ends_with("/any_channel/push"));
        pushed.then_some(())
    })
    .await;
}
