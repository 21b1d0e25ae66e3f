//! Benchmark of the Slack bridge: `cargo bench --bench slack_events`.
//!
//! ```text
//!  clients (reqwest, keep-alive) ──signed events──▶ slackdesk (SQLite, temp dir)
//!                                                     │ workers: build + push
//!                   fake Slack (actix, loopback) ◀────┤ conversations.replies, users.info
//!                   fake Zendesk (actix, loopback) ◀──┘ any_channel/push (records arrival)
//! ```
//!
//! Runs, in one process on loopback:
//! 1. `bare`: the throughput load against an actix handler that only answers 200 (this
//!    machine's ceiling for the same client);
//! 2. `intake`: the same load against `POST /slack/events` with workers off, so the
//!    figure is pure intake (verify, parse, commit) — every event must get a 200 and be
//!    in the outbox afterwards;
//! 3. `e2e`: workers on, a paced open-loop stream (500 events/s for 10 s by default);
//!    event-to-push latency is the fake Zendesk's receive time minus the send time.
//!
//! Numbers are printed as a Markdown table and written to
//! `target/bench/slack_events.json`; nothing is asserted. Knobs (environment):
//! `BENCH_EVENTS` (20000), `BENCH_CLIENTS` (64), `BENCH_WARMUP` (1000), `BENCH_RATE` (500),
//! `BENCH_SECONDS` (10), `BENCH_DB_CONNECTIONS` (the service default, 10),
//! `BENCH_CLIENT_THREADS` (2: the tokio threads running clients, fakes' callers and the
//! delivery worker).

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::{Context, Result, anyhow, bail};
use clap::Parser;
use serde_json::{Value, json};
use slackdesk::config::{Secret, Settings};
use slackdesk::domain::{AccountId, SlackChannelId, SlackTeamId, SlackUserId};
use slackdesk::startup::{AppState, Application};
use slackdesk::storage::channel_links::{self, ChannelSettings};
use slackdesk::storage::{slack_workspaces, workspace_grants};

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

#[derive(Debug, Clone, serde::Serialize)]
struct Knobs {
    events: usize,
    clients: usize,
    warmup: usize,
    rate: u64,
    seconds: u64,
    db_connections: Option<u32>,
    client_threads: usize,
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
        let db_connections = match std::env::var("BENCH_DB_CONNECTIONS") {
            Ok(raw) => Some(raw.trim().parse().context("BENCH_DB_CONNECTIONS")?),
            Err(_) => None,
        };
        Ok(Self {
            events: var("BENCH_EVENTS", 20_000usize)?.max(1),
            clients: var("BENCH_CLIENTS", 64usize)?.max(1),
            warmup: var("BENCH_WARMUP", 1_000usize)?,
            rate: var("BENCH_RATE", 500u64)?.max(1),
            seconds: var("BENCH_SECONDS", 10u64)?.clamp(1, 60),
            db_connections,
            client_threads: var("BENCH_CLIENT_THREADS", 2usize)?.max(1),
        })
    }
}

// ---------------------------------------------------------------------------------------
// Fakes

/// What the fake Zendesk saw: first arrival of each external id.
#[derive(Default)]
struct Pushed {
    first_seen: Mutex<HashMap<String, Instant>>,
    requests: AtomicU64,
    resources: AtomicU64,
    repeats: AtomicU64,
}

struct Fakes {
    slack_api: String,
    zendesk_base: String,
    pushed: Arc<Pushed>,
}

fn loopback_listener() -> Result<(TcpListener, u16)> {
    let listener = TcpListener::bind("127.0.0.1:0").context("bind loopback")?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

async fn start_fakes() -> Result<Fakes> {
    let pushed = Arc::new(Pushed::default());

    let (listener, slack_port) = loopback_listener()?;
    let slack = HttpServer::new(|| App::new().route("/api/{method}", web::post().to(fake_slack)))
        .workers(1)
        .disable_signals()
        .listen(listener)?
        .run();
    tokio::spawn(slack);

    let (listener, zendesk_port) = loopback_listener()?;
    let data = web::Data::from(pushed.clone());
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
        pushed,
    })
}

