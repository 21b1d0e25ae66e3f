//! `zendesk_connections`: one REST API connection per Zendesk subdomain, its sealed grant
//! (OAuth tokens, client credentials or a legacy API token), when its tokens expire, its
//! state (`active` or `needs_reconnect`), the renewal lease, and when its agents were
//! last synced.
//!
//! Keyed by subdomain, so it serves every channel account of that subdomain. Every write
//! of `credential` bumps `version`, and renewals write only if the version they read is
//! still there (compare-and-swap), so a renewal that lost a race never overwrites the
//! winner's tokens. `crate::zendesk::connection` is the only user of the renewal parts.

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

pub const STATE_ACTIVE: &str = "active";
pub const STATE_NEEDS_RECONNECT: &str = "needs_reconnect";

/// A stored connection, its credential still sealed.
#[derive(Debug, Clone)]
pub struct Connection {
    pub subdomain: Subdomain,
    /// `api_token`, `oauth` (authorization code) or `client_credentials`.
    pub auth_kind: String,
    sealed: Vec<u8>,
    pub version: i64,
    /// `active` or `needs_reconnect`.
    pub state: String,
    pub connected_at: i64,
    pub access_issued_at: Option<i64>,
    pub access_expires_at: Option<i64>,
    pub refresh_issued_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
    pub renewed_at: Option<i64>,
    /// A short code (`invalid_grant`, `http_503`, …), never a message from Zendesk.
    pub last_error: Option<String>,
    pub last_error_at: Option<i64>,
    pub renew_owner: Option<String>,
    pub renew_lease_until: Option<i64>,
    pub synced_at: Option<i64>,
    pub sync_failure: Option<String>,
}

impl Connection {
    /// The decrypted credential (a JSON document only the Zendesk client reads).
    pub fn credential(&self, keys: &KeyRing) -> Result<Secret, StorageError> {
        Ok(keys.open(&self.sealed, credential_row(self.subdomain.as_str()))?)
    }

    pub fn needs_reconnect(&self) -> bool {
        self.state == STATE_NEEDS_RECONNECT
    }

    /// Someone holds the renewal lease at `now`.
    pub fn lease_held(&self, now: i64) -> bool {
        self.renew_lease_until.is_some_and(|until| until > now)
    }
}

/// Lifetimes of the tokens being stored (unix ms; `None` where they do not expire).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Lifetimes {
    pub access_issued_at: Option<i64>,
    pub access_expires_at: Option<i64>,
    pub refresh_issued_at: Option<i64>,
    pub refresh_expires_at: Option<i64>,
}

