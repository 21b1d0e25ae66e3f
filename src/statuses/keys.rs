//! Status API keys: `sdk_<prefix>_<secret>`. The prefix (12 hex characters) is public and
//! names the key in lists and logs; only a SHA-256 of the whole key is stored.

use crate::crypto::tokens::{hash_secret, random_secret, secret_matches};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::storage::{Db, StorageError, api_keys};

const KEY_TAG: &str = "sdk_";

/// A key split into its public prefix and the whole (secret) key.
#[derive(Debug, PartialEq, Eq)]
pub struct PresentedKey<'a> {
    pub prefix: &'a str,
    pub whole: &'a str,
}

/// Splits `sdk_<prefix>_<secret>`; `None` for anything else.
pub fn split_key(raw: &str) -> Option<PresentedKey<'_>> {
    let rest = raw.strip_prefix(KEY_TAG)?;
    let (prefix, secret) = rest.split_once('_')?;
    let valid_prefix = prefix.len() == 12 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
    (valid_prefix && secret.len() >= 32).then_some(PresentedKey { prefix, whole: raw })
}

/// A new key, shown once.
#[derive(Debug)]
pub struct NewKey {
    pub prefix: String,
    pub key: String,
}

/// Creates a key for an account; `owner` becomes `updated_by` of the changes it makes.
pub async fn create(
    db: &Db,
    subdomain: &Subdomain,
    owner: ZendeskUserId,
    now: i64,
) -> Result<NewKey, StorageError> {
    let mut bytes = [0u8; 6];
    rand::fill(&mut bytes);
    let prefix = hex::encode(bytes);
    let key = format!("{KEY_TAG}{prefix}_{}", random_secret());
    api_keys::insert(db, &prefix, subdomain, owner, &hash_secret(&key), now).await?;
    tracing::info!(key_prefix = %prefix, owner = owner.get(), "status API key created");
    Ok(NewKey { prefix, key })
}

/// The stored key matching a presented one, if it is valid and not revoked.
pub async fn verify(db: &Db, raw: &str) -> Result<Option<api_keys::StoredKey>, StorageError> {
    let Some(presented) = split_key(raw) else {
        return Ok(None);
    };
    let stored = api_keys::find_active(db, presented.prefix).await?;
    Ok(stored.filter(|key| secret_matches(presented.whole, &key.secret_hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_split_into_a_hex_prefix_and_a_long_secret() {
        let secret = random_secret();
        let key = format!("sdk_0123456789ab_{secret}");
        assert_eq!(
            split_key(&key),
            Some(PresentedKey {
                prefix: "0123456789ab",
                whole: &key
            })
        );
        for bad in [
            "",
            "0123456789ab_x",
            "sdk_0123456789ab_short",
            "sdk_0123456789zz_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "sdk_012345_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ] {
            assert!(split_key(bad).is_none(), "{bad:?} should be refused");
        }
    }
}
