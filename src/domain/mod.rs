//! Domain newtypes: once a value has one of these types it is known to be well formed.
//!
//! Each type has a private field and a `parse` that is the only way in from outside.

mod agent;
mod external_id;
mod slack_ids;
mod subdomain;

pub use agent::{AgentStatus, ZendeskUserId};
pub use external_id::{ExternalId, SlackMessageRef};
pub use slack_ids::{SlackChannelId, SlackTeamId, SlackTs, SlackUserId};
pub use subdomain::Subdomain;

/// Why a value was refused; the message is safe to show (it never echoes the value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub &'static str);

/// Our id for one integration account (one Zendesk channel instance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(uuid::Uuid);

impl AccountId {
    pub fn new_random() -> Self {
        Self(uuid::Uuid::new_v4())
    }

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        uuid::Uuid::parse_str(raw)
            .map(Self)
            .map_err(|_| ParseError("not an account id"))
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.as_hyphenated().fmt(f)
    }
}
