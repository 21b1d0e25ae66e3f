//! The same-agent rule: when a requester opens a new ticket and their previous tickets
//! within the window were all with one agent, that agent gets it, optionally only when
//! online (and in schedule) and under their limits. Otherwise the ticket is left for the
//! queues.

use super::run::{CLAIM_MS, RunError, gather_agents, patiently};
use super::write::{self, Audit, WriteReport};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::routing::{self as store, NewAssignment};
use crate::zendesk::TicketState;

/// What the rule decided for one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Assigned {
        agent_id: i64,
        write: WriteReport,
    },
    /// Left for the queues, with why.
    Left(String),
}

/// The agent all of `previous` (the requester's other tickets in the window) were with.
pub fn single_agent(ticket: &TicketState, previous: &[TicketState]) -> Option<(i64, usize)> {
    let earlier: Vec<&TicketState> = previous
        .iter()
        .filter(|t| t.id != ticket.id && t.created_at <= ticket.created_at)
        .collect();
    let first = earlier.first()?.assignee_id?;
    earlier
        .iter()
        .all(|t| t.assignee_id == Some(first))
        .then_some((first, earlier.len()))
}

/// Applies the rule to one new ticket.
pub async fn handle(
    state: &AppState,
    subdomain: &Subdomain,
    ticket_id: i64,
) -> Result<Verdict, RunError> {
    let (settings, _) = store::account_settings(&state.db, subdomain).await?;
    let rule = &settings.same_agent;
    if !rule.enabled {
        return Ok(Verdict::Left("the same-agent rule is off".into()));
    }
    let auth = state.connections.open(subdomain).await?;
    let now = state.clock.now_ms();
    let audit = Audit {
        tag: rule.tag.clone(),
        field: None,
    };
    write::resume_pending(state, &auth, subdomain, None, now - CLAIM_MS, &audit).await?;
    let ids = [ticket_id];
    let Some(ticket) = patiently(|| state.zendesk.tickets_by_id(subdomain, &auth, &ids))
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Verdict::Left("ticket not found".into()));
    };
    if !ticket.is_routable() {
        return Ok(Verdict::Left(
            "ticket is assigned or no longer new or open".into(),
        ));
    }
    let Some(requester) = ticket.requester_id else {
        return Ok(Verdict::Left("ticket has no requester".into()));
    };
    let since = ticket.created_at - rule.window_hours * 3_600_000;
    let previous = patiently(|| {
        state
            .zendesk
            .requested_tickets(subdomain, &auth, requester, since, ticket_id)
    })
    .await?;
    let Some((agent_id, count)) = single_agent(&ticket, &previous) else {
        return Ok(Verdict::Left(format!(
            "the requester's tickets in the last {} hours were not all with one agent",
            rule.window_hours
        )));
    };
    let agents = gather_agents(state, subdomain, &settings, now).await?;
    let Some(agent) = agents.iter().find(|a| a.user_id == agent_id) else {
        return Ok(Verdict::Left(format!(
            "agent {agent_id} is no longer an active agent"
        )));
    };
    let mut reason = format!(
        "same agent: the requester's {count} previous ticket(s) in the last {} hours were with agent {agent_id}",
        rule.window_hours
    );
    if rule.only_online {
        if !agent.online || agent.in_schedule == Some(false) {
            return Ok(Verdict::Left(format!(
                "agent {agent_id} is not online and in schedule"
            )));
        }
        reason.push_str("; online");
    }
    if rule.within_limits {
        let inbox_ok = agent.inbox_limit.is_none_or(|l| agent.open_tickets < l);
        let daily_ok = agent.daily_limit.is_none_or(|l| agent.assigned_today < l);
        if !inbox_ok || !daily_ok {
            return Ok(Verdict::Left(format!("agent {agent_id} is at a limit")));
        }
        if let Some(limit) = agent.inbox_limit {
            reason.push_str(&format!("; inbox {}/{limit}", agent.open_tickets + 1));
        }
    }
    let decision = NewAssignment {
        ticket_id,
        agent_id,
        reason,
        stamp: ticket.updated_stamp.clone(),
        set_group_id: None,
    };
    let logged = store::claim_and_log(
        &state.db,
        subdomain,
        store::Claimer::SameAgent,
        "same_agent",
        &[decision],
        now,
        CLAIM_MS,
    )
    .await?
    .unwrap_or_default();
    if logged.is_empty() {
        return Ok(Verdict::Left("another routing run holds the ticket".into()));
    }
    let write = write::write_back(state, &auth, &logged, &audit).await?;
    Ok(Verdict::Assigned { agent_id, write })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket(id: i64, created_at: i64, assignee: Option<i64>) -> TicketState {
        TicketState {
            id,
            status: "solved".into(),
            priority: None,
            assignee_id: assignee,
            group_id: None,
            requester_id: Some(5),
            organization_id: None,
            created_at,
            updated_at: created_at,
            updated_stamp: String::new(),
            sla_breach_at: None,
        }
    }

    #[test]
    fn all_previous_tickets_must_be_with_the_same_agent() {
        let new = ticket(10, 100, None);
        assert_eq!(
            single_agent(
                &new,
                &[new.clone(), ticket(9, 90, Some(7)), ticket(8, 80, Some(7))]
            ),
            Some((7, 2))
        );
        assert_eq!(
            single_agent(&new, &[ticket(9, 90, Some(7)), ticket(8, 80, Some(6))]),
            None
        );
        assert_eq!(single_agent(&new, &[ticket(9, 90, None)]), None);
        assert_eq!(single_agent(&new, std::slice::from_ref(&new)), None);
    }
}
