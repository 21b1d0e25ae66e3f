//! The Zendesk webhooks and triggers slackdesk makes itself for routing, so that nobody
//! builds them by hand or types a signing secret: the route webhook with one trigger per
//! enabled trigger queue, and the same-agent webhook with its trigger on new tickets.
//!
//! ```text
//!  settings saved ─▶ sync(hook) ─▶ wanted: trigger queues on / same agent on
//!                                  ├─ none wanted: delete triggers, webhook, secret
//!                                  └─ wanted: webhook (made once; secret read from
//!                                     Zendesk and sealed), one trigger per slot;
//!                                     triggers no longer wanted deleted
//!  pages, API, home ─▶ status(hook) ─▶ present / missing in Zendesk / not made / …
//! ```
//!
//! Idempotent: what slackdesk made is kept by id (`storage::zendesk_hooks`) and asked
//! for again before anything is made, so syncing twice makes one webhook. Something
//! deleted in Zendesk is reported as missing and made again only on request
//! (`Repair::Yes`, the pages' Recreate button), never behind the admin's back. A
//! signing secret typed by hand (a webhook the admin made) is left alone until the admin
//! asks slackdesk to make its own. A lease per account and webhook keeps two admins or
//! replicas from making it twice.
//!
//! A Zendesk failure never loses settings: they are saved first; the failure's code is
//! recorded and shown with a button to try again. Only ids and codes are stored or logged.

use serde::Serialize;

use super::settings::{Hook, QueueKind};
use super::webhook::{ROUTE_PATH, SAME_AGENT_PATH};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::routing as routing_store;
use crate::storage::zendesk_hooks::{self as store, HookRow};
use crate::zendesk::connection::ConnectionError;
use crate::zendesk::webhooks::{NewTrigger, NewWebhook, WebhookId};
use crate::zendesk::{RestError, ZendeskAuth};

/// How long one sync may hold the account's lease on a webhook kind.
pub const LEASE_MS: i64 = 60_000;
/// How old Zendesk's last "it exists" may be on the public home page before it is asked
/// again (the admin pages always ask).
pub const HOME_MAX_AGE_MS: i64 = 60_000;
/// The trigger category slackdesk's triggers go into when the account has one by this
/// name (otherwise its first category, when it has any).
pub const CATEGORY_NAME: &str = "slackdesk";

/// Whether a sync may make again what was deleted in Zendesk (and replace a signing
/// secret typed by hand with one of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repair {
    No,
    Yes,
}

/// Where one webhook kind stands, as the pages and the API show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Its feature is off and nothing is made.
    NotNeeded,
    /// Made by slackdesk, and Zendesk has the webhook and every trigger.
    Present,
    /// Made by slackdesk, then deleted in Zendesk: offer to recreate.
    Missing,
    /// Needed but not (all) made: the last attempt failed, or none was made yet.
    NotMade,
    /// Needed; its signing secret was typed by hand and slackdesk made nothing.
    ByHand,
    /// No longer needed (or a trigger of a queue no longer wanted), but removing failed.
    Leftover,
    /// Made by slackdesk, but Zendesk could not be asked just now.
    Unknown,
    /// Another request is making or removing them right now.
    Busy,
}

/// What a sync changed in Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// It made a webhook or trigger (or made one again).
    Made,
    /// It removed what it had made, and made nothing.
    Removed,
}

/// One part (the webhook, or one trigger) as Zendesk last answered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Present,
    Missing,
    NotMade,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TriggerStatus {
    /// The trigger queue it routes to (null: the same-agent trigger).
    pub queue_id: Option<i64>,
    pub trigger_id: Option<i64>,
    pub state: Part,
    /// Whether it is still wanted (false: left over, to be removed).
    pub wanted: bool,
}

impl TriggerStatus {
    /// For the page: the trigger's id, or empty when it is not made.
    pub fn id_text(&self) -> String {
        self.trigger_id.map(|id| id.to_string()).unwrap_or_default()
    }

    /// For the page: the trigger queue's id, or empty for the same-agent trigger.
    pub fn queue_text(&self) -> String {
        self.queue_id.map(|id| id.to_string()).unwrap_or_default()
    }

    pub fn state_text(&self) -> &'static str {
        match (self.wanted, self.state) {
            (false, _) => "no longer needed, not removed yet",
            (true, Part::Present) => "present in Zendesk",
            (true, Part::Missing) => "missing in Zendesk (deleted there)",
            (true, Part::NotMade) => "not made yet",
            (true, Part::Unknown) => "could not be checked just now",
        }
    }
}

