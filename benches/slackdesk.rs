//! The benchmark: `cargo bench --bench slackdesk` (about two minutes on 2 cores).
//!
//! ```text
//!  load clients (reqwest, keep-alive) ──signed events──▶ slackdesk ──push──▶ fake Zendesk
//!                                     ──channelbacks──▶     │     ──chat.postMessage──▶ fake Slack
//!                                     ──status API───▶      └─ SQLite file, or a fresh PostgreSQL database
//!  the same event load ──▶ a bare actix handler answering 200 (this machine's ceiling)
//! ```
//!
//! Everything runs in this process on loopback; the service is the real application
//! (`Application::build`) with its real database. For SQLite, and for PostgreSQL when a
//! server answers at `BENCH_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`,
//! a fresh database is created per run), it measures:
//!
//! 1. intake: signed Slack events from `BENCH_CLIENTS` clients as fast as they go, workers
//!    off: events/s, ack p50/p99, and the same load against the bare handler (the ratio);
//! 2. event to Zendesk: workers on, an open-loop stream of `BENCH_RATE` events/s for
//!    `BENCH_SECONDS`: ack and event-to-push p50/p99, nothing missing, nothing pushed twice;
//! 3. channelbacks: `BENCH_CB_CLIENTS` agents replying as fast as they go: round trips/s, p99,
//!    and each reply posted to Slack once;
//! 4. the status API: `create_many` with 100 statuses and `current` with `BENCH_AGENTS`
//!    agents;
//! 5. routing: the engine deciding 10,000 waiting tickets over 1,000 agents (per model),
//!    and one real routing run of 1,000 tickets against a fake Zendesk on this database:
//!    Zendesk calls per 1,000 assignments (shared with `cargo bench --bench routing`).
//!
//! Writes `target/bench/report.json` and `target/bench/report.md` (the table in docs/benchmarks.md; its headline rows are in the README), and
//! prints the Markdown. Nothing is asserted: numbers move with the machine.

#[path = "common/routing.rs"]
mod routing_figures;

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use serde::Serialize;
use serde_json::{Value, json};
use slackdesk::config::{Secret, Settings};
use slackdesk::domain::{
    AccountId, SlackChannelId, SlackTeamId, SlackUserId, Subdomain, ZendeskUserId,
};
use slackdesk::startup::{AppState, Application};
use slackdesk::statuses::keys;
use slackdesk::storage::agents::{self, AgentRecord};
use slackdesk::storage::channel_links::{self, ChannelSettings};
use slackdesk::storage::{slack_workspaces, workspace_grants};
use sqlx::Connection;

const SUBDOMAIN: &str = "bench";
const TEAM: &str = "T0BENCH";
const CHANNEL: &str = "C0BENCH";
const USER: &str = "U0ALICE";
const BOT_TOKEN: &str = "xoxb-bench-bot-token";
const PUSH_TOKEN: &str = "zdpush-bench-token";
const SIGNING_SECRET: &str = "bench-signing-secret";
const PUBLIC_URL: &str = "https://bench.example";

// ---------------------------------------------------------------------------------------
// Knobs

#[derive(Debug, Clone, Serialize)]
struct Knobs {
    events: usize,
    clients: usize,
    warmup: usize,
    rate: u64,
    seconds: u64,
    bad_seconds: u64,
    cb_clients: usize,
    cb_seconds: u64,
    status_clients: usize,
    status_seconds: u64,
    agents: i64,
    client_threads: usize,
    postgres_url: String,
    databases: Vec<String>,
}