/// The Slack Web API methods the bridge calls while building a resource, in Slack's wire
/// format (HTTP 200, `ok`).
async fn fake_slack(method: web::Path<String>, body: web::Bytes) -> HttpResponse {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    let answer = match method.as_str() {
        "conversations.replies" => {
            let ts = field("oldest");
            let thread = field("ts");
            json!({"ok": true, "has_more": false, "messages": [{
                "type": "message", "ts": ts, "thread_ts": thread, "user": USER,
                "text": format!("The VPN is *down* again since {ts}, can someone look at it? `vpn-gw-2` says _timeout_.")
            }]})
        }
        "users.info" => {
            let user = field("user");
            json!({"ok": true, "user": {"id": user, "name": "alice", "real_name": "Alice Example",
                "profile": {"display_name": "Alice", "real_name": "Alice Example",
                            "image_72": "https://avatars.example/alice.png"}}})
        }
        "conversations.info" => {
            json!({"ok": true, "channel": {"id": field("channel"), "name": "support",
                "is_private": false, "is_member": true}})
        }
        "reactions.add" => json!({"ok": true}),
        _ => json!({"ok": false, "error": "unknown_method"}),
    };
    HttpResponse::Ok().json(answer)
}

/// `POST /api/v2/any_channel/push`: success for every resource; records first arrivals.
async fn fake_zendesk_push(pushed: web::Data<Pushed>, body: web::Bytes) -> HttpResponse {
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
    pushed.requests.fetch_add(1, Ordering::Relaxed);
    pushed
        .resources
        .fetch_add(ids.len() as u64, Ordering::Relaxed);
    let results: Vec<Value> = ids
        .iter()
        .map(|id| json!({"external_resource_id": id, "status": {"code": "success"}}))
        .collect();
    if let Ok(mut seen) = pushed.first_seen.lock() {
        for id in ids {
            if seen.insert(id, now).is_some() {
                pushed.repeats.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    HttpResponse::Ok().json(json!({ "results": results }))
}

/// The machine's ceiling: an actix handler that reads the body and answers 200.
async fn start_bare() -> Result<String> {
    async fn bare(_body: web::Bytes) -> HttpResponse {
        HttpResponse::Ok().finish()
    }
    let (listener, port) = loopback_listener()?;
    // Same worker count as slackdesk's server (actix's default).
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

struct Service {
    base: String,
    state: AppState,
    db_file: PathBuf,
    _dir: tempfile::TempDir,
}

async fn start_service(fakes: &Fakes, workers: bool, knobs: &Knobs) -> Result<Service> {
    let dir = tempfile::tempdir()?;
    let db_file = dir.path().join("slackdesk.db");
    let database_url = format!("sqlite://{}", db_file.display());
    let keys = slackdesk::crypto::generate_key_line("bench1")?;
    let zendesk_template = format!("{}/z/{{subdomain}}", fakes.zendesk_base);
    let mut args: Vec<String> = [
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
        "--http-timeout-secs",
        "10",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    if let Some(n) = knobs.db_connections {
        args.extend(["--database-max-connections".into(), n.to_string()]);
    }
    args.push("--no-workers".into());
    args.push(if workers { "false" } else { "true" }.into());
    let settings = SettingsArgs::try_parse_from(args)
        .map_err(|e| anyhow!("settings: {e}"))?
        .settings;
    let app = Application::build(settings).await?;
    let base = format!("http://127.0.0.1:{}", app.port());
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    Ok(Service {
        base,
        state,
        db_file,
        _dir: dir,
    })
}

/// One account through the real admin UI (with a push token), the workspace connected
/// and granted, and one channel linked with default settings.
async fn set_up_account(service: &Service, fakes: &Fakes) -> Result<()> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let return_url = format!(
        "{}/z/{SUBDOMAIN}/zendesk/channels/integration_service_instances/editor_finalizer",
        fakes.zendesk_base
    );
    let page = http
        .post(format!("{}/channel/admin", service.base))
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
        .post(format!("{}/channel/admin/save", service.base))
        .form(&[
            ("session", session.as_str()),
            ("name", "Bench Slack"),
            ("ticket_tags", "slack"),
            ("delivery", "auto"),
        ])
        .send()
        .await?;
    if done.status() != 200 {
        bail!("admin save answered {}", done.status());
    }
    let page = done.text().await?;
    let metadata = hidden_value(&page, "metadata").context("no metadata in the return form")?;
    let account = metadata
        .split(':')
        .nth(1)
        .and_then(|raw| AccountId::parse(raw).ok())
        .context("no account id in the metadata")?;

    let state = &service.state;
    let team = SlackTeamId::parse(TEAM)?;
    let channel = SlackChannelId::parse(CHANNEL)?;
    let bot_user = SlackUserId::parse("U0BOT")?;
    slack_workspaces::upsert(
        &state.db,
        &state.keys,
        &slack_workspaces::WorkspaceInstall {
            team: &team,
            bot_user: Some(&bot_user),
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
    Ok(())
}

fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    let raw = &page[start..end];
    Some(
        raw.replace("&#34;", "\"")
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

async fn count(state: &AppState, sql: &'static str) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(state.db.pool())
        .await?)
}

// ---------------------------------------------------------------------------------------
// Events and the load

/// A distinct top-level message: `run` keeps the runs' ts apart.
fn message_ts(run: u64, n: u64) -> String {
    format!("{}.{:06}", 1_700_000_000 + run * 10_000_000 + n, 100)
}

static EVENT_SEQ: AtomicU64 = AtomicU64::new(1);

/// An `event_callback` as Slack sends it for a plain channel message (blocks included,
/// about 900 bytes).
fn event_body(ts: &str) -> Vec<u8> {
    let n = EVENT_SEQ.fetch_add(1, Ordering::Relaxed);
    let text = "The VPN is *down* again, can someone look at it? `vpn-gw-2` says _timeout_.";
    json!({
        "token": "unused", "team_id": TEAM, "context_team_id": TEAM, "api_app_id": "A0BENCH",
        "type": "event_callback", "event_id": format!("Ev0B{n:010}"), "event_time": 1_700_000_000,
        "authorizations": [{"enterprise_id": null, "team_id": TEAM, "user_id": "U0BOT", "is_bot": true, "is_enterprise_install": false}],
        "is_ext_shared_channel": false, "event_context": "4-eyJldCI6Im1lc3NhZ2UifQ",
        "event": {
            "type": "message", "channel": CHANNEL, "user": USER, "ts": ts, "client_msg_id": format!("00000000-0000-4000-8000-{n:012}"),
            "text": text, "team": TEAM, "channel_type": "channel", "event_ts": ts,
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
) -> Result<reqwest::StatusCode, reqwest::Error> {
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
    let status = response.status();
    let _ = response.bytes().await?;
    Ok(status)
}

fn client(pool: usize) -> Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(pool)
        .timeout(Duration::from_secs(30))
        .build()?)
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct Latency {
    samples: usize,
    p50_ms: f64,
    p90_ms: f64,
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
            p90_ms: at(0.90),
            p99_ms: at(0.99),
            max_ms: micros[micros.len() - 1] as f64 / 1000.0,
        }
    }
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct ThroughputResult {
    target: String,
    events: usize,
    clients: usize,
    ok: usize,
    non_200: usize,
    errors: usize,
    seconds: f64,
    events_per_sec: f64,
    ack: Latency,
    /// Rows in the outbox afterwards, warm-up included (slackdesk only).
    committed_rows: Option<i64>,
    peak_rss_kib_after: Option<u64>,
}

/// `events` events from `clients` concurrent keep-alive clients, as fast as they go.
async fn closed_loop(
    target: &str,
    url: &str,
    run: u64,
    events: usize,
    clients: usize,
) -> Result<ThroughputResult> {
    let http = client(clients)?;
    let bodies: Arc<Vec<Mutex<Option<Vec<u8>>>>> = Arc::new(
        (0..events)
            .map(|i| Mutex::new(Some(event_body(&message_ts(run, i as u64)))))
            .collect(),
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (http, url, bodies, next) =
            (http.clone(), url.to_owned(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let (mut ok, mut non_200, mut errors) = (0usize, 0usize, 0usize);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(slot) = bodies.get(i) else { break };
                let body = slot
                    .lock()
                    .ok()
                    .and_then(|mut b| b.take())
                    .unwrap_or_default();
                let sent = Instant::now();
                match send_event(&http, &url, body).await {
                    Ok(status) if status == 200 => ok += 1,
                    Ok(_) => non_200 += 1,
                    Err(_) => errors += 1,
                }
                latencies.push(sent.elapsed().as_micros() as u64);
            }
            (latencies, ok, non_200, errors)
        }));
    }
    let mut all = Vec::with_capacity(events);
    let mut result = ThroughputResult {
        target: target.to_owned(),
        events,
        clients,
        ..ThroughputResult::default()
    };
    for task in tasks {
        let (latencies, ok, non_200, errors) = task.await?;
        all.extend(latencies);
        result.ok += ok;
        result.non_200 += non_200;
        result.errors += errors;
    }
    result.seconds = started.elapsed().as_secs_f64();
    result.events_per_sec = result.ok as f64 / result.seconds;
    result.ack = Latency::of(all);
    Ok(result)
}

#[derive(Debug, Default, Clone, serde::Serialize)]
struct EndToEndResult {
    rate_per_sec: u64,
    seconds: u64,
    sent: usize,
    acked_200: usize,
    ack_failures: usize,
    achieved_send_rate: f64,
    ack: Latency,
    arrived: usize,
    missing: usize,
    pushed_twice: u64,
    push_requests: u64,
    resources_per_push: f64,
    event_to_push: Latency,
    drain_seconds: f64,
    outbox_pending_after: i64,
}

/// A paced, open-loop stream: one event every 1/rate s whatever the answers do.
async fn paced(
    service: &Service,
    fakes: &Fakes,
    run: u64,
    rate: u64,
    seconds: u64,
) -> Result<EndToEndResult> {
    let total = (rate * seconds) as usize;
    let http = client(64)?;
    let url = format!("{}/slack/events", service.base);
    let requests_before = fakes.pushed.requests.load(Ordering::Relaxed);
    let resources_before = fakes.pushed.resources.load(Ordering::Relaxed);
    let repeats_before = fakes.pushed.repeats.load(Ordering::Relaxed);
    let mut ticks = tokio::time::interval(Duration::from_nanos(1_000_000_000 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        ticks.tick().await;
        let ts = message_ts(run, i as u64);
        let body = event_body(&ts);
        let (http, url) = (http.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let sent = Instant::now();
            let status = send_event(&http, &url, body).await;
            let ack = sent.elapsed().as_micros() as u64;
            (ts, sent, ack, matches!(status, Ok(s) if s == 200))
        }));
    }
    let send_seconds = started.elapsed().as_secs_f64();
    let mut sent_at = HashMap::with_capacity(total);
    let mut acks = Vec::with_capacity(total);
    let mut acked = 0;
    for task in tasks {
        let (ts, sent, ack, ok) = task.await?;
        acks.push(ack);
        acked += usize::from(ok);
        sent_at.insert(format!("slack:{TEAM}:{CHANNEL}:{ts}"), sent);
    }
    // Wait (bounded) for every event to reach the fake Zendesk.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let arrived = {
            let seen = fakes
                .pushed
                .first_seen
                .lock()
                .map_err(|_| anyhow!("poisoned"))?;
            sent_at.keys().filter(|id| seen.contains_key(*id)).count()
        };
        if arrived == sent_at.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drain_seconds = started.elapsed().as_secs_f64() - send_seconds;
    let seen = fakes
        .pushed
        .first_seen
        .lock()
        .map_err(|_| anyhow!("poisoned"))?
        .clone();
    let e2e: Vec<u64> = sent_at
        .iter()
        .filter_map(|(id, sent)| {
            seen.get(id)
                .map(|got| got.saturating_duration_since(*sent).as_micros() as u64)
        })
        .collect();
    let push_requests = fakes.pushed.requests.load(Ordering::Relaxed) - requests_before;
    let resources = fakes.pushed.resources.load(Ordering::Relaxed) - resources_before;
    Ok(EndToEndResult {
        rate_per_sec: rate,
        seconds,
        sent: total,
        acked_200: acked,
        ack_failures: total - acked,
        achieved_send_rate: total as f64 / send_seconds,
        ack: Latency::of(acks),
        arrived: e2e.len(),
        missing: total - e2e.len(),
        pushed_twice: fakes.pushed.repeats.load(Ordering::Relaxed) - repeats_before,
        push_requests,
        resources_per_push: if push_requests == 0 {
            0.0
        } else {
            resources as f64 / push_requests as f64
        },
        event_to_push: Latency::of(e2e),
        drain_seconds,
        outbox_pending_after: count(
            &service.state,
            "SELECT COUNT(*) FROM outbox WHERE state = 'pending'",
        )
        .await?,
    })
}

// ---------------------------------------------------------------------------------------
// Machine and report

fn proc_status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
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

fn output_path() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    target.join("bench").join("slack_events.json")
}

fn file_size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok())
        .map(|m| m.len())
        .sum()
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
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    eprintln!(
        "slack_events bench: {cpus} CPUs ({}), {} events x {} clients, e2e {} events/s for {} s",
        cpu_model(),
        knobs.events,
        knobs.clients,
        knobs.rate,
        knobs.seconds
    );
    slackdesk::startup::install_crypto_provider();
    let fakes = start_fakes().await?;

    // 1. The ceiling: a bare handler, same client, same bodies.
    let bare = start_bare().await?;
    let bare_url = format!("{bare}/slack/events");
    closed_loop("bare", &bare_url, 90, knobs.warmup, knobs.clients).await?;
    let mut ceiling =
        closed_loop("bare actix 200", &bare_url, 91, knobs.events, knobs.clients).await?;
    ceiling.peak_rss_kib_after = proc_status_kib("VmHWM:");
    eprintln!("bare: {:.0} events/s", ceiling.events_per_sec);

    // 2. Intake only: workers off.
    let intake_service = start_service(&fakes, false, &knobs).await?;
    set_up_account(&intake_service, &fakes).await?;
    let intake_url = format!("{}/slack/events", intake_service.base);
    closed_loop("warmup", &intake_url, 1, knobs.warmup, knobs.clients).await?;
    let mut intake = closed_loop(
        "slackdesk intake (SQLite, workers off)",
        &intake_url,
        2,
        knobs.events,
        knobs.clients,
    )
    .await?;
    intake.committed_rows =
        Some(count(&intake_service.state, "SELECT COUNT(*) FROM outbox").await?);
    intake.peak_rss_kib_after = proc_status_kib("VmHWM:");
    eprintln!(
        "intake: {:.0} events/s, {} rows committed",
        intake.events_per_sec,
        intake.committed_rows.unwrap_or_default()
    );
    let intake_db_bytes = file_size(&intake_service.db_file);

    // 3. Event to push: workers on, paced.
    let e2e_service = start_service(&fakes, true, &knobs).await?;
    set_up_account(&e2e_service, &fakes).await?;
    paced(&e2e_service, &fakes, 3, 100, 1).await?;
    let e2e = paced(&e2e_service, &fakes, 4, knobs.rate, knobs.seconds).await?;
    eprintln!(
        "e2e: {} of {} arrived, p99 {:.1} ms",
        e2e.arrived, e2e.sent, e2e.event_to_push.p99_ms
    );

    let peak_rss_kib = proc_status_kib("VmHWM:");
    let report = json!({
        "bench": "slack_events",
        "command": "cargo bench --bench slack_events",
        "commit": git_commit(),
        "when": chrono::Utc::now().to_rfc3339(),
        "machine": {"cpus": cpus, "cpu_model": cpu_model(), "os": std::env::consts::OS},
        "knobs": knobs,
        "db_max_connections": intake_service.state.settings.database.database_max_connections,
        "event_body_bytes": event_body(&message_ts(0, 0)).len(),
        "throughput": [ceiling, intake],
        "intake_ratio_to_bare": intake.events_per_sec / ceiling.events_per_sec,
        "intake_db_bytes": intake_db_bytes,
        "event_to_push": e2e,
        "peak_rss_kib": peak_rss_kib,
        "targets": {"events_per_sec": 5000, "ack_p99_ms": 20, "event_to_push_p99_ms_at_500": 100},
    });
    let path = output_path();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, serde_json::to_string_pretty(&report)?)?;

    println!(
        "{}",
        markdown(&knobs, cpus, &ceiling, &intake, &e2e, peak_rss_kib)
    );
    println!("JSON: {}", path.display());
    Ok(())
}

