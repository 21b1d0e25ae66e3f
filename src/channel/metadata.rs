//! The `metadata` string Zendesk keeps for an integration account and sends back on every
//! pull, channelback and admin UI visit: `sd1:{account id}:{secret}`.
//!
//! Only the secret's hash is stored. Checking it is constant time, and a request with
//! unknown or wrong metadata learns nothing about which part was wrong.

use crate::crypto::tokens;
use crate::domain::AccountId;
use crate::storage::accounts::{self, Account};
use crate::storage::{Db, StorageError};

const PREFIX: &str = "sd1";

/// Parsed metadata: which account, and the secret that proves it.
pub struct Metadata {
    pub account: AccountId,
    secret: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata is not valid for any account")]
    Invalid,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl Metadata {
    pub fn new(account: AccountId, secret: String) -> Self {
        Self { account, secret }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().splitn(3, ':');
        if parts.next()? != PREFIX {
            return None;
        }
        let account = AccountId::parse(parts.next()?).ok()?;
        let secret = parts.next()?;
        if secret.is_empty() || secret.len() > 128 {
            return None;
        }
        Some(Self {
            account,
            secret: secret.to_owned(),
        })
    }

    pub fn encode(&self) -> String {
        format!("{PREFIX}:{}:{}", self.account, self.secret)
    }

    pub fn secret_hash(&self) -> String {
        tokens::hash_secret(&self.secret)
    }
}

/// The account the metadata proves, or `Invalid`.
pub async fn verify(db: &Db, raw: &str) -> Result<Account, MetadataError> {
    let metadata = Metadata::parse(raw).ok_or(MetadataError::Invalid)?;
    let account = accounts::find(db, metadata.account).await?;
    // Compare against a dummy hash when the account is unknown, so both paths do the
    // same work.
    let stored_hash = account
        .as_ref()
        .map(|a| a.secret_hash.clone())
        .unwrap_or_else(|| "0".repeat(64));
    let matches = tokens::secret_matches(&metadata.secret, &stored_hash);
    match account {
        Some(account) if matches => Ok(account),
        _ => Err(MetadataError::Invalid),
    }
}

impl From<MetadataError> for crate::web::ApiError {
    fn from(error: MetadataError) -> Self {
        match error {
            MetadataError::Invalid => Self::Unauthorized("metadata is not valid for any account"),
            MetadataError::Storage(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_stays_short() {
        let meta = Metadata::new(AccountId::new_random(), tokens::random_secret());
        let encoded = meta.encode();
        assert!(encoded.len() < 100);
        let parsed = Metadata::parse(&encoded).map(|m| (m.account, m.secret));
        assert_eq!(parsed, Some((meta.account, meta.secret)));
    }

    #[test]
    fn malformed_metadata_is_refused() {
        for raw in [
            "",
            "sd1",
            "sd2:x:y",
            "sd1:not-a-uuid:secret",
            &format!("sd1:{}:", AccountId::new_random()),
        ] {
            assert!(Metadata::parse(raw).is_none(), "{raw:?}");
        }
    }
}
