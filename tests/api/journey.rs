//! Day one in a browser (issue 13, "Tests and proof"): from an empty SQLite database, a
//! Zendesk admin follows the setup checklist in headless Chromium, clicking links and
//! filling forms, against fake Slack and Zendesk servers on loopback:
//!
//! ```text
//!  1 /                     checklist; the Slack create-app link (read, not followed);
//!                          the Zendesk app zip (downloaded)
//!  2 Zendesk Admin Center  (stand-in host page) frames the admin UI: Connect Slack in a
//!                          new tab (fake Slack consent) ─▶ show the channels ─▶ tick one
//!                          ─▶ Save ─▶ return_url gets name + metadata
//!  3 / ─▶ Sign in with Zendesk (fake consent) ─▶ /zendesk/setup, where the same
//!                          consent also connected the REST API (and its expiry shows)
//!  4 routing               New queue, the view picked by its title
//!  5 webhooks + trigger    the same-agent rule on ─▶ slackdesk makes them in Zendesk
//!  6 /                     every step that should be done is done
//!  7 Slack                 a signed message event in the linked channel ─▶ the fake
//!                          Zendesk receives the push with its external id
//! ```
//!
//! The browser part is `tests/browser/journey.mjs`; it keeps a screenshot of every page
//! in `target/browser-artifacts/journey-NN-name.png` and fails at the first thing the
//! admin would not see, naming the step. Zendesk's and Slack's own parts (their consent
//! pages, the admin UI POST, the signed event) are played by the fakes here.
//!
//! PUBLIC_URL is `https://slackdesk.example.com` (the Slack app and the Zendesk app need
//! https), while the service listens on loopback: the fakes' consent pages check that
//! `redirect_uri` is under PUBLIC_URL and send the browser to the same path on loopback.
//!
//! Needs Chromium and the harness's npm package; `scripts/test` installs both.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use slackdesk::domain::Subdomain;
use slackdesk::storage::{accounts, channel_links, routing as routing_store, zendesk_connections};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::fake_oauth::{ADMIN_ID, FakeOauth};
use crate::support::schemas::assert_matches_schema;
use crate::support::{
    Backend, CHANNEL, Options, PUBLIC_URL, SUBDOMAIN, TEAM, TestApp, ZENDESK_CLIENT_ID,
    ZENDESK_CLIENT_SECRET, event_callback, fake_slack, spawn_app_with,
};

const HOST_PAGE: &str = include_str!("../browser/zendesk_host.html");
/// The stand-in Zendesk Admin Center is served under this name (Chromium resolves it to
/// loopback), so it frames the admin UI from another site, as acme.zendesk.com does.
const ZENDESK_HOST_NAME: &str = "acme.zendesk.test";

/// What Zendesk posts to the admin UI when the manifest has `push_client_id`.
const PUSH_CLIENT_ID: &str = "slackdesk_journey_push";
const PUSH_INSTANCE: &str = "journey-push-instance-1";
const PUSH_ACCESS: &str = "zdpush-journey-token-3c1a";

/// Names the admin sees on pages; none of them may be stored.
const CHANNEL_NAME: &str = "help-journey-9f3";
const VIEW_ID: i64 = 360_001;
const VIEW_TITLE: &str = "Journey inbox 5c7";
const ACCOUNT_NAME: &str = "Support via Slack";
const QUEUE_NAME: &str = "Slack first";
const ADMIN_NAME: &str = "Ada Admin";

/// The Slack message that becomes a ticket.
const MESSAGE_TS: &str = "1767225600.000100";
const MESSAGE_TEXT: &str = "MARKER-journey printer is on fire";
const MESSAGE_USER: &str = "U0ALICE";

