//! Queues (`routing_queues`): their settings, round-robin pointers and split counts, and
//! the run and watch leases that make one replica at a time work a queue.

use sqlx::Row;

use super::*;
use crate::domain::Subdomain;
use crate::routing::engine::{Pointers, Split};
use crate::routing::settings::{
    Model, QueueKind, QueueSettings, ReassignRules, split_from_stored, split_to_stored,
};
use crate::storage::{Db, StorageError, placeholders};

/// A stored queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    pub id: i64,
    pub subdomain: Subdomain,
    pub settings: QueueSettings,
    pub pointers: Pointers,
    pub next_run_at: i64,
    pub last_run_at: Option<i64>,
    pub last_run_error: Option<String>,
    /// Since when the reassignment rules are on (they never reach back before it).
    pub reassign_since: Option<i64>,
    /// Tickets each group of the split got so far.
    pub split_counts: std::collections::BTreeMap<i64, i64>,
}

const QUEUE_COLUMNS: &str = "id, subdomain, name, position, view_id, kind, model, interval_secs, \
     batch_size, use_sla, skills_timeout_minutes, audit_tag, audit_field_id, audit_field_value, \
     enabled, reassign_unanswered_minutes, reassign_when_away, reassign_away_minutes, \
     reassign_within_hours, reassign_max, reassign_tag, reassign_since, split_groups, split_counts, \
     rr_pointers, next_run_at, last_run_at, last_run_error";

fn queue_from(row: &sqlx::any::AnyRow) -> Result<Queue, StorageError> {
    let kind: String = row.try_get("kind")?;
    let model: String = row.try_get("model")?;
    let subdomain: String = row.try_get("subdomain")?;
    Ok(Queue {
        id: row.try_get("id")?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("queue subdomain"))?,
        settings: QueueSettings {
            name: row.try_get("name")?,
            position: row.try_get("position")?,
            view_id: row.try_get("view_id")?,
            kind: QueueKind::parse(&kind).ok_or(StorageError::Corrupt("queue kind"))?,
            model: Model::parse(&model).ok_or(StorageError::Corrupt("queue model"))?,
            interval_secs: row.try_get("interval_secs")?,
            batch_size: row.try_get("batch_size")?,
            use_sla: row.try_get::<i64, _>("use_sla")? != 0,
            skills_timeout_minutes: row.try_get("skills_timeout_minutes")?,
            audit_tag: row.try_get("audit_tag")?,
            audit_field_id: row.try_get("audit_field_id")?,
            audit_field_value: row.try_get("audit_field_value")?,
            enabled: row.try_get::<i64, _>("enabled")? != 0,
            reassign: ReassignRules {
                unanswered_minutes: row.try_get("reassign_unanswered_minutes")?,
                when_away: row.try_get::<i64, _>("reassign_when_away")? != 0,
                away_minutes: row.try_get("reassign_away_minutes")?,
                within_hours: row.try_get("reassign_within_hours")?,
                max_times: row.try_get("reassign_max")?,
                tag: row.try_get("reassign_tag")?,
            },
            split: split_from_stored(&row.try_get::<String, _>("split_groups")?)
                .ok_or(StorageError::Corrupt("queue split"))?,
        },
        split_counts: Split::parse_counts(&row.try_get::<String, _>("split_counts")?),
        pointers: Pointers::parse(&row.try_get::<String, _>("rr_pointers")?),
        next_run_at: row.try_get("next_run_at")?,
        last_run_at: row.try_get("last_run_at")?,
        last_run_error: row.try_get("last_run_error")?,
        reassign_since: row.try_get("reassign_since")?,
    })
}

