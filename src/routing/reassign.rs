//! The reassignment rules: a queue watches the tickets it assigned, and hands one back
//! to routing when no agent answered it publicly within N minutes, or when its agent
//! has been away or offline (or outside their schedule) for a while and has not
//! answered it yet. A handed-back ticket is unassigned with the queue's reassignment
//! tag and routed again at once, passing over the agents it was taken from; it moves
//! on at most `max_times`.
//!
//! ```text
//!  watch pass (queue lease, every minute):
//!    watched assignments ─▶ due? (age, agent's status/schedule) ─▶ tickets by id
//!      ─▶ still theirs, new/open? ─▶ comments (author, public, time) ─▶ agent replied?
//!      ─▶ hand back: update_many assignee null + tag (safe_update) ─▶ run_queue(those)
//! ```
//!
//! Each outcome is recorded on the assignment (`watch`, `watch_detail`), so the log
//! says why a ticket moved, and the next assignment's reason starts with it.

use std::collections::{HashMap, HashSet};

use super::run::{self, RunError, patiently};
use super::settings::{QueueKind, ReassignRules};
use super::write;
use crate::domain::{AgentStatus, Subdomain};
use crate::state::AppState;
use crate::statuses::schedule::Schedule;
use crate::storage::routing::watch::{self as watch_store, Watch, Watched};
use crate::storage::routing::{self as store, Queue};
use crate::storage::{StorageError, agents, status_rules, statuses};
use crate::zendesk::{JobState, TicketState, TicketUpdate, ZendeskAuth};

/// The rules never reach further back than this.
pub const REACH_MS: i64 = 7 * 86_400_000;
/// How often a queue's watch runs.
pub const WATCH_EVERY_MS: i64 = 60_000;
/// Due tickets looked at per batch: one `show_many` and one `update_many` at most.
const PER_PASS: usize = write::BATCH;
/// Batches per pass (a pass that finds more due tickets goes on, up to this).
const BATCHES_PER_PASS: usize = 10;
/// Watched assignments read per pass.
const WATCHED_PER_PASS: i64 = 10_000;

/// Why a watched ticket is due for a look.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Due {
    /// A hand-back whose outcome is not known yet.
    Settle,
    /// A rule applies, with the reason in words.
    Rule(String),
}

/// What the watch decided for one ticket (also what a dry run shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub ticket_id: i64,
    pub agent_id: i64,
    pub outcome: Watch,
    pub reason: String,
}

/// What one watch pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchReport {
    pub looked_at: usize,
    pub handed_back: usize,
    /// Handed-back tickets assigned again in the same pass.
    pub reassigned: usize,
    pub answered: usize,
    pub kept: usize,
    pub ended: usize,
}

impl WatchReport {
    fn add(&mut self, other: &WatchReport) {
        self.looked_at += other.looked_at;
        self.handed_back += other.handed_back;
        self.reassigned += other.reassigned;
        self.answered += other.answered;
        self.kept += other.kept;
        self.ended += other.ended;
    }
}

/// Runs every due queue's watch once (each under its lease); failures are logged per
/// queue and the round goes on.
pub async fn watch_round(state: &AppState, owner: &str) -> Result<usize, StorageError> {
    let mut passes = 0;
    for queue in store::due_watches(&state.db, state.clock.now_ms()).await? {
        match watch_if_leased(state, &queue, owner).await {
            Ok(Some(_)) => passes += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::error!(subdomain = %queue.subdomain, queue_id = queue.id, error = %crate::web::error_chain(&error), "routing watch failed");
            }
        }
    }
    Ok(passes)
}

/// Watches one queue if this worker wins its lease; `None` when another worker has it.
pub async fn watch_if_leased(
    state: &AppState,
    queue: &Queue,
    owner: &str,
) -> Result<Option<WatchReport>, StorageError> {
    let Some(queue) = run::take_lease(state, queue, owner, false).await? else {
        return Ok(None);
    };
    let result = run::under_lease(state, queue.id, owner, watch_queue(state, &queue, owner)).await;
    let next = state.clock.now_ms() + WATCH_EVERY_MS;
    store::finish_watch(&state.db, queue.id, owner, next).await?;
    match result {
        Ok(report) => Ok(Some(report)),
        Err(RunError::Storage(e)) => Err(e),
        Err(error) => {
            tracing::warn!(subdomain = %queue.subdomain, queue_id = queue.id, error = %error.code(), "routing watch stopped");
            Ok(Some(WatchReport::default()))
        }
    }
}

