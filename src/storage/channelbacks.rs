//! `channelbacks`: Zendesk's `request_unique_identifier` per account, so a retried
//! channelback returns the first answer and never posts twice.
//!
//! A request is `in_progress` while we post to Slack and `done` with the resulting
//! external id afterwards. An `in_progress` row older than [`STALE_AFTER_MS`] (a crash
//! mid-post, a post whose answer never came) may be taken over by a retry, which first
//! looks in the Slack thread for the reply carrying the request's mark (see
//! `bridge::channelback`) so a reply that did reach Slack is not posted again.

use sqlx::Row;

use super::{Db, StorageError, Tx, now_ms};
use crate::domain::AccountId;

pub const STALE_AFTER_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This call owns the request: do the work, then `finish` or `abandon`.
    Started,
    /// This call took over a request an earlier call left unfinished long ago: the reply
    /// may already be in Slack; look before posting.
    TakenOver,
    /// An earlier call finished it: answer with the same external id.
    Done { external_id: String },
    /// Another call is working on it right now.
    InProgress,
}

pub async fn claim(db: &Db, account: AccountId, request_id: &str) -> Result<Claim, StorageError> {
    let now = now_ms();
    let account = account.to_string();
    let inserted = sqlx::query(
        "INSERT INTO channelbacks (account_id, request_id, state, started_at) \
         VALUES ($1, $2, 'in_progress', $3) ON CONFLICT (account_id, request_id) DO NOTHING",
    )
    .bind(&account)
    .bind(request_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Started);
    }
    let row = sqlx::query(
        "SELECT state, external_id, started_at FROM channelbacks \
         WHERE account_id = $1 AND request_id = $2",
    )
    .bind(&account)
    .bind(request_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        // Abandoned between our insert and select: let the caller's retry start over.
        return Ok(Claim::InProgress);
    };
    let state: String = row.try_get("state")?;
    let external_id: Option<String> = row.try_get("external_id")?;
    let started_at: i64 = row.try_get("started_at")?;
    match (state.as_str(), external_id) {
        ("done", Some(external_id)) => Ok(Claim::Done { external_id }),
        _ if started_at < now - STALE_AFTER_MS => {
            take_over(db, &account, request_id, started_at, now).await
        }
        _ => Ok(Claim::InProgress),
    }
}

async fn take_over(
    db: &Db,
    account: &str,
    request_id: &str,
    started_at: i64,
    now: i64,
) -> Result<Claim, StorageError> {
    let done = sqlx::query(
        "UPDATE channelbacks SET started_at = $4 WHERE account_id = $1 AND request_id = $2 \
         AND state = 'in_progress' AND started_at = $3",
    )
    .bind(account)
    .bind(request_id)
    .bind(started_at)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(if done.rows_affected() == 1 {
        Claim::TakenOver
    } else {
        Claim::InProgress
    })
}

pub async fn finish(
    db: &Db,
    account: AccountId,
    request_id: &str,
    external_id: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE channelbacks SET state = 'done', external_id = $3, finished_at = $4 \
         WHERE account_id = $1 AND request_id = $2",
    )
    .bind(account.to_string())
    .bind(request_id)
    .bind(external_id)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Keeps a request whose post may or may not have reached Slack, and lets the next
/// retry take it over at once (it then looks in the thread before posting).
pub async fn mark_uncertain(
    db: &Db,
    account: AccountId,
    request_id: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE channelbacks SET started_at = 0 WHERE account_id = $1 AND request_id = $2 \
         AND state = 'in_progress'",
    )
    .bind(account.to_string())
    .bind(request_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Forgets a request that failed, so Zendesk's retry does the work again.
pub async fn abandon(db: &Db, account: AccountId, request_id: &str) -> Result<(), StorageError> {
    sqlx::query(
        "DELETE FROM channelbacks WHERE account_id = $1 AND request_id = $2 AND state = 'in_progress'",
    )
    .bind(account.to_string())
    .bind(request_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether we posted this Slack message for an agent (so it never comes back).
pub async fn posted(
    tx: &mut Tx,
    external_id: &crate::domain::ExternalId,
) -> Result<bool, StorageError> {
    let row = sqlx::query("SELECT 1 AS hit FROM channelbacks WHERE external_id = $1")
        .bind(external_id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(row.is_some())
}
