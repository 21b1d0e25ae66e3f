//! Property-based fuzzing of the public JSON APIs with schemathesis (PyPI): it reads
//! `/openapi.json` from the running service, generates valid and invalid requests, and
//! fails on any 5xx or any response that does not match the document.
//!
//! Needs the `schemathesis` command; `scripts/test-deps` installs it with pip.

use std::process::Command;

use crate::statuses::{AGENT, BIG, connect_account, new_key};
use crate::support::{Backend, Options, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_response_off_the_document() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            status_limits: Some((100_000, 10_000_000)),
            ..Options::default()
        },
    )
    .await;
    connect_account(&app, "acme", &[AGENT, BIG]).await;
    let key = new_key(&app, "acme").await;
    let seeded = app
        .http
        .post(app.url("/zendesk/user_statuses/create_many"))
        .header("X-API-Key", &key)
        .json(&serde_json::json!({"user_statuses": [{"user_id": BIG, "status": "online"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 200);
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/schemathesis.toml");
    let report = tempfile::tempdir().unwrap();
    // schemathesis keeps caches in its working directory: keep them out of the repo.
    let workdir = report.path().to_owned();
    let args = vec![
        "--config-file".to_owned(),
        config.to_owned(),
        "run".into(),
        app.url("/openapi.json"),
        "--url".into(),
        app.address.clone(),
        "--header".into(),
        format!("X-API-Key: {key}"),
        "--checks".into(),
        "all".into(),
        "--max-examples".into(),
        "60".into(),
        "--seed".into(),
        "20261121".into(),
        "--workers".into(),
        "1".into(),
        "--generation-database".into(),
        "none".into(),
        "--no-color".into(),
        "--report-dir".into(),
        report.path().display().to_string(),
    ];

    let output = tokio::task::spawn_blocking(move || {
        Command::new("schemathesis")
            .args(&args)
            .current_dir(&workdir)
            .output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| {
        panic!("schemathesis is needed (scripts/test-deps installs it with pip): {e}")
    });

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found problems (exit {:?}):\n{stdout}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    let operations = slackdesk::statuses::openapi::OPERATIONS.len()
        + slackdesk::routing::api::OPERATIONS.len()
        + slackdesk::statuses::openapi::CALLBACK_OPERATIONS.len();
    assert!(
        stdout.contains(&format!("Selected: {operations}/{operations}")),
        "all {operations} operations were tested:\n{stdout}"
    );
}