/// One pass over the queue's watched tickets: settles each due one, hands back those
/// a rule applies to, and routes them again at once.
async fn watch_queue(
    state: &AppState,
    queue: &Queue,
    owner: &str,
) -> Result<WatchReport, RunError> {
    let mut report = WatchReport::default();
    if !queue.settings.enabled || !queue.settings.reassign.any() {
        return Ok(report);
    }
    let auth = state.connections.open(&queue.subdomain).await?;
    // Who is away and who counts as an agent: read once for the whole pass.
    let presence = Presence::read(state, &queue.subdomain).await?;
    for _ in 0..BATCHES_PER_PASS {
        let batch = watch_batch(state, queue, &auth, &presence, owner).await?;
        let more = batch.looked_at == PER_PASS;
        report.add(&batch);
        if !more {
            break;
        }
    }
    if report.handed_back > 0 {
        tracing::info!(
            subdomain = %queue.subdomain,
            queue_id = queue.id,
            looked_at = report.looked_at,
            handed_back = report.handed_back,
            reassigned = report.reassigned,
            "routing watch handed tickets back"
        );
    }
    Ok(report)
}

/// Up to [`PER_PASS`] due tickets: settled, handed back, and routed again at once.
async fn watch_batch(
    state: &AppState,
    queue: &Queue,
    auth: &ZendeskAuth,
    presence: &Presence,
    owner: &str,
) -> Result<WatchReport, RunError> {
    let mut report = WatchReport::default();
    let verdicts = assess(state, queue, auth, presence, Commit::Yes, &mut report).await?;
    let released = hand_back(state, queue, auth, &verdicts, &mut report).await?;
    if released.is_empty() {
        return Ok(report);
    }
    let run = Box::pin(run::run_queue(state, queue, Some(&released), owner)).await?;
    report.reassigned = run.write.assigned;
    if queue.settings.kind == QueueKind::Trigger {
        // A trigger queue has no scheduled run to pick the rest up: they wait as calls.
        let done: HashSet<i64> = run.done_tickets.iter().copied().collect();
        let now = state.clock.now_ms();
        for ticket in released.iter().filter(|t| !done.contains(t)) {
            store::enqueue_request(
                &state.db,
                &queue.subdomain,
                "route",
                *ticket,
                Some(queue.id),
                now,
            )
            .await?;
        }
    }
    Ok(report)
}

/// What the watch would do now with the queue's due tickets: the dry run's view.
pub async fn preview(state: &AppState, queue: &Queue) -> Result<Vec<Verdict>, RunError> {
    if !queue.settings.reassign.any() {
        return Ok(Vec::new());
    }
    let auth = state.connections.open(&queue.subdomain).await?;
    let presence = Presence::read(state, &queue.subdomain).await?;
    let mut report = WatchReport::default();
    let verdicts = assess(state, queue, &auth, &presence, Commit::No, &mut report).await?;
    Ok(verdicts
        .into_iter()
        .map(|(verdict, _, _)| verdict)
        .collect())
}

/// The earliest time an assignment may be watched by this queue's rules.
fn reach_start(queue: &Queue, now: i64) -> i64 {
    let reach = queue
        .settings
        .reassign
        .within_hours
        .map_or(REACH_MS, |hours| hours * 3_600_000);
    queue.reassign_since.unwrap_or(now).max(now - reach)
}

/// Whether [`assess`] records what it settles (a pass) or only reports it (a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    Yes,
    No,
}

