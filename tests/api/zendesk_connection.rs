//! An account's Zendesk REST connection against a fake Zendesk that expires tokens after
//! seconds, rotates refresh tokens and refuses used or revoked ones (`support::fake_oauth`):
//! agent sync, status notices, routing and the bridge's ticket fields keep working through
//! several expiries, for both connection kinds; two replicas renew one connection without
//! ever presenting a dead refresh token; an idle connection is renewed before its refresh
//! token expires; a revoked grant shows "needs reconnect" everywhere until reconnected.

use std::time::Duration;

use serde_json::{Value, json};
use slackdesk::config::Secret;
use slackdesk::domain::Subdomain;
use slackdesk::jobs::run_slack_jobs_once;
use slackdesk::routing::settings::Model;
use slackdesk::statuses::connect;
use slackdesk::storage::channel_links::ChannelSettings;
use slackdesk::storage::zendesk_connections;
use slackdesk::zendesk::connection::{ConnectionError, Grant, TokenSet};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

use crate::routing::fake::Ticket;
use crate::routing::{Desk, desk_with, online};
use crate::support::fake_oauth::{ADMIN_ID, CC_CLIENT_ID, CC_CLIENT_SECRET, FakeOauth};
use crate::support::{
    Backend, Options, TestApp, ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET, eventually, fake_slack,
    message_event, spawn_app_with,
};

const APP_ID: i64 = 4242;
const AGENTS: [i64; 2] = [1001, 1002];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AuthorizationCode,
    ClientCredentials,
}

fn acme() -> Subdomain {
    Subdomain::parse("acme").unwrap()
}

fn options() -> Options {
    Options {
        zendesk_oauth: true,
        zendesk_app_id: Some(APP_ID),
        ..Options::default()
    }
}

async fn fake_oauth(app: &TestApp, access: Duration, refresh: Duration) -> FakeOauth {
    FakeOauth::mount(
        &app.zendesk,
        "acme",
        (ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET),
        access,
        refresh,
    )
    .await
}

/// Users, group memberships, app notices and ticket updates (behind the token guard).
async fn mount_rest(app: &TestApp) {
    mount_rest_on(&app.zendesk).await;
}

async fn mount_rest_on(zendesk: &wiremock::MockServer) {
    let users: Vec<Value> = AGENTS
        .iter()
        .map(|id| json!({"id": id, "role": "agent", "name": "Agent", "email": "a@acme.example"}))
        .chain([json!({"id": ADMIN_ID, "role": "admin"})])
        .collect();
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"users": users, "next_page": null})),
        )
        .with_priority(5)
        .mount(zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/group_memberships.json"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"group_memberships": [], "next_page": null})),
        )
        .with_priority(5)
        .mount(zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/apps/notify"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .with_priority(5)
        .mount(zendesk)
        .await;
    Mock::given(method("PUT"))
        .and(path_regex(r"^/z/acme/api/v2/tickets/\d+\.json$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ticket": {}})))
        .with_priority(5)
        .mount(zendesk)
        .await;
}

/// The admin's OAuth round trip, as a browser makes it: our redirect to Zendesk, then
/// Zendesk's redirect back with a code the fake approved.
async fn connect_with_oauth(app: &TestApp, oauth: &FakeOauth) -> reqwest::Response {
    let start = app.get("/zendesk/connect?subdomain=acme").await;
    assert_eq!(start.status(), 302);
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let state = crate::support::state_param(&location);
    let code = oauth.approve();
    app.get(&format!(
        "/zendesk/connect/callback?code={code}&state={state}"
    ))
    .await
}

async fn connect_with_client_credentials(app: &TestApp, secret: &str) -> reqwest::Response {
    app.post_form(
        "/zendesk/connect/client_credentials",
        &[
            ("subdomain", "acme"),
            ("client_id", CC_CLIENT_ID),
            ("client_secret", secret),
        ],
    )
    .await
}

async fn connect_kind(app: &TestApp, oauth: &FakeOauth, kind: Kind) {
    let response = match kind {
        Kind::AuthorizationCode => connect_with_oauth(app, oauth).await,
        Kind::ClientCredentials => connect_with_client_credentials(app, CC_CLIENT_SECRET).await,
    };
    let status = response.status();
    let page = response.text().await.unwrap();
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("connected"), "{page}");
}

async fn connection(app: &TestApp) -> zendesk_connections::Connection {
    zendesk_connections::find(&app.state.db, &acme())
        .await
        .unwrap()
        .expect("a stored connection")
}

