//! Spawning the app for a test, and the fakes it talks to.

#![allow(dead_code)]

pub mod fake_oauth;
pub mod fake_slack;
pub mod schemas;
pub mod snapshot;

use std::path::PathBuf;

use clap::Parser;
use slackdesk::config::{Secret, Settings};
use slackdesk::domain::{
    AccountId, SlackChannelId, SlackMessageRef, SlackTeamId, SlackTs, SlackUserId,
};
use slackdesk::startup::{AppState, Application};
use slackdesk::storage::outbox::ResourceKind;
use slackdesk::storage::{channel_links, slack_workspaces};
use sqlx::Connection;
use wiremock::MockServer;

/// Generates one `#[tokio::test]` per database for each listed `async fn(Backend)`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Backend::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name($crate::support::Backend::Postgres).await })*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const SUBDOMAIN: &str = "acme";
pub const PUBLIC_URL: &str = "https://slackdesk.example.com";
pub const TEAM: &str = "T0TEAM";
pub const CHANNEL: &str = "C0CHAN";
pub const BOT_TOKEN: &str = "xoxb-test-bot-token-4f1d";
pub const PUSH_TOKEN: &str = "zdpush-test-token-9a7e";
pub const SIGNING_SECRET: &str = "slack-signing-secret-for-tests";
pub const SLACK_CLIENT_ID: &str = "1234.5678";

#[derive(Parser)]
struct SettingsArgs {
    #[command(flatten)]
    settings: Settings,
}

pub struct TestApp {
    pub address: String,
    pub state: AppState,
    pub zendesk: MockServer,
    pub slack: MockServer,
    pub http: reqwest::Client,
    pub database_url: String,
    pub key_ring: String,
    pub clock: slackdesk::clock::Clock,
    /// The command line the app was built from, to start replicas of it.
    args: Vec<String>,
    _dir: tempfile::TempDir,
}

#[derive(Default)]
pub struct Options {
    pub push_client_id: Option<&'static str>,
    pub workers: bool,
    pub extra_frame_ancestor: Option<String>,
    pub max_body_bytes: Option<usize>,
    /// A manual clock for the status API (rate limits, status times); system otherwise.
    pub clock: Option<slackdesk::clock::Clock>,
    /// `--status-api-per-second` / `--status-api-per-day`.
    pub status_limits: Option<(u32, u32)>,
    pub zendesk_app_id: Option<i64>,
    /// Sets ZENDESK_CLIENT_ID / ZENDESK_CLIENT_SECRET (OAuth connect).
    pub zendesk_oauth: bool,
    /// A SQLite database file of the test's own (for example on a small filesystem).
    pub sqlite_file: Option<std::path::PathBuf>,
}

pub const ZENDESK_CLIENT_ID: &str = "slackdesk_test";
pub const ZENDESK_CLIENT_SECRET: &str = "zd-client-secret-5be1";

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let zendesk = MockServer::start().await;
    let slack = MockServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match backend {
        Backend::Sqlite => format!(
            "sqlite://{}",
            options
                .sqlite_file
                .clone()
                .unwrap_or_else(|| dir.path().join("slackdesk.db"))
                .display()
        ),
        Backend::Postgres => fresh_postgres_database().await,
    };
    let key_ring = slackdesk::crypto::generate_key_line("test1").expect("key");
    let zendesk_template = format!("{}/z/{{subdomain}}", zendesk.uri());
    let slack_api = format!("{}/api", slack.uri());
    let slack_oauth = format!("{}/oauth/v2/authorize", slack.uri());
    let mut args: Vec<String> = [
        "slackdesk",
        "--public-url",
        PUBLIC_URL,
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &database_url,
        "--keys",
        &key_ring,
        "--slack-api-url",
        &slack_api,
        "--zendesk-url-template",
        &zendesk_template,
        "--worker-poll-ms",
        "50",
        "--slack-signing-secret",
        SIGNING_SECRET,
        "--slack-client-id",
        SLACK_CLIENT_ID,
        "--slack-client-secret",
        "slack-client-secret-for-tests",
        "--slack-oauth-url",
        &slack_oauth,
        "--http-timeout-secs",
        "5",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(id) = options.push_client_id {
        args.extend(["--zendesk-push-client-id".into(), id.into()]);
    }
    if !options.workers {
        args.push("--no-workers".into());
    }
    if let Some(origin) = options.extra_frame_ancestor {
        args.extend(["--frame-ancestors".into(), origin]);
    }
    if let Some(limit) = options.max_body_bytes {
        args.extend(["--max-body-bytes".into(), limit.to_string()]);
    }
    if let Some((per_second, per_day)) = options.status_limits {
        args.extend([
            "--status-api-per-second".into(),
            per_second.to_string(),
            "--status-api-per-day".into(),
            per_day.to_string(),
        ]);
    }
    if options.zendesk_oauth {
        args.extend([
            "--zendesk-client-id".into(),
            ZENDESK_CLIENT_ID.into(),
            "--zendesk-client-secret".into(),
            ZENDESK_CLIENT_SECRET.into(),
        ]);
    }
    if let Some(app_id) = options.zendesk_app_id {
        args.extend(["--zendesk-app-id".into(), app_id.to_string()]);
    }
    let settings = SettingsArgs::try_parse_from(args.clone())
        .expect("test settings parse")
        .settings;
    let clock = options.clock.unwrap_or_default();
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        state,
        zendesk,
        slack,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        database_url,
        key_ring,
        clock,
        args,
        _dir: dir,
    }
}

