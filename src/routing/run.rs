//! One routing pass: gather what the engine needs (agents, statuses, schedules, limits,
//! inbox counts, skills), read the queue's waiting tickets from Zendesk, decide, claim
//! and log the decisions in one transaction, then write them back.
//!
//! A scheduled run holds the queue's lease, so on several replicas each run happens
//! once; ticket claims keep a trigger run and a scheduled run (or two queues sharing a
//! view) from taking the same ticket.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use super::engine::{self, Agent, Decision, Dedicated, Outcome, Plan, Pointers, Split, Waiting};
use super::settings::{AccountSettings, Model, QueueKind};
use super::write::{self, WriteReport};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::statuses::schedule::{Schedule, iana_zone, local_to_utc_ms};
use crate::storage::routing::watch as watch_store;
use crate::storage::routing::{self as store, NewAssignment, Queue};
use crate::storage::{StorageError, agents, status_rules, statuses};
use crate::zendesk::connection::ConnectionError;
use crate::zendesk::{RestError, TicketState, ZendeskAuth};

/// How long a run may hold its queue before another worker may take over.
pub const RUN_LEASE_MS: i64 = 30_000;
/// A working run renews its lease this often, so a live run keeps its queue and a dead
/// one's queue is free within [`RUN_LEASE_MS`].
pub const LEASE_RENEW_EVERY: Duration = Duration::from_secs(10);
/// A claimed ticket is not offered to another run for this long while being written.
pub const CLAIM_MS: i64 = 5 * 60_000;
/// After a successful write, views may still list the ticket unassigned for a while.
pub const HOLD_MS: i64 = 10 * 60_000;
/// A run that waits for inbox counts (being read by the sync loop or another replica
/// just then) looks again this soon, not a whole interval later.
pub const COUNTS_RETRY_MS: i64 = 10_000;
/// Most waits for Zendesk's `Retry-After` within one call.
const MAX_RATE_LIMIT_WAITS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("Zendesk is not connected for this account")]
    NotConnected,
    #[error(transparent)]
    Zendesk(#[from] RestError),
    #[error("another worker took the queue over")]
    LeaseLost,
    #[error(
        "waiting for the agents' open tickets to be read from Zendesk (after connecting, a resync or a restart); routing starts once they are read"
    )]
    CountsNotRead,
}

impl From<ConnectionError> for RunError {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::Storage(e) => Self::Storage(e),
            ConnectionError::NotConnected => Self::NotConnected,
            other => Self::Zendesk(other.into()),
        }
    }
}

impl RunError {
    /// A short code for the queue's last error (never content).
    pub fn code(&self) -> String {
        match self {
            Self::Storage(_) => "storage".to_owned(),
            Self::NotConnected => "zendesk_not_connected".to_owned(),
            Self::Zendesk(e) => e.code(),
            Self::LeaseLost => "lease_lost".to_owned(),
            Self::CountsNotRead => "waiting_for_inbox_counts".to_owned(),
        }
    }
}

/// Calls Zendesk, waiting out 429s with their `Retry-After` a few times.
pub async fn patiently<T, F, Fut>(mut call: F) -> Result<T, RestError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, RestError>>,
{
    let mut waits = 0;
    loop {
        match call().await {
            Err(RestError::RateLimited { retry_after }) if waits < MAX_RATE_LIMIT_WAITS => {
                waits += 1;
                tracing::info!(
                    retry_after_ms = retry_after.as_millis() as u64,
                    "Zendesk rate limit; waiting"
                );
                tokio::time::sleep(retry_after.min(Duration::from_secs(120))).await;
            }
            other => return other,
        }
    }
}

