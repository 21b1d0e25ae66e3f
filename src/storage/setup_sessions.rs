//! `setup_sessions`: what Zendesk posted to the admin UI, kept server side between the
//! form being shown and being saved.
//!
//! The form carries only the session's random id (stored hashed), which doubles as the
//! form's CSRF token; the push token and the existing metadata are sealed for the row.

use sqlx::Row;

use super::{Db, StorageError, Tx, now_ms};
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor, tokens};
use crate::domain::{AccountId, Subdomain};

/// How long an admin has to save the form.
pub const SESSION_TTL_MS: i64 = 60 * 60 * 1000;

pub struct NewSetupSession<'a> {
    pub account_id: Option<AccountId>,
    pub subdomain: &'a Subdomain,
    pub locale: &'a str,
    pub return_url: &'a str,
    pub instance_push_id: Option<&'a str>,
    pub push_token: Option<&'a Secret>,
    pub metadata: Option<&'a str>,
}

#[derive(Debug)]
pub struct SetupSession {
    pub id_hash: String,
    pub account_id: Option<AccountId>,
    pub subdomain: Subdomain,
    pub locale: String,
    pub return_url: String,
    pub instance_push_id: Option<String>,
    pub push_token: Option<Secret>,
    pub metadata: Option<Secret>,
}

fn sealed_for<'a>(id_hash: &'a str, column: &'a str) -> SealedFor<'a> {
    SealedFor {
        table: "setup_sessions",
        column,
        row: id_hash,
    }
}

/// Stores a session and returns its id, which only the admin's form ever holds.
pub async fn create(
    db: &Db,
    keys: &KeyRing,
    session: &NewSetupSession<'_>,
) -> Result<String, StorageError> {
    let token = tokens::random_secret();
    let id_hash = tokens::hash_secret(&token);
    let push_token = session
        .push_token
        .map(|t| keys.seal(t.expose().as_bytes(), sealed_for(&id_hash, "push_token")))
        .transpose()?;
    let metadata = session
        .metadata
        .map(|m| keys.seal(m.as_bytes(), sealed_for(&id_hash, "metadata")))
        .transpose()?;
    let now = now_ms();
    sqlx::query("DELETE FROM setup_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO setup_sessions (id_hash, account_id, subdomain, locale, return_url, \
         instance_push_id, push_token, metadata, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id_hash)
    .bind(session.account_id.map(|a| a.to_string()))
    .bind(session.subdomain.as_str())
    .bind(session.locale)
    .bind(session.return_url)
    .bind(session.instance_push_id)
    .bind(push_token)
    .bind(metadata)
    .bind(now + SESSION_TTL_MS)
    .execute(db.pool())
    .await?;
    Ok(token)
}

/// The live session for a token from the form, if any.
pub async fn find(
    db: &Db,
    keys: &KeyRing,
    token: &str,
) -> Result<Option<SetupSession>, StorageError> {
    let id_hash = tokens::hash_secret(token);
    let row = sqlx::query(
        "SELECT account_id, subdomain, locale, return_url, instance_push_id, push_token, \
         metadata FROM setup_sessions WHERE id_hash = $1 AND expires_at >= $2",
    )
    .bind(&id_hash)
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let account_id: Option<String> = row.try_get("account_id")?;
    let subdomain: String = row.try_get("subdomain")?;
    let push_token: Option<Vec<u8>> = row.try_get("push_token")?;
    let metadata: Option<Vec<u8>> = row.try_get("metadata")?;
    Ok(Some(SetupSession {
        account_id: account_id
            .map(|a| AccountId::parse(&a))
            .transpose()
            .map_err(|_| StorageError::Corrupt("setup_sessions.account_id"))?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("setup_sessions.subdomain"))?,
        locale: row.try_get("locale")?,
        return_url: row.try_get("return_url")?,
        instance_push_id: row.try_get("instance_push_id")?,
        push_token: push_token
            .map(|s| keys.open(&s, sealed_for(&id_hash, "push_token")))
            .transpose()?,
        metadata: metadata
            .map(|s| keys.open(&s, sealed_for(&id_hash, "metadata")))
            .transpose()?,
        id_hash,
    }))
}

/// Ends a session once its form has been saved.
pub async fn delete(tx: &mut Tx, id_hash: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM setup_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The existing account a live set-up session edits (`None` for a new account).
pub async fn account_of(db: &Db, id_hash: &str) -> Result<Option<AccountId>, StorageError> {
    let row = sqlx::query(
        "SELECT account_id FROM setup_sessions WHERE id_hash = $1 AND expires_at >= $2",
    )
    .bind(id_hash)
    .bind(now_ms())
    .fetch_optional(db.pool())
    .await?;
    let account: Option<String> = match row {
        Some(row) => row.try_get("account_id")?,
        None => None,
    };
    account
        .map(|a| {
            AccountId::parse(&a).map_err(|_| StorageError::Corrupt("setup_sessions.account_id"))
        })
        .transpose()
}
