//! Making, fixing and removing the webhooks and triggers in Zendesk, under a lease per
//! account and webhook kind.

use crate::domain::Subdomain;
use crate::routing::settings::Hook;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::routing as routing_store;
use crate::storage::zendesk_hooks::{self as store, HookRow};
use crate::zendesk::webhooks::{NewTrigger, NewWebhook};
use crate::zendesk::{RestError, ZendeskAuth};

use super::status::status;
use super::{
    CATEGORY_NAME, Change, HookError, HookStatus, LEASE_MS, Repair, endpoint, secret_stored,
    trigger_body, wanted, webhook_of,
};

/// Brings one webhook kind in Zendesk in line with the account's settings (see the
/// module), then answers where it stands. Zendesk failures are recorded and shown in
/// the status, not returned; only the database's are.
pub async fn sync(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
    repair: Repair,
) -> Result<HookStatus, StorageError> {
    let wanted = wanted(state, subdomain, hook).await?;
    let rows = store::rows(&state.db, subdomain, hook).await?;
    if wanted.is_empty() && rows.is_empty() {
        return status(state, subdomain, hook, i64::MAX).await;
    }
    let by_hand = webhook_of(&rows).is_none() && secret_stored(state, subdomain, hook).await?;
    if !wanted.is_empty() && by_hand && repair == Repair::No {
        return status(state, subdomain, hook, i64::MAX).await;
    }
    let now = state.clock.now_ms();
    if !store::take_lease(&state.db, subdomain, hook, now, now + LEASE_MS).await? {
        return status(state, subdomain, hook, i64::MAX).await;
    }
    let before = made_ids(&rows);
    let outcome = apply(state, subdomain, hook, &wanted, repair).await;
    let error = outcome.as_ref().err().map(HookError::code);
    let now = state.clock.now_ms();
    let recorded = store::record_outcome(&state.db, subdomain, hook, error.as_deref(), now).await;
    let released = store::release_lease(&state.db, subdomain, hook).await;
    match outcome {
        Err(HookError::Storage(e)) => return Err(e),
        Err(other) => {
            tracing::warn!(subdomain = %subdomain, hook = hook.as_str(), error = %other.code(), "Zendesk webhook and trigger not brought in line");
        }
        Ok(()) => {}
    }
    recorded?;
    released?;
    let after = made_ids(&store::rows(&state.db, subdomain, hook).await?);
    let mut status = status(state, subdomain, hook, i64::MAX).await?;
    status.change = if !after.is_subset(&before) {
        Some(Change::Made)
    } else if after.is_empty() && !before.is_empty() {
        Some(Change::Removed)
    } else {
        None
    };
    Ok(status)
}

/// The ids of everything made, to tell what a sync changed.
fn made_ids(rows: &[HookRow]) -> std::collections::BTreeSet<String> {
    rows.iter()
        .flat_map(|r| {
            let webhook = r.webhook_id.as_ref().map(|w| format!("webhook {w}"));
            let trigger = r.trigger_id.map(|t| format!("trigger {t}"));
            webhook.into_iter().chain(trigger)
        })
        .collect()
}