/// Step 5 (webhooks and triggers made by slackdesk) is on: `stepWebhooksAndTriggers` in
/// `tests/browser/journey.mjs` and [`webhooks_and_triggers_were_made`] below; the journey
/// also expects the home page's webhooks step to be done.
const WEBHOOKS_MADE_AUTOMATICALLY: bool = true;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_goes_from_an_empty_database_to_a_slack_message_that_becomes_a_ticket() {
    let started = Instant::now();
    let host = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/zendesk_host.html"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(HOST_PAGE, "text/html; charset=utf-8"),
        )
        .mount(&host)
        .await;
    let host_origin = format!("http://{ZENDESK_HOST_NAME}:{}", host.address().port());
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            workers: true,
            zendesk_oauth: true,
            push_client_id: Some(PUSH_CLIENT_ID),
            extra_frame_ancestor: Some(host_origin.clone()),
            ..Options::default()
        },
    )
    .await;
    let oauth = fake_zendesk(&app).await;
    fake_slack_for_the_journey(&app).await;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let downloads = tempfile::tempdir().unwrap();

    // Steps 1 to 6, in the browser.
    let admin_ui = admin_ui_from_the_manifest(&app).await;
    let result = run_journey(&app, &host_origin, &admin_ui, &root, downloads.path()).await;

    assert_eq!(
        result["ok"],
        true,
        "the journey stopped at step {:?}: {}\n  page: {}\n  screenshots: {}\n  console errors: {}\n  off-loopback requests: {}",
        result["step"].as_str().unwrap_or("?"),
        result["error"].as_str().unwrap_or("(no error text)"),
        result["page_url"],
        result["screenshots"],
        result["console_errors"],
        result["offsite_requests"],
    );
    assert_eq!(
        result["console_errors"],
        json!([]),
        "no console errors or CSP violations on any page: {result}"
    );
    assert_eq!(
        result["offsite_requests"],
        json!([]),
        "the browser stayed on loopback"
    );
    let seen = &result["seen"];

    // 1. The Slack app link carries this deployment's manifest; the zip is its app.
    the_slack_link_creates_this_deployments_app(seen["slack_create_app_link"].as_str());
    the_download_is_this_deployments_zendesk_app(seen["zendesk_app_file"].as_str());

    // 2. Zendesk got the account; the channel ticked in the browser is linked, and the
    //    push token Zendesk sent with the admin UI is kept.
    let metadata = zendesk_received_the_account(&app).await;
    let account = accounts::find(&app.state.db, TestApp::account_id(&metadata))
        .await
        .unwrap()
        .expect("the saved account is stored");
    assert!(account.has_push_token(), "the push token was kept");
    let links = channel_links::for_account(&app.state.db, account.id)
        .await
        .unwrap();
    assert_eq!(
        links
            .iter()
            .map(|l| (l.team.to_string(), l.channel.to_string()))
            .collect::<Vec<_>>(),
        vec![(TEAM.to_owned(), CHANNEL.to_owned())],
        "the channel ticked in the browser is linked"
    );
    let exchanged = fake_slack::received(&app.slack, "oauth.v2.access").await;
    assert_eq!(exchanged.len(), 1, "one Slack install");
    assert_eq!(
        fake_slack::field(&exchanged[0], "code"),
        Some(SLACK_CODE),
        "the code Slack's consent gave"
    );

    // 3. Two Zendesk authorizations: signing in, and the REST connection.
    let acme = Subdomain::parse(SUBDOMAIN).unwrap();
    assert_eq!(
        oauth.counts().code_exchanges,
        1,
        "one Zendesk consent signs the admin in and connects the account: {:?}",
        oauth.counts()
    );
    let connection = zendesk_connections::find(&app.state.db, &acme)
        .await
        .unwrap()
        .expect("the REST connection is stored");
    assert_eq!(connection.auth_kind, "oauth");

    // 4. The queue made with the picker routes the view picked by its title.
    let queues = routing_store::list_queues(&app.state.db, &acme)
        .await
        .unwrap();
    assert_eq!(queues.len(), 1, "one queue");
    assert_eq!(queues[0].settings.name, QUEUE_NAME);
    assert_eq!(queues[0].settings.view_id, VIEW_ID);

    // 5. The webhook and its trigger, made by slackdesk.
    webhooks_and_triggers_were_made(&app).await;

    // 7. A Slack message in the linked channel becomes a ticket.
    let accepted = app
        .post_slack_event(&event_callback(json!({
            "type": "message", "channel": CHANNEL, "channel_type": "channel",
            "user": MESSAGE_USER, "ts": MESSAGE_TS, "text": MESSAGE_TEXT
        })))
        .await;
    assert_eq!(accepted.status(), 200, "Slack's event is acknowledged");
    let external_id = format!("slack:{TEAM}:{CHANNEL}:{MESSAGE_TS}");
    let push = pushed(&app, &external_id, Duration::from_secs(15)).await;
    assert_matches_schema("push_parameters.json", &push);
    assert_eq!(push["instance_push_id"], PUSH_INSTANCE);
    let resource = &push["external_resources"][0];
    assert_eq!(resource["external_id"], external_id.as_str());
    assert_eq!(resource["message"], MESSAGE_TEXT);
    assert_eq!(resource["thread_id"], external_id.as_str());

    // What the admin saw by name stays out of the database.
    let stored = app.sqlite_bytes();
    assert!(stored.len() > 10_000, "the database files were read");
    for name in [
        CHANNEL_NAME,
        VIEW_TITLE,
        ADMIN_NAME,
        MESSAGE_TEXT,
        "ada@acme.example",
    ] {
        assert!(
            !stored.windows(name.len()).any(|w| w == name.as_bytes()),
            "{name:?} is in the database"
        );
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(60),
        "the journey took {took:?}; keep it under a minute"
    );
}

