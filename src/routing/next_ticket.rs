//! "Next ticket": an agent presses one button in the agents' app and gets the most
//! urgent ticket they may take, with the rules, limits, claims, log and write-back of the
//! scheduled runs. This module owns the pull; the HTTP side is `agent_app::next_ticket`.
//!
//! ```text
//!  agent (online, in schedule, under inbox and daily limits; counts read)
//!    └▶ each enabled queue in position order: read its view, drop tickets held by
//!       live claims, keep those the agent may take (group, skills until the timeout),
//!       in the engine's order (SLA, priority, age)
//!         └▶ first one: claim + log (model next_ticket, under the queue) ─▶ write back
//!            (update_many, safe_update, the queue's audit tag, job followed)
//!              assigned ─▶ answer it │ taken or refused ─▶ the next one (at most
//!              MAX_TRIES) │ outcome unknown ─▶ say so (never a second ticket)
//! ```
//!
//! The batch size does not apply (the agent asks for one ticket), and a pull is not a
//! round-robin turn (pointers stay). A pull holds no queue lease: two pulls, or a pull
//! and a run, that pick the same ticket are kept apart by its claim alone, so it is
//! assigned once.

use std::collections::HashMap;

use super::engine::{self, Agent, SkillsCheck, Waiting};
use super::run::{self, CLAIM_MS, RunError, patiently};
use super::write::{self, Audit};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::routing::{self as store, Claimer, NewAssignment, PULL_MODEL, Queue};
use crate::storage::{StorageError, statuses};
use crate::zendesk::connection::ConnectionError;
use crate::zendesk::{RestError, TicketState, ZendeskAuth};

/// Tickets one pull tries to claim and write before giving up (each one lost was taken
/// by another run or pull, or changed in Zendesk, between reading and writing).
pub const MAX_TRIES: usize = 3;

/// The ticket an agent got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pulled {
    pub ticket_id: i64,
    pub queue_id: i64,
    /// As logged ("why this agent").
    pub reason: String,
}

/// Why a pull gave the agent nothing. The messages are for the agent.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("Zendesk is not connected to slackdesk for routing; ask a Zendesk admin")]
    NotConnected,
    #[error(transparent)]
    Zendesk(#[from] RestError),
    #[error(
        "routing is still reading the agents' open tickets from Zendesk (after connecting, a resync or a restart); try again in a minute"
    )]
    CountsNotRead,
    #[error("slackdesk does not know you as an active agent of this account yet")]
    NotAnAgent,
    #[error("{}", not_online(*.status))]
    NotOnline { status: Option<&'static str> },
    #[error(
        "you are outside your schedule (business hours); routing gives you tickets only inside it"
    )]
    OutOfSchedule,
    #[error("you have {open} open tickets and your inbox limit is {limit}; solve one first")]
    InboxFull { open: i64, limit: i64 },
    #[error("routing gave you {today} tickets today and your daily limit is {limit}")]
    DailyLimit { today: i64, limit: i64 },
    #[error("no routing queue is switched on for this account")]
    NoQueue,
    #[error("no waiting ticket is one you can take right now ({queues} queue(s) looked at)")]
    NothingEligible { queues: usize },
    #[error("the tickets you could take were taken by others just now; press again")]
    TakenMeanwhile,
    #[error(
        "Zendesk did not confirm ticket {ticket_id} in time; it may still reach you, so check your tickets before pressing again"
    )]
    Unconfirmed { ticket_id: i64 },
}

fn not_online(status: Option<&str>) -> String {
    match status {
        Some(status) => format!("you are {status}; set yourself online to take a ticket"),
        None => "you have no status yet; set yourself online to take a ticket".to_owned(),
    }
}

