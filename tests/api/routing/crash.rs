//! Crash recovery of routing with the real binary (issue 18, "kill -9 in the middle of a
//! run, then a restart: routing resumes within 60 s, and every ticket is assigned once").
//!
//! The `slackdesk` binary runs as a child process, configured only by its environment,
//! against a SQLite file or a fresh PostgreSQL database and the stateful fake Zendesk on
//! loopback. The account, its connection, three online agents and one scheduled
//! round-robin queue over a view of 130 new tickets are stored beforehand through the
//! library's storage functions. The first `update_many` job (100 tickets) stalls after
//! Zendesk applied half of it, so when the process is killed with SIGKILL it is
//! demonstrably mid-run: 100 tickets claimed and logged `pending`, 50 of them assigned in
//! Zendesk without the process knowing, 30 not claimed yet. A second process on the same
//! database must then:
//! - take the queue over and assign again within 60 s of the kill;
//! - leave every ticket assigned in Zendesk exactly once (one applied assignee change
//!   per ticket; the 50 already written are confirmed by reading, never sent again);
//! - log exactly one `assigned` row per ticket, to the agent Zendesk shows.
//!
//! Every wait polls a condition with a deadline; child processes are killed on drop.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use slackdesk::config::{DatabaseSettings, Secret};
use slackdesk::crypto::{KeyRing, generate_key_line};
use slackdesk::domain::{AgentStatus, ZendeskUserId};
use slackdesk::routing::settings::{Model, QueueKind, QueueSettings};
use slackdesk::storage::agents::{self, AgentRecord};
use slackdesk::storage::routing as store;
use slackdesk::storage::statuses::{self, Source, StatusRecord};
use slackdesk::storage::{Db, zendesk_connections};
use slackdesk::zendesk::Credential;
use wiremock::MockServer;

use super::acme;
use super::fake::{FakeZendesk, Ticket};
use crate::support::{Backend, fresh_postgres_database};

const TICKETS: i64 = 130;
const AGENTS: [i64; 3] = [101, 102, 103];
/// Tickets in the `update_many` that stalls (slackdesk writes at most 100 per call).
const FIRST_WRITE: usize = 100;
/// Of those, the ones Zendesk applied before the process was killed.
const APPLIED_BEFORE_KILL: usize = 50;
/// The bound on how long routing may stand still after a crash.
const RESUME_WITHIN: Duration = Duration::from_secs(60);