/// What Zendesk received when slackdesk made the webhook and trigger itself: `POST /api/v2/webhooks` (JSON, POST, the route or
/// same-agent URL under PUBLIC_URL), `GET /api/v2/webhooks/{id}/signing_secret` (so
/// nobody types it), and `POST /api/v2/triggers` calling that webhook. The fake answers
/// those calls already ([`serve_webhooks_and_triggers`]).
async fn webhooks_and_triggers_were_made(app: &TestApp) {
    if !WEBHOOKS_MADE_AUTOMATICALLY {
        return;
    }
    let calls: Vec<(String, String)> = app
        .zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(|r| (r.method.to_string(), r.url.path().to_owned()))
        .collect();
    for (verb, wanted) in [
        ("POST", "/api/v2/webhooks"),
        ("GET", "/signing_secret"),
        ("POST", "/api/v2/triggers"),
    ] {
        assert!(
            calls
                .iter()
                .any(|(m, p)| m == verb && p.trim_end_matches(".json").ends_with(wanted)),
            "Zendesk did not receive {verb} …{wanted}: {calls:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// The browser.

/// What Zendesk does once the app is installed: reads the channel manifest named in its
/// requirements, and opens the manifest's `admin_ui` (on loopback here) with the push
/// token, since the manifest has a `push_client_id`.
async fn admin_ui_from_the_manifest(app: &TestApp) -> String {
    let manifest: Value = app.get("/manifest.json").await.json().await.unwrap();
    assert_eq!(manifest["push_client_id"], PUSH_CLIENT_ID, "{manifest}");
    let admin_ui = manifest["urls"]["admin_ui"].as_str().unwrap_or_default();
    let path = admin_ui
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("admin_ui {admin_ui:?} is under PUBLIC_URL"));
    app.url(path)
}

async fn run_journey(
    app: &TestApp,
    host_origin: &str,
    admin_ui: &str,
    root: &Path,
    downloads: &Path,
) -> Value {
    let mut host_page = url::Url::parse(&format!("{host_origin}/zendesk_host.html")).unwrap();
    host_page
        .query_pairs_mut()
        .append_pair("admin", admin_ui)
        .append_pair("return_url", &app.return_url())
        .append_pair("subdomain", SUBDOMAIN)
        .append_pair("locale", "en-US")
        .append_pair("instance_push_id", PUSH_INSTANCE)
        .append_pair("zendesk_access_token", PUSH_ACCESS);
    let args: Vec<String> = vec![
        root.join("tests/browser/journey.mjs").display().to_string(),
        "--app".into(),
        app.address.clone(),
        "--public-url".into(),
        PUBLIC_URL.into(),
        "--host-page".into(),
        host_page.to_string(),
        "--zendesk-host-name".into(),
        ZENDESK_HOST_NAME.into(),
        "--return-url".into(),
        app.return_url(),
        "--subdomain".into(),
        SUBDOMAIN.into(),
        "--account-name".into(),
        ACCOUNT_NAME.into(),
        "--channel-name".into(),
        CHANNEL_NAME.into(),
        "--channel-key".into(),
        format!("{TEAM}:{CHANNEL}"),
        "--view-title".into(),
        VIEW_TITLE.into(),
        "--view-id".into(),
        VIEW_ID.to_string(),
        "--queue-name".into(),
        QUEUE_NAME.into(),
        "--webhooks-automatic".into(),
        WEBHOOKS_MADE_AUTOMATICALLY.to_string(),
        "--screenshot-dir".into(),
        root.join("target/browser-artifacts").display().to_string(),
        "--download-dir".into(),
        downloads.display().to_string(),
    ];
    let output = tokio::task::spawn_blocking(move || Command::new("node").args(&args).output())
        .await
        .unwrap()
        .unwrap_or_else(|e| {
            panic!("node is needed for the browser journey (scripts/test installs it): {e}")
        });
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last_line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last_line).unwrap_or_else(|_| {
        panic!(
            "the browser journey printed no result (exit {:?}); stdout: {stdout}; stderr: {}",
            output.status.code(),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn the_slack_link_creates_this_deployments_app(link: Option<&str>) {
    let link = link.expect("the journey read the Slack create-app link");
    let url = url::Url::parse(link).unwrap();
    assert_eq!(
        (url.host_str(), url.path()),
        (Some("api.slack.com"), "/apps"),
        "{link}"
    );
    let pairs: std::collections::BTreeMap<String, String> =
        url.query_pairs().into_owned().collect();
    assert_eq!(pairs.get("new_app").map(String::as_str), Some("1"));
    let manifest: Value =
        serde_json::from_str(&pairs["manifest_json"]).expect("manifest_json is JSON");
    assert_eq!(
        manifest["settings"]["event_subscriptions"]["request_url"],
        format!("{PUBLIC_URL}/slack/events")
    );
    assert_eq!(
        manifest["oauth_config"]["redirect_urls"],
        json!([format!("{PUBLIC_URL}/slack/oauth/callback")])
    );
    let scopes = manifest["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap();
    for scope in slackdesk::slack::BOT_SCOPES {
        assert!(scopes.iter().any(|s| s == scope), "{scope}: {manifest}");
    }
}

fn the_download_is_this_deployments_zendesk_app(file: Option<&str>) {
    let file = file.expect("the journey downloaded the Zendesk app");
    let bytes = std::fs::read(file).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"), "a zip file");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut read = |name: &str| -> Value {
        let mut text = String::new();
        archive
            .by_name(name)
            .unwrap_or_else(|_| panic!("{name} is in the zip"))
            .read_to_string(&mut text)
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let manifest = read("manifest.json");
    assert_eq!(manifest["frameworkVersion"], "2.0");
    let requirements = read("requirements.json");
    assert_eq!(
        requirements["channel_integrations"]["slackdesk"]["manifest_url"],
        format!("{PUBLIC_URL}/manifest.json")
    );
}

async fn zendesk_received_the_account(app: &TestApp) -> String {
    let return_path = url::Url::parse(&app.return_url())
        .unwrap()
        .path()
        .to_owned();
    let received = app.zendesk.received_requests().await.unwrap();
    let posted: Vec<_> = received
        .iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == return_path)
        .collect();
    assert_eq!(posted.len(), 1, "return_url was posted to once");
    let form: Vec<(String, String)> = form_urlencoded::parse(&posted[0].body)
        .into_owned()
        .collect();
    let value = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(value("name").as_deref(), Some(ACCOUNT_NAME));
    value("metadata").expect("metadata posted to return_url")
}

/// The push that carries `external_id`, waiting up to `within` for the worker.
async fn pushed(app: &TestApp, external_id: &str, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let pushes: Vec<Value> = app
            .zendesk
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path().ends_with("/api/v2/any_channel/push"))
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect();
        if let Some(push) = pushes.iter().find(|p| {
            p["external_resources"]
                .as_array()
                .is_some_and(|rs| rs.iter().any(|r| r["external_id"] == external_id))
        }) {
            return push.clone();
        }
        assert!(
            Instant::now() < deadline,
            "Zendesk received no push of {external_id} within {within:?}; pushes so far: {pushes:?}; outbox: {:?}",
            app.queued().await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Zendesk's part.

/// The fake Zendesk: OAuth (consent page, tokens, `users/me` of an admin, 401 for any
/// other token), the account's agents and views, the push endpoint, the admin UI's
/// return_url, and the webhook and trigger API for the hook.
async fn fake_zendesk(app: &TestApp) -> FakeOauth {
    let base = format!("/z/{SUBDOMAIN}");
    let oauth = FakeOauth::mount(
        &app.zendesk,
        SUBDOMAIN,
        (ZENDESK_CLIENT_ID, ZENDESK_CLIENT_SECRET),
        Duration::from_secs(30 * 60),
        Duration::from_secs(30 * 24 * 3600),
    )
    .await;
    oauth.admit(PUSH_ACCESS, Duration::from_secs(3600));
    Mock::given(method("GET"))
        .and(path(format!("{base}/oauth/authorizations/new")))
        .respond_with(ConsentPage {
            who: "Zendesk",
            client_id: ZENDESK_CLIENT_ID,
            decide: format!("{base}/oauth/authorizations/decide"),
        })
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{base}/oauth/authorizations/decide")))
        .respond_with(BackToSlackdesk {
            app_address: app.address.clone(),
            code: Code::Zendesk(oauth.clone()),
        })
        .mount(&app.zendesk)
        .await;
    let return_path = url::Url::parse(&app.return_url())
        .unwrap()
        .path()
        .to_owned();
    Mock::given(method("POST"))
        .and(path(return_path))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            page(
                "Zendesk (stand-in): integration account saved",
                "<p id=\"zendesk-saved\">The integration account was saved. Zendesk now sends it messages' replies and pulls from it.</p>",
            ),
            "text/html; charset=utf-8",
        ))
        .mount(&app.zendesk)
        .await;
    let json_get = |suffix: &str, body: Value| {
        Mock::given(method("GET"))
            .and(path(format!("{base}/api/v2/{suffix}")))
            .respond_with(ResponseTemplate::new(200).set_body_json(body))
    };
    json_get(
        "users.json",
        json!({"users": [
            {"id": ADMIN_ID, "role": "admin", "name": ADMIN_NAME, "active": true},
            {"id": ADMIN_ID + 1, "role": "agent", "name": "Bo Agent", "active": true}],
            "next_page": null}),
    )
    .mount(&app.zendesk)
    .await;
    json_get(
        "group_memberships.json",
        json!({"group_memberships": [], "next_page": null}),
    )
    .mount(&app.zendesk)
    .await;
    json_get("business_hours/schedules.json", json!({"schedules": []}))
        .mount(&app.zendesk)
        .await;
    json_get(
        "views/active.json",
        json!({"views": [
            {"id": VIEW_ID, "title": VIEW_TITLE, "active": true},
            {"id": VIEW_ID + 1, "title": "All unsolved tickets", "active": true}],
            "next_page": null, "count": 2}),
    )
    .mount(&app.zendesk)
    .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/api/v2/views/\d+/tickets(\.json)?$"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"tickets": [], "next_page": null, "count": 0})),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{base}/api/v2/any_channel/push")))
        .respond_with(PushAccepted)
        .mount(&app.zendesk)
        .await;
    serve_webhooks_and_triggers(app, &base).await;
    oauth
}

/// Zendesk's webhook and trigger API as its docs answer, for slackdesk to make them itself
/// (and then ask Zendesk whether they still exist).
async fn serve_webhooks_and_triggers(app: &TestApp, base: &str) {
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/api/v2/webhooks/[A-Za-z0-9]+(\.json)?$"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"webhook": {
            "id": "01JOURNEYWEBHOOK0000000001", "status": "active",
            "http_method": "POST", "request_format": "json"}})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/api/v2/triggers/[0-9]+(\.json)?$"
        )))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"trigger": {"id": 9_001, "active": true}})),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/api/v2/trigger_categories(\.json)?$"
        )))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "trigger_categories": [], "meta": {"has_more": false, "after_cursor": null},
            "links": {"next": null}})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!(r"^{base}/api/v2/webhooks(\.json)?$")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"webhook": {
            "id": "01JOURNEYWEBHOOK0000000001", "status": "active",
            "http_method": "POST", "request_format": "json"}})))
        .mount(&app.zendesk)
        .await;
    Mock::given(method("GET"))
        .and(path_regex(format!(
            r"^{base}/api/v2/webhooks/[A-Za-z0-9]+/signing_secret$"
        )))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"signing_secret": {
            "algorithm": "SHA256", "secret": "journey-webhook-secret-0b7e"}})),
        )
        .mount(&app.zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(format!(r"^{base}/api/v2/triggers(\.json)?$")))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"trigger": {"id": 9_001, "active": true}})),
        )
        .mount(&app.zendesk)
        .await;
}

