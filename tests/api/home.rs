//! The home page at `/`: what slackdesk is and a setup checklist checked live, from an
//! empty database to a connected channel; the Slack app link and the Zendesk app zip it
//! offers; and what a visitor who is not signed in must never see.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::Value;
use slackdesk::config::Secret;
use slackdesk::domain::Subdomain;
use slackdesk::routing::settings::Hook;

use crate::support::{
    Backend, CHANNEL, Options, PUBLIC_URL, SUBDOMAIN, TEAM, TestApp, spawn_app, spawn_app_with,
};

const STEPS: [&str; 7] = [
    "public-url",
    "slack-app",
    "zendesk-app",
    "accounts",
    "slack-workspace",
    "webhooks",
    "workers",
];

/// Whether the page shows the step as done (`data-done` on its `<li>`).
fn step_done(page: &str, step: &str) -> bool {
    let marker = format!("id=\"step-{step}\" data-done=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("step {step} is on the page"))
        + marker.len();
    match &page[at..at + 4] {
        "true" => true,
        "fals" => false,
        other => panic!("step {step}: data-done={other:?}"),
    }
}

fn done_steps(page: &str) -> BTreeMap<&'static str, bool> {
    STEPS.iter().map(|s| (*s, step_done(page, s))).collect()
}

/// The `href` of the element with this id, HTML entities undone.
fn href_of(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" href=\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} is on the page"))
        + marker.len();
    let end = page[at..].find('"').unwrap() + at;
    unescape(&page[at..end])
}

/// Undoes HTML character references (`&amp;`, `&#38;`, `&#x27;`).
fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|e| e + at).expect("entity ends");
        let entity = &rest[at + 1..end];
        let decoded = match entity {
            "amp" => '&',
            "quot" => '"',
            "lt" => '<',
            "gt" => '>',
            _ => {
                let code = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16).unwrap(),
                    None => entity.strip_prefix('#').unwrap().parse().unwrap(),
                };
                char::from_u32(code).unwrap()
            }
        };
        out.push(decoded);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

async fn home(address: &str) -> (reqwest::header::HeaderMap, String) {
    let response = reqwest::get(format!("{address}/")).await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    (headers, response.text().await.unwrap())
}

/// A replica of `app` whose `PUBLIC_URL` is http and whose Slack app is not set up.
async fn unconfigured(app: &TestApp) -> String {
    let (address, _) = app
        .spawn_replica_with(&[
            ("--public-url", Some("http://localhost:8080")),
            ("--slack-client-id", None),
        ])
        .await;
    address
}

async fn the_page_answers_html_on_an_empty_database_with_every_step_not_done(backend: Backend) {
    let app = spawn_app(backend).await;
    let address = unconfigured(&app).await;

    let (headers, page) = home(&address).await;

    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"),
        "{headers:?}"
    );
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script at all: {csp}");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(
        page.contains("Zendesk tickets"),
        "it says what slackdesk is"
    );
    assert!(page.contains("<code>http://localhost:8080</code>"));
    assert!(
        !page.contains("/setup/zendesk-app.zip"),
        "no download offered when it cannot be built"
    );
    assert!(page.contains("must use https"), "and it says why: {page}");
    assert_eq!(
        done_steps(&page),
        STEPS.iter().map(|s| (*s, false)).collect(),
        "{page}"
    );
    let database = match backend {
        Backend::Sqlite => "SQLite",
        Backend::Postgres => "PostgreSQL",
    };
    assert!(
        page.contains(&format!("<span id=\"database-backend\">{database}</span>")),
        "{page}"
    );
    assert!(page.contains("id=\"admin-sign-in\""));
}

async fn steps_turn_done_as_setup_goes_on(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options {
            workers: true,
            ..Options::default()
        },
    )
    .await;
    let (_, page) = home(&app.address).await;
    for step in ["public-url", "slack-app", "zendesk-app", "workers"] {
        assert!(step_done(&page, step), "{step}: {page}");
    }
    for step in ["accounts", "slack-workspace", "webhooks"] {
        assert!(!step_done(&page, step), "{step} not yet");
    }

    let metadata = app.create_account(false).await;
    let (_, page) = home(&app.address).await;
    assert!(step_done(&page, "accounts"));
    assert!(page.contains("<strong>Integration accounts</strong>: 1."));
    assert!(!step_done(&page, "slack-workspace"));

    app.connect_slack(&metadata).await;
    let (_, page) = home(&app.address).await;
    assert!(step_done(&page, "slack-workspace"));
    assert!(page.contains("1 workspaces, 1 channels"), "{page}");
    assert!(!step_done(&page, "webhooks"));

    slackdesk::storage::routing::set_webhook_secret(
        &app.state.db,
        &app.state.keys,
        &Subdomain::parse(SUBDOMAIN).unwrap(),
        Hook::Route,
        &Secret::from("whsec-home-test-41c7"),
        0,
    )
    .await
    .unwrap();
    let (_, page) = home(&app.address).await;
    assert!(step_done(&page, "webhooks"));
    assert_eq!(
        done_steps(&page),
        STEPS.iter().map(|s| (*s, true)).collect()
    );
}