/// A running `slackdesk` process; killed (SIGKILL) when dropped.
struct Service {
    child: Child,
    log: PathBuf,
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Service {
    /// `kill -9`, and waits until the process is gone.
    fn kill_nine(mut self) -> Instant {
        self.child.kill().expect("SIGKILL the service");
        self.child.wait().expect("the killed service is reaped");
        Instant::now()
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Polls `check` every 50 ms until it returns `Some`; fails when `within` passes or
    /// the process exits, with the end of its log.
    async fn until<T, F, Fut>(&mut self, what: &str, within: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + within;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "slackdesk exited ({status}) while waiting for {what}:\n{}",
                    self.log_tail()
                );
            }
            assert!(
                Instant::now() < deadline,
                "timed out after {within:?} waiting for {what}; slackdesk's log ends:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// One database, its key ring and the fake Zendesk, shared by both processes.
struct Setup {
    dir: tempfile::TempDir,
    database_url: String,
    key_line: String,
    server: MockServer,
    zendesk: FakeZendesk,
    db: Db,
}

impl Setup {
    async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match backend {
            Backend::Sqlite => format!("sqlite://{}", dir.path().join("slackdesk.db").display()),
            Backend::Postgres => fresh_postgres_database().await,
        };
        let db = Db::connect(&DatabaseSettings {
            database_url: Secret::new(database_url.clone()),
            database_max_connections: 2,
        })
        .await
        .expect("database");
        db.migrate().await.expect("migrations");
        let server = MockServer::start().await;
        let zendesk = FakeZendesk::mount(&server, "acme").await;
        let setup = Self {
            dir,
            database_url,
            key_line: generate_key_line("crash1").expect("key"),
            server,
            zendesk,
            db,
        };
        setup.store_account().await;
        setup
    }

    /// The account as an admin leaves it: Zendesk connected, agents online, one
    /// scheduled queue; and the view's tickets in the fake Zendesk.
    async fn store_account(&self) {
        let now = chrono::Utc::now().timestamp_millis();
        let keys = KeyRing::parse(&self.key_line).expect("key ring");
        let auth = Credential::ApiToken {
            email: "admin@acme.example".into(),
            api_token: "zd-api-token-crash".into(),
        };
        zendesk_connections::upsert(
            &self.db,
            &keys,
            &acme(),
            "api_token",
            &auth.to_secret(),
            Default::default(),
            now,
        )
        .await
        .expect("connection stored");
        let records: Vec<AgentRecord> = AGENTS
            .iter()
            .map(|id| AgentRecord {
                user_id: ZendeskUserId::new(*id).unwrap(),
                role: "agent".into(),
                default_group_id: None,
                group_ids: vec![],
                time_zone: None,
            })
            .collect();
        let mut tx = self.db.begin_write().await.unwrap();
        agents::replace_all(&mut tx, &acme(), &records, now)
            .await
            .unwrap();
        for id in AGENTS {
            let change = StatusRecord {
                user_id: ZendeskUserId::new(id).unwrap(),
                status: AgentStatus::Online,
                updated_at: now,
                updated_by: ZendeskUserId::new(id).unwrap(),
            };
            statuses::apply(&mut tx, &acme(), &change, Source::Api)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let queue = QueueSettings {
            name: "Crash queue".into(),
            position: 0,
            view_id: 1,
            kind: QueueKind::Scheduled,
            model: Model::RoundRobin,
            // Longer than the test: recovery must not wait for the schedule.
            interval_secs: 300,
            batch_size: 100,
            use_sla: false,
            skills_timeout_minutes: None,
            audit_tag: Some("routed_by_slackdesk".into()),
            audit_field_id: None,
            audit_field_value: None,
            enabled: true,
            reassign: Default::default(),
            split: Vec::new(),
        }
        .validate()
        .unwrap();
        store::create_queue(&self.db, &acme(), &queue, now)
            .await
            .unwrap();
        for id in 1..=TICKETS {
            self.zendesk
                .add(Ticket::new(id, now - (TICKETS - id + 60) * 1_000));
        }
    }

    /// Starts the binary with its ordinary configuration (environment only).
    fn start(&self, name: &str) -> Service {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = self.dir.path().join(format!("{name}.log"));
        let file = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_slackdesk"))
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "info,sqlx=warn")
            .env("PUBLIC_URL", "https://slackdesk.example.com")
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", &self.database_url)
            .env("SLACKDESK_KEYS", &self.key_line)
            .env("SLACK_API_URL", format!("{}/slack/api", self.server.uri()))
            .env(
                "ZENDESK_URL_TEMPLATE",
                format!("{}/z/{{subdomain}}", self.server.uri()),
            )
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file))
            .spawn()
            .expect("slackdesk starts");
        Service { child, log }
    }

    async fn log(&self) -> Vec<store::Assignment> {
        store::log(&self.db, &acme(), None, 10_000).await.unwrap()
    }

    async fn count(&self, state: &str) -> usize {
        self.log().await.iter().filter(|a| a.state == state).count()
    }
}

