//! The real binary, run as an operator would, with marker strings in every message,
//! name, email, file name and token: afterwards neither the database files (WAL
//! included) nor the captured logs contain any of them.

use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::fake_slack;
use crate::support::{SIGNING_SECRET, event_callback, eventually, hidden_value};

const MARKERS: [&str; 16] = [
    "MARKER-MESSAGE-TEXT",
    "MARKER-PERSON-NAME",
    "marker.person@example.com",
    "MARKER-FILE-NAME",
    "MARKER-AGENT-REPLY",
    "xoxb-MARKER-BOT-TOKEN",
    "zdpush-MARKER-PUSH-TOKEN",
    "marker-channel-name",
    "MARKER-ACCOUNT-NAME",
    "zd-MARKER-ACCESS-TOKEN",
    "zd-MARKER-REFRESH-TOKEN",
    "MARKER-CLIENT-SECRET",
    "MARKER-OAUTH-CLIENT-SECRET",
    "MARKER-AGENT-NAME",
    "MARKER-VIEW-TITLE",
    "MARKER-GROUP-NAME",
];
const TS: &str = "1700000000.000100";

struct Service {
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn slackdesk(dir: &Path, slack: &MockServer, zendesk: &MockServer, port: u16) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_slackdesk"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "debug")
        .env("PUBLIC_URL", "https://slackdesk.example.com")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/slackdesk.db", dir.display()),
        )
        .env("SLACK_API_URL", format!("{}/api", slack.uri()))
        .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
        .env(
            "ZENDESK_URL_TEMPLATE",
            format!("{}/z/{{subdomain}}", zendesk.uri()),
        )
        .env("WORKER_POLL_MS", "50")
        .env("ZENDESK_CLIENT_ID", "slackdesk_oauth")
        .env("ZENDESK_CLIENT_SECRET", "MARKER-OAUTH-CLIENT-SECRET");
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn fakes() -> (MockServer, MockServer) {
    let slack = MockServer::start().await;
    let zendesk = MockServer::start().await;
    fake_slack::serve_auth_test(&slack).await;
    fake_slack::serve_conversations(&slack, &[("C0CHAN", "marker-channel-name")]).await;
    fake_slack::accept_posts(&slack, "1700000099.000900").await;
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "messages": [{
            "type": "message", "ts": TS, "user": "U0ALICE", "text": "MARKER-MESSAGE-TEXT: my laptop is on fire",
            "files": [{"id": "F0FILE", "name": "MARKER-FILE-NAME.txt", "mode": "hosted"}]}]})))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/users.info"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": {"id": "U0ALICE", "name": "MARKER-PERSON-NAME",
            "real_name": "MARKER-PERSON-NAME", "profile": {"display_name": "MARKER-PERSON-NAME", "email": "marker.person@example.com"}}})))
        .mount(&slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"results": [{"external_resource_id": format!("slack:T0TEAM:C0CHAN:{TS}"), "status": {"code": "success"}}]})))
        .mount(&zendesk)
        .await;
    // Zendesk's token endpoint: acme connects with client credentials, beta with OAuth
    // (a refresh token); both tokens belong to an admin.
    Mock::given(method("POST"))
        .and(path("/z/acme/oauth/tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "zd-MARKER-ACCESS-TOKEN-acme", "expires_in": 1800})))
        .mount(&zendesk)
        .await;
    Mock::given(method("POST"))
        .and(path("/z/beta/oauth/tokens"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "zd-MARKER-ACCESS-TOKEN-beta", "expires_in": 1800,
            "refresh_token": "zd-MARKER-REFRESH-TOKEN-beta", "refresh_token_expires_in": 2_592_000})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(r"^/z/[a-z]+/api/v2/users/me\.json$"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"user": {
            "id": 361_576_231_073_i64, "name": "MARKER-PERSON-NAME", "email": "marker.person@example.com", "role": "admin"}})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/[a-z]+/api/v2/users\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [
            {"id": 361_576_231_073_i64, "name": "MARKER-AGENT-NAME", "email": "marker.person@example.com",
             "role": "admin", "active": true, "default_group_id": null, "time_zone": "Europe/Paris"}],
            "next_page": null})))
        .mount(&zendesk)
        .await;
    // What the admin pages read live to show names: agents, views, groups.
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/[a-z]+/api/v2/users/show_many\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"users": [
            {"id": 361_576_231_073_i64, "name": "MARKER-AGENT-NAME"}]})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/[a-z]+/api/v2/views/active\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"views": [
            {"id": 42, "title": "MARKER-VIEW-TITLE", "active": true}], "next_page": null})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/[a-z]+/api/v2/groups\.json$",
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"groups": [
            {"id": 360_010, "name": "MARKER-GROUP-NAME", "deleted": false}], "next_page": null})))
        .mount(&zendesk)
        .await;
    Mock::given(method("GET"))
        .and(wiremock::matchers::path_regex(
            r"^/z/[a-z]+/api/v2/group_memberships\.json$",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"group_memberships": [], "next_page": null})),
        )
        .mount(&zendesk)
        .await;
    (slack, zendesk)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_message_text_name_email_file_name_or_token_is_stored_or_logged() {
    slackdesk::startup::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let (slack, zendesk) = fakes().await;
    let port = free_port();
    let log_path = dir.path().join("slackdesk.log");
    let log = File::create(&log_path).unwrap();

    let _service = Service {
        child: slackdesk(dir.path(), &slack, &zendesk, port)
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log.try_clone().unwrap()))
            .spawn()
            .unwrap(),
    };
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    eventually("the service to be ready", 30, || async {
        http.get(format!("{base}/readyz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status() == 200)
            .map(|_| ())
    })
    .await;

    // An admin sets up the integration with a push token; the operator connects Slack for
    // it; the admin links the channel.
    let return_url = format!("{}/z/acme/return", zendesk.uri());
    let first = http
        .post(format!("{base}/channel/admin"))
        .form(&[
            ("name", "MARKER-ACCOUNT-NAME"),
            ("metadata", ""),
            ("state", ""),
            ("return_url", &return_url),
            ("subdomain", "acme"),
            ("locale", "en"),
            ("instance_push_id", "push-1"),
            ("zendesk_access_token", "zdpush-MARKER-PUSH-TOKEN"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let first_session = hidden_value(&first, "session").unwrap();
    let created = http
        .post(format!("{base}/channel/admin/save"))
        .form(&[
            ("session", first_session.as_str()),
            ("name", "MARKER-ACCOUNT-NAME"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metadata = hidden_value(&created, "metadata").unwrap();
    let connect = slackdesk(dir.path(), &slack, &zendesk, port)
        .args([
            "slack",
            "connect",
            "--bot-token",
            "xoxb-MARKER-BOT-TOKEN",
            "--subdomain",
            "acme",
        ])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log.try_clone().unwrap()))
        .status()
        .unwrap();
    assert!(
        connect.success(),
        "slackdesk slack connect failed; see {}",
        log_path.display()
    );
    assert!(
        dir.path().join("data/master.key").exists(),
        "the first start created the key file"
    );

    // The operator connects acme's REST API with client credentials; an admin connects
    // beta with OAuth (its grant carries a refresh token).
    let zendesk_connect = slackdesk(dir.path(), &slack, &zendesk, port)
        .args([
            "zendesk",
            "connect",
            "--subdomain",
            "acme",
            "--client-id",
            "slackdesk_server",
            "--client-secret",
            "MARKER-CLIENT-SECRET",
        ])
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log.try_clone().unwrap()))
        .status()
        .unwrap();
    assert!(zendesk_connect.success(), "see {}", log_path.display());
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = no_redirects
        .get(format!("{base}/zendesk/connect?subdomain=beta"))
        .send()
        .await
        .unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    let state = crate::support::state_param(&location);
    let callback = no_redirects
        .get(format!(
            "{base}/zendesk/connect/callback?code=c0de&state={state}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 200);

    let page = http
        .post(format!("{base}/channel/admin"))
        .form(&[
            ("name", "MARKER-ACCOUNT-NAME"),
            ("metadata", metadata.as_str()),
            ("state", ""),
            ("return_url", &return_url),
            ("subdomain", "acme"),
            ("locale", "en"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("marker-channel-name"),
        "the channel picker shows Slack's names; page: {page}; log: {}",
        std::fs::read_to_string(&log_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.contains("DEBUG"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let session = hidden_value(&page, "session").unwrap();
    let done = http
        .post(format!("{base}/channel/admin/save"))
        .form(&[
            ("session", session.as_str()),
            ("name", "MARKER-ACCOUNT-NAME"),
            ("link", "T0TEAM:C0CHAN"),
            ("T0TEAM:C0CHAN:edits", "on"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let metadata = hidden_value(&done, "metadata").unwrap();

    // Someone writes in Slack; the ticket is pushed with its content.
    let event = event_callback(json!({"type": "message", "channel": "C0CHAN", "user": "U0ALICE", "ts": TS,
        "text": "MARKER-MESSAGE-TEXT: my laptop is on fire", "files": [{"id": "F0FILE", "name": "MARKER-FILE-NAME.txt"}]}))
    .to_string();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature = slackdesk::slack::signature::sign(
        &slackdesk::config::Secret::from(SIGNING_SECRET),
        &timestamp,
        event.as_bytes(),
    );
    let accepted = http
        .post(format!("{base}/slack/events"))
        .header("x-slack-request-timestamp", &timestamp)
        .header("x-slack-signature", signature)
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 200);
    let pushed = eventually("the ticket to reach Zendesk", 20, || async {
        zendesk
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .find(|r| r.url.path().ends_with("/push"))
    })
    .await;
    let pushed = String::from_utf8(pushed.body).unwrap();
    assert!(
        pushed.contains("MARKER-MESSAGE-TEXT") && pushed.contains("MARKER-PERSON-NAME"),
        "content reached Zendesk"
    );

    // An agent answers.
    let reply = http
        .post(format!("{base}/channel/channelback"))
        .form(&[
            ("metadata", metadata.as_str()),
            ("thread_id", &format!("slack:T0TEAM:C0CHAN:{TS}")),
            ("message", "MARKER-AGENT-REPLY"),
            ("request_unique_identifier", "r-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let posted = fake_slack::received(&slack, "chat.postMessage").await;
    assert_eq!(
        fake_slack::field(&posted[0], "text"),
        Some("MARKER-AGENT-REPLY")
    );
    // The admin signs in with Zendesk and opens the pages that show names read live.
    let cookie = sign_in_with_zendesk(&base).await;
    for (page, marker) in [
        ("/zendesk/routing/agents", "MARKER-AGENT-NAME"),
        ("/zendesk/board", "MARKER-AGENT-NAME"),
        ("/zendesk/routing/queues/new", "MARKER-VIEW-TITLE"),
        ("/zendesk/routing/queues/new", "MARKER-GROUP-NAME"),
    ] {
        eventually(&format!("{page} to show {marker}"), 20, || async {
            let shown = http
                .get(format!("{base}{page}"))
                .header("Cookie", &cookie)
                .send()
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            shown.contains(marker).then_some(())
        })
        .await;
    }
    drop(_service);

    let mut stored = Vec::new();
    for name in ["slackdesk.db", "slackdesk.db-wal", "slackdesk.db-shm"] {
        stored.extend(std::fs::read(dir.path().join(name)).unwrap_or_default());
    }
    let logs = std::fs::read(&log_path).unwrap();
    assert!(stored.len() > 10_000, "the database was written");
    assert!(
        String::from_utf8_lossy(&logs).contains("pushed to Zendesk"),
        "the logs were captured"
    );
    for marker in MARKERS {
        assert!(
            !contains(&stored, marker.as_bytes()),
            "the database files contain {marker}"
        );
        assert!(
            !contains(&logs, marker.as_bytes()),
            "the logs contain {marker}"
        );
    }
}

/// "Sign in with Zendesk" as the browser does it: the start, Zendesk's consent (the fake
/// answers the code exchange and `users/me`), the callback; answers the session cookie.
async fn sign_in_with_zendesk(base: &str) -> String {
    let manual = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let start = manual
        .get(format!("{base}/zendesk/app/open?subdomain=acme&page=setup"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let location = url::Url::parse(start.headers()["location"].to_str().unwrap()).unwrap();
    let state = location
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let nonce = start.headers()["set-cookie"].to_str().unwrap();
    let nonce = nonce.split(';').next().unwrap().to_owned();
    let callback = manual
        .get(format!(
            "{base}/zendesk/app/callback?code=admin-code&state={state}"
        ))
        .header("Cookie", nonce)
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 200, "signed in");
    let session = callback
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("sd_board"))
        .expect("a session cookie");
    session.split(';').next().unwrap().to_owned()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
