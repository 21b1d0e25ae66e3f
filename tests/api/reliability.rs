//! Reliability under crashes, faults, key rotation and replicas.
//!
//! - Crash: the real binary takes a steady stream of signed Slack events and is killed
//!   with SIGKILL mid-stream, then restarted on the same SQLite file. Every event that
//!   got a 200 reaches Zendesk exactly once as a comment, and a channelback that was in
//!   flight at the kill is not posted to Slack twice.
//! - Faults: Zendesk and Slack answer 429 with `Retry-After`, 500s, reset connections and
//!   answer slowly for a while. Afterwards everything is delivered once, `Retry-After`
//!   was honoured and the service is still up.
//! - Key rotation while traffic flows: no request fails, every credential ends up under
//!   the new key, none is left in plain text.
//! - Two replicas on one database racing the same channelbacks: each reply is posted once.
//!
//! Nothing here waits on a fixed sleep: every wait polls a condition with a deadline.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use slackdesk::config::Secret;
use slackdesk::crypto::{KeyRing, SealedFor, generate_key_line};
use slackdesk::routing::settings::Hook;
use slackdesk::storage::rotation::{self, SEALED_COLUMNS};
use sqlx::Row;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::fake_slack::{self, field};
use crate::support::{
    BOT_TOKEN, Backend, PUSH_TOKEN, SIGNING_SECRET, event_callback, eventually, hidden_value,
    spawn_app,
};

const THREAD: &str = "slack:T0TEAM:C0CHAN:1700000000.000100";

// ---------------------------------------------------------------------------------------
// A fake Zendesk push endpoint that behaves like Zendesk: the first push of an external
// id creates a comment (`success`), later ones answer `already_imported`. It records
// every push, so a test can count comments and re-sends per external id.

#[derive(Default)]
struct Pushes {
    /// Every resource pushed, in arrival order, with its arrival time.
    seen: Mutex<Vec<(Instant, String)>>,
    /// Authorization headers of the pushes.
    tokens: Mutex<Vec<String>>,
}

impl Pushes {
    fn per_id(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (_, id) in self.seen.lock().unwrap().iter() {
            *counts.entry(id.clone()).or_insert(0) += 1;
        }
        counts
    }
}

#[derive(Clone)]
struct ZendeskPush(Arc<Pushes>);

impl Respond for ZendeskPush {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut seen = self.0.seen.lock().unwrap();
        if let Some(auth) = request.headers.get("authorization") {
            self.0
                .tokens
                .lock()
                .unwrap()
                .push(auth.to_str().unwrap_or_default().to_owned());
        }
        let results: Vec<Value> = body["external_resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|resource| {
                let id = resource["external_id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let first = !seen.iter().any(|(_, s)| *s == id);
                seen.push((Instant::now(), id.clone()));
                let code = if first { "success" } else { "already_imported" };
                json!({"external_resource_id": id, "status": {"code": code}})
            })
            .collect();
        ResponseTemplate::new(200).set_body_json(json!({ "results": results }))
    }
}

// ---------------------------------------------------------------------------------------
// Crash