/// Reads what is needed and decides each due ticket, without writing to Zendesk.
/// Hand-backs are returned with the ticket's `updated_at` stamp and the watched
/// assignment's id; the other outcomes (answered, ended, kept) are recorded when
/// `commit`, and returned too when not.
async fn assess(
    state: &AppState,
    queue: &Queue,
    auth: &ZendeskAuth,
    presence: &Presence,
    commit: Commit,
    report: &mut WatchReport,
) -> Result<Vec<(Verdict, String, i64)>, RunError> {
    let db = &state.db;
    let subdomain = &queue.subdomain;
    let now = state.clock.now_ms();
    let start = reach_start(queue, now);
    if commit == Commit::Yes {
        watch_store::expire(db, queue.id, start, now).await?;
    }
    let watched = watch_store::watched(db, queue.id, start, WATCHED_PER_PASS).await?;
    let rules = &queue.settings.reassign;
    let due: Vec<(Watched, Due)> = watched
        .into_iter()
        .filter_map(|w| due(rules, &w, presence, now).map(|d| (w, d)))
        .take(PER_PASS)
        .collect();
    report.looked_at = due.len();
    if due.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = due.iter().map(|(w, _)| w.ticket_id).collect();
    let fresh: HashMap<i64, TicketState> =
        patiently(|| state.zendesk.tickets_by_id(subdomain, auth, &ids))
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
    let times = watch_store::handed_back(db, subdomain, &ids, now - REACH_MS).await?;
    let mut out = Vec::new();
    for (watched, due) in due {
        let ticket = fresh.get(&watched.ticket_id);
        let verdict = match (&due, ticket) {
            (_, None) => settled(&watched, Watch::Ended, "deleted in Zendesk"),
            (Due::Settle, Some(t)) => {
                if commit == Commit::Yes {
                    settle_release(state, &watched, t).await?;
                }
                continue;
            }
            (Due::Rule(_), Some(t)) if t.assignee_id != Some(watched.agent_id) => {
                settled(&watched, Watch::Ended, "assigned to someone else since")
            }
            (Due::Rule(_), Some(t)) if !matches!(t.status.as_str(), "new" | "open") => {
                settled(&watched, Watch::Ended, &format!("now {}", t.status))
            }
            (Due::Rule(why), Some(t)) => {
                let replier =
                    agent_reply(state, subdomain, auth, &watched, t, &presence.agents).await?;
                let moved = times.get(&watched.ticket_id).map_or(0, |h| h.times);
                match replier {
                    Some(agent) => {
                        settled(&watched, Watch::Answered, &format!("agent {agent} replied"))
                    }
                    None if moved >= rules.max_times => settled(
                        &watched,
                        Watch::Kept,
                        &format!(
                            "{why}; moved on {moved} times already, stays with agent {}",
                            watched.agent_id
                        ),
                    ),
                    None => {
                        let verdict = Verdict {
                            ticket_id: watched.ticket_id,
                            agent_id: watched.agent_id,
                            outcome: Watch::Released,
                            reason: why.clone(),
                        };
                        out.push((verdict, t.updated_stamp.clone(), watched.id));
                        continue;
                    }
                }
            }
        };
        if commit == Commit::Yes {
            record(state, &watched, &verdict, report).await?;
        } else {
            out.push((verdict, String::new(), watched.id));
        }
    }
    Ok(out)
}

fn settled(watched: &Watched, outcome: Watch, reason: &str) -> Verdict {
    Verdict {
        ticket_id: watched.ticket_id,
        agent_id: watched.agent_id,
        outcome,
        reason: reason.to_owned(),
    }
}

async fn record(
    state: &AppState,
    watched: &Watched,
    verdict: &Verdict,
    report: &mut WatchReport,
) -> Result<(), StorageError> {
    let now = state.clock.now_ms();
    let from = watched.releasing.then_some(Watch::Releasing);
    if !watch_store::settle(
        &state.db,
        watched.id,
        from,
        verdict.outcome,
        Some(&verdict.reason),
        now,
    )
    .await?
    {
        return Ok(());
    }
    match verdict.outcome {
        Watch::Answered => report.answered += 1,
        Watch::Kept => report.kept += 1,
        Watch::Ended | Watch::Expired => report.ended += 1,
        Watch::Releasing | Watch::Released => {}
    }
    Ok(())
}