impl Knobs {
    fn from_env() -> Result<Self> {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> Result<T> {
            match std::env::var(name) {
                Ok(raw) => raw
                    .trim()
                    .parse()
                    .map_err(|_| anyhow!("{name} must be a number, not {raw:?}")),
                Err(_) => Ok(default),
            }
        }
        Ok(Self {
            events: var("BENCH_EVENTS", 10_000usize)?.max(1),
            clients: var("BENCH_CLIENTS", 64usize)?.max(1),
            warmup: var("BENCH_WARMUP", 1_000usize)?,
            rate: var("BENCH_RATE", 500u64)?.max(1),
            seconds: var("BENCH_SECONDS", 8u64)?.clamp(1, 60),
            bad_seconds: var("BENCH_BAD_SECONDS", 60u64)?.clamp(1, 120),
            cb_clients: var("BENCH_CB_CLIENTS", 8usize)?.max(1),
            cb_seconds: var("BENCH_CB_SECONDS", 5u64)?.clamp(1, 60),
            status_clients: var("BENCH_STATUS_CLIENTS", 4usize)?.max(1),
            status_seconds: var("BENCH_STATUS_SECONDS", 5u64)?.clamp(1, 60),
            agents: var("BENCH_AGENTS", 5_000i64)?.clamp(100, 50_000),
            client_threads: var("BENCH_CLIENT_THREADS", 2usize)?.max(1),
            postgres_url: std::env::var("BENCH_POSTGRES_URL")
                .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
            databases: std::env::var("BENCH_DATABASES")
                .unwrap_or_else(|_| "sqlite,postgres".into())
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Fakes: Slack and Zendesk on loopback (actix, one worker each)

#[derive(Default)]
struct Seen {
    /// First arrival of each pushed external id.
    pushed: Mutex<HashMap<String, Instant>>,
    push_requests: AtomicU64,
    pushed_resources: AtomicU64,
    pushed_twice: AtomicU64,
    /// Texts posted by `chat.postMessage`, with how often.
    posted: Mutex<HashMap<String, u32>>,
}

struct Fakes {
    slack_api: String,
    zendesk_base: String,
    seen: Arc<Seen>,
}

fn loopback_listener() -> Result<(TcpListener, u16)> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind loopback")?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

async fn start_fakes() -> Result<Fakes> {
    let seen = Arc::new(Seen::default());
    let data = web::Data::from(seen.clone());
    let (listener, slack_port) = loopback_listener()?;
    let slack_data = data.clone();
    let slack = HttpServer::new(move || {
        App::new()
            .app_data(slack_data.clone())
            .route("/api/{method}", web::post().to(fake_slack))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tokio::spawn(slack);
    let (listener, zendesk_port) = loopback_listener()?;
    let zendesk = HttpServer::new(move || {
        App::new().app_data(data.clone()).route(
            "/z/{subdomain}/api/v2/any_channel/push",
            web::post().to(fake_zendesk_push),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    tokio::spawn(zendesk);
    Ok(Fakes {
        slack_api: format!("http://127.0.0.1:{slack_port}/api"),
        zendesk_base: format!("http://127.0.0.1:{zendesk_port}"),
        seen,
    })
}

async fn fake_slack(
    seen: web::Data<Seen>,
    method: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let answer = match method.as_str() {
        "conversations.replies" => json!({"ok": true, "has_more": false, "messages": [{
            "type": "message", "ts": field("oldest"), "thread_ts": field("ts"), "user": USER,
            "text": "The VPN is *down* again, can someone look at it? `vpn-gw-2` says _timeout_."}]}),
        "users.info" => json!({"ok": true, "user": {"id": field("user"), "name": "alice",
            "real_name": "Alice Example", "profile": {"display_name": "Alice", "real_name": "Alice Example"}}}),
        "conversations.info" => {
            json!({"ok": true, "channel": {"id": field("channel"), "name": "support",
            "is_private": false, "is_member": true}})
        }
        "reactions.add" => json!({"ok": true}),
        "chat.postMessage" => {
            let n = {
                let mut posted = seen.posted.lock().unwrap_or_else(|p| p.into_inner());
                *posted.entry(field("text").to_owned()).or_default() += 1;
                posted.len()
            };
            json!({"ok": true, "channel": field("channel"), "ts": format!("1800000000.{n:06}")})
        }
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    HttpResponse::Ok().json(answer)
}

async fn fake_zendesk_push(seen: web::Data<Seen>, body: web::Bytes) -> HttpResponse {
    let now = Instant::now();
    let Ok(parsed) = serde_json::from_slice::<Value>(&body) else {
        return HttpResponse::BadRequest().finish();
    };
    let ids: Vec<String> = parsed["external_resources"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter_map(|r| r["external_id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    seen.push_requests.fetch_add(1, Ordering::Relaxed);
    seen.pushed_resources
        .fetch_add(ids.len() as u64, Ordering::Relaxed);
    let mut failed = false;
    let mut accepted = Vec::with_capacity(ids.len());
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            let code = if failed {
                "halted"
            } else if id.ends_with(BAD_MICROS) {
                failed = true;
                "processing_error"
            } else {
                accepted.push(id.clone());
                "success"
            };
            json!({"external_resource_id": id, "status": {"code": code}})
        })
        .collect();
    let mut pushed = seen.pushed.lock().unwrap_or_else(|p| p.into_inner());
    for id in accepted {
        if pushed.insert(id, now).is_some() {
            seen.pushed_twice.fetch_add(1, Ordering::Relaxed);
        }
    }
    HttpResponse::Ok().json(json!({ "results": results }))
}

/// The machine's ceiling: an actix handler that reads the body and answers 200, with the
/// same worker count as slackdesk's server.
async fn start_bare() -> Result<String> {
    async fn bare(_body: web::Bytes) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let (listener, port) = loopback_listener()?;
    let server = HttpServer::new(|| App::new().route("/slack/events", web::post().to(bare)))
        .disable_signals()
        .listen(listener)?
        .run();
    tokio::spawn(server);
    Ok(format!("http://127.0.0.1:{port}"))
}

// ---------------------------------------------------------------------------------------
// slackdesk under test

#[derive(Parser)]
struct SettingsArgs {
    #[command(flatten)]
    settings: Settings,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum Database {
    Sqlite,
    Postgres,
}

struct Service {
    base: String,
    state: AppState,
    metadata: String,
    _dir: tempfile::TempDir,
}

/// Drops the databases earlier bench runs made (each service gets a fresh one and the
/// service outlives its run), so runs do not pile databases up on the server.
async fn drop_earlier_bench_databases(server: &str) -> Result<()> {
    let mut conn = sqlx::PgConnection::connect(server).await?;
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE datname LIKE 'slackdesk\\_bench\\_%'",
    )
    .fetch_all(&mut conn)
    .await?;
    for name in names
        .iter()
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
    {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await?;
    }
    Ok(())
}

/// A database URL for one service: a new SQLite file, or a new PostgreSQL database.
async fn database_url(database: Database, knobs: &Knobs, dir: &Path) -> Result<String> {
    match database {
        Database::Sqlite => Ok(format!("sqlite://{}", dir.join("slackdesk.db").display())),
        Database::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&knobs.postgres_url).await?;
            let name = format!("slackdesk_bench_{}", uuid::Uuid::new_v4().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            let mut url = url::Url::parse(&knobs.postgres_url)?;
            url.set_path(&name);
            Ok(url.to_string())
        }
    }
}

async fn start_service(
    fakes: &Fakes,
    database: Database,
    workers: bool,
    knobs: &Knobs,
) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let database_url = database_url(database, knobs, dir.path()).await?;
    let keys = slackdesk::crypto::generate_key_line("bench1")?;
    let zendesk_template = format!("{}/z/{{subdomain}}", fakes.zendesk_base);
    let args: Vec<String> = [
        "slackdesk",
        "--public-url",
        PUBLIC_URL,
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &database_url,
        "--keys",
        &keys,
        "--slack-api-url",
        &fakes.slack_api,
        "--zendesk-url-template",
        &zendesk_template,
        "--worker-poll-ms",
        "10",
        "--slack-signing-secret",
        SIGNING_SECRET,
        "--status-api-per-second",
        "1000000",
        "--status-api-per-day",
        "1000000000",
        "--no-workers",
        if workers { "false" } else { "true" },
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let settings = SettingsArgs::try_parse_from(args)
        .map_err(|e| anyhow!("settings: {e}"))?
        .settings;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    let metadata = set_up_account(&base, &state, fakes).await?;
    Ok(Service {
        base,
        state,
        metadata,
        _dir: dir,
    })
}

/// One account through the real admin UI (with a push token), the workspace connected and
/// granted, one channel linked with default settings. Returns the account's metadata.
async fn set_up_account(base: &str, state: &AppState, fakes: &Fakes) -> Result<String> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let return_url = format!("{}/z/{SUBDOMAIN}/return", fakes.zendesk_base);
    let page = http
        .post(format!("{base}/channel/admin"))
        .form(&[
            ("name", ""),
            ("metadata", ""),
            ("state", ""),
            ("return_url", return_url.as_str()),
            ("subdomain", SUBDOMAIN),
            ("locale", "en-US"),
            ("instance_push_id", "push-instance-bench"),
            ("zendesk_access_token", PUSH_TOKEN),
        ])
        .send()
        .await?
        .text()
        .await?;
    let session = hidden_value(&page, "session").context("no session in the admin page")?;
    let done = http
        .post(format!("{base}/channel/admin/save"))
        .form(&[
            ("session", session.as_str()),
            ("name", "Bench Slack"),
            ("delivery", "auto"),
        ])
        .send()
        .await?;
    if done.status() != 200 {
        bail!("admin save answered {}", done.status());
    }
    let metadata = hidden_value(&done.text().await?, "metadata").context("no metadata")?;
    let account = metadata
        .split(':')
        .nth(1)
        .and_then(|raw| AccountId::parse(raw).ok())
        .context("no account id in the metadata")?;
    let team = SlackTeamId::parse(TEAM)?;
    let channel = SlackChannelId::parse(CHANNEL)?;
    slack_workspaces::upsert(
        &state.db,
        &state.keys,
        &slack_workspaces::WorkspaceInstall {
            team: &team,
            bot_user: Some(&SlackUserId::parse("U0BOT")?),
            bot_id: Some("B0BOT"),
            app_id: Some("A0BENCH"),
            bot_token: &Secret::from(BOT_TOKEN),
        },
    )
    .await?;
    workspace_grants::grant(&state.db, account, &team).await?;
    let mut tx = state.db.begin_write().await?;
    channel_links::replace_for_team(
        &mut tx,
        account,
        &team,
        &[(channel, ChannelSettings::default())],
    )
    .await?;
    tx.commit().await?;
    Ok(metadata)
}

fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    Some(
        page[start..end]
            .replace("&#34;", "\"")
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&lt;", "<")
            .replace("&#62;", ">")
            .replace("&gt;", ">")
            .replace("&#38;", "&")
            .replace("&amp;", "&"),
    )
}

// ---------------------------------------------------------------------------------------
// Load

#[derive(Debug, Default, Clone, Serialize)]
struct Latency {
    samples: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl Latency {
    fn of(mut micros: Vec<u64>) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let at = |q: f64| {
            let index = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[index] as f64 / 1000.0
        };
        Self {
            samples: micros.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: micros[micros.len() - 1] as f64 / 1000.0,
        }
    }
}

/// A distinct top-level message per (run, n).
fn message_ts(run: u64, n: u64) -> String {
    format!("{}.{:06}", 1_700_000_000 + run * 10_000_000 + n, 100)
}

/// The micro part of the bench's bad messages: the fake Zendesk refuses them for good
/// (`processing_error`) and halts the rest of their request, as Zendesk does. (Events
/// carry their text, so a Slack read failure cannot be staged here; the API tests stage
/// those.)
const BAD_MICROS: &str = ".000666";

fn bad_message_ts(run: u64, n: u64) -> String {
    format!("{}{BAD_MICROS}", 1_700_000_000 + run * 10_000_000 + n)
}

static EVENT_SEQ: AtomicU64 = AtomicU64::new(1);

/// An `event_callback` as Slack sends it for a plain channel message (about 900 bytes).
fn event_body(ts: &str) -> Vec<u8> {
    let n = EVENT_SEQ.fetch_add(1, Ordering::Relaxed);
    json!({
        "token": "unused", "team_id": TEAM, "context_team_id": TEAM, "api_app_id": "A0BENCH",
        "type": "event_callback", "event_id": format!("Ev0B{n:010}"), "event_time": 1_700_000_000,
        "authorizations": [{"enterprise_id": null, "team_id": TEAM, "user_id": "U0BOT", "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false, "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
        "event": {
            "type": "message", "channel": CHANNEL, "user": USER, "ts": ts, "client_msg_id": format!("00000000-0000-4000-8000-{n:012}"),
            "text": "The VPN is *down* again, can someone look at it? `vpn-gw-2` says _timeout_.",
            "team": TEAM, "channel_type": "channel", "event_ts": ts,
            "blocks": [{"type": "rich_text", "block_id": "b1", "elements": [{"type": "rich_text_section", "elements": [
                {"type": "text", "text": "The VPN is "}, {"type": "text", "text": "down", "style": {"bold": true}},
                {"type": "text", "text": " again, can someone look at it? "}, {"type": "text", "text": "vpn-gw-2", "style": {"code": true}},
                {"type": "text", "text": " says "}, {"type": "text", "text": "timeout", "style": {"italic": true}}, {"type": "text", "text": "."}
            ]}]}]
        }
    })
    .to_string()
    .into_bytes()
}

/// Signs with the current time, as Slack does, and posts.
async fn send_event(
    http: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<bool, reqwest::Error> {
    let timestamp = chrono::Utc::now().timestamp().to_string();
    let signature =
        slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), &timestamp, &body);
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", timestamp)
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await?;
    let ok = response.status() == 200;
    let _ = response.bytes().await?;
    Ok(ok)
}

fn client(pool: usize) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(30))
        .build()?)
}

#[derive(Debug, Default, Clone, Serialize)]
struct Throughput {
    target: String,
    requests: usize,
    clients: usize,
    ok: usize,
    failed: usize,
    seconds: f64,
    per_sec: f64,
    latency: Latency,
}

/// `events` signed events from `clients` concurrent clients, as fast as they go.
async fn event_burst(
    target: &str,
    url: &str,
    run: u64,
    events: usize,
    clients: usize,
) -> Result<Throughput> {
    let bodies: Arc<Vec<Mutex<Option<Vec<u8>>>>> = Arc::new(
        (0..events)
            .map(|i| Mutex::new(Some(event_body(&message_ts(run, i as u64)))))
            .collect(),
    );
    let url = url.to_owned();
    closed_loop(target, clients, None, events, move |http, i| {
        let body = bodies
            .get(i)
            .and_then(|slot| slot.lock().ok().and_then(|mut b| b.take()))
            .unwrap_or_default();
        let url = url.clone();
        async move { send_event(&http, &url, body).await.unwrap_or(false) }
    })
    .await
}

/// `clients` concurrent clients send request `i` (0, 1, 2, …) until `limit` requests or
/// `duration` have passed; each request answers whether it succeeded.
async fn closed_loop<F, Fut>(
    target: &str,
    clients: usize,
    duration: Option<Duration>,
    limit: usize,
    request: F,
) -> Result<Throughput>
where
    F: Fn(reqwest::Client, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let http = client(clients)?;
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (http, request, next) = (http.clone(), request.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut ok, mut failed) = (Vec::new(), 0usize, 0usize);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= limit || duration.is_some_and(|d| started.elapsed() >= d) {
                    break;
                }
                let sent = Instant::now();
                if request(http.clone(), i).await {
                    ok += 1;
                } else {
                    failed += 1;
                }
                latencies.push(sent.elapsed().as_micros() as u64);
            }
            (latencies, ok, failed)
        }));
    }
    let mut result = Throughput {
        target: target.to_owned(),
        clients,
        ..Throughput::default()
    };
    let mut all = Vec::new();
    for task in tasks {
        let (latencies, ok, failed) = task.await?;
        all.extend(latencies);
        result.ok += ok;
        result.failed += failed;
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.requests = result.ok + result.failed;
    result.per_sec = result.ok as f64 / result.seconds;
    result.latency = Latency::of(all);
    Ok(result)
}

#[derive(Debug, Default, Clone, Serialize)]
struct EndToEnd {
    rate_per_sec: u64,
    seconds: u64,
    sent: usize,
    acked: usize,
    ack: Latency,
    arrived: usize,
    missing: usize,
    pushed_twice: u64,
    resources_per_push: f64,
    event_to_push: Latency,
    /// Messages made unbuildable on purpose, and how many of them reached Zendesk.
    bad_sent: usize,
    bad_arrived: usize,
}

/// A paced, open-loop stream: one event every 1/rate s whatever the answers do; then
/// waits (up to 30 s) for every event at the fake Zendesk.
async fn paced(
    service: &Service,
    fakes: &Fakes,
    run: u64,
    rate: u64,
    seconds: u64,
    bad_every: Option<u64>,
) -> Result<EndToEnd> {
    let total = (rate * seconds) as usize;
    let http = client(64)?;
    let url = format!("{}/slack/events", service.base);
    let requests_before = fakes.seen.push_requests.load(Ordering::Relaxed);
    let resources_before = fakes.seen.pushed_resources.load(Ordering::Relaxed);
    let twice_before = fakes.seen.pushed_twice.load(Ordering::Relaxed);
    let mut ticks = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticks.tick().await;
        let bad = bad_every.is_some_and(|every| (i as u64).is_multiple_of(every.max(1)));
        let (ts, body) = if bad {
            let ts = bad_message_ts(run, i as u64);
            let body = event_body(&ts);
            (ts, body)
        } else {
            let ts = message_ts(run, i as u64);
            let body = event_body(&ts);
            (ts, body)
        };
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let ok = send_event(&http, &url, body).await.unwrap_or(false);
            (ts, bad, sent, sent.elapsed().as_micros() as u64, ok)
        }));
    }
    let mut sent_at = HashMap::with_capacity(total);
    let mut bad_ids = Vec::new();
    let (mut acks, mut acked) = (Vec::with_capacity(total), 0);
    for task in tasks {
        let (ts, bad, sent, ack, ok) = task.await?;
        acks.push(ack);
        acked += usize::from(ok);
        let id = format!("slack:{TEAM}:{CHANNEL}:{ts}");
        if bad {
            bad_ids.push(id);
        } else {
            sent_at.insert(id, sent);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let arrived = {
            let pushed = fakes.seen.pushed.lock().map_err(|_| anyhow!("poisoned"))?;
            sent_at.keys().filter(|id| pushed.contains_key(*id)).count()
        };
        if arrived == sent_at.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pushed = fakes
        .seen
        .pushed
        .lock()
        .map_err(|_| anyhow!("poisoned"))?
        .clone();
    let e2e: Vec<u64> = sent_at
        .iter()
        .filter_map(|(id, sent)| {
            pushed
                .get(id)
                .map(|got| got.saturating_duration_since(*sent).as_micros() as u64)
        })
        .collect();
    let bad_arrived = bad_ids.iter().filter(|id| pushed.contains_key(*id)).count();
    let push_requests = fakes.seen.push_requests.load(Ordering::Relaxed) - requests_before;
    let resources = fakes.seen.pushed_resources.load(Ordering::Relaxed) - resources_before;
    Ok(EndToEnd {
        rate_per_sec: rate,
        seconds,
        sent: total,
        acked,
        ack: Latency::of(acks),
        arrived: e2e.len(),
        missing: sent_at.len() - e2e.len(),
        pushed_twice: fakes.seen.pushed_twice.load(Ordering::Relaxed) - twice_before,
        resources_per_push: resources as f64 / push_requests.max(1) as f64,
        event_to_push: Latency::of(e2e),
        bad_sent: bad_ids.len(),
        bad_arrived,
    })
}

#[derive(Debug, Default, Clone, Serialize)]
struct Channelbacks {
    round_trips: Throughput,
    posted_twice: usize,
}

/// Agents answering in one thread as fast as they can, each reply a new request.
async fn channelbacks(
    service: &Service,
    fakes: &Fakes,
    db: Database,
    knobs: &Knobs,
) -> Result<Channelbacks> {
    let url = format!("{}/channel/channelback", service.base);
    let metadata = service.metadata.clone();
    let thread = format!("slack:{TEAM}:{CHANNEL}:{}", message_ts(9, 0));
    let tag = format!("{db:?}");
    let result = closed_loop(
        "channelback round trip",
        knobs.cb_clients,
        Some(Duration::from_secs(knobs.cb_seconds)),
        usize::MAX,
        move |http, i| {
            let (url, metadata, thread) = (url.clone(), metadata.clone(), thread.clone());
            let (request_id, message) =
                (format!("bench-{tag}-{i}"), format!("bench reply {tag} {i}"));
            async move {
                http.post(&url)
                    .form(&[
                        ("metadata", metadata.as_str()),
                        ("message", message.as_str()),
                        ("thread_id", thread.as_str()),
                        ("request_unique_identifier", request_id.as_str()),
                    ])
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200)
            }
        },
    )
    .await?;
    let prefix = format!("bench reply {db:?} ");
    let posted_twice = fakes
        .seen
        .posted
        .lock()
        .map_err(|_| anyhow!("poisoned"))?
        .iter()
        .filter(|(text, n)| text.starts_with(&prefix) && **n > 1)
        .count();
    Ok(Channelbacks {
        round_trips: result,
        posted_twice,
    })
}

