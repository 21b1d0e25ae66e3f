//! The routing decision, with no I/O: given a queue's waiting tickets and the account's
//! agents as they are right now, which agent gets which ticket and why. Everything the
//! decision needs is passed in, so the same function serves real runs, the dry run and
//! the benchmark, and its choices can be tested exhaustively.
//!
//! Eligibility splits in two: the static part (online, in schedule, in the ticket's
//! group, holds the ticket's skills) is the same for every ticket with the same group
//! and skills, so it is computed once per such "shape"; the dynamic part (inbox, daily
//! and batch limits) changes as tickets are handed out and is checked per pick.

//!
//! ```text
//!  decide(plan, tickets, agents) ─▶ run: per ticket ─▶ dedicated agent? ─▶ split's groups
//!                                                      └─▶ pool of its shape ─▶ model pick
//!                                                          └─▶ explain (the logged reason)
//! ```
//!
//! Files: `split` (weights between groups), `dedication` (dedicated agents), `run` (one
//! decision's working state and the pickers), `explain` (the reasons a supervisor reads).

mod dedication;
mod explain;
mod run;
mod split;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use super::settings::Model;
pub use dedication::{Dedicated, DedicatedTo, Dedication};
use run::{Run, Shape, fitting};
pub use split::Split;

/// Zendesk priorities, most urgent first; tickets without one sort as `normal`.
pub fn priority_rank(priority: Option<&str>) -> u8 {
    match priority {
        Some("urgent") => 0,
        Some("high") => 1,
        Some("low") => 3,
        _ => 2,
    }
}

/// A ticket waiting in the queue's view without an assignee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub ticket_id: i64,
    /// From [`priority_rank`].
    pub priority: u8,
    pub created_at: i64,
    pub group_id: Option<i64>,
    /// Required skill (attribute value) ids, sorted.
    pub skills: Vec<String>,
    /// The earliest SLA breach, when the ticket has an SLA.
    pub sla_breach_at: Option<i64>,
    /// Agents it was handed back from (sorted): passed over while anyone else can take it.
    pub avoid: Vec<i64>,
    /// Why it is back in routing (the reassignment rule that handed it back), if it is.
    pub handed_back: Option<String>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
}

/// An agent of the account, with what routing knows of them right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub user_id: i64,
    pub online: bool,
    /// `None` when the agent has no schedule; otherwise whether it is open now.
    pub in_schedule: Option<bool>,
    /// Sorted group ids.
    pub groups: Vec<i64>,
    /// Sorted skill (attribute value) ids.
    pub skills: Vec<String>,
    /// Unsolved tickets assigned to them (new and open).
    pub open_tickets: i64,
    /// Tickets routing gave them since their local midnight.
    pub assigned_today: i64,
    pub inbox_limit: Option<i64>,
    pub daily_limit: Option<i64>,
    /// When routing last gave them a ticket (0: never).
    pub last_assigned_at: i64,
}

/// Round robin's pointers: per pool of agents (the ticket's group; `None` for tickets
/// without one) the agent who got that pool's last ticket. One pointer per pool keeps
/// the rotation fair when a queue mixes groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointers(BTreeMap<Option<i64>, i64>);

impl Pointers {
    pub fn get(&self, pool: Option<i64>) -> i64 {
        self.0.get(&pool).copied().unwrap_or(0)
    }

    pub fn set(&mut self, pool: Option<i64>, agent: i64) {
        self.0.insert(pool, agent);
    }

    /// Reads the stored form `"pool:agent,..."` (`-` for no group); bad parts are
    /// dropped (the rotation then starts over for that pool).
    pub fn parse(stored: &str) -> Self {
        let pairs = stored.split(',').filter_map(|pair| {
            let (pool, agent) = pair.split_once(':')?;
            let pool = match pool {
                "-" => None,
                id => Some(id.parse().ok()?),
            };
            Some((pool, agent.parse().ok()?))
        });
        Self(pairs.collect())
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|(pool, agent)| match pool {
                Some(group) => format!("{group}:{agent}"),
                None => format!("-:{agent}"),
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// How a queue decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub model: Model,
    /// Tickets one agent may get in one run.
    pub batch_size: i64,
    pub use_sla: bool,
    /// After this long waiting, a skills ticket may go to any eligible agent.
    pub skills_timeout_ms: Option<i64>,
    /// Round robin: who got each pool's previous ticket.
    pub pointers: Pointers,
    /// The queue's split between groups (empty: none).
    pub split: Split,
    /// The account's dedicated agents.
    pub dedicated: Dedicated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub ticket_id: i64,
    pub agent_id: i64,
    /// The round-robin pool the ticket was in (its group, or the split's).
    pub pool: Option<i64>,
    /// The group the split counted it for, when the queue splits between groups.
    pub split_group: Option<i64>,
    /// The group to write with the assignee (the split moved it there).
    pub set_group: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub assigned: Vec<Decision>,
    /// Tickets nobody could take, with why.
    pub waiting: Vec<(i64, String)>,
    /// Round robin: the pointers if every decision is written.
    pub pointers: Pointers,
    /// The split's counts per group if every decision is written.
    pub split_counts: BTreeMap<i64, i64>,
}

/// Orders tickets: next SLA breach first when `use_sla` (tickets without an SLA after),
/// then priority, then age (oldest first), then id.
pub fn order(tickets: &mut [Waiting], use_sla: bool) {
    tickets.sort_by(|a, b| {
        let sla = if use_sla {
            match (a.sla_breach_at, b.sla_breach_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        } else {
            std::cmp::Ordering::Equal
        };
        sla.then(a.priority.cmp(&b.priority))
            .then(a.created_at.cmp(&b.created_at))
            .then(a.ticket_id.cmp(&b.ticket_id))
    });
}

/// Decides every ticket in `tickets` (already in [`order`]) at time `now`.
pub fn decide(plan: &Plan, tickets: &[Waiting], agents: &[Agent], now: i64) -> Outcome {
    Run::new(plan, agents).decide(tickets, now)
}

/// How a ticket's skills counted for an agent who may take it (see [`eligible_alone`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkillsCheck {
    /// Not a skills queue, or the ticket requires none.
    None,
    /// The agent holds every skill the ticket requires.
    Held,
    /// The skills timeout passed: anyone otherwise eligible may take it.
    TimedOut,
}

/// Whether one agent may take one ticket by the static rules [`decide`] applies (online,
/// in schedule, in the ticket's group, holding its skills until the skills timeout);
/// limits are not checked. For an agent pulling their next ticket.
pub fn eligible_alone(
    plan: &Plan,
    ticket: &Waiting,
    agent: &Agent,
    now: i64,
) -> Option<SkillsCheck> {
    if !agent.online || agent.in_schedule == Some(false) {
        return None;
    }
    let timed_out = plan
        .skills_timeout_ms
        .is_some_and(|limit| now - ticket.created_at >= limit);
    let skills_apply = plan.model == Model::Skills && !timed_out;
    let shape = Shape {
        group_id: ticket.group_id,
        skills: if skills_apply {
            ticket.skills.clone()
        } else {
            Vec::new()
        },
        // An agent choosing a ticket may take one that was handed back from them.
        avoid: Vec::new(),
    };
    if fitting(&shape, &[0], std::slice::from_ref(agent)).is_empty() {
        return None;
    }
    Some(match plan.model {
        Model::Skills if ticket.skills.is_empty() => SkillsCheck::None,
        Model::Skills if skills_apply => SkillsCheck::Held,
        Model::Skills => SkillsCheck::TimedOut,
        _ => SkillsCheck::None,
    })
}