/// One webhook kind's status: what is wanted, what slackdesk made, what Zendesk has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookStatus {
    #[serde(skip)]
    pub hook: Hook,
    /// Whether a feature that is on needs it (same agent; at least one trigger queue).
    pub needed: bool,
    pub state: State,
    /// The URL Zendesk calls.
    pub endpoint: String,
    /// The webhook slackdesk made (null: none).
    pub webhook_id: Option<String>,
    pub webhook: Part,
    pub triggers: Vec<TriggerStatus>,
    /// Whether a signing secret is stored (never shown).
    pub secret_stored: bool,
    /// The code of the last failure making, removing or checking them (null: none).
    pub error: Option<String>,
    /// What the sync that answered this changed in Zendesk (null: nothing, or no sync).
    pub change: Option<Change>,
}

impl HookStatus {
    /// The last failure as a sentence for the pages (empty: none).
    pub fn error_text(&self) -> String {
        self.error.as_deref().map(readable).unwrap_or_default()
    }

    /// Whether the pages offer the button that syncs with [`Repair::Yes`].
    pub fn offers_repair(&self) -> bool {
        matches!(
            self.state,
            State::Missing | State::NotMade | State::ByHand | State::Leftover | State::Unknown
        )
    }

    /// That button's label.
    pub fn repair_label(&self) -> &'static str {
        match self.state {
            State::Missing => "Recreate them in Zendesk",
            State::ByHand => "Let slackdesk make its own",
            State::Leftover => "Remove them now",
            _ => "Make them now",
        }
    }

    /// The state in words.
    pub fn state_text(&self) -> &'static str {
        match self.state {
            State::NotNeeded => "not needed (its feature is off)",
            State::Present => "made by slackdesk and present in Zendesk",
            State::Missing => "missing in Zendesk (deleted there)",
            State::NotMade => "needed, not made yet",
            State::ByHand => "set up by hand (a signing secret was typed)",
            State::Leftover => "no longer needed, not removed yet",
            State::Unknown => "made by slackdesk; Zendesk could not be asked just now",
            State::Busy => "being changed in Zendesk right now; reload in a moment",
        }
    }

    pub fn title(&self) -> &'static str {
        title(self.hook)
    }

    /// The state's name as the API spells it (also the page's `data-state`).
    pub fn state_code(&self) -> &'static str {
        match self.state {
            State::NotNeeded => "not_needed",
            State::Present => "present",
            State::Missing => "missing",
            State::NotMade => "not_made",
            State::ByHand => "by_hand",
            State::Leftover => "leftover",
            State::Unknown => "unknown",
            State::Busy => "busy",
        }
    }

    /// The webhook slackdesk made, for the page (empty: none).
    pub fn webhook_text(&self) -> &str {
        self.webhook_id.as_deref().unwrap_or_default()
    }

    /// Its path segment for the Recreate form and the API.
    pub fn hook_name(&self) -> &'static str {
        self.hook.as_str()
    }
}

/// How the home page counts the accounts' webhooks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Made by slackdesk and present in Zendesk.
    pub present: i64,
    /// Made by slackdesk, deleted in Zendesk.
    pub missing: i64,
    /// Needed but not made (the last attempt failed), or left over.
    pub not_made: i64,
    /// A signing secret typed by hand, nothing made by slackdesk.
    pub by_hand: i64,
}

impl Counts {
    /// At least one webhook works and none needs the admin.
    pub fn done(&self) -> bool {
        self.present + self.by_hand > 0 && self.missing == 0 && self.not_made == 0
    }
}

/// Why making or removing them did not go through.
#[derive(Debug, thiserror::Error)]
enum HookError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("the Zendesk connection cannot be used ({0})")]
    Connection(String),
    #[error(transparent)]
    Zendesk(#[from] RestError),
    #[error("Zendesk's signing secret is not one slackdesk can use")]
    BadSecret,
}

impl From<ConnectionError> for HookError {
    fn from(error: ConnectionError) -> Self {
        match error {
            ConnectionError::Storage(e) => Self::Storage(e),
            ConnectionError::Zendesk(e) => Self::Zendesk(e),
            ConnectionError::NotConnected => Self::Connection("zendesk_not_connected".into()),
            other => Self::Connection(other.code()),
        }
    }
}

impl HookError {
    fn code(&self) -> String {
        match self {
            Self::Storage(_) => "storage".into(),
            Self::Connection(code) => code.clone(),
            Self::Zendesk(error) => error.code(),
            Self::BadSecret => "bad_signing_secret".into(),
        }
    }
}

/// A failure's code as a sentence for the pages.
pub fn readable(code: &str) -> String {
    let text = match code {
        "zendesk_not_connected" => {
            "this account's Zendesk REST API is not connected yet; connect it first"
        }
        "needs_reconnect" => "the Zendesk connection must be connected again first",
        "rate_limited" => "Zendesk asked slackdesk to slow down; try again in a minute",
        "unauthorized_401" | "unauthorized_403" => {
            "Zendesk refused: the connection must be an admin's and allowed to write \
             (OAuth scope write, or webhooks:write and triggers:write)"
        }
        "bad_response" | "bad_signing_secret" => "Zendesk's answer could not be used",
        "timeout" | "connect_error" | "transport_error" => "Zendesk could not be reached",
        other if other.starts_with("http_5") => "Zendesk was unavailable; try again in a minute",
        other if other.starts_with("rejected_") => "Zendesk rejected the request",
        _ => "it did not work",
    };
    format!("{text} ({code})")
}