/// A hand-back whose outcome was unknown: unassigned now → handed back; still with
/// the agent → watched again (the next pass decides afresh); anyone else's → ended.
async fn settle_release(
    state: &AppState,
    watched: &Watched,
    ticket: &TicketState,
) -> Result<(), StorageError> {
    let now = state.clock.now_ms();
    let db = &state.db;
    match ticket.assignee_id {
        None => {
            watch_store::settle(
                db,
                watched.id,
                Some(Watch::Releasing),
                Watch::Released,
                None,
                now,
            )
            .await?;
        }
        Some(agent) if agent == watched.agent_id => {
            watch_store::rewatch(db, watched.id).await?;
        }
        Some(_) => {
            let why = Some("assigned to someone else since");
            watch_store::settle(
                db,
                watched.id,
                Some(Watch::Releasing),
                Watch::Ended,
                why,
                now,
            )
            .await?;
        }
    }
    Ok(())
}

/// The first agent who answered the ticket publicly since it was decided, if any.
async fn agent_reply(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    watched: &Watched,
    ticket: &TicketState,
    agent_ids: &HashSet<i64>,
) -> Result<Option<i64>, RunError> {
    let comments = patiently(|| {
        state
            .zendesk
            .comments_since(subdomain, auth, watched.ticket_id, watched.decided_at)
    })
    .await?;
    Ok(comments
        .iter()
        .filter(|c| c.public && Some(c.author_id) != ticket.requester_id)
        .find(|c| c.author_id == watched.agent_id || agent_ids.contains(&c.author_id))
        .map(|c| c.author_id))
}

/// Unassigns the tickets to hand back (with the reassignment tag, as safe updates),
/// recording each first as being handed back; returns those Zendesk confirmed.
async fn hand_back(
    state: &AppState,
    queue: &Queue,
    auth: &ZendeskAuth,
    verdicts: &[(Verdict, String, i64)],
    report: &mut WatchReport,
) -> Result<Vec<i64>, RunError> {
    let db = &state.db;
    let subdomain = &queue.subdomain;
    let now = state.clock.now_ms();
    let mut going = Vec::new();
    for (verdict, stamp, assignment) in verdicts {
        if watch_store::settle(
            db,
            *assignment,
            None,
            Watch::Releasing,
            Some(&verdict.reason),
            now,
        )
        .await?
        {
            going.push((verdict, stamp, *assignment));
        }
    }
    if going.is_empty() {
        return Ok(Vec::new());
    }
    let tag = queue.settings.reassign.tag.clone();
    let updates: Vec<TicketUpdate> = going
        .iter()
        .map(|(verdict, stamp, _)| TicketUpdate {
            id: verdict.ticket_id,
            assignee_id: None,
            group_id: None,
            additional_tags: tag.iter().cloned().collect(),
            custom_fields: Vec::new(),
            safe_update: true,
            updated_stamp: (*stamp).clone(),
        })
        .collect();
    // An error here leaves them "releasing": the next pass reads them and settles.
    let job = patiently(|| state.zendesk.update_many(subdomain, auth, &updates)).await?;
    let mut follow_report = write::WriteReport::default();
    let job = write::follow(state, auth, subdomain, job, &mut follow_report).await;
    let Some(job) = job.filter(|j| !matches!(j.state, JobState::Queued | JobState::Working)) else {
        return Ok(Vec::new());
    };
    let ok: HashMap<i64, bool> = job.results.iter().map(|(id, ok, _)| (*id, *ok)).collect();
    let mut released = Vec::new();
    let now = state.clock.now_ms();
    for (verdict, _, assignment) in going {
        match ok.get(&verdict.ticket_id) {
            Some(true) => {
                watch_store::settle(
                    db,
                    assignment,
                    Some(Watch::Releasing),
                    Watch::Released,
                    None,
                    now,
                )
                .await?;
                watch_store::free_hold(db, subdomain, verdict.ticket_id, assignment).await?;
                tracing::info!(subdomain = %subdomain, queue_id = queue.id, ticket_id = verdict.ticket_id, agent_id = verdict.agent_id, reason = %verdict.reason, "ticket handed back to routing");
                released.push(verdict.ticket_id);
            }
            // Refused (it changed meanwhile, perhaps an answer): watched again.
            Some(false) => {
                watch_store::rewatch(db, assignment).await?;
            }
            None => {}
        }
    }
    report.handed_back = released.len();
    Ok(released)
}