/// Zendesk's push answer: `success` for every resource, in order.
struct PushAccepted;

impl Respond for PushAccepted {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorized = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            == Some(format!("Bearer {PUSH_ACCESS}").as_str());
        if !authorized {
            return ResponseTemplate::new(401)
                .set_body_json(json!({"error": "Couldn't authenticate you"}));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let results: Vec<Value> = body["external_resources"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|r| json!({"external_resource_id": r["external_id"], "status": {"code": "success"}}))
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({"results": results}))
    }
}

// ---------------------------------------------------------------------------------------
// Slack's part.

const SLACK_CODE: &str = "slack-journey-code-51aa";

async fn fake_slack_for_the_journey(app: &TestApp) {
    Mock::given(method("GET"))
        .and(path("/oauth/v2/authorize"))
        .respond_with(ConsentPage {
            who: "Slack",
            client_id: crate::support::SLACK_CLIENT_ID,
            decide: "/oauth/v2/decide".into(),
        })
        .mount(&app.slack)
        .await;
    Mock::given(method("GET"))
        .and(path("/oauth/v2/decide"))
        .respond_with(BackToSlackdesk {
            app_address: app.address.clone(),
            code: Code::Fixed(SLACK_CODE),
        })
        .mount(&app.slack)
        .await;
    fake_slack::serve_oauth_access(&app.slack).await;
    fake_slack::serve_auth_test(&app.slack).await;
    fake_slack::serve_conversations(
        &app.slack,
        &[(CHANNEL, CHANNEL_NAME), ("C0OTHER", "random")],
    )
    .await;
    fake_slack::serve_message(
        &app.slack,
        MESSAGE_TS,
        MESSAGE_TS,
        MESSAGE_USER,
        MESSAGE_TEXT,
    )
    .await;
    fake_slack::serve_user(&app.slack, MESSAGE_USER, "Alice Journey").await;
}

