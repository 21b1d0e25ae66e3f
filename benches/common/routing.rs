//! Routing's figures, shared by `cargo bench --bench routing` and the routing rows of
//! `cargo bench --bench slackdesk`: the engine's decisions per second for 10,000 waiting
//! tickets over 1,000 agents with groups and skills (per model), and the Zendesk calls
//! one real run makes per 1,000 assignments against a fake Zendesk on loopback.

#[allow(dead_code, clippy::unwrap_used, clippy::expect_used)]
#[path = "../../tests/api/routing/fake.rs"]
mod fake;

use std::time::{Duration, Instant};

use clap::Parser;
use rand::RngExt;
use serde::Serialize;
use slackdesk::config::Settings;
use slackdesk::domain::{AgentStatus, Subdomain, ZendeskUserId};
use slackdesk::routing::engine::{self, Agent, Plan, Waiting};
use slackdesk::routing::settings::{Model, QueueKind, QueueSettings};
use slackdesk::startup::Application;
use slackdesk::storage::agents::{self, AgentRecord};
use slackdesk::storage::routing as store;
use slackdesk::storage::statuses::{self, Source, StatusRecord};
use slackdesk::storage::zendesk_connections;
use slackdesk::zendesk::Credential;

pub const TICKETS: usize = 10_000;
pub const AGENTS: usize = 1_000;
const GROUPS: i64 = 10;
const SKILLS: usize = 20;

#[derive(Parser)]
struct Args {
    #[command(flatten)]
    settings: Settings,
}

/// One model's engine figures.
#[derive(Debug, Clone, Serialize)]
pub struct EngineFigures {
    pub model: &'static str,
    pub assigned: usize,
    pub left_waiting: usize,
    pub best_ms: f64,
    pub median_ms: f64,
    pub decisions_per_sec: f64,
}

/// Zendesk calls of one real run, per 1,000 assignments.
#[derive(Debug, Clone, Serialize)]
pub struct CallFigures {
    pub assigned: usize,
    pub update_many_per_1000: f64,
    pub show_many_per_1000: f64,
    pub job_polls_per_1000: f64,
    pub view_reads_per_1000: f64,
    pub exports_per_1000: f64,
    pub run_ms: f64,
    /// The reassignment watch 16 minutes later, over the same 1,000 assignments (rules:
    /// no reply in 15 minutes; half of the tickets were answered).
    pub watch: WatchFigures,
}

/// Zendesk calls of the reassignment watch, per 1,000 watched assignments.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WatchFigures {
    pub watched: usize,
    pub moved: usize,
    pub comment_reads_per_1000: f64,
    pub show_many_per_1000: f64,
    pub update_many_per_1000: f64,
    pub job_polls_per_1000: f64,
    pub total_per_1000: f64,
    pub pass_ms: f64,
}

fn skill(i: usize) -> String {
    format!("skill-{i:02}")
}

fn agents(rng: &mut impl rand::Rng) -> Vec<Agent> {
    (0..AGENTS)
        .map(|i| {
            let mut groups = vec![rng.random_range(1..=GROUPS)];
            if rng.random_bool(0.3) {
                groups.push(rng.random_range(1..=GROUPS));
            }
            groups.sort_unstable();
            groups.dedup();
            let mut skills: Vec<String> =
                (0..3).map(|_| skill(rng.random_range(0..SKILLS))).collect();
            skills.sort();
            skills.dedup();
            Agent {
                user_id: 360_000_000_000 + i as i64,
                online: rng.random_bool(0.8),
                in_schedule: None,
                groups,
                skills,
                open_tickets: rng.random_range(0..10),
                assigned_today: rng.random_range(0..5),
                inbox_limit: Some(25),
                daily_limit: Some(40),
                last_assigned_at: rng.random_range(0..1_000_000),
            }
        })
        .collect()
}

