//! An account's optional status rules, each off until an admin turns it on
//! (`slackdesk statuses rules`):
//!
//! - automatic idle: an `online` agent with no status change and no activity (a status
//!   call or app heartbeat) for N minutes (30 to 1440) becomes `away`;
//! - out of office: when an agent leaves `online` their unsolved tickets get a tag (e.g.
//!   `agent_ooo`) so Zendesk triggers can unassign them; coming back removes it;
//! - schedules: an agent given a Zendesk business-hours schedule goes `online` when a
//!   shift starts and `offline` when it ends, in the schedule's time zone, holidays off.
//!
//! [`run_once`] applies idle and schedules for every account; the rules worker calls it
//! every minute and tests call it after moving the clock.

use super::rules::{Applied, apply_changes};
use super::schedule::Schedule;
use crate::domain::{AgentStatus, ParseError, Subdomain};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::status_rules::{self, Rules, StoredSchedule};
use crate::storage::statuses::{self, Source};
use crate::zendesk::ZendeskAuth;

/// Checks an idle delay: 30 to 1440 minutes.
pub fn idle_minutes(raw: i64) -> Result<i64, ParseError> {
    if (30..=1440).contains(&raw) {
        Ok(raw)
    } else {
        Err(ParseError("idle minutes must be 30 to 1440"))
    }
}

/// Checks a ticket tag: 1 to 80 of lower-case letters, digits, `_`, `-`, `:`, `/`.
pub fn ticket_tag(raw: &str) -> Result<String, ParseError> {
    let ok = !raw.is_empty()
        && raw.len() <= 80
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-:/".contains(&b));
    if ok {
        Ok(raw.to_owned())
    } else {
        Err(ParseError(
            "tag must be 1 to 80 lower-case letters, digits, _ - : /",
        ))
    }
}

/// What one round of the rules did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RulesRound {
    pub idled: usize,
    pub scheduled: usize,
}

/// Applies automatic idle and schedules for every account that has them on.
pub async fn run_once(state: &AppState) -> Result<RulesRound, StorageError> {
    let mut round = RulesRound::default();
    for subdomain in status_rules::accounts_with_rules(&state.db).await? {
        let rules = status_rules::find(&state.db, &subdomain).await?;
        if let Some(minutes) = rules.idle_minutes {
            round.idled += idle(state, &subdomain, minutes).await?;
        }
        if rules.schedules_enabled {
            round.scheduled += schedules(state, &subdomain, &rules).await?;
        }
    }
    Ok(round)
}

async fn idle(
    state: &AppState,
    subdomain: &Subdomain,
    minutes: i64,
) -> Result<usize, StorageError> {
    let cutoff = state.clock.now_ms() - minutes * 60_000;
    let idle = statuses::idle_online(&state.db, subdomain, cutoff).await?;
    if idle.is_empty() {
        return Ok(0);
    }
    let items: Vec<_> = idle.into_iter().map(|id| (id, AgentStatus::Away)).collect();
    let applied = apply_changes(state, subdomain, &items, None, Source::Idle, &[]).await?;
    tracing::info!(subdomain = %subdomain, agents = applied.len(), "idle agents set away");
    Ok(applied.len())
}

async fn schedules(
    state: &AppState,
    subdomain: &Subdomain,
    rules: &Rules,
) -> Result<usize, StorageError> {
    let now = state.clock.now_ms();
    let Some(from) = rules.schedules_checked_at else {
        // First round: start from now, never replay the past.
        status_rules::set_schedules_checked(&state.db, subdomain, now).await?;
        return Ok(0);
    };
    let mut items = Vec::new();
    for (agent, stored) in status_rules::scheduled_agents(&state.db, subdomain).await? {
        let schedule = match Schedule::from_stored(
            &stored.time_zone,
            &stored.intervals,
            &stored.holidays,
        ) {
            Ok(schedule) => schedule,
            Err(_) => {
                tracing::warn!(subdomain = %subdomain, schedule_id = stored.schedule_id, "schedule unusable");
                continue;
            }
        };
        // Only the latest boundary counts when several passed (e.g. after downtime).
        if let Some((_, status)) = schedule.boundaries(from, now).last() {
            items.push((agent, *status));
        }
    }
    let applied = if items.is_empty() {
        Vec::new()
    } else {
        apply_changes(state, subdomain, &items, None, Source::Schedule, &[]).await?
    };
    status_rules::set_schedules_checked(&state.db, subdomain, now).await?;
    Ok(applied.len())
}

