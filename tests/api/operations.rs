use serde_json::Value;

use crate::support::{Backend, Options, spawn_app, spawn_app_with};

async fn health_readiness_and_metrics_answer(backend: Backend) {
    let app = spawn_app(backend).await;

    assert_eq!(app.get("/healthz").await.status(), 200);
    assert_eq!(app.get("/readyz").await.status(), 200);
    assert_eq!(app.get("/channel/healthcheck").await.status(), 200);
    let about = app.get("/channel/about").await;
    assert_eq!(about.status(), 200);
    assert!(about.text().await.unwrap().contains("stores only ids"));
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("slackdesk_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("slackdesk_queue_depth 0"));
}

async fn oversized_bodies_get_413_json(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            max_body_bytes: Some(2048),
            ..Options::default()
        },
    )
    .await;
    let big = "x".repeat(4096);

    let response = app.post_form("/channel/pull", &[("metadata", &big)]).await;

    assert_eq!(response.status(), 413);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );
}

async fn wrong_content_types_and_unknown_routes_are_clean_4xx(backend: Backend) {
    let app = spawn_app(backend).await;

    let json_to_form = app
        .post_json("/channel/pull", &serde_json::json!({"metadata": "x"}))
        .await;
    assert_eq!(json_to_form.status(), 415);
    let bad_utf8 = app
        .http
        .post(app.url("/channel/pull"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(b"metadata=%FF%FE&state=".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(bad_utf8.status(), 400);
    assert_eq!(
        bad_utf8.json::<Value>().await.unwrap()["error"]["field"],
        "metadata"
    );
    let unknown = app.get("/nope").await;
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["error"]["code"],
        "not_found"
    );
}

on_both_databases!(
    health_readiness_and_metrics_answer,
    oversized_bodies_get_413_json,
    wrong_content_types_and_unknown_routes_are_clean_4xx,
    housekeeping_forgets_expired_ids_but_never_pending_work
);

async fn housekeeping_forgets_expired_ids_but_never_pending_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;
    app.enqueue(&metadata, "1700000001.000100", "1700000001.000100")
        .await;
    let old = slackdesk::storage::now_ms() - 8 * 24 * 60 * 60 * 1000;
    sqlx::query("UPDATE outbox SET state = 'delivered', delivered_at = $1 WHERE slack_ts = '1700000000.000100'")
        .bind(old)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO slack_events (event_id, team_id, received_at) VALUES ('EvOld', 'T0TEAM', $1), ('EvNew', 'T0TEAM', $2)")
        .bind(old)
        .bind(slackdesk::storage::now_ms())
        .execute(app.state.db.pool())
        .await
        .unwrap();

    let removed = slackdesk::jobs::housekeeping_once(&app.state)
        .await
        .unwrap();

    assert_eq!(removed, 2);
    assert_eq!(app.queued().await.len(), 1, "the pending resource stays");
    let events: Vec<String> = sqlx::query_scalar("SELECT event_id FROM slack_events")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(events, vec!["EvNew"]);
}
