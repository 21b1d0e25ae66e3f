//! Where the account's incremental syncs stand (cursors, seed, lease and failures on the
//! `routing_settings` row), and which accounts route at all.

use sqlx::Row;

use super::*;
use crate::domain::Subdomain;
use crate::storage::{Db, StorageError};

/// Where the account's incremental syncs stand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncState {
    pub tickets_seed_started_at: Option<i64>,
    pub tickets_seed_cursor: Option<String>,
    pub tickets_seed_done: bool,
    pub tickets_cursor: Option<String>,
    pub tickets_synced_at: Option<i64>,
    pub skills_cursor: Option<String>,
    pub skills_synced_at: Option<i64>,
    pub skills_full_at: Option<i64>,
    pub skills_resync_requested: bool,
    pub sync_failure: Option<String>,
}

pub async fn sync_state(db: &Db, subdomain: &Subdomain) -> Result<SyncState, StorageError> {
    let row = sqlx::query(
        "SELECT tickets_seed_started_at, tickets_seed_cursor, tickets_seed_done, \
         tickets_cursor, tickets_synced_at, skills_cursor, skills_synced_at, \
         skills_full_at, skills_resync_requested, sync_failure \
         FROM routing_settings WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(SyncState::default());
    };
    Ok(SyncState {
        tickets_seed_started_at: row.try_get("tickets_seed_started_at")?,
        tickets_seed_cursor: row.try_get("tickets_seed_cursor")?,
        tickets_seed_done: row.try_get::<i64, _>("tickets_seed_done")? != 0,
        tickets_cursor: row.try_get("tickets_cursor")?,
        tickets_synced_at: row.try_get("tickets_synced_at")?,
        skills_cursor: row.try_get("skills_cursor")?,
        skills_synced_at: row.try_get("skills_synced_at")?,
        skills_full_at: row.try_get("skills_full_at")?,
        skills_resync_requested: row.try_get::<i64, _>("skills_resync_requested")? != 0,
        sync_failure: row.try_get("sync_failure")?,
    })
}

/// Takes the account's sync lease for `lease_ms`; false when another worker holds it.
pub async fn take_sync_lease(
    db: &Db,
    subdomain: &Subdomain,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    let done = sqlx::query(
        "UPDATE routing_settings SET sync_lease_owner = $2, sync_lease_until = $3 \
         WHERE subdomain = $1 AND (sync_lease_until IS NULL OR sync_lease_until < $4 \
         OR sync_lease_owner = $2)",
    )
    .bind(subdomain.as_str())
    .bind(owner)
    .bind(now + lease_ms)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_sync_lease(
    db: &Db,
    subdomain: &Subdomain,
    owner: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_settings SET sync_lease_owner = NULL, sync_lease_until = NULL \
         WHERE subdomain = $1 AND sync_lease_owner = $2",
    )
    .bind(subdomain.as_str())
    .bind(owner)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records the seed's progress: when it began, where it stands, and whether it is done.
pub async fn save_seed(
    db: &Db,
    subdomain: &Subdomain,
    started_at: i64,
    cursor: Option<&str>,
    done: bool,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_settings SET tickets_seed_started_at = $2, tickets_seed_cursor = $3, \
         tickets_seed_done = $4, tickets_synced_at = $5, sync_failure = NULL WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .bind(started_at)
    .bind(cursor)
    .bind(i64::from(done))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn save_tickets_cursor(
    db: &Db,
    subdomain: &Subdomain,
    cursor: Option<&str>,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_settings SET tickets_cursor = $2, tickets_synced_at = $3, \
         sync_failure = NULL WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .bind(cursor)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a skills sync; `full` also clears a pending "resync now".
pub async fn save_skills_cursor(
    db: &Db,
    subdomain: &Subdomain,
    cursor: Option<&str>,
    full: bool,
    now: i64,
) -> Result<(), StorageError> {
    let sql = if full {
        "UPDATE routing_settings SET skills_cursor = $2, skills_synced_at = $3, \
         skills_full_at = $3, skills_resync_requested = 0, sync_failure = NULL \
         WHERE subdomain = $1"
    } else {
        "UPDATE routing_settings SET skills_cursor = $2, skills_synced_at = $3, \
         sync_failure = NULL WHERE subdomain = $1"
    };
    sqlx::query(sql)
        .bind(subdomain.as_str())
        .bind(cursor)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn request_skills_resync(
    db: &Db,
    subdomain: &Subdomain,
    now: i64,
) -> Result<(), StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    sqlx::query("UPDATE routing_settings SET skills_resync_requested = 1 WHERE subdomain = $1")
        .bind(subdomain.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records why the last sync failed (an error code, never content); the next try waits
/// for the usual interval.
pub async fn record_sync_failure(
    db: &Db,
    subdomain: &Subdomain,
    code: &str,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_settings SET sync_failure = $2, tickets_synced_at = $3 WHERE subdomain = $1",
    )
        .bind(subdomain.as_str())
        .bind(code)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Accounts with at least one enabled queue or the same-agent rule on.
pub async fn routing_subdomains(db: &Db) -> Result<Vec<Subdomain>, StorageError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT subdomain FROM routing_queues WHERE enabled = 1 UNION \
         SELECT subdomain FROM routing_settings WHERE same_agent_enabled = 1",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(names
        .iter()
        .filter_map(|n| Subdomain::parse(n).ok())
        .collect())
}