fn wall_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Waits for the stored access token to pass its expiry time (Zendesk's clock).
async fn until_the_token_expired(app: &TestApp) {
    let expires = connection(app)
        .await
        .access_expires_at
        .expect("the token expires");
    eventually("the access token to expire", 30, || async {
        (wall_ms() > expires).then_some(())
    })
    .await;
}

async fn requests_to(app: &TestApp, verb: &str, path: &str) -> usize {
    app.zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.method.as_str() == verb && r.url.path() == path)
        .count()
}

/// A Slack channel linked with a priority and type, so each new ticket from it is updated
/// through the REST connection.
async fn link_slack_channel(app: &TestApp) -> String {
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    app.link_channel_with(
        &metadata,
        ChannelSettings {
            ticket_priority: Some("high".into()),
            ticket_type: Some("incident".into()),
            ticket_reaction: String::new(),
            ..ChannelSettings::default()
        },
    )
    .await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    metadata
}

/// A new Slack message becomes ticket `ticket_id`; the bridge sets its fields.
async fn ticket_from_slack(app: &TestApp, ts: &str, ticket_id: i64) {
    app.post_slack_event(&message_event("U0ALICE", ts, None, "help"))
        .await;
    let created = json!({"events": [{"type_id": "resources_created_from_external_ids", "timestamp": "2026-11-21T10:00:00Z",
        "subdomain": "acme", "integration_name": "slackdesk", "integration_id": "1",
        "data": {"request_id": "r", "resource_events": [{"type_id": "comment_on_new_ticket",
            "external_id": format!("slack:T0TEAM:C0CHAN:{ts}"), "ticket_id": ticket_id, "comment_id": 1}]}}]});
    let answer = app.post_json("/channel/events", &created).await;
    assert_eq!(answer.status(), 200);
    run_slack_jobs_once(&app.state).await.unwrap();
}

async fn a_connection_outlives_its_tokens(backend: Backend, kind: Kind) {
    let desk: Desk = desk_with(backend, &[online(1001), online(1002)], options()).await;
    let app = &desk.app;
    let oauth = fake_oauth(app, Duration::from_secs(2), Duration::from_secs(3600)).await;
    mount_rest(app).await;
    connect_kind(app, &oauth, kind).await;
    desk.queue(Model::RoundRobin, |_| {}).await;
    link_slack_channel(app).await;
    let key = crate::statuses::new_key(app, "acme").await;
    let first_version = connection(app).await.version;

    for round in 0..4_i64 {
        // Half the rounds Zendesk expires the token early (a 401 to a call), half the
        // rounds it simply runs out (renewed ahead, or on the 401 if used too late).
        if round % 2 == 0 {
            oauth.expire_access_tokens();
        } else {
            until_the_token_expired(app).await;
        }

        let report = connect::sync_agents(&app.state, &acme())
            .await
            .unwrap_or_else(|e| panic!("agent sync in round {round}: {e}"));
        assert_eq!(report.agents, 3, "round {round}");

        let status = if round % 2 == 0 { "away" } else { "online" };
        let (code, body) = crate::statuses::post(
            app,
            &key,
            &json!({"user_statuses": [{"user_id": 1001, "status": status}]}),
        )
        .await;
        assert_eq!(code, 200, "{body}");
        let notices = usize::try_from(round + 1).unwrap();
        eventually("the app notice of this round", 20, || async {
            (requests_to(app, "POST", "/z/acme/api/v2/apps/notify").await >= notices).then_some(())
        })
        .await;

        let ticket_id = 100 + round;
        desk.zendesk
            .add(Ticket::new(ticket_id, desk.now() - 60_000));
        desk.round().await;
        assert!(
            desk.zendesk.ticket(ticket_id).assignee_id.is_some(),
            "round {round}: routing assigned ticket {ticket_id}"
        );

        let from_slack = 700 + round;
        ticket_from_slack(app, &format!("17000000{round:02}.000100"), from_slack).await;
        assert_eq!(
            requests_to(
                app,
                "PUT",
                &format!("/z/acme/api/v2/tickets/{from_slack}.json")
            )
            .await,
            1,
            "round {round}: the bridge set the ticket's priority and type"
        );
    }

    let stored = connection(app).await;
    assert_eq!(stored.state, "active");
    assert!(
        stored.version >= first_version + 4,
        "renewed at least once per round"
    );
    let counts = oauth.counts();
    assert_eq!(
        counts.refused_refreshes, 0,
        "never presented a dead refresh token"
    );
    match kind {
        Kind::AuthorizationCode => assert!(counts.refreshes >= 4, "{counts:?}"),
        Kind::ClientCredentials => assert!(counts.client_credentials >= 5, "{counts:?}"),
    }
}

