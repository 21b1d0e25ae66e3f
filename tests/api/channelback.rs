use serde_json::Value;

use crate::support::fake_slack::{self, field};
use crate::support::schemas::assert_matches_schema;
use crate::support::{BOT_TOKEN, Backend, PUSH_TOKEN, TestApp, spawn_app};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

const THREAD: &str = "slack:T0TEAM:C0CHAN:1700000000.000100";

async fn channelback(app: &TestApp, metadata: &str, request_id: &str) -> reqwest::Response {
    channelback_with_files(app, metadata, request_id, &[]).await
}

/// A channelback as Zendesk sends it, `file_urls[]` repeated once per attachment.
async fn channelback_with_files(
    app: &TestApp,
    metadata: &str,
    request_id: &str,
    files: &[String],
) -> reqwest::Response {
    let files: String = files
        .iter()
        .map(|f| format!("&file_urls%5B%5D={}", urlencode(f)))
        .collect();
    let body = format!(
        "message={}&thread_id={}&parent_id={}&recipient_id=slack%3AT0TEAM%3AU0ALICE&metadata={}&state=&request_unique_identifier={request_id}{files}",
        urlencode("Hi <@U0ALICE> & team"),
        urlencode(THREAD),
        urlencode(THREAD),
        urlencode(metadata)
    );
    app.http
        .post(app.url("/channel/channelback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn attachments_are_streamed_into_the_thread_and_failures_reported(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    fake_slack::accept_uploads(&app.slack).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/attachments/token/tok1/"))
        .and(header(
            "authorization",
            format!("Bearer {PUSH_TOKEN}").as_str(),
        ))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(b"%PDF-1.4 fake".to_vec(), "application/pdf"),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/channelback/report_error"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&app.zendesk)
        .await;
    let files = vec![
        format!(
            "{}/attachments/token/tok1/?name=invoice.pdf",
            app.zendesk_base()
        ),
        format!(
            "{}/attachments/token/gone/?name=missing.txt",
            app.zendesk_base()
        ),
        "http://127.0.0.1:9/metrics".to_owned(),
    ];

    let response = channelback_with_files(&app, &metadata, "req-files", &files).await;

    assert_eq!(response.status(), 200, "the reply itself is delivered");
    assert!(
        fake_slack::received(&app.slack, "files.getUploadURLExternal")
            .await
            .is_empty(),
        "the answer does not wait for the files"
    );
    slackdesk::bridge::run_attachment_jobs_once(&app.state)
        .await
        .unwrap();
    let uploads = fake_slack::received(&app.slack, "files.getUploadURLExternal").await;
    assert_eq!(uploads.len(), 1);
    assert_eq!(field(&uploads[0], "filename"), Some("invoice.pdf"));
    assert_eq!(field(&uploads[0], "length"), Some("13"));
    let bytes = app
        .slack
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.path() == "/upload/F0UP")
        .unwrap()
        .body;
    assert_eq!(bytes, b"%PDF-1.4 fake");
    let completed = fake_slack::received(&app.slack, "files.completeUploadExternal").await;
    assert_eq!(field(&completed[0], "thread_ts"), Some("1700000000.000100"));
    assert_eq!(field(&completed[0], "channel_id"), Some("C0CHAN"));
    let reports: Vec<Value> = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("/channelback/report_error"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "the missing file and the off-host URL are reported to Zendesk, once"
    );
    let description = reports[0]["description"].as_str().unwrap();
    assert!(description.contains("attachment_http_404"), "{description}");
    assert!(
        description.contains("attachment_not_on_zendesk"),
        "{description}"
    );
    assert_matches_schema("report_channelback_error.json", &reports[0]);
    assert_eq!(
        reports[0]["external_id"],
        "slack:T0TEAM:C0CHAN:1700000099.000900"
    );
}