struct Service {
    child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Binary {
    dir: PathBuf,
    port: u16,
    slack: String,
    zendesk: String,
    keys: String,
    log: PathBuf,
}

impl Binary {
    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_slackdesk"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        command
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,sqlx=warn")
            .env("PUBLIC_URL", "https://slackdesk.example.com")
            .env("BIND", format!("127.0.0.1:{}", self.port))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/slackdesk.db", self.dir.display()),
            )
            .env("SLACKDESK_KEYS", &self.keys)
            .env("SLACK_API_URL", format!("{}/api", self.slack))
            .env("SLACK_SIGNING_SECRET", SIGNING_SECRET)
            .env(
                "ZENDESK_URL_TEMPLATE",
                format!("{}/z/{{subdomain}}", self.zendesk),
            )
            .env("WORKER_POLL_MS", "50")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log));
        command
    }

    async fn start(&self) -> Service {
        let service = Service {
            child: self.command().spawn().unwrap(),
        };
        let base = self.base();
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
        service
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The admin flow against the binary: an account with push, Slack connected by the
/// operator's CLI, the test channel linked. Returns the metadata.
async fn set_up_account(binary: &Binary, http: &reqwest::Client) -> String {
    let base = binary.base();
    let return_url = format!("{}/z/acme/return", binary.zendesk);
    let open = |metadata: String| {
        let return_url = return_url.clone();
        let base = base.clone();
        async move {
            http.post(format!("{base}/channel/admin"))
                .form(&[
                    ("name", "Support"),
                    ("metadata", metadata.as_str()),
                    ("state", ""),
                    ("return_url", return_url.as_str()),
                    ("subdomain", "acme"),
                    ("locale", "en"),
                    ("instance_push_id", "push-1"),
                    ("zendesk_access_token", PUSH_TOKEN),
                ])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let save = |page: String, link: bool| {
        let base = base.clone();
        async move {
            let session = hidden_value(&page, "session").expect("session");
            let mut fields = vec![("session", session), ("name", "Support".to_owned())];
            if link {
                fields.push(("link", "T0TEAM:C0CHAN".to_owned()));
            }
            let done = http
                .post(format!("{base}/channel/admin/save"))
                .form(&fields)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            hidden_value(&done, "metadata").expect("metadata")
        }
    };
    let metadata = save(open(String::new()).await, false).await;
    let connected = binary
        .command()
        .args([
            "slack",
            "connect",
            "--bot-token",
            BOT_TOKEN,
            "--subdomain",
            "acme",
        ])
        .status()
        .unwrap();
    assert!(connected.success(), "slack connect: {}", binary.log_tail());
    save(open(metadata).await, true).await
}

fn signed_event(n: usize) -> (String, Vec<u8>) {
    let ts = format!("17000{n:05}.000100");
    let mut event = event_callback(
        json!({"type": "message", "channel": "C0CHAN", "user": "U0ALICE",
        "ts": ts, "text": format!("crash test message {n}"), "channel_type": "channel"}),
    );
    event["event_id"] = json!(format!("EvCrash{n:05}"));
    (
        format!("slack:T0TEAM:C0CHAN:{ts}"),
        event.to_string().into_bytes(),
    )
}

/// Sends event `n` as Slack does: retried (with `X-Slack-Retry-Num`) until it gets a
/// 200, for at most a minute. Returns whether it was accepted.
async fn deliver_event(http: &reqwest::Client, base: &str, n: usize) -> bool {
    let (_, body) = signed_event(n);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut retry = 0;
    while Instant::now() < deadline {
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature =
            slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), &timestamp, &body);
        let mut request = http
            .post(format!("{base}/slack/events"))
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", &timestamp)
            .header("x-slack-signature", signature)
            .timeout(Duration::from_secs(5))
            .body(body.clone());
        if retry > 0 {
            request = request.header("x-slack-retry-num", retry.to_string());
        }
        match request.send().await {
            Ok(response) if response.status() == 200 => return true,
            _ => {
                retry += 1;
                // Slack's own retries are paced; this pace only avoids a busy loop.
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
    false
}

async fn channelback(
    http: &reqwest::Client,
    base: &str,
    metadata: &str,
    request_id: &str,
    message: &str,
) -> Result<reqwest::Response, reqwest::Error> {
    http.post(format!("{base}/channel/channelback"))
        .form(&[
            ("metadata", metadata),
            ("message", message),
            ("thread_id", THREAD),
            ("request_unique_identifier", request_id),
        ])
        .send()
        .await
}

async fn posts_with_text(slack: &MockServer, text: &str) -> usize {
    fake_slack::received(slack, "chat.postMessage")
        .await
        .iter()
        .filter(|form| field(form, "text") == Some(text))
        .count()
}

const CRASH_EVENTS: usize = 300;
const KILL_AFTER: usize = 120;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_acknowledged_before_a_kill_9_all_reach_zendesk_once() {
    slackdesk::startup::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let slack = MockServer::start().await;
    let zendesk = MockServer::start().await;
    fake_slack::serve_auth_test(&slack).await;
    fake_slack::serve_conversations(&slack, &[("C0CHAN", "support")]).await;
    fake_slack::echo_messages(&slack).await;
    fake_slack::serve_user(&slack, "U0ALICE", "Alice").await;
    // The reply in flight at the kill: Slack takes its time answering.
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .and(body_string_contains("in+flight"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": "C0CHAN", "ts": "1700000099.000001"}))
                .set_delay(Duration::from_secs(4)),
        )
        .mount(&slack)
        .await;
    fake_slack::accept_posts(&slack, "1700000099.000900").await;
    let pushes = Arc::new(Pushes::default());
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ZendeskPush(pushes.clone()))
        .mount(&zendesk)
        .await;
    let binary = Binary {
        dir: dir.path().to_owned(),
        port: free_port(),
        slack: slack.uri(),
        zendesk: zendesk.uri(),
        keys: generate_key_line("crash1").unwrap(),
        log: dir.path().join("slackdesk.log"),
    };
    let http = reqwest::Client::new();
    let mut service = binary.start().await;
    let metadata = set_up_account(&binary, &http).await;
    let base = binary.base();

    // A reply that completes before the kill.
    let done = channelback(&http, &base, &metadata, "cb-done", "done reply")
        .await
        .unwrap();
    assert_eq!(done.status(), 200);
    let done_id = done.json::<Value>().await.unwrap()["external_id"].clone();

    // A steady stream of events from four concurrent senders.
    let next = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let mut senders = Vec::new();
    for _ in 0..4 {
        let (next, accepted, http, base) =
            (next.clone(), accepted.clone(), http.clone(), base.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= CRASH_EVENTS {
                    break;
                }
                if deliver_event(&http, &base, n).await {
                    accepted.lock().unwrap().push(n);
                }
            }
        }));
    }
    let acked = accepted.clone();
    eventually("events to be flowing", 60, || {
        let acked = acked.clone();
        async move { (acked.lock().unwrap().len() >= KILL_AFTER).then_some(()) }
    })
    .await;
    // An agent's reply is being posted to Slack when the process dies.
    let in_flight = {
        let (http, base, metadata) = (http.clone(), base.clone(), metadata.clone());
        tokio::spawn(async move {
            channelback(&http, &base, &metadata, "cb-inflight", "in flight reply").await
        })
    };
    eventually("the reply to reach Slack", 20, || async {
        (posts_with_text(&slack, "in flight reply").await == 1).then_some(())
    })
    .await;

    let _ = service.child.kill(); // SIGKILL
    let _ = service.child.wait();
    let killed_at = Instant::now();
    let acked_at_kill = accepted.lock().unwrap().len();
    assert!(
        in_flight.await.unwrap().is_err(),
        "the in-flight channelback got no answer"
    );
    service = binary.start().await;

    for sender in senders {
        sender.await.unwrap();
    }
    let accepted: Vec<usize> = accepted.lock().unwrap().clone();
    assert_eq!(
        accepted.len(),
        CRASH_EVENTS,
        "every event was eventually accepted"
    );

    // Zendesk retries both channelbacks after the restart.
    let retried = channelback(&http, &base, &metadata, "cb-inflight", "in flight reply")
        .await
        .unwrap();
    assert_eq!(
        retried.status(),
        503,
        "the interrupted reply is reported in progress, not posted again"
    );
    assert!(retried.headers().contains_key("retry-after"));
    let again = channelback(&http, &base, &metadata, "cb-done", "done reply")
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<Value>().await.unwrap()["external_id"], done_id);

    // Rows claimed by the killed process are taken again once their lease ends.
    let expected: Vec<String> = accepted.iter().map(|n| signed_event(*n).0).collect();
    let per_id = eventually("every accepted event to reach Zendesk", 150, || async {
        let per_id = pushes.per_id();
        expected
            .iter()
            .all(|id| per_id.contains_key(id))
            .then_some(per_id)
    })
    .await;
    drop(service);

    assert_eq!(
        per_id.len(),
        CRASH_EVENTS,
        "no comment for an event that was never sent"
    );
    let seen = pushes.seen.lock().unwrap().clone();
    let mut repeated = Vec::new();
    for (id, count) in &per_id {
        if *count > 1 {
            let first = seen.iter().find(|(_, s)| s == id).unwrap().0;
            assert!(
                first < killed_at && *count == 2,
                "{id} was pushed {count} times, first after the kill: only a push in flight at the kill may be resent"
            );
            repeated.push(id.clone());
        }
    }
    assert!(
        repeated.len() <= 100,
        "at most the batch in flight is resent: {}",
        repeated.len()
    );
    assert_eq!(
        posts_with_text(&slack, "in flight reply").await,
        1,
        "the in-flight reply was posted once"
    );
    assert_eq!(
        posts_with_text(&slack, "done reply").await,
        1,
        "the finished reply was posted once"
    );
    println!(
        "crash: {CRASH_EVENTS} signed events, {acked_at_kill} acknowledged before kill -9, all {} reached Zendesk as one comment each ({} resent by at-least-once delivery, answered already_imported); in-flight channelback posted once",
        per_id.len(),
        repeated.len()
    );
}

