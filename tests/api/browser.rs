//! The admin UI in a real browser: headless Chromium loads a page that plays Zendesk,
//! which opens the admin UI in an iframe; the test fills and saves the form there, and the
//! fake Zendesk `return_url` must receive `name` and `metadata`.
//!
//! Needs Chromium and the harness's npm package; `scripts/test` installs both.

use std::path::PathBuf;
use std::process::Command;

use slackdesk::storage::accounts;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Backend, Options, SUBDOMAIN, TestApp, spawn_app_with};

const HOST_PAGE: &str = include_str!("../browser/zendesk_host.html");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_saves_the_framed_settings_form_and_zendesk_receives_the_account() {
    let host = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/zendesk_host.html"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(HOST_PAGE, "text/html; charset=utf-8"),
        )
        .mount(&host)
        .await;
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            extra_frame_ancestor: Some(host.uri()),
            ..Options::default()
        },
    )
    .await;
    let return_url = app.return_url();
    let return_path = url::Url::parse(&return_url).unwrap().path().to_owned();
    Mock::given(method("POST"))
        .and(path(return_path.as_str()))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw("<html><body>Zendesk got it</body></html>", "text/html"),
        )
        .mount(&app.zendesk)
        .await;
    let mut host_page = url::Url::parse(&format!("{}/zendesk_host.html", host.uri())).unwrap();
    host_page
        .query_pairs_mut()
        .append_pair("admin", &app.url("/channel/admin"))
        .append_pair("return_url", &return_url)
        .append_pair("subdomain", SUBDOMAIN)
        .append_pair("locale", "en-US");

    let harness = run_harness(&host_page, &return_url).await;

    assert_eq!(harness["ok"], true, "browser run failed: {harness}");
    assert_eq!(
        harness["console_errors"].as_array().map(Vec::len),
        Some(0),
        "{harness}"
    );
    let received = app.zendesk.received_requests().await.unwrap();
    let posted = received
        .iter()
        .find(|r| r.url.path() == return_path)
        .expect("return_url was posted to");
    let form: Vec<(String, String)> = form_urlencoded::parse(&posted.body).into_owned().collect();
    let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(
        value("name").as_deref(),
        Some("Support via Slack <browser>")
    );
    let metadata = value("metadata").expect("metadata posted");
    assert!(
        accounts::find(&app.state.db, TestApp::account_id(&metadata))
            .await
            .unwrap()
            .is_some()
    );
}

async fn run_harness(host_page: &url::Url, return_url: &str) -> serde_json::Value {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let screenshots = root.join("tests/browser/artifacts/admin_ui");
    let args = vec![
        root.join("tests/browser/admin_ui.mjs")
            .display()
            .to_string(),
        "--host-page".into(),
        host_page.to_string(),
        "--account-name".into(),
        "Support via Slack <browser>".into(),
        "--return-url".into(),
        return_url.to_owned(),
        "--screenshot-dir".into(),
        screenshots.display().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new("node").args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("node is needed for the browser test (scripts/test installs it): {e}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last_line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last_line).unwrap_or_else(|_| {
        panic!(
            "browser harness printed no result (exit {:?}); stdout: {stdout}; stderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}