impl PullError {
    /// A stable snake_case code (never content).
    pub fn code(&self) -> String {
        match self {
            Self::Storage(_) => "storage".into(),
            Self::NotConnected => "zendesk_not_connected".into(),
            Self::Zendesk(e) => format!("zendesk_{}", e.code()),
            Self::CountsNotRead => "waiting_for_inbox_counts".into(),
            Self::NotAnAgent => "not_an_agent".into(),
            Self::NotOnline { .. } => "not_online".into(),
            Self::OutOfSchedule => "out_of_schedule".into(),
            Self::InboxFull { .. } => "at_inbox_limit".into(),
            Self::DailyLimit { .. } => "at_daily_limit".into(),
            Self::NoQueue => "no_queue".into(),
            Self::NothingEligible { .. } => "nothing_eligible".into(),
            Self::TakenMeanwhile => "taken_meanwhile".into(),
            Self::Unconfirmed { .. } => "unconfirmed".into(),
        }
    }
}

impl From<ConnectionError> for PullError {
    fn from(error: ConnectionError) -> Self {
        RunError::from(error).into()
    }
}

impl From<RunError> for PullError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::Storage(e) => Self::Storage(e),
            RunError::NotConnected => Self::NotConnected,
            RunError::Zendesk(e) => Self::Zendesk(e),
            RunError::CountsNotRead => Self::CountsNotRead,
            // No lease is held by a pull; kept total for the conversion.
            RunError::LeaseLost => Self::TakenMeanwhile,
        }
    }
}

/// A ticket the agent may take, in the queue's order.
#[derive(Debug, Clone)]
struct Candidate {
    ticket: Waiting,
    skills: SkillsCheck,
    stamp: String,
}

/// Gives `agent_id` their next ticket, assigned in Zendesk, or says why not.
pub async fn pull(
    state: &AppState,
    subdomain: &Subdomain,
    agent_id: ZendeskUserId,
) -> Result<Pulled, PullError> {
    let auth = state.connections.open(subdomain).await?;
    let now = state.clock.now_ms();
    let (settings, _) = store::account_settings(&state.db, subdomain).await?;
    let agents = run::gather_agents(state, subdomain, &settings, now).await?;
    let me = agents
        .into_iter()
        .find(|a| a.user_id == agent_id.get())
        .ok_or(PullError::NotAnAgent)?;
    if !me.online {
        let status = statuses::current_one(&state.db, subdomain, agent_id)
            .await?
            .map(|r| r.status.as_str());
        return Err(PullError::NotOnline { status });
    }
    if me.in_schedule == Some(false) {
        return Err(PullError::OutOfSchedule);
    }
    let queues: Vec<Queue> = store::list_queues(&state.db, subdomain)
        .await?
        .into_iter()
        .filter(|q| q.settings.enabled)
        .collect();
    if queues.is_empty() {
        return Err(PullError::NoQueue);
    }
    let mut readable = Vec::with_capacity(queues.len());
    for queue in queues {
        if run::counts_read(state, &queue).await? {
            readable.push(queue);
        }
    }
    if readable.is_empty() {
        return Err(PullError::CountsNotRead);
    }
    // The inbox counts are the account's, read for every queue once for one.
    check_limits(&me)?;
    let mut tries = 0;
    for queue in &readable {
        let candidates = candidates(state, &auth, queue, &me, now).await?;
        for (rank, candidate) in candidates.iter().enumerate() {
            if tries == MAX_TRIES {
                return Err(PullError::TakenMeanwhile);
            }
            tries += 1;
            let reason = explain(&me, queue.id, candidate, rank, candidates.len());
            match claim_and_write(state, &auth, queue, &me, candidate, &reason).await? {
                Attempt::Assigned => {
                    tracing::info!(
                        subdomain = %subdomain,
                        queue_id = queue.id,
                        user_id = me.user_id,
                        ticket_id = candidate.ticket.ticket_id,
                        "next ticket pulled"
                    );
                    return Ok(Pulled {
                        ticket_id: candidate.ticket.ticket_id,
                        queue_id: queue.id,
                        reason,
                    });
                }
                Attempt::Unknown => {
                    return Err(PullError::Unconfirmed {
                        ticket_id: candidate.ticket.ticket_id,
                    });
                }
                Attempt::Lost => {}
            }
        }
    }
    if tries > 0 {
        Err(PullError::TakenMeanwhile)
    } else {
        Err(PullError::NothingEligible {
            queues: readable.len(),
        })
    }
}