/// A new, empty database on the test PostgreSQL server.
pub async fn fresh_postgres_database() -> String {
    let server = std::env::var("TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("slackdesk_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at TEST_POSTGRES_URL={server} is needed (scripts/test starts one): {e}"
            )
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&server).expect("TEST_POSTGRES_URL is a URL");
    url.set_path(&name);
    url.to_string()
}

impl TestApp {
    /// Another instance of the service on the same database, keys and fakes (a replica
    /// behind the same load balancer); returns its address and state.
    pub async fn spawn_replica(&self) -> (String, AppState) {
        let settings = SettingsArgs::try_parse_from(self.args.clone())
            .expect("settings")
            .settings;
        let app = Application::build_with_clock(settings, self.clock.clone())
            .await
            .expect("replica builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        (address, state)
    }

    /// A replica like [`TestApp::spawn_replica`] with some flags changed: `Some(value)`
    /// sets a flag (for example `--keys`, a rolled-out key ring), `None` removes one (for
    /// example `--no-workers`, to run the workers there).
    pub async fn spawn_replica_with(&self, changes: &[(&str, Option<&str>)]) -> (String, AppState) {
        let mut args = self.args.clone();
        for (flag, value) in changes {
            if let Some(at) = args.iter().position(|a| a == flag) {
                let takes_value = args.get(at + 1).is_some_and(|v| !v.starts_with("--"));
                args.drain(at..at + if takes_value { 2 } else { 1 });
            }
            if let Some(value) = value {
                args.push((*flag).to_owned());
                args.push((*value).to_owned());
            }
        }
        let settings = SettingsArgs::try_parse_from(args)
            .expect("settings")
            .settings;
        let app = Application::build(settings).await.expect("replica builds");
        let address = format!("http://127.0.0.1:{}", app.port());
        let state = app.state().clone();
        tokio::spawn(app.run_until_stopped());
        (address, state)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub fn zendesk_base(&self) -> String {
        format!("{}/z/{SUBDOMAIN}", self.zendesk.uri())
    }

    pub fn return_url(&self) -> String {
        format!(
            "{}/zendesk/channels/integration_service_instances/editor_finalizer",
            self.zendesk_base()
        )
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("request reaches the app")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request reaches the app")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the app")
    }

    /// Opens the admin UI as Zendesk does and returns the page.
    pub async fn open_admin(&self, name: &str, metadata: &str, push: bool) -> reqwest::Response {
        let return_url = self.return_url();
        let mut fields = vec![
            ("name", name),
            ("metadata", metadata),
            ("state", ""),
            ("return_url", return_url.as_str()),
            ("subdomain", SUBDOMAIN),
            ("locale", "en-US"),
        ];
        if push {
            fields.push(("instance_push_id", "push-instance-1"));
            fields.push(("zendesk_access_token", PUSH_TOKEN));
        }
        self.post_form("/channel/admin", &fields).await
    }

    /// Runs the whole admin flow for a new account; returns its metadata.
    pub async fn create_account(&self, push: bool) -> String {
        let page = self.open_admin("", "", push).await.text().await.unwrap();
        let session = hidden_value(&page, "session").expect("session field");
        let done = self
            .post_form(
                "/channel/admin/save",
                &[
                    ("session", &session),
                    ("name", "Support Slack"),
                    ("ticket_tags", "slack"),
                    ("delivery", "auto"),
                ],
            )
            .await;
        assert_eq!(done.status(), 200);
        let page = done.text().await.unwrap();
        hidden_value(&page, "metadata").expect("metadata in the return form")
    }

    pub fn account_id(metadata: &str) -> AccountId {
        AccountId::parse(metadata.split(':').nth(1).expect("account in metadata"))
            .expect("account id")
    }

    /// Connects the fake workspace and links the test channel to the account.
    pub async fn connect_slack(&self, metadata: &str) {
        let team = team();
        slack_workspaces::upsert(
            &self.state.db,
            &self.state.keys,
            &slack_workspaces::WorkspaceInstall {
                team: &team,
                bot_user: Some(&SlackUserId::parse("U0BOT").unwrap()),
                bot_id: Some("B0BOT"),
                app_id: Some("A0APP"),
                bot_token: &Secret::from(BOT_TOKEN),
            },
        )
        .await
        .unwrap();
        channel_links::link(
            &self.state.db,
            Self::account_id(metadata),
            &team,
            &channel(),
        )
        .await
        .unwrap();
        slackdesk::storage::workspace_grants::grant(
            &self.state.db,
            Self::account_id(metadata),
            &team,
        )
        .await
        .unwrap();
    }

    /// Queues a Slack message for the account, as the Slack bridge does.
    pub async fn enqueue(&self, metadata: &str, ts: &str, thread_ts: &str) -> bool {
        slackdesk::bridge::enqueue_message(
            &self.state,
            Self::account_id(metadata),
            message_ref(ts),
            SlackTs::parse(thread_ts).unwrap(),
            Some(SlackUserId::parse("U0ALICE").unwrap()),
            ResourceKind::Message,
        )
        .await
        .unwrap()
    }

    /// Posts an Events API payload signed as Slack signs it.
    pub async fn post_slack_event(&self, body: &serde_json::Value) -> reqwest::Response {
        self.post_slack_raw(
            body.to_string().into_bytes(),
            chrono::Utc::now().timestamp(),
            None,
        )
        .await
    }

    pub async fn post_slack_raw(
        &self,
        body: Vec<u8>,
        timestamp: i64,
        retry: Option<u32>,
    ) -> reqwest::Response {
        let timestamp = timestamp.to_string();
        let signature =
            slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), &timestamp, &body);
        let mut request = self
            .http
            .post(self.url("/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", &timestamp)
            .header("x-slack-signature", signature)
            .body(body);
        if let Some(retry) = retry {
            request = request.header("x-slack-retry-num", retry.to_string());
        }
        request.send().await.expect("request reaches the app")
    }

