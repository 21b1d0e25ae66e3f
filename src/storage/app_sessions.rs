//! `app_agent_sessions` and `app_public_keys`: the verified agent sessions of the agents'
//! Zendesk app (only a SHA-256 of each credential is stored, with the account, app
//! installation and agent a ZAF JWT vouched for), and the app's public key per
//! installation that those JWTs are checked with.

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::{Subdomain, ZendeskUserId};

/// A live session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub prefix: String,
    pub secret_hash: String,
    pub subdomain: Subdomain,
    pub installation_id: i64,
    pub user_id: ZendeskUserId,
}

/// Stores a new session and deletes the expired ones.
pub async fn insert(
    db: &Db,
    session: &StoredSession,
    now: i64,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM app_agent_sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO app_agent_sessions (prefix, secret_hash, subdomain, installation_id, \
         user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&session.prefix)
    .bind(&session.secret_hash)
    .bind(session.subdomain.as_str())
    .bind(session.installation_id)
    .bind(session.user_id.get())
    .bind(now)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The session with this prefix, unless expired at `now`.
pub async fn find_live(
    db: &Db,
    prefix: &str,
    now: i64,
) -> Result<Option<StoredSession>, StorageError> {
    let row = sqlx::query(
        "SELECT prefix, secret_hash, subdomain, installation_id, user_id \
         FROM app_agent_sessions WHERE prefix = $1 AND expires_at > $2",
    )
    .bind(prefix)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let subdomain: String = row.try_get("subdomain")?;
        let user_id: i64 = row.try_get("user_id")?;
        Ok(StoredSession {
            prefix: row.try_get("prefix")?,
            secret_hash: row.try_get("secret_hash")?,
            subdomain: Subdomain::parse(&subdomain)
                .map_err(|_| StorageError::Corrupt("app_agent_sessions.subdomain"))?,
            installation_id: row.try_get("installation_id")?,
            user_id: ZendeskUserId::new(user_id)
                .map_err(|_| StorageError::Corrupt("app_agent_sessions.user_id"))?,
        })
    })
    .transpose()
}

/// How many sessions exist (for tests and operations).
pub async fn count(db: &Db) -> Result<i64, StorageError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM app_agent_sessions")
            .fetch_one(db.pool())
            .await?,
    )
}

/// An installation's public key as fetched from Zendesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub app_id: i64,
    pub public_key_pem: String,
    pub fetched_at: i64,
}

pub async fn find_key(
    db: &Db,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<Option<StoredKey>, StorageError> {
    let row = sqlx::query(
        "SELECT app_id, public_key_pem, fetched_at FROM app_public_keys \
         WHERE subdomain = $1 AND installation_id = $2",
    )
    .bind(subdomain.as_str())
    .bind(installation_id)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(StoredKey {
            app_id: row.try_get("app_id")?,
            public_key_pem: row.try_get("public_key_pem")?,
            fetched_at: row.try_get("fetched_at")?,
        })
    })
    .transpose()
}

pub async fn save_key(
    db: &Db,
    subdomain: &Subdomain,
    installation_id: i64,
    key: &StoredKey,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO app_public_keys (subdomain, installation_id, app_id, public_key_pem, \
         fetched_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain, installation_id) \
         DO UPDATE SET app_id = excluded.app_id, public_key_pem = excluded.public_key_pem, \
         fetched_at = excluded.fetched_at",
    )
    .bind(subdomain.as_str())
    .bind(installation_id)
    .bind(key.app_id)
    .bind(&key.public_key_pem)
    .bind(key.fetched_at)
    .execute(db.pool())
    .await?;
    Ok(())
}
