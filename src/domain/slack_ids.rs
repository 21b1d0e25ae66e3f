//! Slack's ids: team (`T…`), channel (`C…`, `G…`, `D…`), user (`U…`, `W…`, `B…`) and
//! message timestamps (`1700000000.000100`).

use super::ParseError;

fn is_slack_id(raw: &str, prefixes: &[u8]) -> bool {
    let bytes = raw.as_bytes();
    (2..=32).contains(&bytes.len())
        && prefixes.contains(&bytes[0])
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

macro_rules! slack_id {
    ($(#[$doc:meta])* $name:ident, $prefixes:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, ParseError> {
                if is_slack_id(raw, $prefixes) {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(ParseError(concat!("not a Slack ", $what, " id")))
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slack_id!(
    /// A Slack workspace (`T…`; Enterprise Grid organisations use `E…`).
    SlackTeamId, b"TE", "team"
);
slack_id!(
    /// A Slack conversation: public (`C…`), private (`G…`) or direct (`D…`).
    SlackChannelId, b"CGD", "channel"
);
slack_id!(
    /// A Slack user or bot user.
    SlackUserId, b"UWB", "user"
);

/// A message timestamp: seconds, a dot, six digits. It is the message's id in its channel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlackTs(String);

impl SlackTs {
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let Some((secs, micros)) = raw.split_once('.') else {
            return Err(ParseError("not a Slack message ts"));
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if digits(secs) && secs.len() <= 12 && digits(micros) && micros.len() == 6 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ParseError("not a Slack message ts"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The message's time in unix microseconds (Slack's clock). `parse` guarantees at most
    /// 12 digits of seconds and 6 of microseconds, so this cannot overflow.
    pub fn unix_micros(&self) -> i64 {
        let (secs, micros) = self.0.split_once('.').unwrap_or((self.0.as_str(), "0"));
        secs.parse::<i64>().unwrap_or(0) * 1_000_000 + micros.parse::<i64>().unwrap_or(0)
    }

    /// The message's time in unix milliseconds.
    pub fn unix_millis(&self) -> i64 {
        self.unix_micros() / 1000
    }

    /// The `p…` form Slack uses in message links (the dot removed).
    pub fn as_link_fragment(&self) -> String {
        format!("p{}", self.0.replace('.', ""))
    }
}

impl std::fmt::Display for SlackTs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_need_their_prefix_and_upper_case_alphanumerics() {
        assert!(SlackTeamId::parse("T0123ABC").is_ok());
        assert!(SlackTeamId::parse("C0123ABC").is_err());
        assert!(SlackChannelId::parse("G01").is_ok());
        assert!(SlackChannelId::parse("C01:x").is_err());
        assert!(SlackUserId::parse("U").is_err());
    }

    #[test]
    fn ts_gives_the_message_time() {
        let ts = SlackTs::parse("1700000000.123456").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ts.unix_micros(), 1_700_000_000_123_456);
        assert_eq!(ts.unix_millis(), 1_700_000_000_123);
        let largest = SlackTs::parse("999999999999.999999").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(largest.unix_micros(), 999_999_999_999_999_999);
    }

    #[test]
    fn ts_is_seconds_dot_six_digits() {
        assert!(SlackTs::parse("1700000000.000100").is_ok());
        for bad in ["1700000000", "1700000000.1", "x.000100", "1.0001000", ""] {
            assert!(SlackTs::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SlackTs::parse("1700000000.000100").map(|t| t.as_link_fragment()),
            Ok("p1700000000000100".to_owned())
        );
    }
}
