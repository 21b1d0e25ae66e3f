use serde_json::Value;

use crate::support::fake_slack;
use crate::support::schemas::assert_matches_schema;
use crate::support::{Backend, TestApp, spawn_app};

async fn pull(app: &TestApp, metadata: &str, state: &str) -> (u16, Value) {
    let response = app
        .post_form("/channel/pull", &[("metadata", metadata), ("state", state)])
        .await;
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn wrong_metadata_is_refused_with_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;

    let (status, body) = pull(&app, &metadata.replace("sd1:", "sd1:0"), "").await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = pull(&app, &format!("{metadata}tampered"), "").await;
    assert_eq!(status, 401);
}

async fn an_empty_queue_gives_an_empty_valid_payload(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;

    let (status, body) = pull(&app, &metadata, "").await;

    assert_eq!(status, 200);
    assert_matches_schema("pull_payload.json", &body);
    assert_eq!(body["external_resources"].as_array().unwrap().len(), 0);
}

async fn queued_messages_arrive_in_order_and_leave_only_when_acknowledged(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_message(
        &app.slack,
        "1700000000.000100",
        "1700000000.000100",
        "U0ALICE",
        "Printer on fire\nplease help",
    )
    .await;
    fake_slack::serve_message(
        &app.slack,
        "1700000005.000200",
        "1700000000.000100",
        "U0ALICE",
        "still burning &lt;3",
    )
    .await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    assert!(
        app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
            .await
    );
    assert!(
        app.enqueue(&metadata, "1700000005.000200", "1700000000.000100")
            .await
    );
    assert!(
        !app.enqueue(&metadata, "1700000005.000200", "1700000000.000100")
            .await,
        "duplicates are not queued twice"
    );

    let (status, first) = pull(&app, &metadata, "").await;

    assert_eq!(status, 200);
    assert_matches_schema("pull_payload.json", &first);
    let resources = first["external_resources"].as_array().unwrap();
    assert_eq!(resources.len(), 2);
    let thread = "slack:T0TEAM:C0CHAN:1700000000.000100";
    assert_eq!(resources[0]["external_id"], thread);
    assert_eq!(resources[0]["thread_id"], thread);
    assert_eq!(resources[1]["thread_id"], thread);
    assert_eq!(
        resources[1]["external_id"],
        "slack:T0TEAM:C0CHAN:1700000005.000200"
    );
    assert_eq!(resources[0]["author"]["name"], "Alice");
    assert_eq!(
        resources[0]["author"]["external_id"],
        "slack:T0TEAM:U0ALICE"
    );
    assert_eq!(resources[1]["message"], "still burning <3");
    assert_eq!(resources[0]["created_at"], "2023-11-14T22:13:20.000Z");
    let subject = resources[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "subject")
        .unwrap();
    assert_eq!(subject["value"], "Printer on fire");
    assert!(
        resources[1].get("fields").is_none(),
        "fields only start a ticket"
    );
    let state = first["state"].as_str().unwrap().to_owned();

    // Zendesk lost our answer: it pulls again with its old (empty) state and gets the same.
    let (_, again) = pull(&app, &metadata, "").await;
    assert_eq!(again["external_resources"].as_array().unwrap().len(), 2);

    // Zendesk stored our state: the rows are acknowledged and the queue is empty.
    let (_, after) = pull(&app, &metadata, &state).await;
    assert_matches_schema("pull_payload.json", &after);
    assert_eq!(after["external_resources"].as_array().unwrap().len(), 0);
}

async fn a_message_deleted_before_delivery_is_dropped_not_retried_forever(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    wiremock::Mock::given(wiremock::matchers::path("/api/conversations.replies"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"ok": false, "error": "thread_not_found"})),
        )
        .mount(&app.slack)
        .await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;

    let (status, body) = pull(&app, &metadata, "").await;

    assert_eq!(status, 200);
    assert_eq!(body["external_resources"].as_array().unwrap().len(), 0);
    assert_eq!(
        slackdesk::storage::outbox::depth(&app.state.db)
            .await
            .unwrap(),
        0
    );
    let page = app
        .open_admin("Support", &metadata, false)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Delivery problems") && page.contains("thread_not_found"),
        "the admin sees why"
    );
}

async fn a_malformed_state_is_a_400_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;

    let (status, body) = pull(&app, &metadata, "{not json").await;

    assert_eq!(status, 400);
    assert_eq!(body["error"]["field"], "state");
}

on_both_databases!(
    wrong_metadata_is_refused_with_json,
    an_empty_queue_gives_an_empty_valid_payload,
    queued_messages_arrive_in_order_and_leave_only_when_acknowledged,
    a_message_deleted_before_delivery_is_dropped_not_retried_forever,
    a_malformed_state_is_a_400_naming_the_field
);
