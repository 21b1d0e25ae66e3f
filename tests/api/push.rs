use serde_json::{Value, json};
use slackdesk::jobs::deliver_once;
use slackdesk::storage::{accounts, outbox};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::schemas::assert_matches_schema;
use crate::support::{
    Backend, Options, PUSH_TOKEN, TestApp, eventually, fake_slack, spawn_app_with,
};

const PUSH_PATH: &str = "/z/acme/api/v2/any_channel/push";

async fn with_one_queued_message(backend: Backend, workers: bool) -> (TestApp, String) {
    let app = spawn_app_with(
        backend,
        Options {
            workers,
            ..Options::default()
        },
    )
    .await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_message(
        &app.slack,
        "1700000000.000100",
        "1700000000.000100",
        "U0ALICE",
        "Need help",
    )
    .await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    app.enqueue(&metadata, "1700000000.000100", "1700000000.000100")
        .await;
    (app, metadata)
}

fn results(codes: &[(&str, &str)]) -> Value {
    json!({"results": codes.iter().map(|(id, code)| json!({"external_resource_id": id, "status": {"code": code}})).collect::<Vec<_>>()})
}

async fn pushes(app: &TestApp) -> Vec<Value> {
    app.zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == PUSH_PATH)
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect()
}

async fn the_worker_pushes_queued_messages_with_the_accounts_token(backend: Backend) {
    let (app, _) = with_one_queued_message(backend, true).await;
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .and(header(
            "authorization",
            format!("Bearer {PUSH_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(results(&[(
            "slack:T0TEAM:C0CHAN:1700000000.000100",
            "success",
        )])))
        .mount(&app.zendesk)
        .await;

    let depth = eventually("the push to be delivered", 10, || async {
        let depth = outbox::depth(&app.state.db).await.unwrap();
        (depth == 0).then_some(depth)
    })
    .await;

    assert_eq!(depth, 0);
    let sent = pushes(&app).await;
    assert_eq!(sent.len(), 1);
    assert_matches_schema("push_parameters.json", &sent[0]);
    assert_eq!(sent[0]["instance_push_id"], "push-instance-1");
    assert_eq!(sent[0]["external_resources"][0]["message"], "Need help");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("slackdesk_push_resources_total{result=\"delivered\"} 1"),
        "{metrics}"
    );
}

async fn a_missing_parent_is_retried_later_and_not_lost(backend: Backend) {
    let (app, _) = with_one_queued_message(backend, false).await;
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(results(&[(
            "slack:T0TEAM:C0CHAN:1700000000.000100",
            "could_not_locate_parent_external_resource",
        )])))
        .mount(&app.zendesk)
        .await;

    let round = deliver_once(&app.state).await.unwrap();

    assert_eq!((round.claimed, round.delivered), (1, 0));
    assert_eq!(
        outbox::depth(&app.state.db).await.unwrap(),
        1,
        "still queued"
    );
    let again = deliver_once(&app.state).await.unwrap();
    assert_eq!(again.claimed, 0, "not due again before its backoff");
}

async fn a_rate_limit_delays_the_batch_by_retry_after(backend: Backend) {
    let (app, _) = with_one_queued_message(backend, false).await;
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "120"))
        .mount(&app.zendesk)
        .await;

    deliver_once(&app.state).await.unwrap();

    let row = sqlx::query_scalar::<_, i64>("SELECT run_after - created_at FROM outbox")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert!(
        row >= 119_000,
        "waits at least Retry-After, waited {row} ms"
    );
    assert_eq!(outbox::depth(&app.state.db).await.unwrap(), 1);
}

async fn a_refused_push_token_falls_back_to_pull(backend: Backend) {
    let (app, metadata) = with_one_queued_message(backend, false).await;
    Mock::given(method("POST"))
        .and(path(PUSH_PATH))
        .respond_with(ResponseTemplate::new(401))
        .mount(&app.zendesk)
        .await;

    deliver_once(&app.state).await.unwrap();

    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .unwrap();
    assert!(!account.delivers_by_push());
    let body: Value = app
        .post_form("/channel/pull", &[("metadata", &metadata), ("state", "")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["external_resources"].as_array().unwrap().len(),
        1,
        "pull delivers it instead"
    );
}

on_both_databases!(
    the_worker_pushes_queued_messages_with_the_accounts_token,
    a_missing_parent_is_retried_later_and_not_lost,
    a_rate_limit_delays_the_batch_by_retry_after,
    a_refused_push_token_falls_back_to_pull
);