/// The account's agents as routing sees them at `now`.
pub async fn gather_agents(
    state: &AppState,
    subdomain: &Subdomain,
    settings: &AccountSettings,
    now: i64,
) -> Result<Vec<Agent>, StorageError> {
    let db = &state.db;
    let records = agents::list_active(db, subdomain).await?;
    let online: HashMap<i64, bool> = statuses::current_all(db, subdomain)
        .await?
        .into_iter()
        .map(|s| {
            (
                s.user_id.get(),
                s.status == crate::domain::AgentStatus::Online,
            )
        })
        .collect();
    let schedules: HashMap<i64, Option<bool>> = status_rules::scheduled_agents(db, subdomain)
        .await?
        .into_iter()
        .map(|(id, s)| {
            // A schedule that cannot be read counts as closed, never as "always on".
            let open = Schedule::from_stored(&s.time_zone, &s.intervals, &s.holidays)
                .is_ok_and(|schedule| schedule.is_open_at(now));
            (id.get(), Some(open))
        })
        .collect();
    let limits: HashMap<i64, (Option<i64>, Option<i64>)> = store::agent_limits(db, subdomain)
        .await?
        .into_iter()
        .map(|l| (l.user_id, (l.inbox_limit, l.daily_limit)))
        .collect();
    let open = store::open_counts(db, subdomain).await?;
    let mut skills = store::agent_skills(db, subdomain).await?;
    // Each agent's routed tickets of the last two days, to count their own local day.
    let mut recent: HashMap<i64, Vec<i64>> = HashMap::new();
    for (agent, at) in store::recent_assignments(db, subdomain, now - 2 * 86_400_000).await? {
        recent.entry(agent).or_default().push(at);
    }
    let last = store::last_assigned(db, subdomain).await?;
    Ok(records
        .into_iter()
        .map(|record| {
            let id = record.user_id.get();
            let (inbox, daily) = limits.get(&id).copied().unwrap_or((None, None));
            let midnight = local_midnight(record.time_zone.as_deref(), now);
            let mut groups = record.group_ids;
            groups.sort_unstable();
            Agent {
                user_id: id,
                online: online.get(&id).copied().unwrap_or(false),
                in_schedule: schedules.get(&id).copied().flatten(),
                groups,
                skills: skills.remove(&id).unwrap_or_default(),
                open_tickets: open.get(&id).copied().unwrap_or(0),
                assigned_today: recent.get(&id).map_or(0, |times| {
                    times.iter().filter(|at| **at >= midnight).count()
                }) as i64,
                inbox_limit: inbox.or(settings.default_inbox_limit),
                daily_limit: daily.or(settings.default_daily_limit),
                last_assigned_at: last.get(&id).copied().unwrap_or(0),
            }
        })
        .collect())
}

/// The start of the agent's current day in their own time zone (UTC if unknown).
fn local_midnight(time_zone: Option<&str>, now: i64) -> i64 {
    let zone = time_zone.and_then(iana_zone).unwrap_or(chrono_tz::UTC);
    let Some(utc) = chrono::DateTime::from_timestamp_millis(now) else {
        return now;
    };
    let local_day = utc.with_timezone(&zone).date_naive();
    let Some(midnight) = local_day.and_hms_opt(0, 0, 0) else {
        return now - now.rem_euclid(86_400_000);
    };
    // Where midnight falls in a DST gap, the day starts at the first instant after it.
    local_to_utc_ms(zone, midnight).unwrap_or(now - now.rem_euclid(86_400_000))
}

/// Turns Zendesk tickets into the engine's waiting list, reading the required skills
/// of those never seen before when the queue routes by skills.
pub(crate) async fn waiting_list(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    queue: &Queue,
    tickets: Vec<TicketState>,
    now: i64,
) -> Result<Vec<Waiting>, RunError> {
    let mut skills = HashMap::new();
    if queue.settings.model == Model::Skills {
        let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
        skills = store::ticket_skills(&state.db, subdomain, &ids).await?;
        for ticket in &tickets {
            if skills.contains_key(&ticket.id) {
                continue;
            }
            let fetched =
                patiently(|| state.zendesk.ticket_skills(subdomain, auth, ticket.id)).await?;
            store::store_ticket_skills(&state.db, subdomain, ticket.id, &fetched, now).await?;
            let mut sorted = fetched;
            sorted.sort();
            skills.insert(ticket.id, sorted);
        }
    }
    let ids: Vec<i64> = tickets.iter().map(|t| t.id).collect();
    let mut handed_back =
        watch_store::handed_back(&state.db, subdomain, &ids, now - super::reassign::REACH_MS)
            .await?;
    let mut waiting: Vec<Waiting> = tickets
        .into_iter()
        .map(|t| {
            let back = handed_back.remove(&t.id).unwrap_or_default();
            Waiting {
                ticket_id: t.id,
                priority: engine::priority_rank(t.priority.as_deref()),
                created_at: t.created_at,
                group_id: t.group_id,
                skills: skills.remove(&t.id).unwrap_or_default(),
                sla_breach_at: t.sla_breach_at,
                avoid: back.from_agents,
                handed_back: back.last_reason,
                requester_id: t.requester_id,
                organization_id: t.organization_id,
            }
        })
        .collect();
    engine::order(&mut waiting, queue.settings.use_sla);
    Ok(waiting)
}