/// The queue settings' columns, in the order [`bind_settings`] binds them ($1 to $20).
const SETTINGS_COLUMNS: [&str; 20] = [
    "name",
    "position",
    "view_id",
    "kind",
    "model",
    "interval_secs",
    "batch_size",
    "use_sla",
    "skills_timeout_minutes",
    "audit_tag",
    "audit_field_id",
    "audit_field_value",
    "enabled",
    "reassign_unanswered_minutes",
    "reassign_when_away",
    "reassign_away_minutes",
    "reassign_within_hours",
    "reassign_max",
    "reassign_tag",
    "split_groups",
];
/// The first placeholder after the settings' own.
const AFTER_SETTINGS: usize = SETTINGS_COLUMNS.len() + 1;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Binds a queue's settings as $1 to $20, in [`SETTINGS_COLUMNS`] order.
fn bind_settings<'q>(query: AnyQuery<'q>, q: &'q QueueSettings) -> AnyQuery<'q> {
    query
        .bind(&q.name)
        .bind(q.position)
        .bind(q.view_id)
        .bind(q.kind.as_str())
        .bind(q.model.as_str())
        .bind(q.interval_secs)
        .bind(q.batch_size)
        .bind(flag(q.use_sla))
        .bind(q.skills_timeout_minutes)
        .bind(q.audit_tag.as_deref())
        .bind(q.audit_field_id)
        .bind(q.audit_field_value.as_deref())
        .bind(flag(q.enabled))
        .bind(q.reassign.unanswered_minutes)
        .bind(flag(q.reassign.when_away))
        .bind(q.reassign.away_minutes)
        .bind(q.reassign.within_hours)
        .bind(q.reassign.max_times)
        .bind(q.reassign.tag.as_deref())
        .bind(split_to_stored(&q.split))
}

pub async fn create_queue(
    db: &Db,
    subdomain: &Subdomain,
    q: &QueueSettings,
    now: i64,
) -> Result<i64, StorageError> {
    let (account, at) = (AFTER_SETTINGS, AFTER_SETTINGS + 1);
    let sql = format!(
        "INSERT INTO routing_queues ({}, subdomain, created_at, updated_at, reassign_since) \
         VALUES ({}, ${account}, ${at}, ${at}, ${at}) RETURNING id",
        SETTINGS_COLUMNS.join(", "),
        placeholders(0, SETTINGS_COLUMNS.len())
    );
    let query = bind_settings(sqlx::query(sqlx::AssertSqlSafe(sql)), q)
        .bind(subdomain.as_str())
        .bind(now);
    let row = query.fetch_one(db.pool()).await?;
    Ok(row.try_get("id")?)
}

/// Replaces a queue's settings (its pointer stays; it runs at the next round); false
/// when unknown.
pub async fn update_queue(
    db: &Db,
    subdomain: &Subdomain,
    id: i64,
    q: &QueueSettings,
    now: i64,
) -> Result<bool, StorageError> {
    let assignments = SETTINGS_COLUMNS
        .iter()
        .enumerate()
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let (at, account, id_at) = (AFTER_SETTINGS, AFTER_SETTINGS + 1, AFTER_SETTINGS + 2);
    // The rules count from when they were switched on (SET sees the row before the
    // update), so turning them on never reaches back to older assignments.
    let sql = format!(
        "UPDATE routing_queues SET {assignments}, next_run_at = 0, updated_at = ${at}, \
         reassign_since = CASE WHEN reassign_unanswered_minutes IS NULL \
         AND reassign_when_away = 0 THEN ${at} ELSE reassign_since END \
         WHERE subdomain = ${account} AND id = ${id_at}"
    );
    let done = bind_settings(sqlx::query(sqlx::AssertSqlSafe(sql)), q)
        .bind(now)
        .bind(subdomain.as_str())
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a queue; decisions of it still pending are closed as failed (no run of the
/// queue will settle them any more).
pub async fn delete_queue(db: &Db, subdomain: &Subdomain, id: i64) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    let done = sqlx::query("DELETE FROM routing_queues WHERE subdomain = $1 AND id = $2")
        .bind(subdomain.as_str())
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE routing_assignments SET state = 'failed', detail = 'queue deleted' \
         WHERE subdomain = $1 AND queue_id = $2 AND state = 'pending'",
    )
    .bind(subdomain.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    db.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

/// Renews a queue's run lease while `owner` holds it; false when it was lost.
pub async fn renew_lease(
    db: &Db,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE routing_queues SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(now + lease_ms)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Those of `ids` another run holds a live claim on (being written, or just written and
/// held while views catch up).
pub async fn live_claims(
    db: &Db,
    subdomain: &Subdomain,
    ids: &[i64],
    now: i64,
) -> Result<std::collections::HashSet<i64>, StorageError> {
    let mut claimed = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT ticket_id FROM routing_claims WHERE subdomain = $1 AND claimed_until >= $2 \
             AND ticket_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
            .bind(subdomain.as_str())
            .bind(now);
        for id in chunk {
            query = query.bind(id);
        }
        claimed.extend(query.fetch_all(db.pool()).await?);
    }
    Ok(claimed)
}

/// The account's queues in run order.
pub async fn list_queues(db: &Db, subdomain: &Subdomain) -> Result<Vec<Queue>, StorageError> {
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM routing_queues WHERE subdomain = $1 ORDER BY position, id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(queue_from).collect()
}

pub async fn find_queue(
    db: &Db,
    subdomain: &Subdomain,
    id: i64,
) -> Result<Option<Queue>, StorageError> {
    let sql =
        format!("SELECT {QUEUE_COLUMNS} FROM routing_queues WHERE subdomain = $1 AND id = $2");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(queue_from).transpose()
}

/// Enabled scheduled queues whose next run is due, in run order (unreadable rows are
/// logged and left out).
pub async fn due_queues(db: &Db, now: i64) -> Result<Vec<Queue>, StorageError> {
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM routing_queues WHERE enabled = 1 AND kind = 'scheduled' \
         AND next_run_at <= $1 AND (lease_until IS NULL OR lease_until < $1) \
         ORDER BY subdomain, position, id"
    );
    readable_queues(sqlx::AssertSqlSafe(sql), db, now).await
}

/// The queues a `SELECT {QUEUE_COLUMNS}` with one bound time finds. A row that cannot be
/// read is logged and passed over, so it never stops the others.
async fn readable_queues(
    sql: sqlx::AssertSqlSafe<String>,
    db: &Db,
    now: i64,
) -> Result<Vec<Queue>, StorageError> {
    let rows = sqlx::query(sql).bind(now).fetch_all(db.pool()).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            queue_from(row)
                .map_err(|error| tracing::error!(error = %error, "a routing queue row cannot be read; skipped"))
                .ok()
        })
        .collect())
}