/// The agent's inbox and daily limits, as a run checks them before giving one more.
fn check_limits(agent: &Agent) -> Result<(), PullError> {
    if let Some(limit) = agent.inbox_limit
        && agent.open_tickets >= limit
    {
        return Err(PullError::InboxFull {
            open: agent.open_tickets,
            limit,
        });
    }
    if let Some(limit) = agent.daily_limit
        && agent.assigned_today >= limit
    {
        return Err(PullError::DailyLimit {
            today: agent.assigned_today,
            limit,
        });
    }
    Ok(())
}

/// The queue's waiting tickets the agent may take, most urgent first: routable, not held
/// by a live claim, in one of the agent's groups (or none), with the required skills.
async fn candidates(
    state: &AppState,
    auth: &ZendeskAuth,
    queue: &Queue,
    agent: &Agent,
    now: i64,
) -> Result<Vec<Candidate>, PullError> {
    let subdomain = &queue.subdomain;
    let tickets = patiently(|| {
        state.zendesk.view_tickets(
            subdomain,
            auth,
            queue.settings.view_id,
            queue.settings.use_sla,
        )
    })
    .await?;
    // Another group's tickets are dropped before their skills are read.
    let routable: Vec<TicketState> = tickets
        .into_iter()
        .filter(TicketState::is_routable)
        .filter(|t| {
            t.group_id
                .is_none_or(|g| agent.groups.binary_search(&g).is_ok())
        })
        .collect();
    let ids: Vec<i64> = routable.iter().map(|t| t.id).collect();
    let claimed = store::live_claims(&state.db, subdomain, &ids, now).await?;
    let free: Vec<TicketState> = routable
        .into_iter()
        .filter(|t| !claimed.contains(&t.id))
        .collect();
    let mut stamps: HashMap<i64, String> = free
        .iter()
        .map(|t| (t.id, t.updated_stamp.clone()))
        .collect();
    let waiting = run::waiting_list(state, subdomain, auth, queue, free, now).await?;
    let plan = run::plan_for(queue, Default::default());
    Ok(waiting
        .into_iter()
        .filter_map(|ticket| {
            let skills = engine::eligible_alone(&plan, &ticket, agent, now)?;
            let stamp = stamps.remove(&ticket.ticket_id).unwrap_or_default();
            Some(Candidate {
                ticket,
                skills,
                stamp,
            })
        })
        .collect())
}

/// The reason logged: what was pulled from where, then the checks passed.
fn explain(agent: &Agent, queue_id: i64, candidate: &Candidate, rank: usize, of: usize) -> String {
    let which = if rank == 0 {
        "most urgent"
    } else {
        "most urgent still free"
    };
    let mut reason = format!(
        "next ticket: pulled by agent {} from queue {queue_id} ({which} of {of} eligible); online",
        agent.user_id
    );
    if agent.in_schedule == Some(true) {
        reason.push_str("; in schedule");
    }
    if let Some(group) = candidate.ticket.group_id {
        reason.push_str(&format!("; member of group {group}"));
    }
    match candidate.skills {
        SkillsCheck::Held => {
            reason.push_str(&format!(
                "; holds skills {}",
                candidate.ticket.skills.join(", ")
            ));
        }
        SkillsCheck::TimedOut => reason.push_str("; skills timeout passed, any eligible agent"),
        SkillsCheck::None => {}
    }
    if let Some(limit) = agent.inbox_limit {
        reason.push_str(&format!("; inbox {}/{limit}", agent.open_tickets + 1));
    }
    if let Some(limit) = agent.daily_limit {
        reason.push_str(&format!("; today {}/{limit}", agent.assigned_today + 1));
    }
    reason
}

/// How claiming and writing one ticket went.
enum Attempt {
    /// Zendesk confirmed the assignment.
    Assigned,
    /// Another run or pull holds it, or Zendesk refused it (changed meanwhile).
    Lost,
    /// Written, but Zendesk's outcome is not known: left pending for the queue's runs.
    Unknown,
}

