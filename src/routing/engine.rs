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
use std::rc::Rc;

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

/// A queue's split of its tickets between groups by weight, with how many tickets each
/// group got so far, so the ratio holds over time. Applies to tickets without a group
/// or already in one of the split's groups.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// (group id, weight), in the admin's order.
    pub weights: Vec<(i64, i64)>,
    /// Tickets each group got under the split so far.
    pub counts: BTreeMap<i64, i64>,
}

impl Split {
    pub fn is_on(&self) -> bool {
        !self.weights.is_empty()
    }

    fn applies_to(&self, group: Option<i64>) -> bool {
        self.is_on() && group.is_none_or(|g| self.weights.iter().any(|(id, _)| *id == g))
    }

    /// The groups, the one furthest behind its share first (ties: the admin's order).
    /// Behind = weight × (total + 1) − count × total weight, in integers.
    fn order(&self, counts: &BTreeMap<i64, i64>) -> Vec<i64> {
        let total: i64 = self
            .weights
            .iter()
            .map(|(g, _)| counts.get(g).copied().unwrap_or(0))
            .sum();
        let weight_sum: i64 = self.weights.iter().map(|(_, w)| *w).sum();
        let mut order: Vec<(i64, usize, i64)> = self
            .weights
            .iter()
            .enumerate()
            .map(|(at, (g, w))| {
                let got = counts.get(g).copied().unwrap_or(0);
                (w * (total + 1) - got * weight_sum, at, *g)
            })
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        order.into_iter().map(|(_, _, g)| g).collect()
    }

    /// The words for the log: the ratio and where the chosen group stands.
    fn note(&self, group: i64, counts: &BTreeMap<i64, i64>) -> String {
        let ratio = self
            .weights
            .iter()
            .map(|(_, w)| w.to_string())
            .collect::<Vec<_>>()
            .join("/");
        let total: i64 = self
            .weights
            .iter()
            .map(|(g, _)| counts.get(g).copied().unwrap_or(0))
            .sum();
        let got = counts.get(&group).copied().unwrap_or(0);
        format!("split {ratio}: group {group}'s turn ({got} of {total} so far)")
    }

    /// Reads the stored counts `"group:count,..."`; bad parts are dropped.
    pub fn parse_counts(stored: &str) -> BTreeMap<i64, i64> {
        stored
            .split(',')
            .filter_map(|pair| {
                let (g, n) = pair.split_once(':')?;
                Some((g.parse().ok()?, n.parse().ok()?))
            })
            .collect()
    }

    pub fn counts_to_stored(counts: &BTreeMap<i64, i64>) -> String {
        counts
            .iter()
            .map(|(g, n)| format!("{g}:{n}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Who a dedicated agent is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DedicatedTo {
    Organization,
    Requester,
}

impl DedicatedTo {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organization => "organization",
            Self::Requester => "requester",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "organization" => Some(Self::Organization),
            "requester" => Some(Self::Requester),
            _ => None,
        }
    }
}

impl std::fmt::Display for DedicatedTo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One dedication: the organization's or requester's agent, and who takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dedication {
    pub kind: DedicatedTo,
    pub key: i64,
    pub agent: i64,
    pub fallback: Option<i64>,
}

/// The account's dedicated agents, by requester and by organization.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dedicated {
    pub by_requester: HashMap<i64, Dedication>,
    pub by_organization: HashMap<i64, Dedication>,
}

impl Dedicated {
    pub fn from_list(list: impl IntoIterator<Item = Dedication>) -> Self {
        let mut dedicated = Self::default();
        for d in list {
            match d.kind {
                DedicatedTo::Requester => dedicated.by_requester.insert(d.key, d),
                DedicatedTo::Organization => dedicated.by_organization.insert(d.key, d),
            };
        }
        dedicated
    }

    /// The requester's dedication, else the organization's.
    fn for_ticket(&self, ticket: &Waiting) -> Option<Dedication> {
        ticket
            .requester_id
            .and_then(|r| self.by_requester.get(&r))
            .or_else(|| {
                ticket
                    .organization_id
                    .and_then(|o| self.by_organization.get(&o))
            })
            .copied()
    }
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
    let mut run = Run {
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
    };
    for ticket in tickets {
        match run.pick(ticket, now) {
            Ok(pick) => run.take(ticket, pick, now),
            Err(why) => run.outcome.waiting.push((ticket.ticket_id, why)),
        }
    }
    run.outcome
}

/// One decision's working state: the loads and pools as tickets are handed out.
struct Run<'a> {
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