    /// Links the test channel to the account with the given settings.
    pub async fn link_channel_with(
        &self,
        metadata: &str,
        settings: slackdesk::storage::channel_links::ChannelSettings,
    ) {
        let mut tx = self.state.db.begin_write().await.unwrap();
        channel_links::replace_for_team(
            &mut tx,
            Self::account_id(metadata),
            &team(),
            &[(channel(), settings)],
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }

    /// Rows waiting in the outbox, with their external and thread ids, in order.
    pub async fn queued(&self) -> Vec<(String, String)> {
        sqlx::query_as::<_, (String, String)>(
            "SELECT external_id, slack_thread_ts FROM outbox ORDER BY seq",
        )
        .fetch_all(self.state.db.pool())
        .await
        .unwrap()
    }

    /// All raw bytes of the database files (SQLite only; WAL included).
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for suffix in ["", "-wal", "-shm"] {
            let path = PathBuf::from(format!(
                "{}{suffix}",
                self.database_url.trim_start_matches("sqlite://")
            ));
            if let Ok(bytes) = std::fs::read(path) {
                all.extend(bytes);
            }
        }
        all
    }
}

pub fn team() -> SlackTeamId {
    SlackTeamId::parse(TEAM).unwrap()
}

pub fn channel() -> SlackChannelId {
    SlackChannelId::parse(CHANNEL).unwrap()
}

pub fn message_ref(ts: &str) -> SlackMessageRef {
    SlackMessageRef {
        team: team(),
        channel: channel(),
        ts: SlackTs::parse(ts).unwrap(),
    }
}

/// The `state` query parameter of a redirect to an OAuth authorize page.
pub fn state_param(location: &str) -> String {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// The value of `<input type="hidden" name="{name}" value="…">` in a page.
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(html_unescape(&page[start..end]))
}

fn html_unescape(text: &str) -> String {
    text.replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Polls `check` until it returns `Some`, failing after `secs` seconds.
pub async fn eventually<T, F, Fut>(what: &str, secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
}

static EVENT_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// An `event_callback` envelope around an inner event, with a fresh event id.
pub fn event_callback(event: serde_json::Value) -> serde_json::Value {
    let n = EVENT_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    serde_json::json!({
        "token": "unused", "team_id": TEAM, "api_app_id": "A0APP", "type": "event_callback",
        "event_id": format!("Ev{n:08}"), "event_time": chrono::Utc::now().timestamp(), "event": event
    })
}

/// A message event in the test channel.
pub fn message_event(
    user: &str,
    ts: &str,
    thread_ts: Option<&str>,
    text: &str,
) -> serde_json::Value {
    let mut event = serde_json::json!({"type": "message", "channel": CHANNEL, "user": user, "ts": ts, "text": text, "channel_type": "channel"});
    if let Some(thread) = thread_ts {
        event["thread_ts"] = serde_json::json!(thread);
    }
    event_callback(event)
}