/// How the queue decides, with the account's dedicated agents.
pub(crate) fn plan_for(queue: &Queue, dedicated: Dedicated) -> Plan {
    Plan {
        model: queue.settings.model,
        batch_size: queue.settings.batch_size,
        use_sla: queue.settings.use_sla,
        skills_timeout_ms: queue.settings.skills_timeout_minutes.map(|m| m * 60_000),
        pointers: queue.pointers.clone(),
        split: Split {
            weights: queue
                .settings
                .split
                .iter()
                .map(|s| (s.group_id, s.weight))
                .collect(),
            counts: queue.split_counts.clone(),
        },
        dedicated,
    }
}

/// The account's dedicated agents, as the engine reads them.
pub(crate) async fn dedicated_of(
    state: &AppState,
    subdomain: &Subdomain,
) -> Result<Dedicated, StorageError> {
    Ok(Dedicated::from_list(
        crate::storage::routing::dedicated::list(&state.db, subdomain).await?,
    ))
}

/// What a run would do right now, without claiming or writing anything.
#[derive(Debug, Clone)]
pub struct Preview {
    pub outcome: Outcome,
    /// The routable tickets decided on (new or open, unassigned, not held by a run).
    pub tickets: Vec<TicketState>,
    /// Routable tickets another run holds a live claim on (being written, or written
    /// and waiting for the view to catch up): left out of the decision.
    pub held: Vec<i64>,
}

/// Decides a queue's waiting tickets: the shared first half of a run and a dry run.
async fn decide_queue(
    state: &AppState,
    queue: &Queue,
    auth: &ZendeskAuth,
    only: Option<&[i64]>,
) -> Result<Preview, RunError> {
    let subdomain = &queue.subdomain;
    let now = state.clock.now_ms();
    let (settings, _) = store::account_settings(&state.db, subdomain).await?;
    let tickets = match only {
        Some(ids) => {
            let mut found = Vec::with_capacity(ids.len());
            for chunk in ids.chunks(write::BATCH) {
                found.extend(
                    patiently(|| state.zendesk.tickets_by_id(subdomain, auth, chunk)).await?,
                );
            }
            found
        }
        None => {
            patiently(|| {
                state.zendesk.view_tickets(
                    subdomain,
                    auth,
                    queue.settings.view_id,
                    queue.settings.use_sla,
                )
            })
            .await?
        }
    };
    let routable: Vec<TicketState> = tickets
        .into_iter()
        .filter(TicketState::is_routable)
        .collect();
    let ids: Vec<i64> = routable.iter().map(|t| t.id).collect();
    let claimed = store::live_claims(&state.db, subdomain, &ids, now).await?;
    let (held, tickets): (Vec<TicketState>, Vec<TicketState>) =
        routable.into_iter().partition(|t| claimed.contains(&t.id));
    let agents = gather_agents(state, subdomain, &settings, now).await?;
    let waiting = waiting_list(state, subdomain, auth, queue, tickets.clone(), now).await?;
    let plan = plan_for(queue, dedicated_of(state, subdomain).await?);
    let outcome = engine::decide(&plan, &waiting, &agents, now);
    Ok(Preview {
        outcome,
        tickets,
        held: held.iter().map(|t| t.id).collect(),
    })
}

