//! A Zendesk subdomain (`acme` in `acme.zendesk.com`).

use super::ParseError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subdomain(String);

impl Subdomain {
    /// Lower-case letters, digits and inner hyphens, 1 to 63 characters (a DNS label).
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let value = raw.trim().to_ascii_lowercase();
        let valid_chars = value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if value.is_empty() || value.len() > 63 {
            return Err(ParseError("subdomain must be 1 to 63 characters"));
        }
        if !valid_chars || value.starts_with('-') || value.ends_with('-') {
            return Err(ParseError(
                "subdomain may hold only letters, digits and inner hyphens",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Subdomain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dns_labels_and_lowercases_them() {
        assert_eq!(Subdomain::parse("Acme-2").map(|s| s.0), Ok("acme-2".into()));
    }

    #[test]
    fn refuses_anything_that_could_change_the_host() {
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac.me",
            "acme/x",
            "a@b",
            &"a".repeat(64),
        ] {
            assert!(Subdomain::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