async fn kill_nine_mid_run_then_restart(backend: Backend) {
    let setup = Setup::new(backend).await;
    setup.zendesk.state().stall_jobs = 1;
    setup.zendesk.state().stall_applies = APPLIED_BEFORE_KILL;

    let started = Instant::now();
    let mut first = setup.start("first");
    // Mid-run: Zendesk took the first `update_many` and the process follows its job.
    // The queue is due at start, as after a restart, so routing starts within the bound.
    first
        .until(
            "the first run to follow its update_many job",
            RESUME_WITHIN,
            || async { (setup.zendesk.calls("job") > 0).then_some(()) },
        )
        .await;
    let mid_run = started.elapsed();
    let killed_at = first.kill_nine();

    let log = setup.log().await;
    assert_eq!(log.len(), FIRST_WRITE, "claimed and logged before the kill");
    assert!(log.iter().all(|a| a.state == "pending"), "{log:?}");
    let written_before: BTreeSet<i64> = {
        let state = setup.zendesk.state();
        assert_eq!(state.update_bodies.len(), 1);
        state.applied.iter().map(|(_, id, _)| *id).collect()
    };
    assert_eq!(written_before.len(), APPLIED_BEFORE_KILL);

    let mut second = setup.start("second");
    second
        .until(
            "the restarted process to settle an assignment",
            RESUME_WITHIN + Duration::from_secs(30),
            || async { (setup.count("assigned").await > 0).then_some(()) },
        )
        .await;
    let resumed = killed_at.elapsed();
    second
        .until(
            "every ticket to be assigned and logged",
            Duration::from_secs(60),
            || async {
                let all = setup.zendesk.assignees().values().all(Option::is_some);
                let logged = setup.count("assigned").await == TICKETS as usize;
                (all && logged && setup.count("pending").await == 0).then_some(())
            },
        )
        .await;
    // What the fake Zendesk saw, copied out of its lock.
    let (applied_log, bodies, tickets) = {
        let state = setup.zendesk.state();
        (
            state.applied.clone(),
            state.update_bodies.clone(),
            state.tickets.clone(),
        )
    };
    let first_write = applied_log
        .iter()
        .map(|(at, _, _)| *at)
        .filter(|at| *at > killed_at)
        .min()
        .expect("the restarted process wrote to Zendesk")
        - killed_at;
    eprintln!(
        "{backend:?}: mid-run {:.1} s after the start; resumed {:.1} s after the kill; first write after {:.1} s",
        mid_run.as_secs_f64(),
        resumed.as_secs_f64(),
        first_write.as_secs_f64()
    );
    assert!(
        resumed < RESUME_WITHIN,
        "routing resumed {resumed:?} after the kill"
    );
    assert!(
        first_write < RESUME_WITHIN,
        "first write {first_write:?} after the kill"
    );

    // Zendesk: one assignee change per ticket, never to a second agent.
    let mut applied: BTreeMap<i64, Vec<Option<i64>>> = BTreeMap::new();
    for (_, id, agent) in &applied_log {
        applied.entry(*id).or_default().push(*agent);
    }
    assert_eq!(applied.len(), TICKETS as usize);
    for (id, agents) in &applied {
        assert_eq!(agents.len(), 1, "ticket {id} assigned {agents:?}");
        assert!(agents[0].is_some_and(|a| AGENTS.contains(&a)), "{id}");
    }
    // After the kill, only tickets Zendesk did not have assigned were sent, each once.
    let mut sent_after: Vec<i64> = bodies[1..]
        .iter()
        .flat_map(|body| body["tickets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    sent_after.sort_unstable();
    let unwritten: Vec<i64> = (1..=TICKETS)
        .filter(|id| !written_before.contains(id))
        .collect();
    assert_eq!(sent_after, unwritten);

    // The log: one row per ticket, `assigned`, to the agent Zendesk shows.
    let log = setup.log().await;
    assert_eq!(log.len(), TICKETS as usize, "{log:?}");
    let mut logged: BTreeMap<i64, i64> = BTreeMap::new();
    for row in &log {
        assert_eq!(row.state, "assigned", "{row:?}");
        assert!(
            logged.insert(row.ticket_id, row.agent_id).is_none(),
            "ticket {} logged twice",
            row.ticket_id
        );
        assert_eq!(
            tickets[&row.ticket_id].assignee_id,
            Some(row.agent_id),
            "{row:?}"
        );
    }
    drop(second);
}

on_both_databases!(kill_nine_mid_run_then_restart);