/// A webhook kind's name on the pages.
pub fn title(hook: Hook) -> &'static str {
    match hook {
        Hook::Route => "Trigger queues (route webhook)",
        Hook::SameAgent => "Same agent (same-agent webhook)",
    }
}

/// The URL Zendesk calls for this kind.
pub fn endpoint(state: &AppState, subdomain: &Subdomain, hook: Hook) -> String {
    let path = match hook {
        Hook::Route => ROUTE_PATH,
        Hook::SameAgent => SAME_AGENT_PATH,
    };
    let account: String = form_urlencoded::byte_serialize(subdomain.as_str().as_bytes()).collect();
    state
        .settings
        .public_url_for(&format!("{path}?account={account}"))
}

/// The JSON body a trigger sends (`queue`: the trigger queue it routes to).
pub fn trigger_body(queue: Option<i64>) -> String {
    match queue {
        Some(id) => format!("{{\"ticket_id\": \"{{{{ticket.id}}}}\", \"queue_id\": {id}}}"),
        None => "{\"ticket_id\": \"{{ticket.id}}\"}".to_owned(),
    }
}

/// The trigger slots a kind needs now: the enabled trigger queues' ids (route), or `0`
/// while the same-agent rule is on.
async fn wanted(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<Vec<i64>, StorageError> {
    Ok(match hook {
        Hook::Route => routing_store::list_queues(&state.db, subdomain)
            .await?
            .into_iter()
            .filter(|q| q.settings.enabled && q.settings.kind == QueueKind::Trigger)
            .map(|q| q.id)
            .collect(),
        Hook::SameAgent => {
            let (settings, _) = routing_store::account_settings(&state.db, subdomain).await?;
            if settings.same_agent.enabled {
                vec![0]
            } else {
                vec![]
            }
        }
    })
}

async fn secret_stored(
    state: &AppState,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<bool, StorageError> {
    let (_, secrets) = routing_store::account_settings(&state.db, subdomain).await?;
    Ok(match hook {
        Hook::Route => secrets.route,
        Hook::SameAgent => secrets.same_agent,
    })
}

fn webhook_of(rows: &[HookRow]) -> Option<WebhookId> {
    rows.iter()
        .find(|r| r.queue_id == 0)
        .and_then(|r| r.webhook_id.as_deref())
        .and_then(|id| WebhookId::parse(id).ok())
}

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
            if let Some(trigger) = row.trigger_id {
                zendesk.delete_trigger(subdomain, &auth, trigger).await?;
                tracing::info!(subdomain = %subdomain, hook = kind, trigger_id = trigger, "Zendesk trigger removed");
                store::set_trigger(
                    &state.db,
                    subdomain,
                    hook,
                    row.queue_id,
                    None,
                    state.clock.now_ms(),
                )
                .await?;
            }
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
            for row in rows.iter().filter(|r| r.trigger_id.is_some()) {
                if let Some(trigger) = row.trigger_id {
                    zendesk.delete_trigger(subdomain, &auth, trigger).await?;
                }
                store::set_trigger(
                    &state.db,
                    subdomain,
                    hook,
                    row.queue_id,
                    None,
                    state.clock.now_ms(),
                )
                .await?;
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
        let secret = super::api::valid_secret("signing_secret", secret.expose())
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

/// The home page's counts over every account, asking Zendesk again about what was last
/// checked [`HOME_MAX_AGE_MS`] or longer ago.
pub async fn counts(state: &AppState) -> Result<Counts, StorageError> {
    let mut counts = Counts::default();
    for subdomain in store::subdomains(&state.db).await? {
        for status in statuses(state, &subdomain, HOME_MAX_AGE_MS).await? {
            match status.state {
                State::Present => counts.present += 1,
                State::Missing => counts.missing += 1,
                State::NotMade | State::Leftover => counts.not_made += 1,
                State::ByHand => counts.by_hand += 1,
                State::NotNeeded if status.secret_stored => counts.by_hand += 1,
                State::NotNeeded | State::Unknown | State::Busy => {}
            }
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_bodies_carry_zendesk_placeholders_and_the_queue() {
        let body: serde_json::Value =
            serde_json::from_str(&trigger_body(Some(7))).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            body,
            serde_json::json!({"ticket_id": "{{ticket.id}}", "queue_id": 7})
        );
        let body: serde_json::Value =
            serde_json::from_str(&trigger_body(None)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(body, serde_json::json!({"ticket_id": "{{ticket.id}}"}));
    }

    #[test]
    fn failures_read_as_sentences_with_their_code() {
        assert!(readable("http_503").contains("unavailable"));
        assert!(readable("rate_limited").ends_with("(rate_limited)"));
        assert!(readable("unauthorized_403").contains("admin"));
    }
}