async fn an_oauth_connection_outlives_its_tokens(backend: Backend) {
    a_connection_outlives_its_tokens(backend, Kind::AuthorizationCode).await;
}

async fn a_client_credentials_connection_outlives_its_tokens(backend: Backend) {
    a_connection_outlives_its_tokens(backend, Kind::ClientCredentials).await;
}

/// Stores a connection from a pair the fake issued (as the OAuth callback would).
async fn store_pair(app: &TestApp, oauth: &FakeOauth) {
    let pair = oauth.issue_pair();
    let tokens = TokenSet {
        access_token: Secret::from(pair["access_token"].as_str().unwrap()),
        refresh_token: Some(Secret::from(pair["refresh_token"].as_str().unwrap())),
        expires_in: pair["expires_in"].as_i64(),
        refresh_token_expires_in: pair["refresh_token_expires_in"].as_i64(),
    };
    app.state
        .connections
        .connect(&acme(), Grant::AuthorizationCode(tokens))
        .await
        .unwrap();
}

/// One REST call through the stored connection, as any feature makes it.
async fn call_zendesk(state: &slackdesk::startup::AppState) -> Result<(), String> {
    let auth = state
        .connections
        .open(&acme())
        .await
        .map_err(|e| e.to_string())?;
    state
        .zendesk
        .me(&acme(), &auth)
        .await
        .map(|_| ())
        .map_err(|e| e.code())
}

async fn two_replicas_renew_one_connection_without_losing_it(backend: Backend) {
    let app = spawn_app_with(backend, options()).await;
    let oauth = fake_oauth(&app, Duration::from_secs(3600), Duration::from_secs(3600)).await;
    store_pair(&app, &oauth).await;
    let (_, replica) = app.spawn_replica().await;

    const ROUNDS: usize = 20;
    for round in 0..ROUNDS {
        oauth.expire_access_tokens();
        let (here, there) = tokio::join!(call_zendesk(&app.state), call_zendesk(&replica));
        assert_eq!(here, Ok(()), "round {round}, first replica");
        assert_eq!(there, Ok(()), "round {round}, second replica");
        assert_eq!(connection(&app).await.state, "active", "round {round}");
    }

    let counts = oauth.counts();
    assert_eq!(
        counts.refused_refreshes, 0,
        "a refresh token was presented after the other replica had used it: {counts:?}"
    );
    assert_eq!(
        counts.refreshes, ROUNDS,
        "one refresh per expiry: {counts:?}"
    );
    assert_eq!(oauth.live_refresh_tokens(), 1);
}