fn markdown(
    knobs: &Knobs,
    cpus: usize,
    ceiling: &ThroughputResult,
    intake: &ThroughputResult,
    e2e: &EndToEndResult,
    peak_rss_kib: Option<u64>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "\nslack_events on {cpus} CPUs ({}), SQLite, loopback; clients, fakes and service share the machine.\n\n",
        cpu_model()
    ));
    out.push_str(
        "| run | events | clients | events/s | non-200 / errors | ack p50 | ack p99 | ack max |\n",
    );
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in [ceiling, intake] {
        out.push_str(&format!(
            "| {} | {} | {} | {:.0} | {} / {} | {:.2} ms | {:.2} ms | {:.1} ms |\n",
            r.target,
            r.events,
            r.clients,
            r.events_per_sec,
            r.non_200,
            r.errors,
            r.ack.p50_ms,
            r.ack.p99_ms,
            r.ack.max_ms
        ));
    }
    out.push_str(&format!(
        "\nIntake is {:.0}% of the bare handler; {} outbox rows committed ({} warm-up + {} measured).\n\n",
        100.0 * intake.events_per_sec / ceiling.events_per_sec,
        intake.committed_rows.unwrap_or_default(),
        knobs.warmup,
        knobs.events
    ));
    out.push_str("| event to push (workers on) | sent | arrived | missing | pushed twice | ack p50 | ack p99 | e2e p50 | e2e p99 | e2e max | resources/push |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    out.push_str(&format!(
        "| {} events/s for {} s (sent at {:.0}/s) | {} | {} | {} | {} | {:.2} ms | {:.2} ms | {:.1} ms | {:.1} ms | {:.1} ms | {:.1} |\n",
        e2e.rate_per_sec,
        e2e.seconds,
        e2e.achieved_send_rate,
        e2e.sent,
        e2e.arrived,
        e2e.missing,
        e2e.pushed_twice,
        e2e.ack.p50_ms,
        e2e.ack.p99_ms,
        e2e.event_to_push.p50_ms,
        e2e.event_to_push.p99_ms,
        e2e.event_to_push.max_ms,
        e2e.resources_per_push
    ));
    out.push_str(&format!(
        "\nPeak RSS of the bench process (service, fakes and clients): {} MiB\n",
        peak_rss_kib.map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0))
    ));
    out
}