// ---------------------------------------------------------------------------------------
// Faults

/// One scripted misbehaviour of a fake server.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// The connection is reset before the request reaches the server.
    Reset,
    /// HTTP 429 with `Retry-After` (seconds); Slack's body says `ratelimited`.
    RateLimited(u64),
    /// HTTP 500.
    ServerError,
    /// A correct answer, this many milliseconds late (under the client timeout).
    Slow(u64),
    /// Slack only: HTTP 200 `{"ok":false,"error":"internal_error"}`.
    SlackError,
    /// A normal answer (to place faults between good requests).
    Pass,
}

/// The faults still to come; a request pops the next one, and gets a normal answer when
/// none is left. Records when each request arrived and what it got.
#[derive(Default)]
struct Script {
    faults: Mutex<std::collections::VecDeque<Fault>>,
    log: Mutex<Vec<(Instant, String)>>,
}

impl Script {
    fn new(faults: &[Fault]) -> Arc<Self> {
        Arc::new(Self {
            faults: Mutex::new(faults.iter().copied().collect()),
            log: Mutex::new(Vec::new()),
        })
    }

    fn next(&self, what: &str) -> Option<Fault> {
        let fault = self.faults.lock().unwrap().pop_front();
        self.log
            .lock()
            .unwrap()
            .push((Instant::now(), format!("{what}: {fault:?}")));
        fault
    }