async fn claim_and_write(
    state: &AppState,
    auth: &ZendeskAuth,
    queue: &Queue,
    agent: &Agent,
    candidate: &Candidate,
    reason: &str,
) -> Result<Attempt, PullError> {
    let ticket_id = candidate.ticket.ticket_id;
    let decision = NewAssignment {
        ticket_id,
        agent_id: agent.user_id,
        reason: reason.to_owned(),
        stamp: candidate.stamp.clone(),
        set_group_id: None,
    };
    let logged = store::claim_and_log(
        &state.db,
        &queue.subdomain,
        Claimer::Pull { queue_id: queue.id },
        PULL_MODEL,
        &[decision],
        state.clock.now_ms(),
        CLAIM_MS,
    )
    .await?
    .unwrap_or_default();
    if logged.is_empty() {
        tracing::info!(subdomain = %queue.subdomain, queue_id = queue.id, ticket_id, "next ticket: held by another run; trying the next");
        return Ok(Attempt::Lost);
    }
    let report = write::write_back(state, auth, &logged, &Audit::of_queue(&queue.settings)).await?;
    Ok(if report.assigned_tickets.contains(&ticket_id) {
        Attempt::Assigned
    } else if report.unsettled > 0 {
        Attempt::Unknown
    } else {
        tracing::info!(subdomain = %queue.subdomain, queue_id = queue.id, ticket_id, "next ticket: not written (changed or refused); trying the next");
        Attempt::Lost
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::routing::settings::Model;

    fn agent() -> Agent {
        Agent {
            user_id: 123,
            online: true,
            in_schedule: Some(true),
            groups: vec![8],
            skills: vec!["de".into()],
            open_tickets: 2,
            assigned_today: 4,
            inbox_limit: Some(5),
            daily_limit: None,
            last_assigned_at: 0,
        }
    }

    fn candidate(skills: SkillsCheck) -> Candidate {
        Candidate {
            ticket: Waiting {
                ticket_id: 9,
                priority: 0,
                created_at: 0,
                group_id: Some(8),
                skills: vec!["de".into()],
                sla_breach_at: None,
                avoid: vec![],
                handed_back: None,
                requester_id: None,
                organization_id: None,
            },
            skills,
            stamp: String::new(),
        }
    }

    #[test]
    fn the_reason_names_the_pull_and_every_check() {
        assert_eq!(
            explain(&agent(), 4, &candidate(SkillsCheck::Held), 0, 7),
            "next ticket: pulled by agent 123 from queue 4 (most urgent of 7 eligible); online; \
             in schedule; member of group 8; holds skills de; inbox 3/5"
        );
        assert!(
            explain(&agent(), 4, &candidate(SkillsCheck::TimedOut), 1, 7)
                .contains("(most urgent still free of 7 eligible)")
        );
    }

    #[test]
    fn limits_are_checked_before_anything_is_read() {
        let mut full = agent();
        full.open_tickets = 5;
        assert_eq!(check_limits(&full).unwrap_err().code(), "at_inbox_limit");
        let mut busy_day = agent();
        busy_day.daily_limit = Some(4);
        assert_eq!(
            check_limits(&busy_day).unwrap_err().code(),
            "at_daily_limit"
        );
        assert!(check_limits(&agent()).is_ok());
    }

    #[test]
    fn eligibility_is_the_engines() {
        let plan = engine::Plan {
            model: Model::Skills,
            batch_size: 1,
            use_sla: false,
            skills_timeout_ms: Some(60_000),
            pointers: engine::Pointers::default(),
            split: engine::Split::default(),
            dedicated: engine::Dedicated::default(),
        };
        let mut ticket = candidate(SkillsCheck::Held).ticket;
        ticket.skills = vec!["fr".into()];
        assert_eq!(
            engine::eligible_alone(&plan, &ticket, &agent(), 59_999),
            None
        );
        assert_eq!(
            engine::eligible_alone(&plan, &ticket, &agent(), 60_000),
            Some(SkillsCheck::TimedOut)
        );
        ticket.group_id = Some(7);
        assert_eq!(
            engine::eligible_alone(&plan, &ticket, &agent(), 60_000),
            None
        );
    }
}