/// Without a push token (pull mode) the files are downloaded with the account's REST
/// connection; a passing failure is retried, and a file that never arrives becomes an
/// internal note on the ticket.
async fn in_pull_mode_attachments_use_the_rest_connection_and_failures_become_a_note(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    fake_slack::accept_uploads(&app.slack).await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/me.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"user": {"id": 501, "role": "admin", "name": "Ada"}}),
        ))
        .mount(&app.zendesk)
        .await;
    let subdomain = slackdesk::domain::Subdomain::parse("acme").unwrap();
    app.state
        .connections
        .connect(
            &subdomain,
            slackdesk::zendesk::connection::Grant::AuthorizationCode(
                slackdesk::zendesk::connection::TokenSet {
                    access_token: slackdesk::config::Secret::from("zd-access-attach"),
                    refresh_token: None,
                    expires_in: None,
                    refresh_token_expires_in: None,
                },
            ),
        )
        .await
        .unwrap();
    Mock::given(method("GET"))
        .and(path("/z/acme/attachments/token/tok1/"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/z/acme/attachments/token/tok1/"))
        .and(header("authorization", "Bearer zd-access-attach"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(b"PNGDATA".to_vec(), "image/png"))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(path("/z/acme/api/v2/tickets/77.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"ticket": {"id": 77}})),
        )
        .mount(&app.zendesk)
        .await;
    sqlx::query(
        "INSERT INTO ticket_links (account_id, external_id, kind, ticket_id, created_at) \
         VALUES ($1, $2, 'ticket', 77, 0)",
    )
    .bind(TestApp::account_id(&metadata).to_string())
    .bind(THREAD)
    .execute(app.state.db.pool())
    .await
    .unwrap();
    let files = vec![
        format!(
            "{}/attachments/token/tok1/?name=photo.png",
            app.zendesk_base()
        ),
        format!(
            "{}/attachments/token/gone/?name=missing.txt",
            app.zendesk_base()
        ),
    ];

    let response = channelback_with_files(&app, &metadata, "req-pull-files", &files).await;
    assert_eq!(response.status(), 200);
    slackdesk::bridge::run_attachment_jobs_once(&app.state)
        .await
        .unwrap();

    assert!(
        fake_slack::received(&app.slack, "files.getUploadURLExternal")
            .await
            .is_empty(),
        "Zendesk answered 503: nothing uploaded yet"
    );
    let notes = notes_on_ticket_77(&app).await;
    assert_eq!(notes.len(), 1, "the missing file is reported at once");
    assert_eq!(notes[0]["ticket"]["comment"]["public"], false);
    assert!(
        notes[0]["ticket"]["comment"]["body"]
            .as_str()
            .unwrap()
            .contains("attachment_http_404")
    );
    // Its backoff over, the passing failure is tried again and succeeds.
    sqlx::query("UPDATE attachment_jobs SET run_after = 0")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    slackdesk::bridge::run_attachment_jobs_once(&app.state)
        .await
        .unwrap();
    let uploads = fake_slack::received(&app.slack, "files.getUploadURLExternal").await;
    assert_eq!(uploads.len(), 1);
    assert_eq!(field(&uploads[0], "filename"), Some("photo.png"));
    assert_eq!(
        notes_on_ticket_77(&app).await.len(),
        1,
        "nothing more to report"
    );
    let state: String = sqlx::query_scalar("SELECT state FROM attachment_jobs")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(state, "done");
}

async fn notes_on_ticket_77(app: &TestApp) -> Vec<Value> {
    app.zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path() == "/z/acme/api/v2/tickets/77.json")
        .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
        .collect()
}

fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn a_reply_lands_in_the_slack_thread_escaped(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;

    let response = channelback(&app, &metadata, "req-1").await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_matches_schema("channelback_payload_v2.json", &body);
    assert_eq!(body["external_id"], "slack:T0TEAM:C0CHAN:1700000099.000900");
    let posts = fake_slack::received(&app.slack, "chat.postMessage").await;
    assert_eq!(posts.len(), 1);
    assert_eq!(field(&posts[0], "channel"), Some("C0CHAN"));
    assert_eq!(field(&posts[0], "thread_ts"), Some("1700000000.000100"));
    assert_eq!(
        field(&posts[0], "text"),
        Some("Hi &lt;@U0ALICE&gt; &amp; team")
    );
    let auth = app.slack.received_requests().await.unwrap()[0].headers["authorization"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(auth, format!("Bearer {BOT_TOKEN}"));
}

async fn a_retried_channelback_answers_the_same_and_posts_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;

    let first: Value = channelback(&app, &metadata, "req-same")
        .await
        .json()
        .await
        .unwrap();
    let second: Value = channelback(&app, &metadata, "req-same")
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(first, second);
    assert_eq!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .len(),
        1
    );
}

async fn permanent_slack_errors_are_4xx_and_rate_limits_are_retryable(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::refuse_posts(&app.slack, "is_archived").await;

    let refused = channelback(&app, &metadata, "req-a").await;
    assert_eq!(refused.status(), 422);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "slack_is_archived");

    app.slack.reset().await;
    fake_slack::rate_limit_posts(&app.slack, 7).await;
    let limited = channelback(&app, &metadata, "req-a").await;
    assert_eq!(limited.status(), 503);
    assert_eq!(limited.headers()["retry-after"], "7");

    app.slack.reset().await;
    fake_slack::accept_posts(&app.slack, "1700000100.000100").await;
    let retried = channelback(&app, &metadata, "req-a").await;
    assert_eq!(retried.status(), 200, "a failed request id can be retried");
}

async fn a_thread_in_an_unlinked_channel_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let linked = app.create_account(false).await;
    app.connect_slack(&linked).await;
    let other = app.create_account(false).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;

    let response = channelback(&app, &other, "req-x").await;

    assert_eq!(response.status(), 422);
    assert!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .is_empty(),
        "accounts stay isolated"
    );
}

