//! Zendesk agents as the status API sees them: their 64-bit user id and their status.

use super::ParseError;

/// A Zendesk user id: a positive 64-bit integer, kept exact (never through a float).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ZendeskUserId(i64);

impl ZendeskUserId {
    pub fn new(raw: i64) -> Result<Self, ParseError> {
        if raw > 0 {
            Ok(Self(raw))
        } else {
            Err(ParseError("must be a positive Zendesk user id"))
        }
    }

    /// Parses the decimal form used in paths and on the command line.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let value: i64 = raw
            .trim()
            .parse()
            .map_err(|_| ParseError("must be a positive 64-bit integer"))?;
        Self::new(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for ZendeskUserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An agent's status. `Invisible` is a custom status that routes like `Offline`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentStatus {
    Online,
    Away,
    Offline,
    Invisible,
}

impl AgentStatus {
    pub const ALL: [Self; 4] = [Self::Online, Self::Away, Self::Offline, Self::Invisible];

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            "offline" => Ok(Self::Offline),
            "invisible" => Ok(Self::Invisible),
            _ => Err(ParseError(
                "must be one of online, away, offline, invisible",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
            Self::Invisible => "invisible",
        }
    }

    /// Whether routing may hand this agent tickets.
    pub fn receives_tickets(self) -> bool {
        self == Self::Online
    }
}

impl serde::Serialize for AgentStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl serde::Serialize for ZendeskUserId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_are_positive_and_exact_above_two_to_the_53() {
        let big = ZendeskUserId::parse("9007199254740993").map(ZendeskUserId::get);
        assert_eq!(big, Ok(9_007_199_254_740_993));
        assert_eq!(
            serde_json::to_string(&ZendeskUserId::new(9_007_199_254_740_993).ok()).ok(),
            Some("9007199254740993".to_owned())
        );
        for bad in ["0", "-4", "1.5", "", "abc", "9223372036854775808"] {
            assert!(
                ZendeskUserId::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn statuses_round_trip_and_only_online_routes() {
        for status in AgentStatus::ALL {
            assert_eq!(AgentStatus::parse(status.as_str()), Ok(status));
        }
        assert!(AgentStatus::parse("Online").is_err());
        assert!(AgentStatus::parse("busy").is_err());
        assert!(AgentStatus::Online.receives_tickets());
        assert!(!AgentStatus::Invisible.receives_tickets());
        assert!(!AgentStatus::Away.receives_tickets());
    }
}
