//! `agent_statuses` (each agent's current status) and `status_changes` (every change, in
//! order, with time and author: the history behind the incremental export).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Db, StorageError, Tx};
use crate::domain::{AgentStatus, Subdomain, ZendeskUserId};

/// An agent's status: who set it and when (unix ms). Also one entry of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusRecord {
    pub user_id: ZendeskUserId,
    pub status: AgentStatus,
    pub updated_at: i64,
    pub updated_by: ZendeskUserId,
}

/// One history entry with its position, for paging.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub seq: i64,
    pub record: StatusRecord,
}

fn record(row: &AnyRow, at: &str, by: &str) -> Result<StatusRecord, StorageError> {
    let user_id: i64 = row.try_get("user_id")?;
    let status: String = row.try_get("status")?;
    let updated_by: i64 = row.try_get(by)?;
    Ok(StatusRecord {
        user_id: ZendeskUserId::new(user_id).map_err(|_| StorageError::Corrupt("user_id"))?,
        status: AgentStatus::parse(&status).map_err(|_| StorageError::Corrupt("status"))?,
        updated_at: row.try_get(at)?,
        updated_by: ZendeskUserId::new(updated_by)
            .map_err(|_| StorageError::Corrupt("updated_by"))?,
    })
}

/// Current statuses of the subdomain's active agents, by user id.
pub async fn current_all(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<Vec<StatusRecord>, StorageError> {
    let rows = sqlx::query(
        "SELECT s.user_id, s.status, s.updated_at, s.updated_by FROM agent_statuses s \
         JOIN zendesk_agents a ON a.subdomain = s.subdomain AND a.user_id = s.user_id \
         WHERE s.subdomain = $1 AND a.active = 1 ORDER BY s.user_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| record(r, "updated_at", "updated_by"))
        .collect()
}

/// One active agent's current status.
pub async fn current_one(
    db: &Db,
    subdomain: &Subdomain,
    user_id: ZendeskUserId,
) -> Result<Option<StatusRecord>, StorageError> {
    let row = sqlx::query(
        "SELECT s.user_id, s.status, s.updated_at, s.updated_by FROM agent_statuses s \
         JOIN zendesk_agents a ON a.subdomain = s.subdomain AND a.user_id = s.user_id \
         WHERE s.subdomain = $1 AND s.user_id = $2 AND a.active = 1",
    )
    .bind(subdomain.as_str())
    .bind(user_id.get())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref()
        .map(|r| record(r, "updated_at", "updated_by"))
        .transpose()
}

/// Who made a change: the API (a key's owner) or a rule acting for the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Idle,
    Schedule,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Idle => "idle",
            Self::Schedule => "schedule",
        }
    }
}

/// Sets a status unless the agent already has it; returns the previous status when it
/// changed (`Some(None)` for a first status). The check and the write are one statement
/// (the upsert's `WHERE`), so two concurrent requests never both record the same change.
pub async fn apply(
    tx: &mut Tx,
    subdomain: &Subdomain,
    change: &StatusRecord,
    source: Source,
) -> Result<Option<Option<AgentStatus>>, StorageError> {
    let previous: Option<String> = sqlx::query_scalar(
        "SELECT status FROM agent_statuses WHERE subdomain = $1 AND user_id = $2",
    )
    .bind(subdomain.as_str())
    .bind(change.user_id.get())
    .fetch_optional(&mut **tx)
    .await?;
    let changed: Option<i64> = sqlx::query_scalar(
        "INSERT INTO agent_statuses (subdomain, user_id, status, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain, user_id) DO UPDATE SET \
         status = excluded.status, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by WHERE agent_statuses.status <> excluded.status \
         RETURNING user_id",
    )
    .bind(subdomain.as_str())
    .bind(change.user_id.get())
    .bind(change.status.as_str())
    .bind(change.updated_at)
    .bind(change.updated_by.get())
    .fetch_optional(&mut **tx)
    .await?;
    if changed.is_none() {
        return Ok(None);
    }
    sqlx::query(
        "INSERT INTO status_changes (subdomain, user_id, status, changed_at, changed_by, \
         source) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(subdomain.as_str())
    .bind(change.user_id.get())
    .bind(change.status.as_str())
    .bind(change.updated_at)
    .bind(change.updated_by.get())
    .bind(source.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(Some(previous.and_then(|p| AgentStatus::parse(&p).ok())))
}

/// Online agents of the subdomain with neither a status change nor any activity since
/// `cutoff` (unix ms): the candidates for automatic idle.
pub async fn idle_online(
    db: &Db,
    subdomain: &Subdomain,
    cutoff: i64,
) -> Result<Vec<ZendeskUserId>, StorageError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT s.user_id FROM agent_statuses s JOIN zendesk_agents a \
         ON a.subdomain = s.subdomain AND a.user_id = s.user_id \
         WHERE s.subdomain = $1 AND s.status = 'online' AND a.active = 1 \
         AND s.updated_at < $2 AND (a.last_active_at IS NULL OR a.last_active_at < $2) \
         ORDER BY s.user_id",
    )
    .bind(subdomain.as_str())
    .bind(cutoff)
    .fetch_all(db.pool())
    .await?;
    ids.into_iter()
        .map(|id| ZendeskUserId::new(id).map_err(|_| StorageError::Corrupt("user_id")))
        .collect()
}

/// Where a page of history starts: after `(changed_at, seq)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After {
    pub changed_at: i64,
    pub seq: i64,
}

/// Up to `limit` changes strictly after `after` and no later than `until`, ordered by
/// time then sequence.
pub async fn changes_after(
    db: &Db,
    subdomain: &Subdomain,
    after: After,
    until: i64,
    limit: i64,
) -> Result<Vec<Change>, StorageError> {
    let rows = sqlx::query(
        "SELECT seq, user_id, status, changed_at, changed_by FROM status_changes \
         WHERE subdomain = $1 AND (changed_at > $2 OR (changed_at = $2 AND seq > $3)) \
         AND changed_at <= $5 ORDER BY changed_at, seq LIMIT $4",
    )
    .bind(subdomain.as_str())
    .bind(after.changed_at)
    .bind(after.seq)
    .bind(limit)
    .bind(until)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Change {
                seq: r.try_get("seq")?,
                record: record(r, "changed_at", "changed_by")?,
            })
        })
        .collect()
}

/// The account's changes in `[from, to)` plus, per agent, the last change before `from`,
/// ordered by time: what the board's online-time chart is computed from.
pub async fn changes_for_chart(
    db: &Db,
    subdomain: &Subdomain,
    from: i64,
    to: i64,
) -> Result<Vec<StatusRecord>, StorageError> {
    let rows = sqlx::query(
        "SELECT user_id, status, changed_at, changed_by FROM status_changes c \
         WHERE subdomain = $1 AND changed_at < $3 AND (changed_at >= $2 OR seq = \
         (SELECT MAX(seq) FROM status_changes p WHERE p.subdomain = c.subdomain \
          AND p.user_id = c.user_id AND p.changed_at < $2)) \
         ORDER BY changed_at, seq",
    )
    .bind(subdomain.as_str())
    .bind(from)
    .bind(to)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| record(r, "changed_at", "changed_by"))
        .collect()
}