impl Run<'_> {
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
                    let reason = self.explain(ticket, chosen, &pool, skills, Some(lead));
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
            let mut reason = self.explain_in(ticket, chosen, &pool, skills, group);
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

    fn explain(
        &self,
        ticket: &Waiting,
        chosen: usize,
        pool: &[usize],
        skills: (bool, bool),
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
            (ticket.group_id, self.outcome.pointers.get(ticket.group_id)),
            lead,
        )
    }

    fn explain_in(
        &self,
        ticket: &Waiting,
        chosen: usize,
        pool: &[usize],
        skills: (bool, bool),
        group: Option<i64>,
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
            None,
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

fn no_agent_reason(ticket: &Waiting, group: Option<i64>, skills_apply: bool) -> String {
    let mut why = String::from("no agent is online and in schedule");
    if let Some(group) = group {
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
    (group, pointer): (Option<i64>, i64),
    lead: Option<String>,
) -> String {
    let agent = &agents[chosen];
    let load = &loads[chosen];
    let mut reason = match (lead, plan.model) {
        (Some(lead), _) => lead,
        (None, Model::RoundRobin) => {
            format!(
                "round robin: next in rotation after agent {} among {} eligible",
                pointer_label(pointer, agents[chosen].user_id),
                pool.len()
            )
        }
        (None, Model::LeastActive | Model::Skills) => {
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
    if let Some(group) = group {
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
            requester_id: None,
            organization_id: None,
        }
    }

    fn plan(model: Model) -> Plan {
        Plan {
            model,
            batch_size: 100,
            use_sla: false,
            skills_timeout_ms: None,
            pointers: Pointers::default(),
            split: Split::default(),
            dedicated: Dedicated::default(),
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
    fn a_split_keeps_its_ratio_over_runs_and_moves_tickets_to_the_group() {
        let member = |id: i64, group: i64| Agent {
            groups: vec![group],
            ..agent(id)
        };
        let agents = [member(1, 10), member(2, 20)];
        let mut p = plan(Model::RoundRobin);
        p.split.weights = vec![(10, 75), (20, 25)];
        let mut per_group = BTreeMap::new();
        for run in 0..4 {
            let tickets: Vec<Waiting> = (1..=10).map(|i| ticket(run * 10 + i)).collect();
            let outcome = decide(&p, &tickets, &agents, 0);
            for d in &outcome.assigned {
                assert_eq!(d.set_group, d.split_group, "moved to the split's group");
                *per_group.entry(d.split_group.unwrap()).or_insert(0) += 1;
            }
            p.split.counts = outcome.split_counts;
        }
        assert_eq!(
            per_group,
            BTreeMap::from([(10, 30), (20, 10)]),
            "75/25 over 40 tickets"
        );
        let one = decide(&p, &[ticket(99)], &agents, 0);
        assert!(
            one.assigned[0]
                .reason
                .starts_with("split 75/25: group 10's turn (30 of 40 so far); round robin"),
            "{}",
            one.assigned[0].reason
        );
    }

    #[test]
    fn a_split_group_with_nobody_eligible_gives_its_turn_to_the_next() {
        let member = |id: i64, group: i64| Agent {
            groups: vec![group],
            ..agent(id)
        };
        let mut away = member(1, 10);
        away.online = false;
        let mut p = plan(Model::LeastActive);
        p.split.weights = vec![(10, 75), (20, 25)];
        let outcome = decide(&p, &[ticket(1), ticket(2)], &[away, member(2, 20)], 0);
        assert_eq!(winners(&outcome), vec![(1, 2), (2, 2)]);
        // A ticket in a group outside the split is routed in its own group, unmoved.
        let mut other = ticket(3);
        other.group_id = Some(30);
        let outcome = decide(&p, &[other], &[member(3, 30)], 0);
        assert_eq!(winners(&outcome), vec![(3, 3)]);
        assert_eq!(outcome.assigned[0].set_group, None);
    }

    #[test]
    fn a_dedicated_agent_comes_first_then_the_fallback_then_the_model() {
        let mut t = ticket(1);
        t.requester_id = Some(500);
        t.organization_id = Some(77);
        let mut p = plan(Model::LeastActive);
        p.dedicated = Dedicated::from_list([Dedication {
            kind: DedicatedTo::Organization,
            key: 77,
            agent: 3,
            fallback: Some(2),
        }]);
        let mut busy = agent(3);
        busy.open_tickets = 9;
        let outcome = decide(&p, &[t.clone()], &[agent(1), agent(2), busy.clone()], 0);
        assert_eq!(winners(&outcome), vec![(1, 3)]);
        assert!(
            outcome.assigned[0]
                .reason
                .starts_with("dedicated agent of organization 77; online"),
            "{}",
            outcome.assigned[0].reason
        );
        busy.online = false;
        let outcome = decide(&p, &[t.clone()], &[agent(1), agent(2), busy.clone()], 0);
        assert_eq!(winners(&outcome), vec![(1, 2)]);
        assert!(
            outcome.assigned[0]
                .reason
                .starts_with("fallback for organization 77: dedicated agent 3 is not eligible")
        );
        let outcome = decide(&p, &[t], &[agent(1), busy], 0);
        assert_eq!(winners(&outcome), vec![(1, 1)]);
        assert!(
            outcome.assigned[0].reason.starts_with(
                "dedicated agent 3 of organization 77 is not eligible, nor the fallback; least active"
            ),
            "{}",
            outcome.assigned[0].reason
        );
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