// ---------------------------------------------------------------------------------------
// The consent pages both fakes show: what is asked for and an Allow button, which comes
// back to slackdesk's callback with a code, as Zendesk's and Slack's OAuth pages do.

struct ConsentPage {
    who: &'static str,
    client_id: &'static str,
    decide: String,
}

fn query(request: &Request, name: &str) -> Option<String> {
    request
        .url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;margin:24px\"><h1>{title}</h1>{body}</body></html>",
        title = escape(title)
    )
}

fn refused(title: &str, problem: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_raw(
        page(
            title,
            &format!("<p id=\"oauth-error\">{}</p>", escape(problem)),
        ),
        "text/html; charset=utf-8",
    )
}

impl Respond for ConsentPage {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let title = format!("{} (stand-in): authorize slackdesk", self.who);
        let client_id = query(request, "client_id").unwrap_or_default();
        let redirect_uri = query(request, "redirect_uri").unwrap_or_default();
        let state = query(request, "state").unwrap_or_default();
        if client_id != self.client_id {
            return refused(&title, &format!("unknown client_id {client_id:?}"));
        }
        if !redirect_uri.starts_with(&format!("{PUBLIC_URL}/")) {
            return refused(
                &title,
                &format!("redirect_uri {redirect_uri:?} is not under {PUBLIC_URL}"),
            );
        }
        if state.is_empty() {
            return refused(&title, "no state");
        }
        let scope = query(request, "scope").unwrap_or_default();
        let body = format!(
            "<p id=\"consent\">slackdesk asks for <code>{scope}</code>.</p>\
             <form method=\"get\" action=\"{decide}\">\
             <input type=\"hidden\" name=\"state\" value=\"{state}\">\
             <input type=\"hidden\" name=\"redirect_uri\" value=\"{redirect_uri}\">\
             <button type=\"submit\" id=\"allow\">Allow</button></form>",
            scope = escape(&scope),
            decide = escape(&self.decide),
            state = escape(&state),
            redirect_uri = escape(&redirect_uri),
        );
        ResponseTemplate::new(200).set_body_raw(page(&title, &body), "text/html; charset=utf-8")
    }
}

enum Code {
    /// A code Zendesk's token endpoint (the fake OAuth authority) will take once.
    Zendesk(FakeOauth),
    Fixed(&'static str),
}

/// "Allow": back to slackdesk's callback, on loopback instead of PUBLIC_URL's host.
struct BackToSlackdesk {
    app_address: String,
    code: Code,
}

impl Respond for BackToSlackdesk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let redirect_uri = query(request, "redirect_uri").unwrap_or_default();
        let Some(callback_path) = redirect_uri.strip_prefix(PUBLIC_URL) else {
            return refused("OAuth (stand-in)", "redirect_uri is not under PUBLIC_URL");
        };
        let code = match &self.code {
            Code::Zendesk(oauth) => oauth.approve(),
            Code::Fixed(code) => (*code).to_owned(),
        };
        let mut target = url::Url::parse(&format!("{}{callback_path}", self.app_address)).unwrap();
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", &query(request, "state").unwrap_or_default());
        ResponseTemplate::new(302).insert_header("Location", target.as_str())
    }
}