async fn an_idle_connection_is_renewed_before_its_refresh_token_expires(backend: Backend) {
    let app = spawn_app_with(backend, options()).await;
    let oauth = fake_oauth(&app, Duration::from_secs(3600), Duration::from_secs(4)).await;
    store_pair(&app, &oauth).await;
    let first = connection(&app).await;

    let renewed = eventually("the idle renewal", 20, || async {
        let renewed = app.state.connections.renew_idle().await.unwrap();
        (renewed > 0).then_some(renewed)
    })
    .await;
    let refresh_expired_at = first.refresh_expires_at.unwrap();
    eventually("the first refresh token to expire", 20, || async {
        (wall_ms() > refresh_expired_at).then_some(())
    })
    .await;
    oauth.expire_access_tokens();

    assert_eq!(renewed, 1);
    assert_eq!(call_zendesk(&app.state).await, Ok(()));
    let now = connection(&app).await;
    assert!(now.refresh_expires_at.unwrap() > refresh_expired_at);
    assert_eq!(oauth.counts().refused_refreshes, 0);
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> String {
    let mut request = app.http.get(app.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.unwrap()
}

/// Signs in to the status board with a fresh key; the session cookie (`name=value`).
async fn board_cookie(app: &TestApp) -> String {
    let key = crate::statuses::new_key(app, "acme").await;
    let response = app
        .post_form("/zendesk/board/sign_in", &[("api_key", &key)])
        .await;
    assert_eq!(response.status(), 303);
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

async fn admin_ui(app: &TestApp, metadata: &str) -> String {
    let response = app.open_admin("Support Slack", metadata, false).await;
    assert_eq!(response.status(), 200);
    response.text().await.unwrap()
}

const NEEDS_RECONNECT: &str = "data-health=\"needs_reconnect\"";

async fn a_revoked_grant_shows_needs_reconnect_everywhere_until_reconnected(backend: Backend) {
    let app = spawn_app_with(backend, options()).await;
    let oauth = fake_oauth(&app, Duration::from_secs(3600), Duration::from_secs(3600)).await;
    mount_rest(&app).await;
    connect_kind(&app, &oauth, Kind::AuthorizationCode).await;
    let metadata = app.create_account(false).await;
    let cookie = board_cookie(&app).await;
    assert!(!admin_ui(&app, &metadata).await.contains(NEEDS_RECONNECT));

    oauth.revoke_all();
    let sync = connect::sync_agents(&app.state, &acme()).await;

    assert!(
        matches!(
            sync,
            Err(ConnectionError::Zendesk(_) | ConnectionError::NeedsReconnect(_))
        ),
        "{sync:?}"
    );
    let stored = connection(&app).await;
    assert_eq!(stored.state, "needs_reconnect");
    assert_eq!(stored.last_error.as_deref(), Some("invalid_grant"));
    let later = connect::sync_agents(&app.state, &acme()).await;
    assert!(
        matches!(later, Err(ConnectionError::NeedsReconnect(ref reason)) if reason == "invalid_grant"),
        "the next use says why, without asking Zendesk again: {later:?}"
    );
    for (name, shown) in [
        ("admin UI", admin_ui(&app, &metadata).await),
        (
            "status board",
            page(&app, "/zendesk/board", Some(&cookie)).await,
        ),
        (
            "routing",
            page(&app, "/zendesk/routing", Some(&cookie)).await,
        ),
    ] {
        assert!(shown.contains(NEEDS_RECONNECT), "{name}: {shown}");
        assert!(shown.contains("invalid_grant"), "{name} names the reason");
        assert!(
            shown.contains("/zendesk/connect/client_credentials?subdomain=acme"),
            "{name} links to reconnecting"
        );
    }
    let metrics = page(&app, "/metrics", None).await;
    assert!(
        metrics
            .contains("slackdesk_zendesk_connections{kind=\"oauth\",state=\"needs_reconnect\"} 1"),
        "{metrics}"
    );
    let ready: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["status"], "ready", "readiness does not fail");
    assert_eq!(
        ready["zendesk_connections"]["needs_reconnect"],
        json!([{"subdomain": "acme", "reason": "invalid_grant"}])
    );

    let wrong = connect_with_client_credentials(&app, "not-the-secret").await;
    assert_eq!(wrong.status(), 400, "a wrong secret is refused");
    assert_eq!(
        connection(&app).await.state,
        "needs_reconnect",
        "and stores nothing"
    );
    connect_kind(&app, &oauth, Kind::ClientCredentials).await;

    assert_eq!(connection(&app).await.state, "active");
    assert_eq!(call_zendesk(&app.state).await, Ok(()));
    assert!(!admin_ui(&app, &metadata).await.contains(NEEDS_RECONNECT));
    assert!(
        !page(&app, "/zendesk/board", Some(&cookie))
            .await
            .contains(NEEDS_RECONNECT)
    );
    let metrics = page(&app, "/metrics", None).await;
    assert!(
        metrics.contains(
            "slackdesk_zendesk_connections{kind=\"client_credentials\",state=\"active\"} 1"
        )
    );
}

async fn a_refused_api_token_needs_reconnect_and_api_tokens_are_labelled_deprecated(
    backend: Backend,
) {
    let app = spawn_app_with(backend, options()).await;
    crate::statuses::connect_account(&app, "acme", &[1001]).await;
    let cookie = board_cookie(&app).await;
    let board = page(&app, "/zendesk/board", Some(&cookie)).await;
    assert!(board.contains("id=\"api-token-deprecated\""), "{board}");
    assert!(board.contains("30 April 2027"));

    Mock::given(path_regex("^/z/acme/api/v2/"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "Couldn't authenticate you"})),
        )
        .with_priority(1)
        .mount(&app.zendesk)
        .await;
    let sync = connect::sync_agents(&app.state, &acme()).await;

    assert!(sync.is_err());
    let stored = connection(&app).await;
    assert_eq!(stored.state, "needs_reconnect");
    assert_eq!(stored.last_error.as_deref(), Some("api_token_rejected"));
    let board = page(&app, "/zendesk/board", Some(&cookie)).await;
    assert!(board.contains(NEEDS_RECONNECT));
    assert!(board.contains("API tokens are deactivated after 30 days unused"));
}

