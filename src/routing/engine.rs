//! The routing decision, with no I/O: given a queue's waiting tickets and the account's
//! agents as they are right now, which agent gets which ticket and why. Everything the
//! decision needs is passed in, so the same function serves real runs, the dry run and
//! the benchmark, and its choices can be tested exhaustively.
//!
//! Eligibility splits in two: the static part (online, in schedule, in the ticket's
//! group, holds the ticket's skills) is the same for every ticket with the same group
//! and skills, so it is computed once per such "shape"; the dynamic part (inbox, daily
//! and batch limits) changes as tickets are handed out and is checked per pick.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::settings::Model;

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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub ticket_id: i64,
    pub agent_id: i64,
    /// The round-robin pool the ticket was in (its group).
    pub pool: Option<i64>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub assigned: Vec<Decision>,
    /// Tickets nobody could take, with why.
    pub waiting: Vec<(i64, String)>,
    /// Round robin: the pointers if every decision is written.
    pub pointers: Pointers,
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

/// What a ticket asks of an agent beyond being online and in schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Shape {
    group_id: Option<i64>,
    skills: Vec<String>,
    avoid: Vec<i64>,
}

/// Per-agent counters that change as this run hands out tickets.
#[derive(Debug, Clone, Copy)]
struct Load {
    open: i64,
    today: i64,
    this_run: i64,
    last_at: i64,
}

/// Decides every ticket in `tickets` (already in [`order`]) at time `now`.
pub fn decide(plan: &Plan, tickets: &[Waiting], agents: &[Agent], now: i64) -> Outcome {
    let mut by_id: Vec<usize> = (0..agents.len()).collect();
    by_id.sort_by_key(|&i| agents[i].user_id);
    let available: Vec<usize> = by_id
        .into_iter()
        .filter(|&i| agents[i].online && agents[i].in_schedule != Some(false))
        .collect();
    let mut loads: Vec<Load> = agents
        .iter()
        .map(|a| Load {
            open: a.open_tickets,
            today: a.assigned_today,
            this_run: 0,
            last_at: a.last_assigned_at,
        })
        .collect();
    let mut shapes: HashMap<Shape, Vec<usize>> = HashMap::new();
    let mut outcome = Outcome {
        assigned: Vec::new(),
        waiting: Vec::new(),
        pointers: plan.pointers.clone(),
    };
    for ticket in tickets {
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
            avoid: ticket.avoid.clone(),
        };
        let pool = shapes
            .entry(shape)
            .or_insert_with_key(|shape| statically_eligible(shape, &available, agents));
        if pool.is_empty() {
            outcome
                .waiting
                .push((ticket.ticket_id, no_agent_reason(ticket, skills_apply)));
            continue;
        }
        let pick = match plan.model {
            Model::RoundRobin => pick_round_robin(
                plan,
                pool,
                agents,
                &loads,
                outcome.pointers.get(ticket.group_id),
            ),
            Model::LeastActive | Model::Skills => pick_least_active(plan, pool, agents, &loads),
        };
        let Some(chosen) = pick else {
            outcome.waiting.push((
                ticket.ticket_id,
                "every eligible agent is at a limit (inbox, daily or batch)".to_owned(),
            ));
            continue;
        };
        let mut reason = explain(
            plan,
            ticket,
            chosen,
            pool,
            agents,
            &loads,
            (skills_apply, timed_out),
            outcome.pointers.get(ticket.group_id),
        );
        if let Some(why) = &ticket.handed_back {
            let again = ticket.avoid.binary_search(&agents[chosen].user_id).is_ok();
            let back = if again {
                "; back to an agent it was taken from: nobody else is eligible"
            } else {
                ""
            };
            reason = format!("{why}; reassigned{back}; {reason}");
        }
        let load = &mut loads[chosen];
        load.open += 1;
        load.today += 1;
        load.this_run += 1;
        load.last_at = now;
        let agent_id = agents[chosen].user_id;
        if plan.model == Model::RoundRobin {
            outcome.pointers.set(ticket.group_id, agent_id);
        }
        outcome.assigned.push(Decision {
            ticket_id: ticket.ticket_id,
            agent_id,
            pool: ticket.group_id,
            reason,
        });
    }
    outcome
}