    fn take_reset(&self) -> bool {
        // (The proxy calls this for the requests it watches; the server never sees those.)
        let mut faults = self.faults.lock().unwrap();
        if matches!(faults.front(), Some(Fault::Reset)) {
            faults.pop_front();
            self.log
                .lock()
                .unwrap()
                .push((Instant::now(), "reset".into()));
            true
        } else {
            false
        }
    }

    fn injected(&self, total: usize) -> usize {
        total - self.faults.lock().unwrap().len()
    }

    /// The gap between a request that got `RateLimited` and the next request.
    fn gaps_after_rate_limits(&self) -> Vec<(Duration, Duration)> {
        let log = self.log.lock().unwrap();
        let mut gaps = Vec::new();
        for (i, (at, what)) in log.iter().enumerate() {
            if let Some(secs) = what
                .split("RateLimited(")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .and_then(|s| s.parse::<u64>().ok())
                && let Some((next, _)) = log.get(i + 1)
            {
                gaps.push((next.duration_since(*at), Duration::from_secs(secs)));
            }
        }
        gaps
    }
}

/// A TCP proxy in front of a fake server that resets the connection of the next request
/// when the script says `Reset` (the request never reaches the server).
async fn resetting_proxy(upstream: String, script: Arc<Script>, watched: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (upstream, script) = (upstream.clone(), script.clone());
            tokio::spawn(async move {
                let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                    return;
                };
                let mut up = vec![0u8; 64 * 1024];
                let mut down = vec![0u8; 64 * 1024];
                loop {
                    tokio::select! {
                        read = client.read(&mut up) => match read {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if up[..n].starts_with(watched.as_bytes()) && script.take_reset() {
                                    // RST instead of FIN: the client sees a reset.
                                    let _ = client.set_zero_linger();
                                    break;
                                }
                                if server.write_all(&up[..n]).await.is_err() {
                                    break;
                                }
                            }
                        },
                        read = server.read(&mut down) => match read {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if client.write_all(&down[..n]).await.is_err() {
                                    break;
                                }
                            }
                        },
                    }
                }
            });
        }
    });
    format!("http://{address}")
}

/// Zendesk's push endpoint, misbehaving as the script says, then as [`ZendeskPush`].
struct FaultyZendesk {
    script: Arc<Script>,
    zendesk: ZendeskPush,
}

impl Respond for FaultyZendesk {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        match self.script.next("push") {
            Some(Fault::RateLimited(secs)) => {
                ResponseTemplate::new(429).insert_header("Retry-After", secs.to_string().as_str())
            }
            Some(Fault::ServerError | Fault::Reset | Fault::SlackError) => {
                ResponseTemplate::new(500)
            }
            Some(Fault::Slow(ms)) => self
                .zendesk
                .respond(request)
                .set_delay(Duration::from_millis(ms)),
            Some(Fault::Pass) | None => self.zendesk.respond(request),
        }
    }
}

/// Slack's `chat.postMessage`, misbehaving as the script says; records the texts it
/// really posted.
struct FaultySlack {
    script: Arc<Script>,
    posted: Arc<Mutex<Vec<String>>>,
}

impl Respond for FaultySlack {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form: Vec<(String, String)> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        let text = field(&form, "text").unwrap_or_default().to_owned();
        let ok = |posted: &Mutex<Vec<String>>| {
            let mut posted = posted.lock().unwrap();
            posted.push(text.clone());
            ResponseTemplate::new(200).set_body_json(
                json!({"ok": true, "channel": "C0CHAN", "ts": format!("1700000300.{:06}", posted.len())}),
            )
        };
        match self.script.next("chat.postMessage") {
            Some(Fault::RateLimited(secs)) => ResponseTemplate::new(429)
                .insert_header("Retry-After", secs.to_string().as_str())
                .set_body_json(json!({"ok": false, "error": "ratelimited"})),
            Some(Fault::ServerError | Fault::Reset) => ResponseTemplate::new(500),
            Some(Fault::SlackError) => ResponseTemplate::new(200)
                .set_body_json(json!({"ok": false, "error": "internal_error"})),
            Some(Fault::Slow(ms)) => ok(&self.posted).set_delay(Duration::from_millis(ms)),
            Some(Fault::Pass) | None => ok(&self.posted),
        }
    }
}

