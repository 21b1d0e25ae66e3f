//! Reading the assignment log (`routing_assignments`): newest first, by agent, per day.

use std::collections::HashMap;

use sqlx::Row;

use super::*;
use crate::domain::Subdomain;
use crate::storage::{Db, StorageError};

/// The newest assignments first, optionally only older than `before_id`.
pub async fn log(
    db: &Db,
    subdomain: &Subdomain,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<Assignment>, StorageError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM routing_assignments WHERE subdomain = $1 \
         AND id < $2 ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(before_id.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(assignment_from).collect()
}

/// `(agent, decided_at)` of assignments (pending or assigned) since `since`, for daily
/// limits counted in each agent's own time zone and for "last assigned" ties.
pub async fn recent_assignments(
    db: &Db,
    subdomain: &Subdomain,
    since: i64,
) -> Result<Vec<(i64, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT agent_id, decided_at FROM routing_assignments WHERE subdomain = $1 \
         AND decided_at >= $2 AND state IN ('pending', 'assigned')",
    )
    .bind(subdomain.as_str())
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("agent_id")?, r.try_get("decided_at")?)))
        .collect()
}

/// When each agent last got a ticket from routing (any time).
pub async fn last_assigned(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<HashMap<i64, i64>, StorageError> {
    let rows = sqlx::query(
        "SELECT agent_id, MAX(decided_at) AS last FROM routing_assignments WHERE subdomain = $1 \
         AND state IN ('pending', 'assigned') GROUP BY agent_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("agent_id")?, r.try_get("last")?)))
        .collect()
}

/// Assigned tickets per UTC day, agent and queue since `since` (for the report).
pub async fn daily_counts(
    db: &Db,
    subdomain: &Subdomain,
    since: i64,
) -> Result<Vec<(i64, i64, Option<i64>, i64)>, StorageError> {
    let rows = sqlx::query(
        "SELECT decided_at / 86400000 AS day, agent_id, queue_id, COUNT(*) AS n \
         FROM routing_assignments WHERE subdomain = $1 AND decided_at >= $2 \
         AND state = 'assigned' GROUP BY decided_at / 86400000, agent_id, queue_id \
         ORDER BY day, agent_id",
    )
    .bind(subdomain.as_str())
    .bind(since)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("day")?,
                r.try_get("agent_id")?,
                r.try_get("queue_id")?,
                r.try_get("n")?,
            ))
        })
        .collect()
}
