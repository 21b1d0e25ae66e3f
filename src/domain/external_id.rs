//! External ids: the ids Zendesk knows our resources by.
//!
//! They are deterministic, so re-sending a message never makes a second comment:
//! `slack:{team}:{channel}:{ts}` names a Slack message, with an optional suffix for a
//! derived resource (`…:edit:{edit_ts}`, `…:deleted`). Clickthrough decodes them back
//! into the Slack message they name.

use super::{ParseError, SlackChannelId, SlackTeamId, SlackTs};

/// Any external id Zendesk may send us: 1 to 255 printable ASCII characters, no spaces
/// at the edges (SPEC 1.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId(String);

impl ExternalId {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let printable = raw.bytes().all(|b| (0x21..0x7f).contains(&b) || b == b' ');
        if raw.is_empty() || raw.len() > 255 {
            return Err(ParseError("external id must be 1 to 255 characters"));
        }
        if !printable || raw.trim() != raw {
            return Err(ParseError(
                "external id must be printable ASCII without edge spaces",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Slack message this id names, when it is one of ours.
    pub fn slack_message(&self) -> Option<SlackMessageRef> {
        SlackMessageRef::from_external_id(&self.0)
    }
}

impl std::fmt::Display for ExternalId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One Slack message, by ids only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlackMessageRef {
    pub team: SlackTeamId,
    pub channel: SlackChannelId,
    pub ts: SlackTs,
}

impl SlackMessageRef {
    /// `slack:{team}:{channel}:{ts}`.
    pub fn external_id(&self) -> ExternalId {
        ExternalId(format!("slack:{}:{}:{}", self.team, self.channel, self.ts))
    }

    /// The id of a resource derived from this message, such as an edit.
    pub fn derived_external_id(&self, suffix: &str) -> ExternalId {
        ExternalId(format!("{}:{suffix}", self.external_id().0))
    }

    fn from_external_id(raw: &str) -> Option<Self> {
        let mut parts = raw.split(':');
        if parts.next()? != "slack" {
            return None;
        }
        let team = SlackTeamId::parse(parts.next()?).ok()?;
        let channel = SlackChannelId::parse(parts.next()?).ok()?;
        let ts = SlackTs::parse(parts.next()?).ok()?;
        Some(Self { team, channel, ts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message() -> SlackMessageRef {
        SlackMessageRef {
            team: SlackTeamId::parse("T1").unwrap_or_else(|e| panic!("{e}")),
            channel: SlackChannelId::parse("C2").unwrap_or_else(|e| panic!("{e}")),
            ts: SlackTs::parse("1700000000.000100").unwrap_or_else(|e| panic!("{e}")),
        }
    }

    #[test]
    fn message_ids_round_trip() {
        let id = message().external_id();
        assert_eq!(id.as_str(), "slack:T1:C2:1700000000.000100");
        assert_eq!(id.slack_message(), Some(message()));
    }

    #[test]
    fn derived_ids_still_name_their_message() {
        let id = message().derived_external_id("edit:1700000001.000000");
        assert_eq!(id.slack_message(), Some(message()));
    }

    #[test]
    fn foreign_or_malformed_ids_name_no_message() {
        for raw in [
            "zendesk:1",
            "slack:T1:C2",
            "slack:T1:C2:bad",
            "slack:x:C2:1.000001",
        ] {
            let id = ExternalId::parse(raw).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(id.slack_message(), None, "{raw}");
        }
    }

    #[test]
    fn external_ids_refuse_control_chars_and_edges() {
        assert!(ExternalId::parse(" x").is_err());
        assert!(ExternalId::parse("a\nb").is_err());
        assert!(ExternalId::parse(&"a".repeat(256)).is_err());
        assert!(ExternalId::parse("é").is_err());
    }
}