fn tickets(rng: &mut impl rand::Rng) -> Vec<Waiting> {
    let mut list: Vec<Waiting> = (0..TICKETS)
        .map(|i| {
            let mut skills: Vec<String> = (0..rng.random_range(0..=2))
                .map(|_| skill(rng.random_range(0..SKILLS)))
                .collect();
            skills.sort();
            skills.dedup();
            Waiting {
                ticket_id: 1 + i as i64,
                priority: rng.random_range(0..4),
                created_at: rng.random_range(0..1_000_000),
                group_id: rng.random_bool(0.7).then(|| rng.random_range(1..=GROUPS)),
                skills,
                sla_breach_at: None,
                avoid: Vec::new(),
                handed_back: None,
                requester_id: None,
                organization_id: None,
            }
        })
        .collect();
    engine::order(&mut list, false);
    list
}

/// Decides the same 10,000 tickets five times per model; best and median times.
pub fn engine_figures() -> Vec<EngineFigures> {
    let mut rng = rand::rng();
    let agents = agents(&mut rng);
    let tickets = tickets(&mut rng);
    Model::ALL
        .into_iter()
        .map(|model| {
            let plan = Plan {
                model,
                batch_size: 10,
                use_sla: false,
                skills_timeout_ms: None,
                pointers: Default::default(),
                split: Default::default(),
                dedicated: Default::default(),
            };
            let mut times = Vec::new();
            let mut assigned = 0;
            let mut left_waiting = 0;
            for _ in 0..5 {
                let start = Instant::now();
                let outcome = engine::decide(&plan, &tickets, &agents, 2_000_000);
                times.push(start.elapsed());
                assigned = outcome.assigned.len();
                left_waiting = outcome.waiting.len();
            }
            times.sort();
            EngineFigures {
                model: model.label(),
                assigned,
                left_waiting,
                best_ms: times[0].as_secs_f64() * 1e3,
                median_ms: times[2].as_secs_f64() * 1e3,
                decisions_per_sec: TICKETS as f64 / times[0].as_secs_f64(),
            }
        })
        .collect()
}

/// One real run of 1,000 waiting tickets over 50 agents against the fake Zendesk, on the
/// database at `database_url`.
pub async fn call_figures(database_url: &str) -> anyhow::Result<CallFigures> {
    const ROUTED: i64 = 1_000;
    const ON_DUTY: i64 = 50;
    let zendesk = wiremock::MockServer::start().await;
    let fake = fake::FakeZendesk::mount(&zendesk, "acme").await;
    let keys_line = slackdesk::crypto::generate_key_line("bench")?;
    let template = format!("{}/z/{{subdomain}}", zendesk.uri());
    let settings = Args::try_parse_from([
        "bench",
        "--bind",
        "127.0.0.1:0",
        "--database-url",
        database_url,
        "--keys",
        &keys_line,
        "--no-workers",
        "--zendesk-url-template",
        &template,
    ])?
    .settings;
    let clock = slackdesk::clock::Clock::manual(1_774_256_400_000);
    let app = Application::build_with_clock(settings, clock.clone()).await?;
    let state = app.state().clone();
    let server = tokio::spawn(app.run_until_stopped());
    let acme = Subdomain::parse("acme")?;
    let auth = Credential::ApiToken {
        email: "admin@acme.example".into(),
        api_token: "bench-token".into(),
    };
    zendesk_connections::upsert(
        &state.db,
        &state.keys,
        &acme,
        "api_token",
        &auth.to_secret(),
        Default::default(),
        0,
    )
    .await?;
    let roster: Vec<AgentRecord> = (1..=ON_DUTY)
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
    for agent in &roster {
        let online = StatusRecord {
            user_id: agent.user_id,
            status: AgentStatus::Online,
            updated_at: 0,
            updated_by: agent.user_id,
        };
        statuses::apply(&mut tx, &acme, &online, Source::Api).await?;
    }
    tx.commit().await?;
    for id in 1..=ROUTED {
        fake.add(fake::Ticket::new(id, 1_700_000_000_000 + id));
    }
    let queue = QueueSettings {
        name: "bench".into(),
        position: 0,
        view_id: 1,
        kind: QueueKind::Scheduled,
        model: Model::LeastActive,
        interval_secs: 60,
        batch_size: 100,
        use_sla: false,
        skills_timeout_minutes: None,
        audit_tag: Some("routed_by_slackdesk".into()),
        audit_field_id: None,
        audit_field_value: None,
        enabled: true,
        reassign: slackdesk::routing::settings::ReassignRules {
            unanswered_minutes: Some(15),
            ..Default::default()
        },
        split: Vec::new(),
    };
    store::create_queue(&state.db, &acme, &queue, 0).await?;
    let start = Instant::now();
    slackdesk::routing::worker::round(&state, "bench").await?;
    let run_ms = start.elapsed().as_secs_f64() * 1e3;
    let assigned = fake.assignees().values().flatten().count();
    anyhow::ensure!(
        assigned == ROUTED as usize,
        "only {assigned} of {ROUTED} assigned"
    );
    let per_thousand = |kind: &str| fake.calls(kind) as f64 * 1_000.0 / assigned as f64;
    let mut figures = CallFigures {
        assigned,
        update_many_per_1000: per_thousand("update_many"),
        show_many_per_1000: per_thousand("show_many"),
        job_polls_per_1000: per_thousand("job"),
        view_reads_per_1000: per_thousand("view"),
        exports_per_1000: per_thousand("export")
            + per_thousand("skills_export")
            + per_thousand("search_export"),
        run_ms,
        watch: WatchFigures::default(),
    };
    // The first run's calls are counted above; the watch's are counted from here.
    let before: std::collections::HashMap<&str, usize> =
        ["comments", "show_many", "update_many", "job", "view"]
            .into_iter()
            .map(|kind| (kind, fake.calls(kind)))
            .collect();
    figures.watch = watch_figures(&state, &fake, &clock, &before).await?;
    server.abort();
    let _ = Duration::ZERO;
    Ok(figures)
}

