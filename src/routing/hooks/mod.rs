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
//!
//! Files: `sync` makes and removes them in Zendesk; `status` asks Zendesk where they
//! stand and stores its answer.

mod status;
mod sync;

use serde::Serialize;

use super::settings::{Hook, QueueKind};
use super::webhook::{ROUTE_PATH, SAME_AGENT_PATH};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::routing as routing_store;
use crate::storage::zendesk_hooks::{self as store, HookRow};
use crate::zendesk::RestError;
use crate::zendesk::connection::ConnectionError;
use crate::zendesk::webhooks::WebhookId;

pub use status::{status, statuses};
pub use sync::{after_change, sync};

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
pub(super) enum HookError {
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
    pub(super) fn code(&self) -> String {
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
pub(super) async fn wanted(
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

pub(super) async fn secret_stored(
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

pub(super) fn webhook_of(rows: &[HookRow]) -> Option<WebhookId> {
    rows.iter()
        .find(|r| r.queue_id == 0)
        .and_then(|r| r.webhook_id.as_deref())
        .and_then(|id| WebhookId::parse(id).ok())
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
