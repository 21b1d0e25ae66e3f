//! Connecting a Zendesk account with OAuth: the redirect to Zendesk, the code exchange,
//! the admin check, single-use state, and a readable page at the end.

use serde_json::json;
use slackdesk::domain::Subdomain;
use slackdesk::storage::{agents, zendesk_connections};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::{
    Backend, Options, PUBLIC_URL, TestApp, ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET, spawn_app_with,
};

const ACCESS_TOKEN: &str = "zd-oauth-access-7731";

async fn start(app: &TestApp) -> String {
    let response = app.get("/zendesk/connect?subdomain=acme").await;
    assert_eq!(response.status(), 302);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(
        location.as_str().split('?').next().unwrap(),
        format!("{}/oauth/authorizations/new", app.zendesk_base())
    );
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["response_type"], "code");
    assert_eq!(query["client_id"], ZENDESK_CLIENT_ID);
    assert_eq!(query["scope"], "read write");
    assert_eq!(
        query["redirect_uri"],
        format!("{PUBLIC_URL}/zendesk/connect/callback")
    );
    query["state"].clone()
}

async fn fake_zendesk(app: &TestApp, role: &str) {
    Mock::given(method("POST"))
        .and(path("/z/acme/oauth/tokens"))
        .and(body_partial_json(json!({
            "grant_type": "authorization_code", "code": "c0de",
            "client_id": ZENDESK_CLIENT_ID, "client_secret": ZENDESK_CLIENT_SECRET,
            "redirect_uri": format!("{PUBLIC_URL}/zendesk/connect/callback")
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": ACCESS_TOKEN, "token_type": "bearer", "scope": "read write"}),
        ))
        .mount(&app.zendesk)
        .await;
    let bearer = format!("Bearer {ACCESS_TOKEN}");
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users/me.json"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"user": {"id": 42, "role": role}})),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users.json"))
        .and(header("authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": 42, "role": "admin"}, {"id": 43, "role": "agent"}], "next_page": null
        })))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/group_memberships.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"group_memberships": [], "next_page": null})),
        )
        .mount(&app.zendesk)
        .await;
}

async fn an_admin_connects_with_oauth_and_the_agents_are_synced(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            zendesk_oauth: true,
            ..Options::default()
        },
    )
    .await;
    fake_zendesk(&app, "admin").await;
    let state = start(&app).await;

    let done = app
        .get(&format!(
            "/zendesk/connect/callback?code=c0de&state={state}"
        ))
        .await;

    assert_eq!(done.status(), 200);
    let page = done.text().await.unwrap();
    assert!(
        page.contains("acme is connected; 2 agents synced"),
        "{page}"
    );
    let acme = Subdomain::parse("acme").unwrap();
    assert_eq!(
        agents::list_active(&app.state.db, &acme)
            .await
            .unwrap()
            .len(),
        2
    );
    let connection = zendesk_connections::find(&app.state.db, &acme)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(connection.auth_kind, "oauth");
    assert!(
        connection
            .credential(&app.state.keys)
            .unwrap()
            .expose()
            .contains(ACCESS_TOKEN)
    );
    let again = app
        .get(&format!(
            "/zendesk/connect/callback?code=c0de&state={state}"
        ))
        .await;
    assert_eq!(again.status(), 400, "a state works once");
}

async fn a_non_admin_or_a_refusal_connects_nothing(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            zendesk_oauth: true,
            ..Options::default()
        },
    )
    .await;
    fake_zendesk(&app, "agent").await;

    let state = start(&app).await;
    let agent = app
        .get(&format!(
            "/zendesk/connect/callback?code=c0de&state={state}"
        ))
        .await;
    assert_eq!(agent.status(), 403);
    assert!(agent.text().await.unwrap().contains("Only a Zendesk admin"));
    let state = start(&app).await;
    let refused = app
        .get(&format!(
            "/zendesk/connect/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(refused.status(), 400);
    let forged = app
        .get("/zendesk/connect/callback?code=c0de&state=made-up")
        .await;
    assert_eq!(forged.status(), 400);

    let acme = Subdomain::parse("acme").unwrap();
    assert!(
        zendesk_connections::find(&app.state.db, &acme)
            .await
            .unwrap()
            .is_none()
    );
}

async fn connect_needs_a_valid_subdomain_and_configured_oauth(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;

    let unconfigured = app.get("/zendesk/connect?subdomain=acme").await;
    assert_eq!(unconfigured.status(), 422);
    let bad = app
        .get("/zendesk/connect?subdomain=evil.example.com%2F")
        .await;
    assert_eq!(bad.status(), 400);
}

on_both_databases!(
    an_admin_connects_with_oauth_and_the_agents_are_synced,
    a_non_admin_or_a_refusal_connects_nothing,
    connect_needs_a_valid_subdomain_and_configured_oauth,
);
