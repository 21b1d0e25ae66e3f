//! The reasons a supervisor reads in the routing log: the model's comparison, then the
//! checks the chosen agent passed, or why nobody could take the ticket.

use std::fmt::Write as _;

use super::run::{Load, under_limits};
use super::{Agent, Model, Plan, Waiting};

pub(super) fn no_agent_reason(ticket: &Waiting, group: Option<i64>, skills_apply: bool) -> String {
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
pub(super) fn explain(
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
