use serde_json::{Value, json};
use slackdesk::domain::ExternalId;
use slackdesk::storage::{accounts, ticket_links};

use crate::support::schemas::assert_matches_schema;
use crate::support::{Backend, TestApp, spawn_app};

fn event(type_id: &str, data: Value) -> Value {
    json!({
        "type_id": type_id,
        "timestamp": "2026-11-21T10:00:00Z",
        "subdomain": "acme",
        "integration_name": "slackdesk",
        "integration_id": "01HX",
        "data": data
    })
}

async fn created_tickets_are_recorded_against_our_external_ids(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;
    let created = event(
        "resources_created_from_external_ids",
        json!({"request_id": "r1", "resource_events": [
            {"type_id": "comment_on_new_ticket", "external_id": "slack:T0TEAM:C0CHAN:1700000000.000100", "ticket_id": 4321, "comment_id": 99},
            {"type_id": "comment_on_new_ticket", "external_id": "slack:T0TEAM:C0CHAN:1999999999.000000", "ticket_id": 1, "comment_id": 1}
        ]}),
    );
    assert_matches_schema("event_callback_any.json", &created);

    let response = app
        .post_json(
            "/channel/events",
            &json!({"events": [created, {"garbage": true}]}),
        )
        .await;

    assert_eq!(response.status(), 200);
    let account = TestApp::account_id(&metadata);
    let ours = ExternalId::parse("slack:T0TEAM:C0CHAN:1700000000.000100").unwrap();
    let link = ticket_links::find(&app.state.db, account, &ours)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((link.ticket_id, link.comment_id), (4321, Some(99)));
    let foreign = ExternalId::parse("slack:T0TEAM:C0CHAN:1999999999.000000").unwrap();
    assert!(
        ticket_links::find(&app.state.db, account, &foreign)
            .await
            .unwrap()
            .is_none(),
        "ids we never sent are ignored"
    );
}

async fn deactivation_pauses_the_account_and_activation_resumes_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    let deactivate = event(
        "deactivate_integration_instance",
        json!({"metadata": metadata, "deactivated_by": "api"}),
    );
    assert_matches_schema("event_callback_any.json", &deactivate);

    app.post_json("/channel/events", &json!({"events": [deactivate]}))
        .await;
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert!(!account.active);

    app.post_json(
        "/channel/events",
        &json!({"events": [event("activate_integration_instance", json!({"metadata": metadata}))]}),
    )
    .await;
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert!(account.active);
}

async fn destroying_the_instance_deletes_the_account_and_its_credentials(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;

    let response = app
        .post_json("/channel/events", &json!({"events": [event("destroy_integration_instance", json!({"metadata": metadata}))]}))
        .await;

    assert_eq!(response.status(), 200);
    assert!(
        accounts::find(&app.state.db, TestApp::account_id(&metadata))
            .await
            .unwrap()
            .is_none()
    );
    let pull = app
        .post_form("/channel/pull", &[("metadata", &metadata), ("state", "")])
        .await;
    assert_eq!(pull.status(), 401, "the old metadata no longer works");
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
}

async fn forged_metadata_in_an_event_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    let forged = format!("{metadata}x");

    let response = app
        .post_json("/channel/events", &json!({"events": [event("destroy_integration_instance", json!({"metadata": forged}))]}))
        .await;

    assert_eq!(response.status(), 200);
    assert!(
        accounts::find(&app.state.db, TestApp::account_id(&metadata))
            .await
            .unwrap()
            .is_some()
    );
}

async fn forgetting_an_author_removes_their_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;
    let forget = event(
        "destroy_user_identity",
        json!({"author": {"external_id": "slack:T0TEAM:U0ALICE"}}),
    );
    assert_matches_schema("event_callback_any.json", &forget);

    app.post_json("/channel/events", &json!({"events": [forget]}))
        .await;

    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE slack_user IS NOT NULL")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(users, 0);
}

async fn a_malformed_event_batch_is_a_400(backend: Backend) {
    let app = spawn_app(backend).await;

    let response = app
        .post_json("/channel/events", &json!({"events": "nope"}))
        .await;

    assert_eq!(response.status(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["field"],
        "events"
    );
}

on_both_databases!(
    created_tickets_are_recorded_against_our_external_ids,
    deactivation_pauses_the_account_and_activation_resumes_it,
    destroying_the_instance_deletes_the_account_and_its_credentials,
    forged_metadata_in_an_event_changes_nothing,
    forgetting_an_author_removes_their_id,
    a_malformed_event_batch_is_a_400
);