/// The dry run: which agent each waiting ticket would get, and why.
pub async fn dry_run(state: &AppState, queue: &Queue) -> Result<Preview, RunError> {
    let auth = state.connections.open(&queue.subdomain).await?;
    if !counts_read(state, queue).await? {
        return Err(RunError::CountsNotRead);
    }
    decide_queue(state, queue, &auth, None).await
}

/// Whether the picture routing decides on was read from Zendesk: the open-ticket seed
/// finished and the counts were read since this process started (inbox limits, least
/// active), and for a skills queue, the agents' skills were read and no resync is due.
pub async fn counts_read(state: &AppState, queue: &Queue) -> Result<bool, StorageError> {
    let sync = store::sync_state(&state.db, &queue.subdomain).await?;
    let tickets = sync.tickets_seed_done
        && sync
            .tickets_synced_at
            .is_some_and(|at| at >= state.started_at_ms);
    let skills = queue.settings.model != Model::Skills
        || (sync.skills_full_at.is_some() && !sync.skills_resync_requested);
    Ok(tickets && skills)
}

/// Reads the counts first when they are not read yet (one sync, under the account's
/// sync lease); the run waits, and says why, when they are still not read.
async fn ensure_counts_read(state: &AppState, queue: &Queue, owner: &str) -> Result<(), RunError> {
    if counts_read(state, queue).await? {
        return Ok(());
    }
    tracing::info!(subdomain = %queue.subdomain, queue_id = queue.id, "inbox counts not read yet; reading them before routing");
    super::sync::sync_account(state, &queue.subdomain, owner).await?;
    if counts_read(state, queue).await? {
        Ok(())
    } else {
        tracing::info!(subdomain = %queue.subdomain, queue_id = queue.id, "routing waits for inbox counts");
        Err(RunError::CountsNotRead)
    }
}

/// A finished run's numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    pub considered: usize,
    pub decided: usize,
    pub claimed_elsewhere: usize,
    pub write: WriteReport,
    /// Tickets routing is done with: assigned, or no longer routable (assigned by
    /// someone else, solved, deleted, refused outright). The others may be routed again.
    pub done_tickets: Vec<i64>,
}

/// Runs `work` while renewing a lease every [`LEASE_RENEW_EVERY`] with `renew`; when the
/// lease is lost (another worker holds it) the work is dropped and `None` returned.
/// A database error while renewing is logged and tried again at the next tick.
pub async fn renewing<T, F>(
    work: impl std::future::Future<Output = T>,
    mut renew: impl FnMut() -> F,
) -> Option<T>
where
    F: std::future::Future<Output = Result<bool, StorageError>>,
{
    tokio::pin!(work);
    let mut ticks = tokio::time::interval(LEASE_RENEW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        tokio::select! {
            result = &mut work => return Some(result),
            _ = ticks.tick() => match renew().await {
                Ok(true) => {}
                Ok(false) => return None,
                Err(error) => tracing::warn!(error = %error, "lease not renewed; trying again"),
            },
        }
    }
}

/// Runs one queue now, over its whole view or the given tickets (trigger calls). The
/// caller (`owner`) holds the queue's lease; it is renewed while the run works (and with
/// each batch's claims), and the run stops if another worker took the queue over.
pub async fn run_queue(
    state: &AppState,
    queue: &Queue,
    only: Option<&[i64]>,
    owner: &str,
) -> Result<RunReport, RunError> {
    under_lease(
        state,
        queue.id,
        owner,
        run_queue_leased(state, queue, only, owner),
    )
    .await
}