/// Enabled queues with a reassignment rule on whose watch is due, in run order
/// (unreadable rows are logged and left out).
pub async fn due_watches(db: &Db, now: i64) -> Result<Vec<Queue>, StorageError> {
    let sql = format!(
        "SELECT {QUEUE_COLUMNS} FROM routing_queues WHERE enabled = 1 AND watch_next_at <= $1 \
         AND (reassign_unanswered_minutes IS NOT NULL OR reassign_when_away = 1) \
         ORDER BY subdomain, position, id"
    );
    readable_queues(sqlx::AssertSqlSafe(sql), db, now).await
}

/// Ends a watch pass: releases the lease and schedules the next pass (the queue's run
/// schedule is left as it is).
pub async fn finish_watch(
    db: &Db,
    id: i64,
    owner: &str,
    next_watch_at: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_queues SET lease_owner = NULL, lease_until = NULL, watch_next_at = $3 \
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(next_watch_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes a queue's run lease; `due_only` (scheduled runs) also requires the next run to
/// be due, so a run another worker just finished is not repeated from a stale list.
/// Returns the queue as it is now (fresh pointers), or `None` when not taken.
pub async fn lease_queue(
    db: &Db,
    subdomain: &Subdomain,
    id: i64,
    owner: &str,
    now: i64,
    lease_ms: i64,
    due_only: bool,
) -> Result<Option<Queue>, StorageError> {
    let due = if due_only {
        "AND next_run_at <= $4"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE routing_queues SET lease_owner = $2, lease_until = $3 \
         WHERE id = $1 AND (lease_until IS NULL OR lease_until < $4) {due}"
    );
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .execute(db.pool())
        .await?;
    if done.rows_affected() != 1 {
        return Ok(None);
    }
    find_queue(db, subdomain, id).await
}

/// Saves the turns taken (round-robin pointers, the split's counts), only while `owner`
/// still holds the queue's lease.
pub async fn save_turns(
    db: &Db,
    id: i64,
    owner: &str,
    pointers: &Pointers,
    split_counts: &std::collections::BTreeMap<i64, i64>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE routing_queues SET rr_pointers = $3, split_counts = $4 \
         WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(pointers.to_stored())
    .bind(Split::counts_to_stored(split_counts))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends a run: releases the lease, schedules the next run and records the outcome.
pub async fn finish_run(
    db: &Db,
    id: i64,
    owner: &str,
    now: i64,
    next_run_at: i64,
    error: Option<&str>,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_queues SET lease_owner = NULL, lease_until = NULL, next_run_at = $3, \
         last_run_at = $4, last_run_error = $5 WHERE id = $1 AND lease_owner = $2",
    )
    .bind(id)
    .bind(owner)
    .bind(next_run_at)
    .bind(now)
    .bind(error)
    .execute(db.pool())
    .await?;
    Ok(())
}