const ZENDESK_FAULTS: [Fault; 7] = [
    Fault::ServerError,
    Fault::RateLimited(2),
    Fault::Pass,
    Fault::Reset,
    Fault::Slow(1_500),
    Fault::RateLimited(1),
    Fault::Pass,
];
const SLACK_FAULTS: [Fault; 6] = [
    Fault::RateLimited(1),
    Fault::ServerError,
    Fault::Reset,
    Fault::Slow(1_500),
    Fault::SlackError,
    Fault::RateLimited(2),
];
const FAULT_EVENTS: usize = 40;
const FAULT_REPLIES: usize = 6;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_rate_limits_errors_resets_and_slow_answers_everything_is_delivered_once() {
    let app = spawn_app(Backend::Sqlite).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    fake_slack::echo_messages(&app.slack).await;
    let zendesk_script = Script::new(&ZENDESK_FAULTS);
    let pushes = Arc::new(Pushes::default());
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(FaultyZendesk {
            script: zendesk_script.clone(),
            zendesk: ZendeskPush(pushes.clone()),
        })
        .mount(&app.zendesk)
        .await;
    let slack_script = Script::new(&SLACK_FAULTS);
    let posted = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(FaultySlack {
            script: slack_script.clone(),
            posted: posted.clone(),
        })
        .mount(&app.slack)
        .await;
    let zendesk_proxy = resetting_proxy(
        app.zendesk.address().to_string(),
        zendesk_script.clone(),
        "POST /z/acme/api/v2/any_channel/push",
    )
    .await;
    let slack_proxy = resetting_proxy(
        app.slack.address().to_string(),
        slack_script.clone(),
        "POST /api/chat.postMessage",
    )
    .await;
    // The service under test: workers on, both outside APIs behind the fault proxies.
    let (service, _) = app
        .spawn_replica_with(&[
            (
                "--zendesk-url-template",
                Some(&format!("{zendesk_proxy}/z/{{subdomain}}")),
            ),
            ("--slack-api-url", Some(&format!("{slack_proxy}/api"))),
            ("--no-workers", None),
        ])
        .await;
    let http = reqwest::Client::new();

    // Slack keeps sending messages while Zendesk misbehaves; agents answer while Slack
    // misbehaves. Zendesk's side of a channelback honours our 503's Retry-After.
    let events = async {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        for n in 0..FAULT_EVENTS {
            tick.tick().await;
            assert!(
                deliver_event(&http, &service, 1000 + n).await,
                "event {n} accepted"
            );
        }
    };
    // Six agents answer at once; each reply is retried as its 503's Retry-After says.
    let retry_afters = Arc::new(Mutex::new(Vec::new()));
    let replies = futures_util::future::join_all((0..FAULT_REPLIES).map(|i| {
        let (http, service, metadata, retry_afters) = (
            http.clone(),
            service.clone(),
            metadata.clone(),
            retry_afters.clone(),
        );
        async move {
            let request_id = format!("reply-{i}");
            let text = format!("fault reply {i}");
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut attempts = 0;
            loop {
                assert!(Instant::now() < deadline, "reply {i} was never posted");
                attempts += 1;
                let response = channelback(&http, &service, &metadata, &request_id, &text)
                    .await
                    .unwrap();
                match response.status().as_u16() {
                    200 => return attempts,
                    503 => {
                        let wait: u64 = response.headers()["retry-after"]
                            .to_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        retry_afters.lock().unwrap().push(wait);
                        tokio::time::sleep(Duration::from_secs(wait)).await;
                    }
                    other => panic!("reply {i}: {other} {}", response.text().await.unwrap()),
                }
            }
        }
    }));
    let replies = async { replies.await.into_iter().sum::<usize>() };
    let ((), reply_attempts) = tokio::join!(events, replies);

    let expected: Vec<String> = (0..FAULT_EVENTS)
        .map(|n| signed_event(1000 + n).0)
        .collect();
    let per_id = eventually(
        "every event to reach Zendesk despite the faults",
        90,
        || async {
            let per_id = pushes.per_id();
            expected
                .iter()
                .all(|id| per_id.contains_key(id))
                .then_some(per_id)
        },
    )
    .await;

    assert_eq!(
        zendesk_script.injected(ZENDESK_FAULTS.len()),
        ZENDESK_FAULTS.len(),
        "every Zendesk fault was hit"
    );
    assert_eq!(
        slack_script.injected(SLACK_FAULTS.len()),
        SLACK_FAULTS.len(),
        "every Slack fault was hit"
    );
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "pushed more than once: {twice:?}");
    let posted = posted.lock().unwrap().clone();
    for i in 0..FAULT_REPLIES {
        let text = format!("fault reply {i}");
        assert_eq!(
            posted.iter().filter(|t| **t == text).count(),
            1,
            "{text} posted once: {posted:?}"
        );
    }
    // Zendesk's Retry-After: the next push to the account waited at least that long.
    let gaps = zendesk_script.gaps_after_rate_limits();
    assert_eq!(
        gaps.len(),
        2,
        "each rate limit was followed by another push"
    );
    for (gap, retry_after) in &gaps {
        assert!(
            gap >= retry_after,
            "Retry-After {retry_after:?} not honoured: next push after {gap:?}"
        );
    }
    // Slack's Retry-After is passed on to Zendesk's retry of the channelback.
    let retry_afters = retry_afters.lock().unwrap().clone();
    for fault in SLACK_FAULTS {
        if let Fault::RateLimited(secs) = fault {
            assert!(
                retry_afters.contains(&secs),
                "Slack's Retry-After {secs} reached Zendesk: {retry_afters:?}"
            );
        }
    }
    assert_eq!(
        http.get(format!("{service}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "still up"
    );
    println!(
        "faults: {} injected (Zendesk push: {:?}; Slack chat.postMessage: {:?}); {FAULT_EVENTS} events pushed once each, {FAULT_REPLIES} replies posted once each ({reply_attempts} channelback attempts); Zendesk Retry-After honoured: {:?}",
        ZENDESK_FAULTS
            .iter()
            .filter(|f| !matches!(f, Fault::Pass))
            .count()
            + SLACK_FAULTS.len(),
        ZENDESK_FAULTS,
        SLACK_FAULTS,
        gaps.iter()
            .map(|(g, r)| format!("{}ms>={}s", g.as_millis(), r.as_secs()))
            .collect::<Vec<_>>()
    );
}

// ---------------------------------------------------------------------------------------
// Key rotation while traffic flows

const ROTATION_ROUNDS: usize = 30;
const WEBHOOK_SECRET: &str = "whsec-rotation-test-4c1e";

async fn key_rotation_under_traffic_fails_no_request_and_leaves_no_old_or_plain_value(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    fake_slack::echo_messages(&app.slack).await;
    let pushes = Arc::new(Pushes::default());
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ZendeskPush(pushes.clone()))
        .mount(&app.zendesk)
        .await;
    // A sealed value in every sealed column: the Zendesk REST credential too, and
    // set-up sessions (a push token and metadata each).
    crate::statuses::connect_account(&app, "acme", &[crate::statuses::AGENT]).await;
    for hook in [Hook::Route, Hook::SameAgent] {
        slackdesk::storage::routing::set_webhook_secret(
            &app.state.db,
            &app.state.keys,
            &slackdesk::domain::Subdomain::parse("acme").unwrap(),
            hook,
            &Secret::from(WEBHOOK_SECRET),
            0,
        )
        .await
        .unwrap();
    }
    // An agent's attachments on their way to Slack (sealed file URLs).
    slackdesk::storage::attachment_jobs::enqueue(
        &app.state.db,
        &app.state.keys,
        crate::support::TestApp::account_id(&metadata),
        &slackdesk::domain::ExternalId::parse("slack:T0TEAM:C0CHAN:1700000099.000900").unwrap(),
        &slackdesk::domain::ExternalId::parse("slack:T0TEAM:C0CHAN:1700000000.000100").unwrap(),
        &["https://acme.zendesk.test/attachments/token/t/?name=a.pdf".to_owned()],
    )
    .await
    .unwrap();
    for _ in 0..40 {
        assert_eq!(app.open_admin("", "", true).await.status(), 200);
    }
    // The new ring is rolled out first (new key first, old one still readable), then
    // `keys rotate` re-seals everything while the replica serves traffic.
    let new_line = generate_key_line("test2").unwrap();
    let ring = format!("{new_line},{}", app.key_ring);
    let (replica, state) = app.spawn_replica_with(&[("--keys", Some(&ring))]).await;
    let http = reqwest::Client::new();
    let return_url = app.return_url();

    let traffic = async {
        let mut requests = 0;
        for round in 0..ROTATION_ROUNDS {
            assert!(
                deliver_event(&http, &replica, 2000 + round).await,
                "event {round}"
            );
            let reply = channelback(
                &http,
                &replica,
                &metadata,
                &format!("rot-{round}"),
                "rotating",
            )
            .await
            .unwrap();
            assert_eq!(reply.status(), 200, "channelback in round {round}");
            let edit = http
                .post(format!("{replica}/channel/admin"))
                .form(&[
                    ("name", "Support"),
                    ("metadata", metadata.as_str()),
                    ("state", ""),
                    ("return_url", return_url.as_str()),
                    ("subdomain", "acme"),
                    ("locale", "en"),
                    ("instance_push_id", "push-instance-1"),
                    ("zendesk_access_token", PUSH_TOKEN),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(edit.status(), 200, "admin UI in round {round}");
            slackdesk::jobs::deliver_once(&state).await.unwrap();
            requests += 3;
        }
        requests
    };
    let rotate = async {
        // Let traffic start, then rotate (polling, not sleeping: the first reply is in).
        eventually("traffic to start", 10, || async {
            (posts_with_text(&app.slack, "rotating").await > 0).then_some(())
        })
        .await;
        rotation::reseal_all(&state.db, &state.keys).await.unwrap()
    };
    let (requests, report) = tokio::join!(traffic, rotate);
    let expected: Vec<String> = (0..ROTATION_ROUNDS)
        .map(|n| signed_event(2000 + n).0)
        .collect();
    eventually("every event pushed", 30, || async {
        slackdesk::jobs::deliver_once(&state).await.unwrap();
        let per_id = pushes.per_id();
        expected
            .iter()
            .all(|id| per_id.contains_key(id))
            .then_some(())
    })
    .await;

    assert!(report.resealed >= 43, "{report:?}");
    let tokens = pushes.tokens.lock().unwrap().clone();
    assert!(
        tokens.iter().all(|t| *t == format!("Bearer {PUSH_TOKEN}")),
        "every push used the right token"
    );
    let only_new = KeyRing::parse(&new_line).unwrap();
    let only_old = KeyRing::parse(&app.key_ring).unwrap();
    let mut checked = 0;
    for (table, id_column, column) in SEALED_COLUMNS {
        let before = checked;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {id_column} AS row_id, {column} AS sealed FROM {table} WHERE {column} IS NOT NULL"
        )))
        .fetch_all(state.db.pool())
        .await
        .unwrap();
        for row in rows {
            let row_id: String = row.get("row_id");
            let sealed: Vec<u8> = row.get("sealed");
            let target = SealedFor {
                table,
                column,
                row: &row_id,
            };
            assert_eq!(
                KeyRing::sealed_key_id(&sealed).unwrap(),
                "test2",
                "{table}.{column} left under the old key"
            );
            assert!(
                only_new.open(&sealed, target).is_ok(),
                "{table}.{column} opens with the new key alone"
            );
            assert!(
                only_old.open(&sealed, target).is_err(),
                "{table}.{column} does not open with the old key"
            );
            let elsewhere = SealedFor {
                table,
                column,
                row: "another-row",
            };
            assert!(
                only_new.open(&sealed, elsewhere).is_err(),
                "{table}.{column} is bound to its row"
            );
            let other_column = SealedFor {
                table,
                column: "other_column",
                row: &row_id,
            };
            assert!(
                only_new.open(&sealed, other_column).is_err(),
                "{table}.{column} is bound to its column"
            );
            checked += 1;
        }
        assert!(checked > before, "no value in {table}.{column} was checked");
    }
    assert!(checked >= 43);
    let stored = crate::support::snapshot::take(&state.db).await;
    let text = format!("{stored:?}");
    for secret in [PUSH_TOKEN, BOT_TOKEN, WEBHOOK_SECRET] {
        assert!(
            !text.contains(secret),
            "a credential is stored in plain text"
        );
        if backend == Backend::Sqlite {
            assert!(
                !app.sqlite_bytes()
                    .windows(secret.len())
                    .any(|w| w == secret.as_bytes()),
                "a credential is in the database files (WAL included)"
            );
        }
    }
    println!(
        "rotation ({backend:?}): {requests} requests before, during and after the rotation, none failed; {} values re-sealed, {checked} sealed values checked (new key only, own row and column only)",
        report.resealed
    );
}

