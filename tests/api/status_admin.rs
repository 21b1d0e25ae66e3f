//! Running the status module: the periodic agent sync and the `zendesk connect` and
//! `api-keys` commands of the real binary.

use std::process::Command;

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::statuses::{
    ADMIN, AGENT, API_TOKEN, BIG, EMAIL, connect_account, get, new_key, pair, post, statuses,
};
use crate::support::{Backend, TestApp, spawn_app};

async fn the_periodic_sync_drops_agents_zendesk_no_longer_lists(backend: Backend) {
    let app = spawn_app(backend).await;
    connect_account(&app, "acme", &[AGENT, BIG]).await;
    let key = new_key(&app, "acme").await;
    post(&app, &key, &json!({"user_statuses": [{"user_id": BIG, "status": "online"}, {"user_id": AGENT, "status": "online"}]})).await;
    app.zendesk.reset().await;
    connect_account(&app, "acme", &[AGENT]).await;
    app.zendesk.reset().await;
    Mock::given(method("GET"))
        .and(path("/z/acme/api/v2/users.json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "users": [{"id": ADMIN, "role": "admin"}, {"id": BIG, "role": "agent", "suspended": true}],
            "next_page": null
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

    let round = slackdesk::jobs::sync_agents_once(&app.state).await.unwrap();

    assert_eq!((round.synced, round.failed), (1, 0));
    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(
        statuses(&current),
        Vec::<(i64, String)>::new(),
        "AGENT left, BIG is suspended"
    );
    let (status, _) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": BIG, "status": "away"}]}),
    )
    .await;
    assert_eq!(status, 422);
    post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": ADMIN, "status": "online"}]}),
    )
    .await;
    let (_, current) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(statuses(&current), vec![pair(ADMIN, "online")]);
}

async fn a_failing_zendesk_is_recorded_and_keeps_the_last_agents(backend: Backend) {
    let app = spawn_app(backend).await;
    connect_account(&app, "acme", &[AGENT]).await;
    app.zendesk.reset().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&app.zendesk)
        .await;

    let round = slackdesk::jobs::sync_agents_once(&app.state).await.unwrap();

    assert_eq!((round.synced, round.failed), (0, 1));
    let failure: Option<String> =
        sqlx::query_scalar("SELECT sync_failure FROM zendesk_connections")
            .fetch_one(app.state.db.pool())
            .await
            .unwrap();
    assert_eq!(failure.as_deref(), Some("http_503"));
    let key = new_key(&app, "acme").await;
    let (status, _) = post(
        &app,
        &key,
        &json!({"user_statuses": [{"user_id": AGENT, "status": "online"}]}),
    )
    .await;
    assert_eq!(status, 200, "the agents of the last good sync still count");
}

fn slackdesk(app: &TestApp, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_slackdesk"))
        .args(args)
        .env("DATABASE_URL", &app.database_url)
        .env("SLACKDESK_KEYS", &app.key_ring)
        .env(
            "ZENDESK_URL_TEMPLATE",
            format!("{}/z/{{subdomain}}", app.zendesk.uri()),
        )
        .env("ZENDESK_API_TOKEN", API_TOKEN)
        .env("RUST_LOG", "info")
        .output()
        .expect("the slackdesk binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn the_commands_connect_zendesk_and_create_list_and_revoke_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    connect_account(&app, "acme", &[AGENT]).await;

    let (ok, out, err) = tokio::task::block_in_place(|| {
        slackdesk(
            &app,
            &[
                "zendesk",
                "connect",
                "--subdomain",
                "acme",
                "--email",
                EMAIL,
            ],
        )
    });
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains(&format!("as user {ADMIN}; 2 agents synced")),
        "{out}"
    );
    for text in [&out, &err] {
        assert!(
            !text.contains(API_TOKEN) && !text.contains(EMAIL),
            "no credential printed"
        );
    }

    let (ok, out, err) = tokio::task::block_in_place(|| {
        slackdesk(
            &app,
            &[
                "api-keys",
                "create",
                "--subdomain",
                "acme",
                "--user-id",
                &ADMIN.to_string(),
            ],
        )
    });
    assert!(ok, "{err}");
    let key = out.trim().to_owned();
    assert!(key.starts_with("sdk_"), "{out}");
    let (status, _) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(status, 200, "the printed key works");

    let (ok, listed, _) = tokio::task::block_in_place(|| slackdesk(&app, &["api-keys", "list"]));
    assert!(ok);
    let prefix = key.split('_').nth(1).unwrap();
    let row = listed
        .lines()
        .find(|l| l.starts_with(prefix))
        .expect("listed");
    assert!(row.contains(&format!("acme\t{ADMIN}\t")), "{row}");
    assert!(
        !listed.contains(&key[17..]),
        "the secret is never shown again"
    );

    let (ok, out, _) =
        tokio::task::block_in_place(|| slackdesk(&app, &["api-keys", "revoke", prefix]));
    assert!(ok, "{out}");
    let (status, _) = get(&app, &key, "/zendesk/user_statuses/current").await;
    assert_eq!(status, 401, "a revoked key stops working at once");
    let (ok, _, err) =
        tokio::task::block_in_place(|| slackdesk(&app, &["api-keys", "revoke", prefix]));
    assert!(!ok && err.contains("no active key"), "{err}");
}

async fn key_rotation_reseals_the_zendesk_credential(backend: Backend) {
    let app = spawn_app(backend).await;
    connect_account(&app, "acme", &[AGENT]).await;
    let new_line = slackdesk::crypto::generate_key_line("test2").unwrap();
    let rotated =
        slackdesk::crypto::KeyRing::parse(&format!("{new_line},{}", app.key_ring)).unwrap();

    let report = slackdesk::storage::rotation::reseal_all(&app.state.db, &rotated)
        .await
        .unwrap();

    assert_eq!(report.resealed, 1);
    let only_new = slackdesk::crypto::KeyRing::parse(&new_line).unwrap();
    let acme = slackdesk::domain::Subdomain::parse("acme").unwrap();
    let connection = slackdesk::storage::zendesk_connections::find(&app.state.db, &acme)
        .await
        .unwrap()
        .unwrap();
    assert!(
        connection
            .credential(&only_new)
            .unwrap()
            .expose()
            .contains(API_TOKEN)
    );
    assert!(
        connection.credential(&app.state.keys).is_err(),
        "the old key alone no longer reads it"
    );
}

on_both_databases!(
    key_rotation_reseals_the_zendesk_credential,
    the_periodic_sync_drops_agents_zendesk_no_longer_lists,
    a_failing_zendesk_is_recorded_and_keeps_the_last_agents,
    the_commands_connect_zendesk_and_create_list_and_revoke_keys,
);