/// Runs `work` while renewing `owner`'s lease on the queue; [`RunError::LeaseLost`] when
/// another worker took the queue over meanwhile.
pub(crate) async fn under_lease<T>(
    state: &AppState,
    queue_id: i64,
    owner: &str,
    work: impl std::future::Future<Output = Result<T, RunError>>,
) -> Result<T, RunError> {
    let renew = || {
        store::renew_lease(
            &state.db,
            queue_id,
            owner,
            state.clock.now_ms(),
            RUN_LEASE_MS,
        )
    };
    // Boxed: a watch runs a queue run inside its own lease, and the two state machines
    // together are too large for a worker thread's stack.
    renewing(Box::pin(work), renew)
        .await
        .unwrap_or(Err(RunError::LeaseLost))
}

async fn run_queue_leased(
    state: &AppState,
    queue: &Queue,
    only: Option<&[i64]>,
    owner: &str,
) -> Result<RunReport, RunError> {
    let subdomain = &queue.subdomain;
    let auth = state.connections.open(subdomain).await?;
    ensure_counts_read(state, queue, owner).await?;
    let audit = write::Audit::of_queue(&queue.settings);
    let started = state.clock.now_ms();
    write::resume_pending(state, &auth, subdomain, Some(queue.id), started, &audit).await?;
    keep_lease(state, queue, owner).await?;
    let preview = decide_queue(state, queue, &auth, only).await?;
    let decided_at = state.clock.now_ms();
    keep_lease(state, queue, owner).await?;
    let decisions = new_assignments(&preview);
    let claimer = store::Claimer::Queue {
        id: queue.id,
        owner,
        lease_ms: RUN_LEASE_MS,
    };
    let mut report = RunReport {
        considered: preview.tickets.len(),
        decided: decisions.len(),
        ..RunReport::default()
    };
    for batch in decisions.chunks(write::BATCH) {
        let now = state.clock.now_ms();
        if now - decided_at > write::STALE_MS {
            // Statuses and loads have moved on: the next run decides the rest afresh.
            tracing::info!(subdomain = %subdomain, queue_id = queue.id, "routing run's decisions went stale; stopping");
            break;
        }
        let model = queue.settings.model.as_str();
        let Some(logged) =
            store::claim_and_log(&state.db, subdomain, claimer, model, batch, now, CLAIM_MS)
                .await?
        else {
            tracing::warn!(subdomain = %subdomain, queue_id = queue.id, "routing run lost its lease; stopping");
            return Err(RunError::LeaseLost);
        };
        report.claimed_elsewhere += batch.len() - logged.len();
        report
            .write
            .add(&write::write_back(state, &auth, &logged, &audit).await?);
        if queue.settings.model == Model::RoundRobin || !queue.settings.split.is_empty() {
            // Saved after every batch, so a run that stops later keeps the turns taken.
            let (pointers, split_counts) = advance_turns(
                queue,
                &preview.outcome.assigned,
                &report.write.assigned_tickets,
            );
            store::save_turns(&state.db, queue.id, owner, &pointers, &split_counts).await?;
        }
    }
    report.done_tickets = done_tickets(only, &preview, &report.write);
    tracing::info!(
        subdomain = %subdomain,
        queue_id = queue.id,
        considered = report.considered,
        decided = report.decided,
        assigned = report.write.assigned,
        skipped = report.write.skipped,
        failed = report.write.failed,
        "routing run finished"
    );
    Ok(report)
}

/// Renews the queue's lease, or stops the run if another worker took the queue over.
async fn keep_lease(state: &AppState, queue: &Queue, owner: &str) -> Result<(), RunError> {
    let now = state.clock.now_ms();
    if store::renew_lease(&state.db, queue.id, owner, now, RUN_LEASE_MS).await? {
        Ok(())
    } else {
        Err(RunError::LeaseLost)
    }
}

fn new_assignments(preview: &Preview) -> Vec<NewAssignment> {
    let stamps: HashMap<i64, &str> = preview
        .tickets
        .iter()
        .map(|t| (t.id, t.updated_stamp.as_str()))
        .collect();
    preview
        .outcome
        .assigned
        .iter()
        .map(|d| NewAssignment {
            ticket_id: d.ticket_id,
            agent_id: d.agent_id,
            reason: d.reason.clone(),
            stamp: stamps
                .get(&d.ticket_id)
                .map(|s| (*s).to_owned())
                .unwrap_or_default(),
            set_group_id: d.set_group,
        })
        .collect()
}