/// The out-of-office rule, after a change is committed: tags in the background.
pub async fn after_change(state: &AppState, subdomain: &Subdomain, applied: &[Applied]) {
    let moves: Vec<(crate::domain::ZendeskUserId, bool)> = applied
        .iter()
        .filter_map(|a| {
            let was_online = a.previous == Some(AgentStatus::Online);
            let is_online = a.status == AgentStatus::Online;
            match (was_online, is_online) {
                (true, false) => Some((a.user_id, true)),
                (false, true) if a.previous.is_some() => Some((a.user_id, false)),
                _ => None,
            }
        })
        .collect();
    if moves.is_empty() {
        return;
    }
    let tag = match status_rules::find(&state.db, subdomain).await {
        Ok(Rules {
            ooo_tag: Some(tag), ..
        }) => tag,
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(subdomain = %subdomain, error = %error, "out-of-office rule not read");
            return;
        }
    };
    let state = state.clone();
    let subdomain = subdomain.clone();
    tokio::spawn(async move {
        let auth = match state.connections.open(&subdomain).await {
            Ok(auth) => auth,
            Err(error) => {
                tracing::warn!(subdomain = %subdomain, error = %error, "out-of-office tags skipped");
                return;
            }
        };
        for (agent, add) in moves {
            if let Err(code) = retag_agent(&state, &subdomain, &auth, agent, &tag, add).await {
                tracing::warn!(subdomain = %subdomain, user_id = agent.get(), code = %code, "out-of-office tagging failed");
            }
        }
    });
}

async fn retag_agent(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    agent: crate::domain::ZendeskUserId,
    tag: &str,
    add: bool,
) -> Result<(), String> {
    let tickets = state
        .zendesk
        .unsolved_assigned(subdomain, auth, agent)
        .await
        .map_err(|e| e.code())?;
    for chunk in tickets.chunks(100) {
        state
            .zendesk
            .retag(subdomain, auth, chunk, tag, add)
            .await
            .map_err(|e| e.code())?;
    }
    tracing::info!(subdomain = %subdomain, user_id = agent.get(), tickets = tickets.len(), add, "out-of-office tags updated");
    Ok(())
}

/// Reads the account's business-hours schedules and their holidays from Zendesk. An
/// account without business hours (403/404) has none; a schedule whose time zone is neither
/// an IANA name nor a known Zendesk name is skipped and logged.
pub async fn sync_schedules(state: &AppState, subdomain: &Subdomain, auth: &ZendeskAuth) -> usize {
    let list = match state.zendesk.schedules(subdomain, auth).await {
        Ok(list) => list,
        Err(error) => {
            tracing::info!(subdomain = %subdomain, code = %error.code(), "no business-hours schedules read");
            return 0;
        }
    };
    let now = state.clock.now_ms();
    let mut saved = 0;
    for zendesk_schedule in list {
        let holidays = match state
            .zendesk
            .holidays(subdomain, auth, zendesk_schedule.id)
            .await
        {
            Ok(holidays) => holidays,
            Err(error) => {
                tracing::warn!(subdomain = %subdomain, schedule_id = zendesk_schedule.id, code = %error.code(), "holidays not read");
                continue;
            }
        };
        let dates: Vec<_> = holidays
            .iter()
            .filter_map(|h| Some((h.start_date.parse().ok()?, h.end_date.parse().ok()?)))
            .collect();
        let intervals: Vec<_> = zendesk_schedule
            .intervals
            .iter()
            .map(|i| (i.start_time, i.end_time))
            .collect();
        let Ok(schedule) = Schedule::new(&zendesk_schedule.time_zone, &intervals, &dates) else {
            tracing::warn!(subdomain = %subdomain, schedule_id = zendesk_schedule.id, "schedule skipped: time zone or intervals not usable");
            continue;
        };
        let stored = StoredSchedule {
            schedule_id: zendesk_schedule.id,
            time_zone: schedule.time_zone().to_owned(),
            intervals: schedule.stored_intervals(),
            holidays: schedule.stored_holidays(),
        };
        match status_rules::save_schedule(&state.db, subdomain, &stored, now).await {
            Ok(()) => saved += 1,
            Err(error) => {
                tracing::warn!(subdomain = %subdomain, error = %error, "schedule not saved");
            }
        }
    }
    saved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_delays_and_tags_are_checked() {
        assert_eq!(idle_minutes(30), Ok(30));
        assert_eq!(idle_minutes(1440), Ok(1440));
        assert!(idle_minutes(29).is_err() && idle_minutes(1441).is_err());
        assert_eq!(ticket_tag("agent_ooo").as_deref(), Ok("agent_ooo"));
        for bad in ["", "Agent", "a b", &"x".repeat(81)] {
            assert!(ticket_tag(bad).is_err(), "{bad:?}");
        }
    }
}