async fn a_malformed_channelback_names_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;

    let missing = app
        .post_form(
            "/channel/channelback",
            &[("metadata", &metadata), ("thread_id", THREAD)],
        )
        .await;
    assert_eq!(missing.status(), 400);
    assert_eq!(
        missing.json::<Value>().await.unwrap()["error"]["field"],
        "message"
    );

    let bad_files = app
        .post_form(
            "/channel/channelback",
            &[
                ("metadata", &metadata),
                ("thread_id", THREAD),
                ("message", "x"),
                ("file_urls[]", "javascript:alert(1)"),
            ],
        )
        .await;
    assert_eq!(bad_files.status(), 400);
    assert_eq!(
        bad_files.json::<Value>().await.unwrap()["error"]["field"],
        "file_urls[]"
    );
}

/// Ages the request's `in_progress` row past the take-over window, as after a process
/// that stopped mid-post long ago.
async fn stall(app: &TestApp, request_id: &str) {
    sqlx::query("UPDATE channelbacks SET state = 'in_progress', external_id = NULL, started_at = 0 WHERE request_id = $1")
        .bind(request_id)
        .execute(app.state.db.pool())
        .await
        .unwrap();
}

/// Serves the thread with the replies Slack holds, their metadata included.
async fn thread_holds(app: &TestApp, replies: Value) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "ok": true, "has_more": false, "messages": replies
        })))
        .with_priority(1)
        .mount(&app.slack)
        .await;
}

async fn a_reply_an_interrupted_attempt_posted_is_not_posted_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    let first: Value = channelback(&app, &metadata, "req-cut")
        .await
        .json()
        .await
        .unwrap();
    let posts = fake_slack::received(&app.slack, "chat.postMessage").await;
    assert_eq!(posts.len(), 1);
    let mark: Value = serde_json::from_str(field(&posts[0], "metadata").unwrap()).unwrap();
    assert_eq!(mark["event_type"], "slackdesk_reply");
    let request_mark = mark["event_payload"]["request"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(request_mark.len(), 24, "a short hash, no content");

    // The process stopped after Slack posted but before it recorded the answer.
    stall(&app, "req-cut").await;
    thread_holds(
        &app,
        serde_json::json!([
            {"ts": "1700000000.000100", "text": "root", "user": "U0ALICE"},
            {"ts": "1700000099.000900", "text": "the reply", "bot_id": "B0BOT",
             "metadata": {"event_type": "slackdesk_reply", "event_payload": {"request": request_mark}}}
        ]),
    )
    .await;
    let retried: Value = channelback(&app, &metadata, "req-cut")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        retried, first,
        "answered with the reply already in the thread"
    );
    assert_eq!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .len(),
        1,
        "not posted a second time"
    );

    // A request whose reply never reached Slack is posted on take-over.
    channelback(&app, &metadata, "req-lost").await;
    stall(&app, "req-lost").await;
    let response = channelback(&app, &metadata, "req-lost").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .len(),
        3,
        "the lost one is posted again (its mark is not in the thread)"
    );
}

async fn a_post_whose_answer_was_lost_is_looked_for_before_posting_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    // Slack answers 500: the reply may or may not have been posted.
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&app.slack)
        .await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    let first = channelback(&app, &metadata, "req-500").await;
    assert_eq!(first.status(), 503, "Zendesk is asked to retry");
    let posts = fake_slack::received(&app.slack, "chat.postMessage").await;
    let mark: Value = serde_json::from_str(field(&posts[0], "metadata").unwrap()).unwrap();
    // It was posted after all: the thread shows the marked reply.
    thread_holds(
        &app,
        serde_json::json!([
            {"ts": "1700000000.000100", "text": "root", "user": "U0ALICE"},
            {"ts": "1700000099.000900", "text": "the reply", "bot_id": "B0BOT", "metadata": mark}
        ]),
    )
    .await;
    let retried: Value = channelback(&app, &metadata, "req-500")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        retried["external_id"],
        "slack:T0TEAM:C0CHAN:1700000099.000900"
    );
    assert_eq!(
        fake_slack::received(&app.slack, "chat.postMessage")
            .await
            .len(),
        1,
        "the retry found the reply instead of posting it again"
    );
}

on_both_databases!(
    a_post_whose_answer_was_lost_is_looked_for_before_posting_again,
    a_reply_an_interrupted_attempt_posted_is_not_posted_again,
    attachments_are_streamed_into_the_thread_and_failures_reported,
    in_pull_mode_attachments_use_the_rest_connection_and_failures_become_a_note,
    a_reply_lands_in_the_slack_thread_escaped,
    a_retried_channelback_answers_the_same_and_posts_once,
    permanent_slack_errors_are_4xx_and_rate_limits_are_retryable,
    a_thread_in_an_unlinked_channel_is_refused,
    a_malformed_channelback_names_the_field
);
