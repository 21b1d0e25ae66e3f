//! `app_oauth_states` and `app_admin_keys`: the Zendesk OAuth round trips the agents'
//! app starts (authorizing the app, an admin opening the board, routing or app settings),
//! and the status API key each admin's board sessions act as.

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::{Subdomain, ZendeskUserId};

/// A pending round trip, once taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// SHA-256 of the nonce in the cookie of the browser that started it.
    pub browser_hash: String,
    pub subdomain: Subdomain,
    pub next_step: String,
    pub installation_id: Option<i64>,
}

pub async fn insert_state(
    db: &Db,
    state_hash: &str,
    pending: &PendingSignIn,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM app_oauth_states WHERE expires_at < $1")
        .bind(expires_at - 3_600_000)
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO app_oauth_states (state_hash, browser_hash, subdomain, next_step, \
         installation_id, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(state_hash)
    .bind(&pending.browser_hash)
    .bind(pending.subdomain.as_str())
    .bind(&pending.next_step)
    .bind(pending.installation_id)
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes (deletes) a live state: each can be used once.
pub async fn take_state(
    db: &Db,
    state_hash: &str,
    now: i64,
) -> Result<Option<PendingSignIn>, StorageError> {
    let row = sqlx::query(
        "DELETE FROM app_oauth_states WHERE state_hash = $1 \
         RETURNING browser_hash, subdomain, next_step, installation_id, expires_at",
    )
    .bind(state_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let expires_at: i64 = row.try_get("expires_at")?;
    if expires_at <= now {
        return Ok(None);
    }
    let subdomain: String = row.try_get("subdomain")?;
    Ok(Some(PendingSignIn {
        browser_hash: row.try_get("browser_hash")?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("app_oauth_states.subdomain"))?,
        next_step: row.try_get("next_step")?,
        installation_id: row.try_get("installation_id")?,
    }))
}

pub async fn admin_key(
    db: &Db,
    subdomain: &Subdomain,
    user_id: ZendeskUserId,
) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT key_prefix FROM app_admin_keys WHERE subdomain = $1 AND user_id = $2",
    )
    .bind(subdomain.as_str())
    .bind(user_id.get())
    .fetch_optional(db.pool())
    .await?)
}

pub async fn set_admin_key(
    db: &Db,
    subdomain: &Subdomain,
    user_id: ZendeskUserId,
    key_prefix: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO app_admin_keys (subdomain, user_id, key_prefix) VALUES ($1, $2, $3) \
         ON CONFLICT (subdomain, user_id) DO UPDATE SET key_prefix = excluded.key_prefix",
    )
    .bind(subdomain.as_str())
    .bind(user_id.get())
    .bind(key_prefix)
    .execute(db.pool())
    .await?;
    Ok(())
}
