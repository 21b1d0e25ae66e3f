//! One decision's working state: the agents' loads as tickets are handed out, the pools
//! per ticket shape, and the round-robin and least-active pickers.

use std::collections::HashMap;
use std::rc::Rc;

use super::explain::{explain, no_agent_reason};
use super::{Agent, Decision, Dedication, Model, Outcome, Plan, Split, Waiting};

/// What a ticket asks of an agent beyond being online and in schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Shape {
    pub(super) group_id: Option<i64>,
    pub(super) skills: Vec<String>,
    pub(super) avoid: Vec<i64>,
}

/// Per-agent counters that change as this run hands out tickets.
#[derive(Debug, Clone, Copy)]
pub(super) struct Load {
    pub(super) open: i64,
    pub(super) today: i64,
    pub(super) this_run: i64,
    pub(super) last_at: i64,
}

/// One decision's working state: the loads and pools as tickets are handed out.
pub(super) struct Run<'a> {
    plan: &'a Plan,
    agents: &'a [Agent],
    /// Online and in schedule, by id.
    available: Vec<usize>,
    loads: Vec<Load>,
    /// Each shape's static pool, shared (an `Rc`, so a pick borrows no part of `self`).
    shapes: HashMap<Shape, Rc<[usize]>>,
    outcome: Outcome,
}

/// The agent chosen for a ticket, and the words for why.
struct Pick {
    chosen: usize,
    /// The group the ticket is routed in (its own, or the split's).
    group: Option<i64>,
    /// The split's group, when the split decided it.
    split_group: Option<i64>,
    reason: String,
}

impl<'a> Run<'a> {
    pub(super) fn new(plan: &'a Plan, agents: &'a [Agent]) -> Self {
        let mut by_id: Vec<usize> = (0..agents.len()).collect();
        by_id.sort_by_key(|&i| agents[i].user_id);
        let available: Vec<usize> = by_id
            .into_iter()
            .filter(|&i| agents[i].online && agents[i].in_schedule != Some(false))
            .collect();
        Run {
            plan,
            agents,
            available,
            loads: agents
                .iter()
                .map(|a| Load {
                    open: a.open_tickets,
                    today: a.assigned_today,
                    this_run: 0,
                    last_at: a.last_assigned_at,
                })
                .collect(),
            shapes: HashMap::new(),
            outcome: Outcome {
                assigned: Vec::new(),
                waiting: Vec::new(),
                pointers: plan.pointers.clone(),
                split_counts: plan.split.counts.clone(),
            },
        }
    }

    /// Decides every ticket, in the order given.
    pub(super) fn decide(mut self, tickets: &[Waiting], now: i64) -> Outcome {
        for ticket in tickets {
            match self.pick(ticket, now) {
                Ok(pick) => self.take(ticket, pick, now),
                Err(why) => self.outcome.waiting.push((ticket.ticket_id, why)),
            }
        }
        self.outcome
    }

    fn pool(&mut self, ticket: &Waiting, group: Option<i64>, skills_apply: bool) -> Rc<[usize]> {
        let shape = Shape {
            group_id: group,
            skills: if skills_apply {
                ticket.skills.clone()
            } else {
                Vec::new()
            },
            avoid: ticket.avoid.clone(),
        };
        let (available, agents) = (&self.available, self.agents);
        Rc::clone(
            self.shapes
                .entry(shape)
                .or_insert_with_key(|shape| statically_eligible(shape, available, agents).into()),
        )
    }