// ---------------------------------------------------------------------------------------
// Two replicas racing channelbacks

const RACED_REPLIES: usize = 15;

async fn two_replicas_post_each_raced_channelback_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    let posted = Arc::new(Mutex::new(Vec::new()));
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(FaultySlack {
            script: Script::new(&[]),
            posted: posted.clone(),
        })
        .mount(&app.slack)
        .await;
    let (replica, _) = app.spawn_replica().await;
    let http = reqwest::Client::new();

    let mut external_ids = HashMap::new();
    for i in 0..RACED_REPLIES {
        let (request_id, text) = (format!("race-{i}"), format!("raced reply {i}"));
        let send = |base: String| {
            let (http, metadata, request_id, text) = (
                http.clone(),
                metadata.clone(),
                request_id.clone(),
                text.clone(),
            );
            async move {
                let response = channelback(&http, &base, &metadata, &request_id, &text)
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (
                    status,
                    response.json::<Value>().await.unwrap_or(Value::Null),
                )
            }
        };
        // Zendesk's first try and its retry land on different replicas at once.
        let (first, second) = tokio::join!(send(app.address.clone()), send(replica.clone()));
        for (status, body) in [&first, &second] {
            assert!(matches!(status, 200 | 503), "{status} {body}");
            if *status == 200 {
                let previous = external_ids.insert(request_id.clone(), body["external_id"].clone());
                assert!(
                    previous.is_none() || previous == Some(body["external_id"].clone()),
                    "one answer per request"
                );
            }
        }
        // A 503 ("in progress") is retried: it then gets the first answer.
        let settled = eventually("the raced channelback to settle", 20, || async {
            let (status, body) = send(replica.clone()).await;
            (status == 200).then_some(body["external_id"].clone())
        })
        .await;
        assert_eq!(
            external_ids.entry(request_id).or_insert(settled.clone()),
            &settled
        );
    }

    let posted = posted.lock().unwrap().clone();
    for i in 0..RACED_REPLIES {
        let text = format!("raced reply {i}");
        assert_eq!(
            posted.iter().filter(|t| **t == text).count(),
            1,
            "{text} posted once"
        );
    }
    assert_eq!(posted.len(), RACED_REPLIES);
}