/// Of the tickets asked for (a trigger run's), those routing is done with: assigned,
/// gone (assigned elsewhere, solved, deleted, refused outright), or not routable when
/// read. Tickets left waiting, held by another run or left pending may be routed again.
fn done_tickets(only: Option<&[i64]>, preview: &Preview, write: &WriteReport) -> Vec<i64> {
    let Some(asked) = only else {
        return Vec::new();
    };
    let seen: HashSet<i64> = preview
        .tickets
        .iter()
        .map(|t| t.id)
        .chain(preview.held.iter().copied())
        .collect();
    let settled: HashSet<i64> = write
        .assigned_tickets
        .iter()
        .chain(write.gone_tickets.iter())
        .copied()
        .collect();
    asked
        .iter()
        .copied()
        .filter(|id| settled.contains(id) || !seen.contains(id))
        .collect()
}

/// The turns after a run: each round-robin pool's pointer moves to the agent of its
/// last ticket that was actually assigned (so an agent whose ticket was skipped keeps
/// their turn), and the split counts only the tickets actually assigned.
fn advance_turns(
    queue: &Queue,
    decided: &[Decision],
    assigned: &[i64],
) -> (Pointers, BTreeMap<i64, i64>) {
    let assigned: HashSet<i64> = assigned.iter().copied().collect();
    let mut pointers = queue.pointers.clone();
    let mut counts = queue.split_counts.clone();
    for decision in decided.iter().filter(|d| assigned.contains(&d.ticket_id)) {
        if queue.settings.model == Model::RoundRobin {
            pointers.set(decision.pool, decision.agent_id);
        }
        if let Some(group) = decision.split_group {
            *counts.entry(group).or_default() += 1;
        }
    }
    (pointers, counts)
}

/// Takes `owner`'s lease on the queue (`due_only`: only while its next run is due);
/// the queue as it is now, or `None` when another worker holds it.
pub(crate) async fn take_lease(
    state: &AppState,
    queue: &Queue,
    owner: &str,
    due_only: bool,
) -> Result<Option<Queue>, StorageError> {
    store::lease_queue(
        &state.db,
        &queue.subdomain,
        queue.id,
        owner,
        state.clock.now_ms(),
        RUN_LEASE_MS,
        due_only,
    )
    .await
}

/// Runs a scheduled queue if this worker wins its lease and the run is still due;
/// `None` when another worker has it or just ran it.
pub async fn run_if_leased(
    state: &AppState,
    queue: &Queue,
    owner: &str,
) -> Result<Option<RunReport>, StorageError> {
    let now = state.clock.now_ms();
    let Some(queue) = take_lease(state, queue, owner, true).await? else {
        return Ok(None);
    };
    let next = now + queue.settings.interval_secs * 1_000;
    if !queue.settings.enabled || queue.settings.kind != QueueKind::Scheduled {
        // Changed since the list was read: not a scheduled run any more.
        store::finish_run(&state.db, queue.id, owner, now, next, None).await?;
        return Ok(None);
    }
    let result = run_queue(state, &queue, None, owner).await;
    let finished = state.clock.now_ms();
    let next = match &result {
        Err(RunError::CountsNotRead) => next.min(finished + COUNTS_RETRY_MS),
        _ => next,
    };
    let error = match &result {
        Err(error) => Some(error.code()),
        Ok(report) if report.write.failed > 0 && report.write.assigned == 0 => {
            Some("zendesk_refused_the_writes".to_owned())
        }
        Ok(_) => None,
    };
    if let Some(code) = &error {
        tracing::warn!(subdomain = %queue.subdomain, queue_id = queue.id, error = %code, "routing run failed");
    }
    store::finish_run(&state.db, queue.id, owner, finished, next, error.as_deref()).await?;
    match result {
        Ok(report) => Ok(Some(report)),
        Err(RunError::Storage(e)) => Err(e),
        Err(_) => Ok(Some(RunReport::default())),
    }
}
