//! Housekeeping: forgets ids once nothing can need them, so the tables stay small.
//!
//! Safe on several replicas at once: every step is an idempotent delete.

use crate::state::AppState;
use crate::storage::{StorageError, now_ms};

const HOUR_MS: i64 = 60 * 60 * 1000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// How long each kind of row is kept after it stopped mattering.
const RETENTION: [(&str, &str, i64); 6] = [
    // Slack retries an event for minutes; a day is plenty to recognise retries.
    ("slack_events", "received_at", DAY_MS),
    // Delivered resources: kept a week to match late ticket events to accounts.
    ("outbox", "delivered_at", 7 * DAY_MS),
    // Answered channelbacks: Zendesk's retries of one request come within hours.
    ("channelbacks", "finished_at", 30 * DAY_MS),
    ("setup_sessions", "expires_at", 0),
    // Same-sender windows are at most a day long.
    ("sender_windows", "last_at", DAY_MS),
    ("slack_jobs", "run_after", 7 * DAY_MS),
];

/// Deletes what has expired; returns how many rows went.
/// The routing assignment log is kept this long (the report shows 30 days).
const ROUTING_LOG_KEEP_MS: i64 = 90 * 86_400_000;

pub async fn housekeeping_once(state: &AppState) -> Result<u64, StorageError> {
    let now = now_ms();
    let mut removed = 0;
    for (table, column, keep_ms) in RETENTION {
        let extra = match table {
            "outbox" => " AND state = 'delivered'",
            "channelbacks" => " AND state = 'done'",
            "slack_jobs" => " AND state <> 'pending'",
            _ => "",
        };
        let sql = format!("DELETE FROM {table} WHERE {column} < $1{extra}");
        let done = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now - keep_ms)
            .execute(state.db.pool())
            .await?;
        removed += done.rows_affected();
    }
    removed += crate::storage::routing::prune(&state.db, now, ROUTING_LOG_KEEP_MS).await?;
    if removed > 0 {
        tracing::info!(removed, "housekeeping removed expired rows");
    }
    Ok(removed)
}