/// After a setting that `hook` depends on was saved: [`sync`] it (nothing deleted in
/// Zendesk is made again), and answer both kinds' status, the other one as last checked.
pub async fn after_change(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<Vec<HookStatus>, StorageError> {
    let mut all = Vec::new();
    for kind in Hook::ALL {
        all.push(if kind == hook {
            sync(state, subdomain, kind, Repair::No).await?
        } else {
            status(state, subdomain, kind, i64::MAX).await?
        });
    }
    Ok(all)
}

async fn apply(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
    wanted: &[i64],
    repair: Repair,
) -> Result<(), HookError> {
    let rows = store::rows(&state.db, subdomain, hook).await?;
    let nothing_made = rows
        .iter()
        .all(|r| r.webhook_id.is_none() && r.trigger_id.is_none());
    if wanted.is_empty() && nothing_made {
        // Only the lease row of an attempt that made nothing: no need to ask Zendesk.
        store::delete_all(&state.db, subdomain, hook).await?;
        return Ok(());
    }
    let auth = state.connections.open(subdomain).await?;
    let zendesk = &state.zendesk;
    let mut webhook = webhook_of(&rows);
    let kind = hook.as_str();

    if wanted.is_empty() {
        for row in &rows {
            remove_trigger(state, subdomain, &auth, hook, row).await?;
        }
        if let Some(id) = &webhook {
            zendesk.delete_webhook(subdomain, &auth, id).await?;
            tracing::info!(subdomain = %subdomain, hook = kind, webhook_id = %id, "Zendesk webhook removed");
            routing_store::clear_webhook_secret(&state.db, subdomain, hook, state.clock.now_ms())
                .await?;
        }
        store::delete_all(&state.db, subdomain, hook).await?;
        return Ok(());
    }

    // The webhook: the one made before if Zendesk still has it.
    let mut fresh = false;
    if let Some(id) = webhook.clone() {
        let id = &id;
        let exists = zendesk.webhook_exists(subdomain, &auth, id).await?;
        store::record_check(&state.db, subdomain, hook, 0, !exists, state.clock.now_ms()).await?;
        if !exists {
            if repair == Repair::No {
                return Ok(());
            }
            // Its triggers call a webhook that is gone: they go before a new one is made.
            for row in &rows {
                remove_trigger(state, subdomain, &auth, hook, row).await?;
            }
            webhook = None;
        }
    }
    let webhook = match webhook {
        Some(id) => id,
        None => {
            let made = NewWebhook {
                name: format!("slackdesk routing: {}", kind.replace('_', " ")),
                description: format!(
                    "Made by slackdesk for {} routing; removed when the feature is turned off.",
                    subdomain.as_str()
                ),
                endpoint: endpoint(state, subdomain, hook),
            };
            let id = zendesk.create_webhook(subdomain, &auth, &made).await?;
            store::set_webhook(
                &state.db,
                subdomain,
                hook,
                Some(id.as_str()),
                state.clock.now_ms(),
            )
            .await?;
            tracing::info!(subdomain = %subdomain, hook = kind, webhook_id = %id, "Zendesk webhook made");
            fresh = true;
            id
        }
    };
    if fresh || repair == Repair::Yes || !secret_stored(state, subdomain, hook).await? {
        let secret = zendesk
            .webhook_signing_secret(subdomain, &auth, &webhook)
            .await?;
        let secret = crate::routing::api::valid_secret("signing_secret", secret.expose())
            .map_err(|_| HookError::BadSecret)?;
        routing_store::set_webhook_secret(
            &state.db,
            &state.keys,
            subdomain,
            hook,
            &secret,
            state.clock.now_ms(),
        )
        .await?;
        tracing::info!(subdomain = %subdomain, hook = kind, webhook_id = %webhook, "webhook signing secret read from Zendesk and stored");
    }

    // The triggers: one per wanted slot, calling this webhook.
    let rows = store::rows(&state.db, subdomain, hook).await?;
    let mut category: Option<Option<String>> = None;
    for &slot in wanted {
        let mut existing = rows
            .iter()
            .find(|r| r.queue_id == slot)
            .and_then(|r| r.trigger_id);
        if let Some(trigger) = existing {
            let exists = zendesk.trigger_exists(subdomain, &auth, trigger).await?;
            store::record_check(
                &state.db,
                subdomain,
                hook,
                slot,
                !exists,
                state.clock.now_ms(),
            )
            .await?;
            if !exists {
                if repair == Repair::No {
                    continue;
                }
                existing = None;
            }
        }
        if existing.is_some() {
            continue;
        }
        let category_id = match &category {
            Some(known) => known.clone(),
            None => {
                let found = category_for(state, subdomain, &auth).await?;
                category = Some(found.clone());
                found
            }
        };
        let queue = (slot != 0).then_some(slot);
        let made = NewTrigger {
            title: match queue {
                Some(id) => format!("slackdesk routing: trigger queue {id}"),
                None => "slackdesk routing: same agent".to_owned(),
            },
            description: "Made by slackdesk: calls its routing webhook for new tickets. Add \
                          conditions here to choose the tickets; slackdesk keeps them."
                .to_owned(),
            all: vec![
                serde_json::json!({"field": "update_type", "operator": "is", "value": "Create"}),
            ],
            webhook: webhook.clone(),
            body: trigger_body(queue),
            category_id,
        };
        let trigger = zendesk.create_trigger(subdomain, &auth, &made).await?;
        store::set_trigger(
            &state.db,
            subdomain,
            hook,
            slot,
            Some(trigger),
            state.clock.now_ms(),
        )
        .await?;
        tracing::info!(subdomain = %subdomain, hook = kind, queue_id = slot, trigger_id = trigger, "Zendesk trigger made");
    }

    // Triggers of queues no longer wanted (disabled, deleted, or now scheduled).
    for row in rows
        .iter()
        .filter(|r| r.queue_id != 0 && !wanted.contains(&r.queue_id))
    {
        if let Some(trigger) = row.trigger_id {
            zendesk.delete_trigger(subdomain, &auth, trigger).await?;
            tracing::info!(subdomain = %subdomain, hook = kind, queue_id = row.queue_id, trigger_id = trigger, "Zendesk trigger removed");
        }
        store::delete_row(&state.db, subdomain, hook, row.queue_id).await?;
    }
    Ok(())
}

/// Deletes the row's trigger in Zendesk, if it has one, and forgets its id.
async fn remove_trigger(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    hook: Hook,
    row: &HookRow,
) -> Result<(), HookError> {
    let Some(trigger) = row.trigger_id else {
        return Ok(());
    };
    state
        .zendesk
        .delete_trigger(subdomain, auth, trigger)
        .await?;
    tracing::info!(subdomain = %subdomain, hook = hook.as_str(), trigger_id = trigger, "Zendesk trigger removed");
    store::set_trigger(
        &state.db,
        subdomain,
        hook,
        row.queue_id,
        None,
        state.clock.now_ms(),
    )
    .await?;
    Ok(())
}

/// The category new triggers go into: none when the account has no trigger categories
/// (or cannot list them), else the one named `slackdesk`, else its first.
async fn category_for(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
) -> Result<Option<String>, HookError> {
    match state.zendesk.trigger_categories(subdomain, auth).await {
        Ok(categories) => Ok(categories
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(CATEGORY_NAME))
            .or(categories.first())
            .map(|c| c.id.clone())),
        Err(RestError::Rejected { .. } | RestError::Unauthorized { status: 403 }) => Ok(None),
        Err(other) => Err(other.into()),
    }
}