/// The status API: `create_many` with 100 statuses, then `current` for every agent.
async fn statuses(service: &Service, knobs: &Knobs) -> Result<Vec<Throughput>> {
    let state = &service.state;
    let acme = Subdomain::parse("acme")?;
    let first_id = 360_000_000_001i64;
    let roster: Vec<AgentRecord> = (0..knobs.agents)
        .map(|i| {
            Ok(AgentRecord {
                user_id: ZendeskUserId::new(first_id + i)?,
                role: "agent".into(),
                default_group_id: None,
                group_ids: vec![],
                time_zone: None,
            })
        })
        .collect::<Result<_>>()?;
    let mut tx = state.db.begin_write().await?;
    agents::replace_all(&mut tx, &acme, &roster, 0).await?;
    tx.commit().await?;
    let key = keys::create(&state.db, &acme, ZendeskUserId::new(first_id)?, 0)
        .await?
        .key;
    let http = client(4)?;
    let create_url = format!("{}/zendesk/user_statuses/create_many", service.base);
    for chunk in roster.chunks(100) {
        let items: Vec<_> = chunk
            .iter()
            .map(|a| json!({"user_id": a.user_id.get(), "status": "online"}))
            .collect();
        let response = http
            .post(&create_url)
            .header("X-API-Key", &key)
            .json(&json!({"user_statuses": items, "notify_app": false}))
            .send()
            .await?;
        if response.status() != 200 {
            bail!("seeding statuses: {}", response.status());
        }
    }
    let agents = knobs.agents;
    let duration = Some(Duration::from_secs(knobs.status_seconds));
    let (key1, url1) = (key.clone(), create_url.clone());
    let create = closed_loop("create_many ×100", knobs.status_clients, duration, usize::MAX, move |http, n| {
        let status = ["away", "online"][(n / 50) % 2];
        let items: Vec<_> = (0..100)
            .map(|i| json!({"user_id": first_id + ((n * 100 + i) as i64 % agents), "status": status}))
            .collect();
        let (key, url) = (key1.clone(), url1.clone());
        async move {
            http.post(&url)
                .header("X-API-Key", &key)
                .json(&json!({"user_statuses": items, "notify_app": false}))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await?;
    let current_url = format!("{}/zendesk/user_statuses/current", service.base);
    let current = closed_loop(
        &format!("current ({agents} agents)"),
        knobs.status_clients,
        duration,
        usize::MAX,
        move |http, _| {
            let (key, url) = (key.clone(), current_url.clone());
            async move {
                match http.get(&url).header("X-API-Key", &key).send().await {
                    Ok(r) if r.status() == 200 => r.bytes().await.is_ok(),
                    _ => false,
                }
            }
        },
    )
    .await?;
    Ok(vec![create, current])
}

/// Routing (issue 5): the engine's figures (the same on every database; measured once
/// and repeated) and the Zendesk calls of one real run on this database.
#[derive(Debug, Clone, Serialize)]
struct RoutingReport {
    engine: Vec<routing_figures::EngineFigures>,
    calls: routing_figures::CallFigures,
}

async fn routing(
    database: Database,
    knobs: &Knobs,
    engine: &[routing_figures::EngineFigures],
) -> Result<RoutingReport> {
    let dir = tempfile::tempdir()?;
    let url = database_url(database, knobs, dir.path()).await?;
    Ok(RoutingReport {
        engine: engine.to_vec(),
        calls: routing_figures::call_figures(&url).await?,
    })
}

// ---------------------------------------------------------------------------------------
// Report

#[derive(Debug, Serialize)]
struct DatabaseReport {
    database: Database,
    intake: Throughput,
    intake_ratio_to_bare: f64,
    committed_rows: i64,
    event_to_zendesk: EndToEnd,
    /// The paced stream with 1% of the messages refused by Zendesk for good (issue 12).
    with_unbuildable: EndToEnd,
    channelbacks: Channelbacks,
    statuses: Vec<Throughput>,
    routing: RoutingReport,
    peak_rss_mib_so_far: Option<f64>,
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
        .join("bench")
}

fn main() -> Result<()> {
    let knobs = Knobs::from_env()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(knobs.client_threads)
        .enable_all()
        .build()?;
    runtime.block_on(bench(knobs))
}

async fn bench(knobs: Knobs) -> Result<()> {
    let started = Instant::now();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "slackdesk bench: {cpus} CPUs ({}); knobs {knobs:?}",
        cpu_model()
    );
    slackdesk::startup::install_crypto_provider();
    let fakes = start_fakes().await?;

    let bare_url = format!("{}/slack/events", start_bare().await?);
    event_burst("warm-up", &bare_url, 90, knobs.warmup, knobs.clients).await?;
    let bare = event_burst(
        "bare actix handler answering 200",
        &bare_url,
        91,
        knobs.events,
        knobs.clients,
    )
    .await?;
    eprintln!("bare: {:.0} events/s", bare.per_sec);

    let engine = routing_figures::engine_figures();
    eprintln!(
        "routing engine: {:.0} decisions/s (least active)",
        engine.get(1).map_or(0.0, |f| f.decisions_per_sec)
    );
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    for (index, name) in knobs.databases.iter().enumerate() {
        let database = match name.as_str() {
            "sqlite" => Database::Sqlite,
            "postgres" => Database::Postgres,
            other => bail!("BENCH_DATABASES: unknown database {other}"),
        };
        if database == Database::Postgres
            && let Err(error) = sqlx::PgConnection::connect(&knobs.postgres_url).await
        {
            eprintln!("PostgreSQL skipped: {error}");
            skipped.push(format!(
                "PostgreSQL not reachable at {}: {error}",
                knobs.postgres_url
            ));
            continue;
        }
        if database == Database::Postgres {
            drop_earlier_bench_databases(&knobs.postgres_url).await?;
        }
        let run = 10 * (index as u64 + 1);
        // Intake alone: workers off.
        let intake_service = start_service(&fakes, database, false, &knobs).await?;
        let intake_url = format!("{}/slack/events", intake_service.base);
        event_burst("warm-up", &intake_url, run, knobs.warmup, knobs.clients).await?;
        let intake = event_burst(
            &format!("slackdesk intake ({database:?})"),
            &intake_url,
            run + 1,
            knobs.events,
            knobs.clients,
        )
        .await?;
        let committed_rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox")
            .fetch_one(intake_service.state.db.pool())
            .await?;
        eprintln!("{database:?} intake: {:.0} events/s", intake.per_sec);
        drop(intake_service);
        // Workers on: event to Zendesk, channelbacks, statuses.
        let service = start_service(&fakes, database, true, &knobs).await?;
        paced(&service, &fakes, run + 2, 100, 1, None).await?;
        let e2e = paced(&service, &fakes, run + 3, knobs.rate, knobs.seconds, None).await?;
        let with_bad = paced(
            &service,
            &fakes,
            run + 4,
            knobs.rate,
            knobs.bad_seconds,
            Some(100),
        )
        .await?;
        eprintln!(
            "{database:?} with 1% refused: {}/{} good arrived, p99 {:.1} ms, {} bad arrived",
            with_bad.arrived,
            with_bad.sent - with_bad.bad_sent,
            with_bad.event_to_push.p99_ms,
            with_bad.bad_arrived
        );
        eprintln!(
            "{database:?} e2e: {}/{} arrived, p99 {:.1} ms",
            e2e.arrived, e2e.sent, e2e.event_to_push.p99_ms
        );
        let cb = channelbacks(&service, &fakes, database, &knobs).await?;
        eprintln!("{database:?} channelbacks: {:.0}/s", cb.round_trips.per_sec);
        let status = statuses(&service, &knobs).await?;
        let routing = routing(database, &knobs, &engine).await?;
        eprintln!(
            "{database:?} routing: {:.0} update_many per 1,000 assignments",
            routing.calls.update_many_per_1000
        );
        reports.push(DatabaseReport {
            database,
            intake_ratio_to_bare: intake.per_sec / bare.per_sec,
            intake,
            committed_rows,
            event_to_zendesk: e2e,
            with_unbuildable: with_bad,
            channelbacks: cb,
            statuses: status,
            routing,
            peak_rss_mib_so_far: peak_rss_mib(),
        });
    }

    let report = json!({
        "bench": "slackdesk",
        "command": "cargo bench --bench slackdesk",
        "commit": git_commit(),
        "when": chrono::Utc::now().to_rfc3339(),
        "machine": {"cpus": cpus, "cpu_model": cpu_model(), "os": std::env::consts::OS},
        "knobs": knobs,
        "bare": bare,
        "databases": reports,
        "skipped": skipped,
        "peak_rss_mib": peak_rss_mib(),
        "seconds": started.elapsed().as_secs_f64(),
    });
    let markdown = markdown(&report, &bare, &reports, &skipped, cpus);
    let dir = output_dir();
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    std::fs::write(dir.join("report.md"), &markdown)?;
    println!("{markdown}");
    println!(
        "Written: {} and report.md",
        dir.join("report.json").display()
    );
    Ok(())
}

fn markdown(
    report: &Value,
    bare: &Throughput,
    reports: &[DatabaseReport],
    skipped: &[String],
    cpus: usize,
) -> String {
    let mut out = format!(
        "`cargo bench --bench slackdesk` at {} on {cpus} CPUs ({}); service, fakes and load on the same machine, loopback. Peak RSS of the whole process: {} MiB.\n\n",
        report["commit"].as_str().unwrap_or("?"),
        cpu_model(),
        report["peak_rss_mib"]
            .as_f64()
            .map_or("?".into(), |m| format!("{m:.0}"))
    );
    out.push_str("| measure | SQLite | PostgreSQL |\n|---|---:|---:|\n");
    let cell = |db: Database, f: &dyn Fn(&DatabaseReport) -> String| {
        reports
            .iter()
            .find(|r| r.database == db)
            .map_or_else(|| "not run".to_owned(), f)
    };
    let mut row = |name: &str, f: &dyn Fn(&DatabaseReport) -> String| {
        out.push_str(&format!(
            "| {name} | {} | {} |\n",
            cell(Database::Sqlite, f),
            cell(Database::Postgres, f)
        ));
    };
    row(
        &format!(
            "Slack events accepted/s ({} clients, workers off)",
            bare.clients
        ),
        &|r| {
            format!(
                "{:.0} ({:.0}% of bare actix: {:.0}/s)",
                r.intake.per_sec,
                100.0 * r.intake_ratio_to_bare,
                bare.per_sec
            )
        },
    );
    row("ack p50 / p99 at saturation", &|r| {
        format!(
            "{:.1} / {:.1} ms",
            r.intake.latency.p50_ms, r.intake.latency.p99_ms
        )
    });
    row("intake failures / rows committed", &|r| {
        format!("{} / {}", r.intake.failed, r.committed_rows)
    });
    row("paced stream, workers on", &|r| {
        format!(
            "{}/s for {} s",
            r.event_to_zendesk.rate_per_sec, r.event_to_zendesk.seconds
        )
    });
    row("ack p50 / p99 (paced)", &|r| {
        format!(
            "{:.1} / {:.1} ms",
            r.event_to_zendesk.ack.p50_ms, r.event_to_zendesk.ack.p99_ms
        )
    });
    row("event to Zendesk p50 / p99", &|r| {
        format!(
            "{:.1} / {:.1} ms",
            r.event_to_zendesk.event_to_push.p50_ms, r.event_to_zendesk.event_to_push.p99_ms
        )
    });
    row("arrived / missing / pushed twice", &|r| {
        format!(
            "{} / {} / {}",
            r.event_to_zendesk.arrived, r.event_to_zendesk.missing, r.event_to_zendesk.pushed_twice
        )
    });
    row("with 1% refused by Zendesk: paced stream", &|r| {
        format!(
            "{}/s for {} s, {} bad",
            r.with_unbuildable.rate_per_sec,
            r.with_unbuildable.seconds,
            r.with_unbuildable.bad_sent
        )
    });
    row(
        "with 1% refused by Zendesk: good event to Zendesk p50 / p99",
        &|r| {
            format!(
                "{:.1} / {:.1} ms",
                r.with_unbuildable.event_to_push.p50_ms, r.with_unbuildable.event_to_push.p99_ms
            )
        },
    );
    row(
        "with 1% refused by Zendesk: good arrived / missing; bad arrived",
        &|r| {
            format!(
                "{} / {}; {}",
                r.with_unbuildable.arrived,
                r.with_unbuildable.missing,
                r.with_unbuildable.bad_arrived
            )
        },
    );
    row("channelback round trips/s", &|r| {
        format!(
            "{:.0} ({} clients)",
            r.channelbacks.round_trips.per_sec, r.channelbacks.round_trips.clients
        )
    });
    row("channelback p50 / p99", &|r| {
        format!(
            "{:.1} / {:.1} ms",
            r.channelbacks.round_trips.latency.p50_ms, r.channelbacks.round_trips.latency.p99_ms
        )
    });
    row("channelbacks failed / posted twice", &|r| {
        format!(
            "{} / {}",
            r.channelbacks.round_trips.failed, r.channelbacks.posted_twice
        )
    });
    for i in 0..2 {
        let name = reports
            .first()
            .and_then(|r| r.statuses.get(i))
            .map_or("status API".to_owned(), |s| {
                format!("status API `{}` req/s, p50 / p99", s.target)
            });
        row(&name, &|r| {
            r.statuses.get(i).map_or("?".into(), |s| {
                format!(
                    "{:.0} ({} clients), {:.1} / {:.1} ms",
                    s.per_sec, s.clients, s.latency.p50_ms, s.latency.p99_ms
                )
            })
        });
    }
    row(
        "routing engine: 10,000 tickets × 1,000 agents, ms (round robin / least active / skills)",
        &|r| {
            r.routing
                .engine
                .iter()
                .map(|f| format!("{:.1}", f.best_ms))
                .collect::<Vec<_>>()
                .join(" / ")
        },
    );
    row(
        "routing run, Zendesk calls per 1,000 assignments: writes / reads",
        &|r| {
            let c = &r.routing.calls;
            format!(
                "{:.0} / {:.0}",
                c.update_many_per_1000,
                c.show_many_per_1000
                    + c.job_polls_per_1000
                    + c.view_reads_per_1000
                    + c.exports_per_1000
            )
        },
    );
    row(
        "reassignment watch, Zendesk calls per 1,000 watched assignments (half moved): comment reads / all",
        &|r| {
            let w = &r.routing.calls.watch;
            format!("{:.0} / {:.0}", w.comment_reads_per_1000, w.total_per_1000)
        },
    );
    row("peak RSS after this database (MiB)", &|r| {
        r.peak_rss_mib_so_far
            .map_or("?".into(), |m| format!("{m:.0}"))
    });
    for note in skipped {
        out.push_str(&format!("\n{note}\n"));
    }
    out
}
