//! Several replicas on one database: nothing that must happen once happens twice.

use std::collections::HashMap;

use serde_json::{Value, json};
use slackdesk::jobs::deliver_once;
use slackdesk::storage::channel_links::ChannelSettings;
use slackdesk::storage::outbox;
use wiremock::matchers::{method, path};
use wiremock::{Mock, Request, Respond, ResponseTemplate};

use crate::support::{Backend, fake_slack, message_event, spawn_app};

/// Zendesk's push answering `success` for every resource it is sent.
struct AcceptAll;

impl Respond for AcceptAll {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let results: Vec<Value> = body["external_resources"]
            .as_array()
            .map(|resources| {
                resources
                    .iter()
                    .map(|r| json!({"external_resource_id": r["external_id"], "status": {"code": "success"}}))
                    .collect()
            })
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
    }
}

async fn two_replicas_push_every_resource_exactly_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::echo_messages(&app.slack).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(AcceptAll)
        .mount(&app.zendesk)
        .await;
    for i in 0..300 {
        let ts = format!("1700000{i:03}.000100");
        app.enqueue(&metadata, &ts, &ts).await;
    }
    let (_, replica) = app.spawn_replica().await;

    let drain = |state: slackdesk::startup::AppState| async move {
        for _ in 0..200 {
            if deliver_once(&state).await.unwrap().claimed == 0
                && outbox::depth(&state.db).await.unwrap() == 0
            {
                break;
            }
        }
    };
    tokio::join!(drain(app.state.clone()), drain(replica));

    assert_eq!(outbox::depth(&app.state.db).await.unwrap(), 0);
    let mut pushed: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for request in app.zendesk.received_requests().await.unwrap() {
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        for resource in body["external_resources"].as_array().unwrap() {
            let id = resource["external_id"].as_str().unwrap().to_owned();
            order.push(id.clone());
            *pushed.entry(id).or_default() += 1;
        }
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(
        order, sorted,
        "one account's resources reach Zendesk in queue order across replicas"
    );
    assert_eq!(pushed.len(), 300, "every resource was pushed");
    let twice: Vec<_> = pushed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "pushed more than once: {twice:?}");
}

async fn the_same_slack_event_at_two_replicas_is_queued_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    app.link_channel_with(&metadata, ChannelSettings::default())
        .await;
    let (replica_address, _) = app.spawn_replica().await;
    let event = message_event("U0ALICE", "1700000000.000100", None, "hello");
    let body = event.to_string().into_bytes();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = slackdesk::slack::signature::sign(
        &slackdesk::config::Secret::from(crate::support::SIGNING_SECRET),
        &timestamp,
        &body,
    );
    let send = |address: String| {
        let request = app
            .http
            .post(format!("{address}/slack/events"))
            .header("x-slack-request-timestamp", &timestamp)
            .header("x-slack-signature", &signature)
            .body(body.clone());
        async move { request.send().await.unwrap().status() }
    };

    let (first, second) = tokio::join!(send(app.address.clone()), send(replica_address));

    assert_eq!(
        (first, second),
        (reqwest::StatusCode::OK, reqwest::StatusCode::OK)
    );
    assert_eq!(app.queued().await.len(), 1);
}

on_both_databases!(
    two_replicas_push_every_resource_exactly_once,
    the_same_slack_event_at_two_replicas_is_queued_once
);