/// The account's agents, with their statuses and schedules as the away rule reads them.
struct Presence {
    /// Active agents: a public comment by one of them is an answer.
    agents: HashSet<i64>,
    /// Status and since when.
    statuses: HashMap<i64, (AgentStatus, i64)>,
    schedules: HashMap<i64, Schedule>,
}

impl Presence {
    async fn read(state: &AppState, subdomain: &Subdomain) -> Result<Self, StorageError> {
        let statuses = statuses::current_all(&state.db, subdomain)
            .await?
            .into_iter()
            .map(|s| (s.user_id.get(), (s.status, s.updated_at)))
            .collect();
        let schedules = status_rules::scheduled_agents(&state.db, subdomain)
            .await?
            .into_iter()
            .filter_map(|(id, s)| {
                Schedule::from_stored(&s.time_zone, &s.intervals, &s.holidays)
                    .ok()
                    .map(|schedule| (id.get(), schedule))
            })
            .collect();
        let agents = agents::list_active(&state.db, subdomain)
            .await?
            .iter()
            .map(|a| a.user_id.get())
            .collect();
        Ok(Self {
            agents,
            statuses,
            schedules,
        })
    }

    /// Why the agent counts as gone for at least `for_ms`, if they do.
    fn gone(&self, agent: i64, now: i64, for_ms: i64) -> Option<String> {
        if let Some((status, since)) = self.statuses.get(&agent)
            && matches!(status, AgentStatus::Away | AgentStatus::Offline)
            && now - since >= for_ms
        {
            return Some(format!("agent {agent} is {}", status.as_str()));
        }
        let schedule = self.schedules.get(&agent)?;
        (!schedule.is_open_at(now) && !schedule.is_open_at(now - for_ms))
            .then(|| format!("agent {agent} is outside their schedule"))
    }
}

/// Whether a watched assignment is due for a look now, and why.
fn due(rules: &ReassignRules, watched: &Watched, presence: &Presence, now: i64) -> Option<Due> {
    if watched.releasing {
        return Some(Due::Settle);
    }
    if let Some(minutes) = rules.unanswered_minutes
        && now - watched.written_at >= minutes * 60_000
    {
        return Some(Due::Rule(format!(
            "no reply in {minutes} min from agent {}",
            watched.agent_id
        )));
    }
    if rules.when_away {
        return presence
            .gone(watched.agent_id, now, rules.away_minutes * 60_000)
            .map(|why| Due::Rule(format!("{why}; no reply yet")));
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn watched(agent: i64, written_at: i64) -> Watched {
        Watched {
            id: 1,
            ticket_id: 7,
            agent_id: agent,
            decided_at: written_at,
            written_at,
            releasing: false,
        }
    }

    fn presence(agent: i64, status: AgentStatus, since: i64) -> Presence {
        Presence {
            agents: HashSet::from([agent]),
            statuses: HashMap::from([(agent, (status, since))]),
            schedules: HashMap::new(),
        }
    }

    #[test]
    fn unanswered_is_due_after_its_minutes_and_away_after_the_grace() {
        let rules = ReassignRules {
            unanswered_minutes: Some(15),
            when_away: true,
            away_minutes: 5,
            ..ReassignRules::default()
        };
        let online = presence(3, AgentStatus::Online, 0);
        assert_eq!(due(&rules, &watched(3, 0), &online, 15 * 60_000 - 1), None);
        assert_eq!(
            due(&rules, &watched(3, 0), &online, 15 * 60_000),
            Some(Due::Rule("no reply in 15 min from agent 3".into()))
        );
        let away = presence(3, AgentStatus::Away, 60_000);
        assert_eq!(due(&rules, &watched(3, 0), &away, 6 * 60_000 - 1), None);
        assert_eq!(
            due(&rules, &watched(3, 0), &away, 6 * 60_000),
            Some(Due::Rule("agent 3 is away; no reply yet".into()))
        );
        let invisible = presence(3, AgentStatus::Invisible, 0);
        assert_eq!(due(&rules, &watched(3, 0), &invisible, 10 * 60_000), None);
    }
}