async fn the_slack_link_creates_the_app_from_a_json_manifest_naming_public_url(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, page) = home(&app.address).await;

    let link = href_of(&page, "slack-create-app");

    let prefix = "https://api.slack.com/apps?new_app=1&manifest_json=";
    assert!(link.starts_with(prefix), "{link}");
    assert!(
        !link[prefix.len()..].contains(['+', ' ', '&', '#']),
        "{link}"
    );
    let url = url::Url::parse(&link).unwrap();
    let pairs: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(pairs["new_app"], "1");
    let manifest: Value = serde_json::from_str(&pairs["manifest_json"]).unwrap();
    assert_eq!(
        manifest["settings"]["event_subscriptions"]["request_url"],
        format!("{PUBLIC_URL}/slack/events")
    );
    assert_eq!(
        manifest["oauth_config"]["redirect_urls"],
        serde_json::json!([format!("{PUBLIC_URL}/slack/oauth/callback")])
    );
    assert_eq!(
        manifest["display_information"]["description"],
        "Slack conversations as Zendesk tickets"
    );
    let scopes = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap();
    assert!(scopes.iter().any(|s| s == "channels:history"), "{manifest}");
    let events = manifest["settings"]["event_subscriptions"]["bot_events"]
        .as_array()
        .unwrap();
    assert!(events.iter().any(|e| e == "message.channels"), "{manifest}");
}

fn unzip(bytes: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            let mut contents = Vec::new();
            entry.read_to_end(&mut contents).unwrap();
            (entry.name().unwrap().into_owned(), contents)
        })
        .collect()
}

async fn the_zendesk_app_downloads_with_this_deployments_urls(backend: Backend) {
    let app = spawn_app(backend).await;
    let (_, page) = home(&app.address).await;
    assert_eq!(
        href_of(&page, "zendesk-app-download"),
        "/setup/zendesk-app.zip"
    );

    let response = app.get("/setup/zendesk-app.zip").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("attachment"),
    );
    let files = unzip(&response.bytes().await.unwrap());
    assert!(files.contains_key("assets/logo.png"), "{:?}", files.keys());
    assert!(
        !files
            .keys()
            .any(|f| f.starts_with("tools/") || f == "README.md"),
        "{:?}",
        files.keys()
    );
    let manifest: Value = serde_json::from_slice(&files["manifest.json"]).unwrap();
    for location in ["top_bar", "nav_bar"] {
        assert_eq!(
            manifest["location"]["support"][location]["url"],
            format!("{PUBLIC_URL}/zendesk/app/location/{location}")
        );
    }
    assert_eq!(
        manifest["domainWhitelist"],
        serde_json::json!(["slackdesk.example.com"])
    );
    let requirements: Value = serde_json::from_slice(&files["requirements.json"]).unwrap();
    assert_eq!(
        requirements["channel_integrations"]["slackdesk"]["manifest_url"],
        format!("{PUBLIC_URL}/manifest.json")
    );

    // The same checks as `zendesk-app package`: an http PUBLIC_URL is refused, saying why.
    let address = unconfigured(&app).await;
    let refused = reqwest::get(format!("{address}/setup/zendesk-app.zip"))
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let text = refused.text().await.unwrap();
    assert!(text.contains("must use https"), "{text}");
}

async fn a_visitor_sees_counts_never_ids_subdomains_or_names(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    let account = TestApp::account_id(&metadata).to_string();

    let (_, page) = home(&app.address).await;

    assert!(step_done(&page, "accounts"));
    for secret in [
        account.as_str(),
        metadata.as_str(),
        SUBDOMAIN,
        TEAM,
        CHANNEL,
        "Support Slack",
        "A0APP",
        "U0BOT",
        "B0BOT",
        crate::support::BOT_TOKEN,
        crate::support::SIGNING_SECRET,
        crate::support::SLACK_CLIENT_ID,
        "slack-client-secret-for-tests",
        &app.database_url,
    ] {
        assert!(!page.contains(secret), "the page shows {secret:?}");
    }
    assert!(!page.contains("postgres://") && !page.contains("sqlite://"));
}

on_both_databases!(
    the_page_answers_html_on_an_empty_database_with_every_step_not_done,
    steps_turn_done_as_setup_goes_on,
    the_slack_link_creates_the_app_from_a_json_manifest_naming_public_url,
    the_zendesk_app_downloads_with_this_deployments_urls,
    a_visitor_sees_counts_never_ids_subdomains_or_names,
);

/// The page in headless Chromium (needs Chromium and `npm ci` in tests/browser, as
/// `scripts/test` does): it loads with its stylesheet and without console errors or CSP
/// violations, and a screenshot lands in `target/browser-artifacts/home/`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_renders_in_a_browser_without_errors() {
    let app = spawn_app(Backend::Sqlite).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let screenshot = root.join("target/browser-artifacts/home/home.png");
    let _ = std::fs::remove_file(&screenshot);
    let args = vec![
        root.join("tests/browser/home.mjs").display().to_string(),
        "--url".into(),
        app.url("/"),
        "--screenshot".into(),
        screenshot.display().to_string(),
    ];

    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").args(&args).output()
    })
    .await
    .unwrap()
    .unwrap_or_else(|e| panic!("node is needed for the browser test: {e}"));

    let stdout = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| {
            panic!(
                "no result from the browser; stdout: {stdout}; stderr: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert_eq!(result["ok"], true, "{result}");
    assert_eq!(result["title"], "slackdesk", "{result}");
    assert_eq!(result["stylesheet_applied"], true, "{result}");
    assert_eq!(result["console_errors"], serde_json::json!([]), "{result}");
    assert_eq!(result["steps"]["accounts"], true, "{result}");
    assert_eq!(result["steps"]["slack-workspace"], true, "{result}");
    assert_eq!(result["steps"]["workers"], false, "{result}");
    assert!(screenshot.exists(), "{result}");
}
