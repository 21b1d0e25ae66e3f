//! Where each webhook kind stands: what was made, what Zendesk says still exists, and
//! the last failure, refreshed when older than the caller allows.

use crate::domain::Subdomain;
use crate::routing::settings::Hook;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::zendesk_hooks::{self as store, HookRow};
use crate::zendesk::connection::ConnectionError;
use crate::zendesk::webhooks::WebhookId;

use super::{
    HookError, HookStatus, Part, State, TriggerStatus, endpoint, secret_stored, wanted, webhook_of,
};

/// Where one webhook kind stands. Zendesk is asked again about what was last checked
/// `max_age_ms` or longer ago (0: always; `i64::MAX`: never), and its answer stored.
pub async fn status(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
    max_age_ms: i64,
) -> Result<HookStatus, StorageError> {
    let wanted = wanted(state, subdomain, hook).await?;
    let mut rows = store::rows(&state.db, subdomain, hook).await?;
    let secret_stored = secret_stored(state, subdomain, hook).await?;
    let now = state.clock.now_ms();
    let webhook = webhook_of(&rows);
    let mut check_error = None;
    if !wanted.is_empty() && webhook.is_some() {
        check_error = refresh(state, subdomain, hook, &mut rows, max_age_ms, now).await?;
    }
    let row0 = rows
        .iter()
        .find(|r| r.queue_id == 0)
        .cloned()
        .unwrap_or_default();
    let part = |row: Option<&HookRow>, made: bool| match row {
        _ if !made => Part::NotMade,
        Some(r) if r.checked_at.is_none() => Part::Unknown,
        Some(r) if r.missing => Part::Missing,
        Some(_) => Part::Present,
        None => Part::NotMade,
    };
    let webhook_part = part(Some(&row0), webhook.is_some());
    let mut triggers: Vec<TriggerStatus> = wanted
        .iter()
        .map(|&slot| {
            let row = rows.iter().find(|r| r.queue_id == slot);
            let trigger_id = row.and_then(|r| r.trigger_id);
            TriggerStatus {
                queue_id: (slot != 0).then_some(slot),
                trigger_id,
                state: part(row, trigger_id.is_some()),
                wanted: true,
            }
        })
        .collect();
    triggers.extend(
        rows.iter()
            .filter(|r| r.trigger_id.is_some() && !wanted.contains(&r.queue_id))
            .map(|r| TriggerStatus {
                queue_id: (r.queue_id != 0).then_some(r.queue_id),
                trigger_id: r.trigger_id,
                state: part(Some(r), true),
                wanted: false,
            }),
    );
    let made_anything = webhook.is_some() || triggers.iter().any(|t| t.trigger_id.is_some());
    let wanted_parts = || {
        std::iter::once(webhook_part).chain(triggers.iter().filter(|t| t.wanted).map(|t| t.state))
    };
    let state_now = if row0.busy_until > now {
        State::Busy
    } else if wanted.is_empty() {
        if made_anything {
            State::Leftover
        } else {
            State::NotNeeded
        }
    } else if webhook.is_none() {
        if secret_stored && !made_anything && row0.last_error.is_none() {
            State::ByHand
        } else {
            State::NotMade
        }
    } else if wanted_parts().any(|p| p == Part::Missing) {
        State::Missing
    } else if wanted_parts().any(|p| p == Part::NotMade) {
        State::NotMade
    } else if triggers.iter().any(|t| !t.wanted) {
        State::Leftover
    } else if wanted_parts().any(|p| p == Part::Unknown) {
        State::Unknown
    } else {
        State::Present
    };
    Ok(HookStatus {
        hook,
        needed: !wanted.is_empty(),
        state: state_now,
        endpoint: endpoint(state, subdomain, hook),
        webhook_id: webhook.map(|w| w.as_str().to_owned()),
        webhook: webhook_part,
        triggers,
        secret_stored,
        error: row0.last_error.or(check_error),
        change: None,
    })
}

/// Both kinds' status (see [`status`]).
pub async fn statuses(
    state: &AppState,
    subdomain: &Subdomain,
    max_age_ms: i64,
) -> Result<Vec<HookStatus>, StorageError> {
    let mut all = Vec::new();
    for hook in Hook::ALL {
        all.push(status(state, subdomain, hook, max_age_ms).await?);
    }
    Ok(all)
}

/// Asks Zendesk whether the webhook and triggers checked too long ago still exist and
/// stores the answers; answers the code of a failure to ask (then they stay unknown).
async fn refresh(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
    rows: &mut [HookRow],
    max_age_ms: i64,
    now: i64,
) -> Result<Option<String>, StorageError> {
    let stale = |r: &HookRow| {
        r.checked_at
            .is_none_or(|at| now.saturating_sub(at) >= max_age_ms)
    };
    if !rows
        .iter()
        .any(|r| (r.webhook_id.is_some() || r.trigger_id.is_some()) && stale(r))
    {
        return Ok(None);
    }
    let auth = match state.connections.open(subdomain).await {
        Ok(auth) => auth,
        Err(ConnectionError::Storage(e)) => return Err(e),
        Err(error) => {
            for row in rows.iter_mut().filter(|r| stale(r)) {
                row.checked_at = None;
            }
            return Ok(Some(HookError::from(error).code()));
        }
    };
    for row in rows.iter_mut().filter(|r| stale(r)) {
        let answer = if let Some(id) = row
            .webhook_id
            .as_deref()
            .and_then(|id| WebhookId::parse(id).ok())
        {
            match state.zendesk.webhook_exists(subdomain, &auth, &id).await {
                Ok(false) => Ok(false),
                Ok(true) => match row.trigger_id {
                    // Row 0 of the same-agent kind holds its trigger too: both must exist.
                    Some(trigger) => {
                        state
                            .zendesk
                            .trigger_exists(subdomain, &auth, trigger)
                            .await
                    }
                    None => Ok(true),
                },
                Err(e) => Err(e),
            }
        } else if let Some(trigger) = row.trigger_id {
            state
                .zendesk
                .trigger_exists(subdomain, &auth, trigger)
                .await
        } else {
            continue;
        };
        match answer {
            Ok(exists) => {
                store::record_check(&state.db, subdomain, hook, row.queue_id, !exists, now).await?;
                row.checked_at = Some(now);
                row.missing = !exists;
            }
            Err(error) => {
                tracing::info!(subdomain = %subdomain, hook = hook.as_str(), error = %error.code(), "could not ask Zendesk whether the webhook exists");
                row.checked_at = None;
                return Ok(Some(error.code()));
            }
        }
    }
    Ok(None)
}
