//! The watch over tickets routing assigned (the reassignment rules): which written
//! assignments are still watched, what the watch made of each (answered, ended,
//! released back to routing, kept), and for a ticket handed back, which agents it was
//! taken from and why. Ids, times and reasons in words only.

use std::collections::HashMap;

use sqlx::Row;

use crate::domain::Subdomain;
use crate::storage::{Db, StorageError, placeholders};

/// What the watch made of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Watch {
    /// A public agent reply came: nothing more to watch.
    Answered,
    /// Someone else took the ticket, or it left new and open: nothing more to watch.
    Ended,
    /// Being handed back to routing (the write to Zendesk is under way).
    Releasing,
    /// Handed back to routing, unassigned.
    Released,
    /// Due, but moved on the most times allowed already: it stays with its agent.
    Kept,
    /// Older than the rules reach.
    Expired,
}

impl Watch {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answered => "answered",
            Self::Ended => "ended",
            Self::Releasing => "releasing",
            Self::Released => "released",
            Self::Kept => "kept",
            Self::Expired => "expired",
        }
    }
}

/// An assignment written to Zendesk that the watch still looks after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watched {
    pub id: i64,
    pub ticket_id: i64,
    pub agent_id: i64,
    pub decided_at: i64,
    pub written_at: i64,
    /// True when a hand-back was started and its outcome is not known yet.
    pub releasing: bool,
}

/// The queue's assignments written since `since` that are still watched (or being
/// handed back), oldest first, at most `limit`.
pub async fn watched(
    db: &Db,
    queue_id: i64,
    since: i64,
    limit: i64,
) -> Result<Vec<Watched>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, ticket_id, agent_id, decided_at, written_at, watch FROM routing_assignments \
         WHERE queue_id = $1 AND state = 'assigned' AND (watch IS NULL OR watch = 'releasing') \
         AND written_at >= $2 ORDER BY written_at, id LIMIT $3",
    )
    .bind(queue_id)
    .bind(since)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Watched {
                id: row.try_get("id")?,
                ticket_id: row.try_get("ticket_id")?,
                agent_id: row.try_get("agent_id")?,
                decided_at: row.try_get("decided_at")?,
                written_at: row.try_get("written_at")?,
                releasing: row.try_get::<Option<String>, _>("watch")?.as_deref()
                    == Some("releasing"),
            })
        })
        .collect()
}

/// Stops watching the queue's assignments written before `before` (out of the rules'
/// reach); returns how many.
pub async fn expire(db: &Db, queue_id: i64, before: i64, now: i64) -> Result<u64, StorageError> {
    let done = sqlx::query(
        "UPDATE routing_assignments SET watch = 'expired', watched_at = $3 \
         WHERE queue_id = $1 AND state = 'assigned' AND watch IS NULL AND written_at < $2",
    )
    .bind(queue_id)
    .bind(before)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// Records what the watch made of an assignment, only if it is still as `from` says
/// (`None`: watched; `Some(Releasing)`: being handed back); a `None` detail keeps the
/// one recorded. False when it moved on.
pub async fn settle(
    db: &Db,
    assignment_id: i64,
    from: Option<Watch>,
    to: Watch,
    detail: Option<&str>,
    now: i64,
) -> Result<bool, StorageError> {
    let done = match from {
        None => {
            sqlx::query(
                "UPDATE routing_assignments SET watch = $2, \
                 watch_detail = COALESCE($3, watch_detail), watched_at = $4 \
                 WHERE id = $1 AND watch IS NULL",
            )
            .bind(assignment_id)
            .bind(to.as_str())
            .bind(detail)
            .bind(now)
            .execute(db.pool())
            .await?
        }
        Some(from) => {
            sqlx::query(
                "UPDATE routing_assignments SET watch = $2, \
                 watch_detail = COALESCE($3, watch_detail), watched_at = $4 \
                 WHERE id = $1 AND watch = $5",
            )
            .bind(assignment_id)
            .bind(to.as_str())
            .bind(detail)
            .bind(now)
            .bind(from.as_str())
            .execute(db.pool())
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Puts a hand-back that Zendesk refused (the ticket changed meanwhile) back under watch.
pub async fn rewatch(db: &Db, assignment_id: i64) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE routing_assignments SET watch = NULL, watch_detail = NULL, watched_at = NULL \
         WHERE id = $1 AND watch = 'releasing'",
    )
    .bind(assignment_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A ticket routing handed back: the agents it was taken from and the latest reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HandedBack {
    /// Sorted, without repeats.
    pub from_agents: Vec<i64>,
    pub times: i64,
    pub last_reason: Option<String>,
}

/// For each of these tickets that was handed back to routing since `since`, who it
/// was taken from, how many times and the latest reason.
pub async fn handed_back(
    db: &Db,
    subdomain: &Subdomain,
    ticket_ids: &[i64],
    since: i64,
) -> Result<HashMap<i64, HandedBack>, StorageError> {
    let mut found: HashMap<i64, HandedBack> = HashMap::new();
    for chunk in ticket_ids.chunks(500) {
        let sql = format!(
            "SELECT ticket_id, agent_id, watch_detail FROM routing_assignments \
             WHERE subdomain = $1 AND decided_at >= $2 AND watch IN ('releasing', 'released') \
             AND ticket_id IN ({}) ORDER BY watched_at, id",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(subdomain.as_str())
            .bind(since);
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(db.pool()).await? {
            let entry = found.entry(row.try_get("ticket_id")?).or_default();
            let agent: i64 = row.try_get("agent_id")?;
            if let Err(at) = entry.from_agents.binary_search(&agent) {
                entry.from_agents.insert(at, agent);
            }
            entry.times += 1;
            entry.last_reason = row.try_get("watch_detail")?;
        }
    }
    Ok(found)
}

/// Frees the hold a handed-back ticket's assignment still has on it, so the next run may
/// route it at once (a claim another run took since is left alone).
pub async fn free_hold(
    db: &Db,
    subdomain: &Subdomain,
    ticket_id: i64,
    assignment_id: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "DELETE FROM routing_claims WHERE subdomain = $1 AND ticket_id = $2 AND assignment_id = $3",
    )
    .bind(subdomain.as_str())
    .bind(ticket_id)
    .bind(assignment_id)
    .execute(db.pool())
    .await?;
    Ok(())
}
