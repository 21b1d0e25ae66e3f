//! `api_keys`: keys of the status API. Only a SHA-256 of each key is kept, with its
//! public prefix, its account (subdomain), its owner (the Zendesk user recorded as
//! `updated_by`), when it was last used and today's request count (the daily limit).

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::{Subdomain, ZendeskUserId};

/// A key as the authentication step needs it.
#[derive(Debug, Clone)]
pub struct StoredKey {
    pub prefix: String,
    pub subdomain: Subdomain,
    pub owner: ZendeskUserId,
    pub secret_hash: String,
}

/// A key as `api-keys list` shows it.
#[derive(Debug, Clone)]
pub struct KeySummary {
    pub prefix: String,
    pub subdomain: String,
    pub owner: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

pub async fn insert(
    db: &Db,
    prefix: &str,
    subdomain: &Subdomain,
    owner: ZendeskUserId,
    secret_hash: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO api_keys (prefix, subdomain, owner_user_id, secret_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(prefix)
    .bind(subdomain.as_str())
    .bind(owner.get())
    .bind(secret_hash)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The key with this prefix, unless it was revoked.
pub async fn find_active(db: &Db, prefix: &str) -> Result<Option<StoredKey>, StorageError> {
    let row = sqlx::query(
        "SELECT prefix, subdomain, owner_user_id, secret_hash FROM api_keys \
         WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(prefix)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let subdomain: String = row.try_get("subdomain")?;
    let owner: i64 = row.try_get("owner_user_id")?;
    Ok(Some(StoredKey {
        prefix: row.try_get("prefix")?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("api_keys.subdomain"))?,
        owner: ZendeskUserId::new(owner)
            .map_err(|_| StorageError::Corrupt("api_keys.owner_user_id"))?,
        secret_hash: row.try_get("secret_hash")?,
    }))
}

/// Counts one request on `day` (days since the epoch, UTC) and returns the day's count,
/// this one included. One statement, so replicas sharing the database share the count.
pub async fn record_use(db: &Db, prefix: &str, now: i64, day: i64) -> Result<i64, StorageError> {
    let count: Option<i64> = sqlx::query_scalar(
        "UPDATE api_keys SET last_used_at = $2, \
         usage_count = CASE WHEN usage_day = $3 THEN usage_count + 1 ELSE 1 END, \
         usage_day = $3 WHERE prefix = $1 RETURNING usage_count",
    )
    .bind(prefix)
    .bind(now)
    .bind(day)
    .fetch_optional(db.pool())
    .await?;
    Ok(count.unwrap_or(0))
}

/// Every key, newest first; only those of `subdomain` when given.
pub async fn list(db: &Db, subdomain: Option<&Subdomain>) -> Result<Vec<KeySummary>, StorageError> {
    let rows = sqlx::query(
        "SELECT prefix, subdomain, owner_user_id, created_at, last_used_at, revoked_at \
         FROM api_keys WHERE ($1 = '' OR subdomain = $1) ORDER BY created_at DESC, prefix",
    )
    .bind(subdomain.map(Subdomain::as_str).unwrap_or(""))
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(KeySummary {
                prefix: row.try_get("prefix")?,
                subdomain: row.try_get("subdomain")?,
                owner: row.try_get("owner_user_id")?,
                created_at: row.try_get("created_at")?,
                last_used_at: row.try_get("last_used_at")?,
                revoked_at: row.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Revokes a key; false when no active key has this prefix.
pub async fn revoke(db: &Db, prefix: &str, now: i64) -> Result<bool, StorageError> {
    let done =
        sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL")
            .bind(prefix)
            .bind(now)
            .execute(db.pool())
            .await?;
    Ok(done.rows_affected() > 0)
}

/// Revokes one of an account's own keys; false when the account has no active key with
/// this prefix (another account's key is never touched).
pub async fn revoke_for(
    db: &Db,
    subdomain: &Subdomain,
    prefix: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $3 \
         WHERE prefix = $1 AND subdomain = $2 AND revoked_at IS NULL",
    )
    .bind(prefix)
    .bind(subdomain.as_str())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}