on_both_databases!(
    an_oauth_connection_outlives_its_tokens,
    a_client_credentials_connection_outlives_its_tokens,
    two_replicas_renew_one_connection_without_losing_it,
    an_idle_connection_is_renewed_before_its_refresh_token_expires,
    a_revoked_grant_shows_needs_reconnect_everywhere_until_reconnected,
    a_refused_api_token_needs_reconnect_and_api_tokens_are_labelled_deprecated,
);

// ---------------------------------------------------------------------------------------
// kill -9 in the middle of a refresh

struct Binary {
    child: std::process::Child,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

/// The real binary on `port`, its SQLite file and log in `dir`, talking to the fakes.
async fn start_binary(dir: &std::path::Path, port: u16, zendesk: &str, keys: &str) -> Binary {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("slackdesk.log"))
        .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_slackdesk"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "info,sqlx=warn")
        .env("PUBLIC_URL", "https://slackdesk.example.com")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/slackdesk.db", dir.display()),
        )
        .env("SLACKDESK_KEYS", keys)
        .env("ZENDESK_URL_TEMPLATE", format!("{zendesk}/z/{{subdomain}}"))
        .env("ZENDESK_CLIENT_ID", ZENDESK_CLIENT_ID)
        .env("ZENDESK_CLIENT_SECRET", ZENDESK_CLIENT_SECRET)
        .env("HTTP_TIMEOUT_SECS", "2")
        .stdout(std::process::Stdio::from(log.try_clone().unwrap()))
        .stderr(std::process::Stdio::from(log))
        .spawn()
        .unwrap();
    let http = reqwest::Client::new();
    eventually("the binary to be ready", 30, || async {
        http.get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
            .map(|_| ())
    })
    .await;
    Binary { child }
}

/// GET on the binary without following redirects.
async fn binary_get(port: u16, path: &str) -> reqwest::Response {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .unwrap()
}

async fn users_reads(zendesk: &wiremock::MockServer) -> usize {
    zendesk
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/z/acme/api/v2/users.json")
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_killed_midway_leaves_a_connection_that_works_after_a_restart() {
    slackdesk::startup::install_crypto_provider();
    let zendesk = wiremock::MockServer::start().await;
    // The same fakes as the in-process tests, on a server of the test's own.
    let stand_in = TestAppFakes { zendesk: &zendesk };
    let oauth = stand_in.oauth().await;
    stand_in.rest().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = slackdesk::crypto::generate_key_line("k1").unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();

    // Connected through the binary's own OAuth pages.
    let first = start_binary(dir.path(), port, &zendesk.uri(), &keys).await;
    let start = binary_get(port, "/zendesk/connect?subdomain=acme").await;
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let state = crate::support::state_param(&location);
    let callback = binary_get(
        port,
        &format!(
            "/zendesk/connect/callback?code={}&state={state}",
            oauth.approve()
        ),
    )
    .await;
    assert_eq!(callback.status(), 200);
    drop(first);

    // The token expired; the next start's agent sync renews it, and the refresh is on
    // its way to Zendesk (not processed yet) when the process is killed.
    oauth.expire_access_tokens();
    oauth.state().hold_refreshes = Some(Duration::from_secs(30));
    let second = start_binary(dir.path(), port, &zendesk.uri(), &keys).await;
    eventually("the refresh to be in flight", 30, || async {
        (oauth.counts().held_refreshes > 0).then_some(())
    })
    .await;
    drop(second); // kill -9 while the refresh waits for Zendesk's answer
    oauth.state().hold_refreshes = None;
    let reads_before = users_reads(&zendesk).await;

    let _third = start_binary(dir.path(), port, &zendesk.uri(), &keys).await;

    // Once the dead process's lease runs out, the stored refresh token still works.
    eventually("agent sync to work again after the restart", 40, || async {
        (users_reads(&zendesk).await > reads_before && oauth.counts().refreshes == 1).then_some(())
    })
    .await;
    let counts = oauth.counts();
    assert_eq!(counts.refused_refreshes, 0, "{counts:?}");
    let ready: Value = binary_get(port, "/readyz").await.json().await.unwrap();
    assert_eq!(ready["zendesk_connections"]["needs_reconnect"], json!([]));
    assert_eq!(ready["zendesk_connections"]["states"]["active"], 1);
}

/// Mounts the fakes of this file on a bare wiremock server (for the binary test).
struct TestAppFakes<'a> {
    zendesk: &'a wiremock::MockServer,
}

impl TestAppFakes<'_> {
    async fn oauth(&self) -> FakeOauth {
        FakeOauth::mount(
            self.zendesk,
            "acme",
            (ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        )
        .await
    }

    async fn rest(&self) {
        mount_rest_on(self.zendesk).await;
    }
}