/// The agents who may take a ticket of this shape; those it was handed back from only
/// when nobody else may.
fn statically_eligible(shape: &Shape, available: &[usize], agents: &[Agent]) -> Vec<usize> {
    let pool = fitting(shape, available, agents);
    let others: Vec<usize> = pool
        .iter()
        .copied()
        .filter(|&i| shape.avoid.binary_search(&agents[i].user_id).is_err())
        .collect();
    if others.is_empty() { pool } else { others }
}

fn fitting(shape: &Shape, available: &[usize], agents: &[Agent]) -> Vec<usize> {
    available
        .iter()
        .copied()
        .filter(|&i| {
            let agent = &agents[i];
            shape
                .group_id
                .is_none_or(|g| agent.groups.binary_search(&g).is_ok())
                && shape
                    .skills
                    .iter()
                    .all(|s| agent.skills.binary_search(s).is_ok())
        })
        .collect()
}

fn under_limits(plan: &Plan, agent: &Agent, load: &Load) -> bool {
    load.this_run < plan.batch_size
        && agent.inbox_limit.is_none_or(|limit| load.open < limit)
        && agent.daily_limit.is_none_or(|limit| load.today < limit)
}

/// The first agent after the pointer (by id, wrapping) who is under their limits.
fn pick_round_robin(
    plan: &Plan,
    pool: &[usize],
    agents: &[Agent],
    loads: &[Load],
    last: i64,
) -> Option<usize> {
    let start = pool.partition_point(|&i| agents[i].user_id <= last);
    pool[start..]
        .iter()
        .chain(pool[..start].iter())
        .copied()
        .find(|&i| under_limits(plan, &agents[i], &loads[i]))
}

/// Fewest open tickets; ties go to the one waiting longest since their last ticket,
/// then the lowest id.
fn pick_least_active(
    plan: &Plan,
    pool: &[usize],
    agents: &[Agent],
    loads: &[Load],
) -> Option<usize> {
    pool.iter()
        .copied()
        .filter(|&i| under_limits(plan, &agents[i], &loads[i]))
        .min_by_key(|&i| (loads[i].open, loads[i].last_at, agents[i].user_id))
}

fn no_agent_reason(ticket: &Waiting, skills_apply: bool) -> String {
    let mut why = String::from("no agent is online and in schedule");
    if let Some(group) = ticket.group_id {
        let _ = write!(why, " in group {group}");
    }
    if skills_apply && !ticket.skills.is_empty() {
        let _ = write!(why, " with skills {}", ticket.skills.join(", "));
    }
    why
}

/// The reason a supervisor reads: the model's comparison, then the checks passed.
#[allow(clippy::too_many_arguments)]
fn explain(
    plan: &Plan,
    ticket: &Waiting,
    chosen: usize,
    pool: &[usize],
    agents: &[Agent],
    loads: &[Load],
    (skills_apply, timed_out): (bool, bool),
    pointer: i64,
) -> String {
    let agent = &agents[chosen];
    let load = &loads[chosen];
    let mut reason = match plan.model {
        Model::RoundRobin => {
            format!(
                "round robin: next in rotation after agent {} among {} eligible",
                pointer_label(pointer, agents[chosen].user_id),
                pool.len()
            )
        }
        Model::LeastActive | Model::Skills => {
            let mut others: Vec<i64> = pool
                .iter()
                .filter(|&&i| i != chosen && under_limits(plan, &agents[i], &loads[i]))
                .map(|&i| loads[i].open)
                .collect();
            others.sort_unstable();
            others.truncate(3);
            let label = if plan.model == Model::Skills {
                "skills, least active"
            } else {
                "least active"
            };
            if others.is_empty() {
                format!("{label}: {} open, the only eligible agent", load.open)
            } else {
                let list = others
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(" and ");
                format!("{label}: {} open vs {list}", load.open)
            }
        }
    };
    reason.push_str("; online");
    if agent.in_schedule == Some(true) {
        reason.push_str("; in schedule");
    }
    if let Some(group) = ticket.group_id {
        let _ = write!(reason, "; member of group {group}");
    }
    if skills_apply && !ticket.skills.is_empty() {
        let _ = write!(reason, "; holds skills {}", ticket.skills.join(", "));
    } else if timed_out && plan.model == Model::Skills && !ticket.skills.is_empty() {
        reason.push_str("; skills timeout passed, any eligible agent");
    }
    if let Some(limit) = agent.inbox_limit {
        let _ = write!(reason, "; inbox {}/{limit}", load.open + 1);
    }
    if let Some(limit) = agent.daily_limit {
        let _ = write!(reason, "; today {}/{limit}", load.today + 1);
    }
    reason
}