/// Half of the assigned tickets get a public reply from their agent; 16 minutes later
/// one watch pass reads and moves the rest. Calls are counted at the fake Zendesk.
async fn watch_figures(
    state: &slackdesk::startup::AppState,
    fake: &fake::FakeZendesk,
    clock: &slackdesk::clock::Clock,
    before: &std::collections::HashMap<&str, usize>,
) -> anyhow::Result<WatchFigures> {
    let watched = {
        let mut zendesk = fake.state();
        let now = clock.now_ms();
        let mut count = 0;
        for ticket in zendesk.tickets.values_mut() {
            count += 1;
            if let (true, Some(agent)) = (ticket.id % 2 == 0, ticket.assignee_id) {
                ticket.comments.push((agent, true, now + 60_000));
                ticket.version += 1_000;
            }
        }
        count
    };
    clock.advance(16 * 60_000);
    let start = Instant::now();
    let passes = slackdesk::routing::reassign::watch_round(state, "bench").await?;
    let pass_ms = start.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(passes == 1, "the watch ran {passes} times");
    let moved = fake
        .state()
        .update_bodies
        .iter()
        .flat_map(|body| body["tickets"].as_array().cloned().unwrap_or_default())
        .filter(|update| update["assignee_id"].is_null())
        .count();
    anyhow::ensure!(moved == watched / 2, "{moved} of {} moved", watched / 2);
    let delta = |kind: &str| {
        (fake.calls(kind) - before.get(kind).copied().unwrap_or(0)) as f64 * 1_000.0
            / watched as f64
    };
    Ok(WatchFigures {
        watched,
        moved,
        comment_reads_per_1000: delta("comments"),
        show_many_per_1000: delta("show_many"),
        update_many_per_1000: delta("update_many"),
        job_polls_per_1000: delta("job"),
        total_per_1000: ["comments", "show_many", "update_many", "job", "view"]
            .into_iter()
            .map(delta)
            .sum(),
        pass_ms,
    })
}
