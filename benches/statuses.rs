//! Throughput and latency of the status API on SQLite: `create_many` with 100 statuses and
//! `current` with 5,000 agents. Run: `cargo bench --bench statuses` (numbers on stdout).
//!
//! The service runs in-process on a loopback port with a fresh SQLite file; a fixed number
//! of concurrent clients (8, or `BENCH_CLIENTS`) send requests for a fixed time; we report requests/s and p50/p99.

use std::time::{Duration, Instant};

use clap::Parser;
use slackdesk::config::Settings;
use slackdesk::domain::{Subdomain, ZendeskUserId};
use slackdesk::startup::Application;
use slackdesk::statuses::keys;
use slackdesk::storage::agents::{self, AgentRecord};

const AGENTS: i64 = 5_000;
/// Concurrent clients; `BENCH_CLIENTS` overrides.
const CLIENTS: usize = 8;
const RUN: Duration = Duration::from_secs(10);

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: Settings,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let db = format!("sqlite://{}", dir.path().join("bench.db").display());
    let keys_line = slackdesk::crypto::generate_key_line("bench")?;
    let settings = Args::try_parse_from([
        "bench",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        &db,
        "--keys",
        &keys_line,
        "--no-workers",
        "--status-api-per-second",
        "1000000",
        "--status-api-per-day",
        "1000000000",
    ])?
    .settings;
    let app = Application::build(settings).await?;
    let state = app.state().clone();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());

    let acme = Subdomain::parse("acme")?;
    let roster: Vec<AgentRecord> = (1..=AGENTS)
        .map(|i| AgentRecord {
            user_id: ZendeskUserId::new(360_000_000_000 + i).unwrap_or_else(|_| unreachable!()),
            role: "agent".into(),
            default_group_id: None,
            group_ids: vec![],
            time_zone: None,
        })
        .collect();
    let mut tx = state.db.begin_write().await?;
    agents::replace_all(&mut tx, &acme, &roster, 0).await?;
    tx.commit().await?;
    let owner = ZendeskUserId::new(360_000_000_001).unwrap_or_else(|_| unreachable!());
    let key = keys::create(&state.db, &acme, owner, 0).await?.key;
    let http = reqwest::Client::new();
    // Every agent gets a status, so `current` returns 5,000 entries.
    for chunk in roster.chunks(100) {
        let items: Vec<_> = chunk
            .iter()
            .map(|a| serde_json::json!({"user_id": a.user_id.get(), "status": "online"}))
            .collect();
        let response = http
            .post(format!("{base}/zendesk/user_statuses/create_many"))
            .header("X-API-Key", &key)
            .json(&serde_json::json!({"user_statuses": items, "notify_app": false}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status() == 200,
            "seeding failed: {}",
            response.status()
        );
    }

    let clients = std::env::var("BENCH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(CLIENTS);
    let statuses = ["away", "online"];
    let create = run("create_many x100", clients, |client, n| {
        let items: Vec<_> = (0..100)
            .map(|i| {
                let id = 360_000_000_001 + ((n * 100 + i) as i64 % AGENTS);
                serde_json::json!({"user_id": id, "status": statuses[(n / 50) % 2]})
            })
            .collect();
        http.post(format!("{base}/zendesk/user_statuses/create_many"))
            .header("X-API-Key", &key)
            .json(&serde_json::json!({"user_statuses": items, "notify_app": false}))
            .send()
            .map(move |r| (client, r))
    })
    .await?;
    let current = run("current (5,000 agents)", clients, |client, _| {
        http.get(format!("{base}/zendesk/user_statuses/current"))
            .header("X-API-Key", &key)
            .send()
            .map(move |r| (client, r))
    })
    .await?;
    println!("{create}\n{current}");
    Ok(())
}

use futures_util::FutureExt;

/// A future that also returns when it was started.
fn timed<Fut: std::future::Future>(
    future: Fut,
) -> impl std::future::Future<Output = (Instant, Fut::Output)> {
    let started = Instant::now();
    future.map(move |output| (started, output))
}

async fn run<F, Fut>(name: &str, clients: usize, request: F) -> anyhow::Result<String>
where
    F: Fn(usize, usize) -> Fut,
    Fut: std::future::Future<Output = (usize, reqwest::Result<reqwest::Response>)>,
{
    let started = Instant::now();
    let mut latencies: Vec<Duration> = Vec::new();
    let mut errors = 0usize;
    let mut n = 0usize;
    let mut in_flight = futures_util::stream::FuturesUnordered::new();
    use futures_util::StreamExt;
    for client in 0..clients {
        in_flight.push(timed(request(client, n)));
        n += 1;
    }
    while let Some((t, (client, response))) = in_flight.next().await {
        match response {
            Ok(r) if r.status().is_success() => {
                let _ = r.bytes().await;
                latencies.push(t.elapsed());
            }
            _ => errors += 1,
        }
        if started.elapsed() < RUN {
            in_flight.push(timed(request(client, n)));
            n += 1;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(format!(
        "{name}: {} ok, {errors} errors in {elapsed:.1}s with {clients} clients: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    ))
}