fn pointer_label(pointer: i64, chosen: i64) -> String {
    if pointer == 0 {
        format!("none (agent {chosen} starts)")
    } else {
        pointer.to_string()
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn agent(id: i64) -> Agent {
        Agent {
            user_id: id,
            online: true,
            in_schedule: None,
            groups: vec![],
            skills: vec![],
            open_tickets: 0,
            assigned_today: 0,
            inbox_limit: None,
            daily_limit: None,
            last_assigned_at: 0,
        }
    }

    fn ticket(id: i64) -> Waiting {
        Waiting {
            ticket_id: id,
            priority: 2,
            created_at: id,
            group_id: None,
            skills: vec![],
            sla_breach_at: None,
            avoid: vec![],
            handed_back: None,
        }
    }

    fn plan(model: Model) -> Plan {
        Plan {
            model,
            batch_size: 100,
            use_sla: false,
            skills_timeout_ms: None,
            pointers: Pointers::default(),
        }
    }

    fn winners(outcome: &Outcome) -> Vec<(i64, i64)> {
        outcome
            .assigned
            .iter()
            .map(|d| (d.ticket_id, d.agent_id))
            .collect()
    }

    #[test]
    fn round_robin_rotates_and_resumes_after_the_pointer() {
        let agents = [agent(30), agent(10), agent(20)];
        let tickets: Vec<_> = (1..=4).map(ticket).collect();
        let mut p = plan(Model::RoundRobin);
        let first = decide(&p, &tickets, &agents, 0);
        assert_eq!(winners(&first), vec![(1, 10), (2, 20), (3, 30), (4, 10)]);
        p.pointers = first.pointers;
        let second = decide(&p, &tickets[..1], &agents, 0);
        assert_eq!(winners(&second), vec![(1, 20)]);
    }

    #[test]
    fn round_robin_keeps_one_rotation_per_group() {
        let grouped = |id: i64, group: i64| Agent {
            groups: vec![group],
            ..agent(id)
        };
        let agents = [grouped(1, 7), grouped(2, 7), grouped(3, 8), grouped(4, 8)];
        let tickets: Vec<Waiting> = (1..=8)
            .map(|id| Waiting {
                group_id: Some(if id % 2 == 1 { 7 } else { 8 }),
                ..ticket(id)
            })
            .collect();
        let outcome = decide(&plan(Model::RoundRobin), &tickets, &agents, 0);
        let mut per_agent = std::collections::BTreeMap::new();
        for (_, agent) in winners(&outcome) {
            *per_agent.entry(agent).or_insert(0) += 1;
        }
        assert_eq!(per_agent.into_values().collect::<Vec<_>>(), [2, 2, 2, 2]);
        assert_eq!(outcome.pointers.to_stored(), "7:2,8:4");
        assert_eq!(Pointers::parse("7:2,8:4,-:9,bad"), {
            let mut p = outcome.pointers.clone();
            p.set(None, 9);
            p
        });
    }

    #[test]
    fn round_robin_skips_agents_at_a_limit_and_batch_caps_a_run() {
        let mut full = agent(10);
        full.inbox_limit = Some(2);
        full.open_tickets = 2;
        let agents = [full, agent(20)];
        let mut p = plan(Model::RoundRobin);
        p.batch_size = 2;
        let tickets: Vec<_> = (1..=3).map(ticket).collect();
        let outcome = decide(&p, &tickets, &agents, 0);
        assert_eq!(winners(&outcome), vec![(1, 20), (2, 20)]);
        assert_eq!(outcome.waiting.len(), 1);
        assert!(outcome.waiting[0].1.contains("limit"));
    }

    #[test]
    fn least_active_picks_fewest_open_then_longest_idle_and_says_why() {
        let mut a = agent(1);
        a.open_tickets = 3;
        let mut b = agent(2);
        b.open_tickets = 2;
        b.last_assigned_at = 50;
        let mut c = agent(3);
        c.open_tickets = 2;
        c.last_assigned_at = 40;
        let outcome = decide(&plan(Model::LeastActive), &[ticket(9)], &[a, b, c], 100);
        assert_eq!(winners(&outcome), vec![(9, 3)]);
        assert_eq!(
            outcome.assigned[0].reason,
            "least active: 2 open vs 2 and 3; online"
        );
    }

    #[test]
    fn offline_out_of_schedule_and_other_group_agents_are_not_eligible() {
        let mut off = agent(1);
        off.online = false;
        let mut closed = agent(2);
        closed.in_schedule = Some(false);
        let mut other_group = agent(3);
        other_group.groups = vec![7];
        let mut member = agent(4);
        member.groups = vec![5, 8];
        member.in_schedule = Some(true);
        let mut t = ticket(1);
        t.group_id = Some(8);
        let outcome = decide(
            &plan(Model::LeastActive),
            &[t],
            &[off, closed, other_group, member],
            0,
        );
        assert_eq!(winners(&outcome), vec![(1, 4)]);
        assert!(outcome.assigned[0].reason.contains("in schedule"));
        assert!(outcome.assigned[0].reason.contains("member of group 8"));
    }

    #[test]
    fn skills_need_every_skill_until_the_timeout() {
        let mut linguist = agent(1);
        linguist.skills = vec!["de".into(), "fr".into()];
        linguist.open_tickets = 5;
        let mut french = agent(2);
        french.skills = vec!["fr".into()];
        let mut t = ticket(1);
        t.skills = vec!["de".into(), "fr".into()];
        t.created_at = 0;
        let mut p = plan(Model::Skills);
        p.skills_timeout_ms = Some(60_000);
        let early = decide(
            &p,
            &[t.clone()],
            &[linguist.clone(), french.clone()],
            59_999,
        );
        assert_eq!(winners(&early), vec![(1, 1)]);
        let late = decide(&p, &[t], &[linguist, french], 60_000);
        assert_eq!(winners(&late), vec![(1, 2)]);
        assert!(late.assigned[0].reason.contains("skills timeout passed"));
    }

    #[test]
    fn a_handed_back_ticket_passes_over_its_agents_unless_nobody_else_can_take_it() {
        let mut t = ticket(1);
        t.avoid = vec![10];
        t.handed_back = Some("no reply in 15 min from agent 10".into());
        let outcome = decide(
            &plan(Model::LeastActive),
            &[t.clone()],
            &[agent(10), agent(20)],
            0,
        );
        assert_eq!(winners(&outcome), vec![(1, 20)]);
        assert!(
            outcome.assigned[0]
                .reason
                .starts_with("no reply in 15 min from agent 10; reassigned; least active"),
            "{}",
            outcome.assigned[0].reason
        );
        let alone = decide(&plan(Model::LeastActive), &[t], &[agent(10)], 0);
        assert_eq!(winners(&alone), vec![(1, 10)]);
        assert!(alone.assigned[0].reason.contains("nobody else is eligible"));
    }

    #[test]
    fn daily_limit_counts_this_run_too() {
        let mut a = agent(1);
        a.daily_limit = Some(3);
        a.assigned_today = 2;
        let tickets: Vec<_> = (1..=2).map(ticket).collect();
        let outcome = decide(&plan(Model::LeastActive), &tickets, &[a], 0);
        assert_eq!(winners(&outcome), vec![(1, 1)]);
        assert!(outcome.assigned[0].reason.ends_with("today 3/3"));
    }

    #[test]
    fn order_is_sla_then_priority_then_age() {
        let mut urgent_new = ticket(1);
        urgent_new.priority = 0;
        urgent_new.created_at = 100;
        let mut normal_old = ticket(2);
        normal_old.created_at = 1;
        let mut breaching = ticket(3);
        breaching.sla_breach_at = Some(500);
        breaching.created_at = 200;
        let mut list = vec![normal_old.clone(), urgent_new.clone(), breaching.clone()];
        order(&mut list, false);
        assert_eq!(
            list.iter().map(|t| t.ticket_id).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        order(&mut list, true);
        assert_eq!(
            list.iter().map(|t| t.ticket_id).collect::<Vec<_>>(),
            [3, 1, 2]
        );
    }
}