/// Saves (or replaces) the connection of a subdomain: a new grant, active, no lease.
pub async fn upsert(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    auth_kind: &str,
    credential: &Secret,
    lifetimes: Lifetimes,
    now: i64,
) -> Result<(), StorageError> {
    let sealed = keys.seal(
        credential.expose().as_bytes(),
        credential_row(subdomain.as_str()),
    )?;
    sqlx::query(
        "INSERT INTO zendesk_connections (subdomain, auth_kind, credential, connected_at, \
         version, state, access_issued_at, access_expires_at, refresh_issued_at, \
         refresh_expires_at, renewed_at) \
         VALUES ($1, $2, $3, $4, 1, 'active', $5, $6, $7, $8, $4) \
         ON CONFLICT (subdomain) DO UPDATE SET \
         auth_kind = excluded.auth_kind, credential = excluded.credential, \
         connected_at = excluded.connected_at, sync_failure = NULL, \
         version = zendesk_connections.version + 1, state = 'active', \
         access_issued_at = excluded.access_issued_at, \
         access_expires_at = excluded.access_expires_at, \
         refresh_issued_at = excluded.refresh_issued_at, \
         refresh_expires_at = excluded.refresh_expires_at, \
         renewed_at = excluded.renewed_at, last_error = NULL, last_error_at = NULL, \
         renew_owner = NULL, renew_lease_until = NULL",
    )
    .bind(subdomain.as_str())
    .bind(auth_kind)
    .bind(sealed)
    .bind(now)
    .bind(lifetimes.access_issued_at)
    .bind(lifetimes.access_expires_at)
    .bind(lifetimes.refresh_issued_at)
    .bind(lifetimes.refresh_expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

const COLUMNS: &str = "subdomain, auth_kind, credential, version, state, connected_at, \
     access_issued_at, access_expires_at, refresh_issued_at, refresh_expires_at, renewed_at, \
     last_error, last_error_at, renew_owner, renew_lease_until, synced_at, sync_failure";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Connection, StorageError> {
    let raw: String = row.try_get("subdomain")?;
    Ok(Connection {
        subdomain: Subdomain::parse(&raw)
            .map_err(|_| StorageError::Corrupt("zendesk_connections.subdomain"))?,
        auth_kind: row.try_get("auth_kind")?,
        sealed: row.try_get("credential")?,
        version: row.try_get("version")?,
        state: row.try_get("state")?,
        connected_at: row.try_get("connected_at")?,
        access_issued_at: row.try_get("access_issued_at")?,
        access_expires_at: row.try_get("access_expires_at")?,
        refresh_issued_at: row.try_get("refresh_issued_at")?,
        refresh_expires_at: row.try_get("refresh_expires_at")?,
        renewed_at: row.try_get("renewed_at")?,
        last_error: row.try_get("last_error")?,
        last_error_at: row.try_get("last_error_at")?,
        renew_owner: row.try_get("renew_owner")?,
        renew_lease_until: row.try_get("renew_lease_until")?,
        synced_at: row.try_get("synced_at")?,
        sync_failure: row.try_get("sync_failure")?,
    })
}

pub async fn find(db: &Db, subdomain: &Subdomain) -> Result<Option<Connection>, StorageError> {
    let select = format!("SELECT {COLUMNS} FROM zendesk_connections WHERE subdomain = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(select))
        .bind(subdomain.as_str())
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Every connection, in subdomain order (the renewal job, pages, metrics).
pub async fn all(db: &Db) -> Result<Vec<Connection>, StorageError> {
    let select = format!("SELECT {COLUMNS} FROM zendesk_connections ORDER BY subdomain");
    let rows = sqlx::query(sqlx::AssertSqlSafe(select))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
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

/// Takes the renewal lease of a connection still at `version`, if nobody holds it.
pub async fn take_lease(
    db: &Db,
    subdomain: &Subdomain,
    version: i64,
    owner: &str,
    now: i64,
    until: i64,
) -> Result<bool, StorageError> {
    let taken = sqlx::query(
        "UPDATE zendesk_connections SET renew_owner = $3, renew_lease_until = $5 \
         WHERE subdomain = $1 AND version = $2 AND state = 'active' \
         AND (renew_lease_until IS NULL OR renew_lease_until <= $4)",
    )
    .bind(subdomain.as_str())
    .bind(version)
    .bind(owner)
    .bind(now)
    .bind(until)
    .execute(db.pool())
    .await?;
    Ok(taken.rows_affected() == 1)
}

/// Stores renewed tokens if the row is still at `version`; bumps the version and frees
/// the lease. `false`: someone else changed the row (a reconnect). The lease owner is not
/// checked: tokens Zendesk just issued for this version are the live ones whoever holds
/// the lease now, since Zendesk deleted the pair they replace.
pub async fn store_renewal(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    version: i64,
    credential: &Secret,
    lifetimes: Lifetimes,
    now: i64,
) -> Result<bool, StorageError> {
    let sealed = keys.seal(
        credential.expose().as_bytes(),
        credential_row(subdomain.as_str()),
    )?;
    let stored = sqlx::query(
        "UPDATE zendesk_connections SET credential = $3, version = version + 1, \
         state = 'active', access_issued_at = $4, access_expires_at = $5, \
         refresh_issued_at = COALESCE($6, refresh_issued_at), \
         refresh_expires_at = COALESCE($7, refresh_expires_at), renewed_at = $8, \
         last_error = NULL, last_error_at = NULL, renew_owner = NULL, renew_lease_until = NULL \
         WHERE subdomain = $1 AND version = $2",
    )
    .bind(subdomain.as_str())
    .bind(version)
    .bind(sealed)
    .bind(lifetimes.access_issued_at)
    .bind(lifetimes.access_expires_at)
    .bind(lifetimes.refresh_issued_at)
    .bind(lifetimes.refresh_expires_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(stored.rows_affected() == 1)
}

/// Frees a lease `owner` holds, noting why the renewal did not happen.
pub async fn release_lease(
    db: &Db,
    subdomain: &Subdomain,
    owner: &str,
    error: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_connections SET renew_owner = NULL, renew_lease_until = NULL, \
         last_error = $3, last_error_at = $4 WHERE subdomain = $1 AND renew_owner = $2",
    )
    .bind(subdomain.as_str())
    .bind(owner)
    .bind(error)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Marks a connection still at `version` as needing a person to reconnect it, with the
/// reason code. `false`: the row changed meanwhile (renewed or reconnected).
pub async fn mark_needs_reconnect(
    db: &Db,
    subdomain: &Subdomain,
    version: i64,
    reason: &str,
    now: i64,
) -> Result<bool, StorageError> {
    let marked = sqlx::query(
        "UPDATE zendesk_connections SET state = 'needs_reconnect', last_error = $3, \
         last_error_at = $4, renew_owner = NULL, renew_lease_until = NULL \
         WHERE subdomain = $1 AND version = $2",
    )
    .bind(subdomain.as_str())
    .bind(version)
    .bind(reason)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(marked.rows_affected() == 1)
}

/// Notes a failure that needs no reconnect (Zendesk away, rate limited).
pub async fn record_error(
    db: &Db,
    subdomain: &Subdomain,
    code: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_connections SET last_error = $2, last_error_at = $3 WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .bind(code)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
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