    fn pick(&mut self, ticket: &Waiting, now: i64) -> Result<Pick, String> {
        let plan = self.plan;
        let timed_out = plan
            .skills_timeout_ms
            .is_some_and(|limit| now - ticket.created_at >= limit);
        let skills_apply = plan.model == Model::Skills && !timed_out;
        let skills = (skills_apply, timed_out);
        let mut passed_over = None;
        if let Some(dedication) = plan.dedicated.for_ticket(ticket) {
            let pool = self.pool(ticket, ticket.group_id, skills_apply);
            match self.dedicated_pick(&dedication, &pool) {
                Ok((chosen, lead)) => {
                    let reason =
                        self.explain(ticket, chosen, &pool, skills, ticket.group_id, Some(lead));
                    return Ok(Pick {
                        chosen,
                        group: ticket.group_id,
                        split_group: None,
                        reason,
                    });
                }
                Err(why) => passed_over = Some(why),
            }
        }
        let groups: Vec<Option<i64>> = if plan.split.applies_to(ticket.group_id) {
            self.outcome
                .split_counts_order(&plan.split)
                .into_iter()
                .map(Some)
                .collect()
        } else {
            vec![ticket.group_id]
        };
        let mut why_not = None;
        for group in groups {
            let pool = self.pool(ticket, group, skills_apply);
            if pool.is_empty() {
                why_not.get_or_insert_with(|| no_agent_reason(ticket, group, skills_apply));
                continue;
            }
            let pick = match plan.model {
                Model::RoundRobin => pick_round_robin(
                    plan,
                    &pool,
                    self.agents,
                    &self.loads,
                    self.outcome.pointers.get(group),
                ),
                Model::LeastActive | Model::Skills => {
                    pick_least_active(plan, &pool, self.agents, &self.loads)
                }
            };
            let Some(chosen) = pick else {
                why_not =
                    Some("every eligible agent is at a limit (inbox, daily or batch)".to_owned());
                continue;
            };
            let split_group = group.filter(|_| plan.split.applies_to(ticket.group_id));
            let mut reason = self.explain(ticket, chosen, &pool, skills, group, None);
            if let Some(g) = split_group {
                reason = format!(
                    "{}; {reason}",
                    plan.split.note(g, &self.outcome.split_counts)
                );
            }
            if let Some(why) = &passed_over {
                reason = format!("{why}; {reason}");
            }
            return Ok(Pick {
                chosen,
                group,
                split_group,
                reason,
            });
        }
        Err(why_not.unwrap_or_else(|| no_agent_reason(ticket, ticket.group_id, skills_apply)))
    }

    /// The dedicated agent, else their fallback, if eligible and under their limits;
    /// otherwise why they were passed over.
    fn dedicated_pick(
        &self,
        dedication: &Dedication,
        pool: &[usize],
    ) -> Result<(usize, String), String> {
        let eligible = |agent: i64| {
            pool.iter().copied().find(|&i| {
                self.agents[i].user_id == agent
                    && under_limits(self.plan, &self.agents[i], &self.loads[i])
            })
        };
        let whose = format!("{} {}", dedication.kind, dedication.key);
        if let Some(i) = eligible(dedication.agent) {
            return Ok((i, format!("dedicated agent of {whose}")));
        }
        if let Some(i) = dedication.fallback.and_then(eligible) {
            return Ok((
                i,
                format!(
                    "fallback for {whose}: dedicated agent {} is not eligible",
                    dedication.agent
                ),
            ));
        }
        Err(format!(
            "dedicated agent {} of {whose} is not eligible{}",
            dedication.agent,
            if dedication.fallback.is_some() {
                ", nor the fallback"
            } else {
                ""
            }
        ))
    }

    /// The reason for `chosen`, routed in `group` (`lead`: the dedication's words).
    fn explain(
        &self,
        ticket: &Waiting,
        chosen: usize,
        pool: &[usize],
        skills: (bool, bool),
        group: Option<i64>,
        lead: Option<String>,
    ) -> String {
        explain(
            self.plan,
            ticket,
            chosen,
            pool,
            self.agents,
            &self.loads,
            skills,
            (group, self.outcome.pointers.get(group)),
            lead,
        )
    }

    fn take(&mut self, ticket: &Waiting, pick: Pick, now: i64) {
        let mut reason = pick.reason;
        if let Some(why) = &ticket.handed_back {
            let again = ticket
                .avoid
                .binary_search(&self.agents[pick.chosen].user_id)
                .is_ok();
            let back = if again {
                "; back to an agent it was taken from: nobody else is eligible"
            } else {
                ""
            };
            reason = format!("{why}; reassigned{back}; {reason}");
        }
        let load = &mut self.loads[pick.chosen];
        load.open += 1;
        load.today += 1;
        load.this_run += 1;
        load.last_at = now;
        let agent_id = self.agents[pick.chosen].user_id;
        if self.plan.model == Model::RoundRobin {
            self.outcome.pointers.set(pick.group, agent_id);
        }
        if let Some(group) = pick.split_group {
            *self.outcome.split_counts.entry(group).or_default() += 1;
        }
        self.outcome.assigned.push(Decision {
            ticket_id: ticket.ticket_id,
            agent_id,
            pool: pick.group,
            split_group: pick.split_group,
            set_group: pick.split_group.filter(|g| Some(*g) != ticket.group_id),
            reason,
        });
    }
}

impl Outcome {
    fn split_counts_order(&self, split: &Split) -> Vec<i64> {
        split.order(&self.split_counts)
    }
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

pub(super) fn fitting(shape: &Shape, available: &[usize], agents: &[Agent]) -> Vec<usize> {
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

pub(super) fn under_limits(plan: &Plan, agent: &Agent, load: &Load) -> bool {
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