on_both_databases!(
    key_rotation_under_traffic_fails_no_request_and_leaves_no_old_or_plain_value,
    two_replicas_post_each_raced_channelback_once,
    a_database_outage_under_traffic_loses_nothing
);

// ---------------------------------------------------------------------------------------
// The database briefly unavailable or busy

const OUTAGE_EVENTS: usize = 60;

/// The database goes away under traffic: on PostgreSQL every connection of the service is
/// terminated (three times); on SQLite another process holds the write lock for 2 s (twice).
/// Requests that hit the outage may fail (Slack retries them); afterwards every event is
/// delivered once and the service still answers.
async fn a_database_outage_under_traffic_loses_nothing(backend: Backend) {
    let app = crate::support::spawn_app_with(
        backend,
        crate::support::Options {
            workers: true,
            ..Default::default()
        },
    )
    .await;
    let metadata = app.create_account(true).await;
    app.connect_slack(&metadata).await;
    fake_slack::serve_user(&app.slack, "U0ALICE", "Alice").await;
    fake_slack::echo_messages(&app.slack).await;
    let pushes = Arc::new(Pushes::default());
    Mock::given(method("POST"))
        .and(path("/z/acme/api/v2/any_channel/push"))
        .respond_with(ZendeskPush(pushes.clone()))
        .mount(&app.zendesk)
        .await;
    let http = reqwest::Client::new();
    let failures = Arc::new(AtomicUsize::new(0));

    let events = async {
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        for n in 0..OUTAGE_EVENTS {
            tick.tick().await;
            let (_, body) = signed_event(3000 + n);
            // The first attempt, counted when it fails; then Slack's retries.
            let timestamp = chrono::Utc::now().timestamp().to_string();
            let signature =
                slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), &timestamp, &body);
            let first = http
                .post(app.url("/slack/events"))
                .header("x-slack-request-timestamp", &timestamp)
                .header("x-slack-signature", signature)
                .body(body)
                .send()
                .await;
            if !first.is_ok_and(|r| r.status() == 200) {
                failures.fetch_add(1, Ordering::Relaxed);
                assert!(
                    deliver_event(&http, &app.address, 3000 + n).await,
                    "event {n}"
                );
            }
        }
    };
    let outages = async {
        match backend {
            Backend::Postgres => {
                let server = std::env::var("TEST_POSTGRES_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
                let database = url::Url::parse(&app.database_url)
                    .unwrap()
                    .path()
                    .trim_start_matches('/')
                    .to_owned();
                let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
                    .await
                    .unwrap();
                let mut terminated = 0;
                for _ in 0..3 {
                    tokio::time::sleep(Duration::from_millis(700)).await;
                    let killed: Vec<bool> = sqlx::query_scalar(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                    )
                    .bind(&database)
                    .fetch_all(&mut admin)
                    .await
                    .unwrap();
                    terminated += killed.len();
                }
                format!("{terminated} connections terminated in 3 outages")
            }
            Backend::Sqlite => {
                let file = app.database_url.trim_start_matches("sqlite://").to_owned();
                let mut other = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
                    "sqlite://{file}"
                ))
                .await
                .unwrap();
                for _ in 0..2 {
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    sqlx::query("BEGIN IMMEDIATE")
                        .execute(&mut other)
                        .await
                        .unwrap();
                    sqlx::query("UPDATE accounts SET locale = locale")
                        .execute(&mut other)
                        .await
                        .unwrap();
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
                }
                "the write lock held twice for 2 s by another connection".to_owned()
            }
        }
    };
    let ((), outage) = tokio::join!(events, outages);

    let expected: Vec<String> = (0..OUTAGE_EVENTS)
        .map(|n| signed_event(3000 + n).0)
        .collect();
    let per_id = eventually(
        "every event to reach Zendesk after the outage",
        60,
        || async {
            let per_id = pushes.per_id();
            expected
                .iter()
                .all(|id| per_id.contains_key(id))
                .then_some(per_id)
        },
    )
    .await;
    let twice: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "pushed more than once: {twice:?}");
    assert_eq!(
        app.get("/readyz").await.status(),
        200,
        "the service is still up"
    );
    println!(
        "database outage ({backend:?}): {outage}; {OUTAGE_EVENTS} events, {} first attempts refused and retried, all pushed once",
        failures.load(Ordering::Relaxed)
    );
}
