//! `zendesk_connections`: one REST API connection per Zendesk subdomain (API token or
//! OAuth), its sealed credential, and when its agents were last synced.
//!
//! Keyed by subdomain, so it serves every channel account of that subdomain. The admin's
//! email is part of an API-token credential and lives only inside the sealed value.

use sqlx::Row;

use super::{Db, StorageError};
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::Subdomain;

pub(crate) fn credential_row(subdomain: &str) -> SealedFor<'_> {
    SealedFor {
        table: "zendesk_connections",
        column: "credential",
        row: subdomain,
    }
}

/// A stored connection, its credential still sealed.
#[derive(Debug, Clone)]
pub struct Connection {
    pub subdomain: Subdomain,
    /// `api_token` or `oauth`.
    pub auth_kind: String,
    sealed: Vec<u8>,
    pub connected_at: i64,
    pub synced_at: Option<i64>,
    pub sync_failure: Option<String>,
}

impl Connection {
    /// The decrypted credential (a JSON document only the Zendesk client reads).
    pub fn credential(&self, keys: &KeyRing) -> Result<Secret, StorageError> {
        Ok(keys.open(&self.sealed, credential_row(self.subdomain.as_str()))?)
    }
}

/// Saves (or replaces) the connection of a subdomain.
pub async fn upsert(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    auth_kind: &str,
    credential: &Secret,
    now: i64,
) -> Result<(), StorageError> {
    let sealed = keys.seal(
        credential.expose().as_bytes(),
        credential_row(subdomain.as_str()),
    )?;
    sqlx::query(
        "INSERT INTO zendesk_connections (subdomain, auth_kind, credential, connected_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (subdomain) DO UPDATE SET \
         auth_kind = excluded.auth_kind, credential = excluded.credential, \
         connected_at = excluded.connected_at, sync_failure = NULL",
    )
    .bind(subdomain.as_str())
    .bind(auth_kind)
    .bind(sealed)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn find(db: &Db, subdomain: &Subdomain) -> Result<Option<Connection>, StorageError> {
    let row = sqlx::query(
        "SELECT subdomain, auth_kind, credential, connected_at, synced_at, sync_failure \
         FROM zendesk_connections WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let raw: String = row.try_get("subdomain")?;
    Ok(Some(Connection {
        subdomain: Subdomain::parse(&raw)
            .map_err(|_| StorageError::Corrupt("zendesk_connections.subdomain"))?,
        auth_kind: row.try_get("auth_kind")?,
        sealed: row.try_get("credential")?,
        connected_at: row.try_get("connected_at")?,
        synced_at: row.try_get("synced_at")?,
        sync_failure: row.try_get("sync_failure")?,
    }))
}

/// Every connected subdomain, for the periodic agent sync.
pub async fn subdomains(db: &Db) -> Result<Vec<Subdomain>, StorageError> {
    let raw: Vec<String> =
        sqlx::query_scalar("SELECT subdomain FROM zendesk_connections ORDER BY subdomain")
            .fetch_all(db.pool())
            .await?;
    raw.iter()
        .map(|s| {
            Subdomain::parse(s).map_err(|_| StorageError::Corrupt("zendesk_connections.subdomain"))
        })
        .collect()
}

/// Records the outcome of a sync: a time on success, a failure code otherwise.
pub async fn record_sync(
    db: &Db,
    subdomain: &Subdomain,
    now: i64,
    failure: Option<&str>,
) -> Result<(), StorageError> {
    let query = match failure {
        Some(code) => {
            sqlx::query("UPDATE zendesk_connections SET sync_failure = $2 WHERE subdomain = $1")
                .bind(subdomain.as_str())
                .bind(code)
        }
        None => sqlx::query(
            "UPDATE zendesk_connections SET synced_at = $2, sync_failure = NULL \
             WHERE subdomain = $1",
        )
        .bind(subdomain.as_str())
        .bind(now),
    };
    query.execute(db.pool()).await?;
    Ok(())
}
