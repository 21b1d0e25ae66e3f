//! Routing's tables: settings and sync cursors (`routing_settings`), queues with their
//! round-robin pointer and run lease (`routing_queues`), per-agent limits, who holds
//! which unsolved ticket (`routing_tickets`), skills, ticket claims, the assignment log
//! and accepted webhook calls (`routing_requests`). Ids, counts and reasons only.
//!
//! Exactly-once on several replicas comes from conditional updates that work the same
//! on SQLite and PostgreSQL: a lease is taken by `UPDATE ... WHERE lease_until < now`
//! and counts only if it changed a row; a ticket is claimed by an insert that only
//! replaces an expired claim.

use std::collections::HashMap;

use sqlx::Row;

use super::{Db, StorageError, Tx, placeholders};
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::Subdomain;
use crate::routing::engine::{Pointers, Split};
use crate::routing::settings::{
    AccountSettings, AgentLimits, Hook, Model, QueueKind, QueueSettings, ReassignRules,
    SameAgentSettings, split_from_stored, split_to_stored,
};
use crate::zendesk::SkillChange;

fn secret_row(subdomain: &str, hook: Hook) -> SealedFor<'_> {
    SealedFor {
        table: "routing_settings",
        column: hook.secret_column(),
        row: subdomain,
    }
}

fn flag(value: bool) -> i64 {
    i64::from(value)
}

async fn ensure_settings_row(db: &Db, subdomain: &Subdomain, now: i64) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO routing_settings (subdomain, updated_at) VALUES ($1, $2) \
         ON CONFLICT (subdomain) DO NOTHING",
    )
    .bind(subdomain.as_str())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Which webhook signing secrets an account has stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SecretsSet {
    pub route: bool,
    pub same_agent: bool,
}

/// The account's settings and which webhook secrets are stored.
pub async fn account_settings(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<(AccountSettings, SecretsSet), StorageError> {
    let row = sqlx::query(
        "SELECT default_inbox_limit, default_daily_limit, same_agent_enabled, \
         same_agent_window_hours, same_agent_only_online, same_agent_within_limits, \
         same_agent_tag, \
         CASE WHEN route_webhook_secret IS NULL THEN 0 ELSE 1 END AS route_set, \
         CASE WHEN same_agent_webhook_secret IS NULL THEN 0 ELSE 1 END AS same_agent_set \
         FROM routing_settings WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok((AccountSettings::default(), SecretsSet::default()));
    };
    let secrets = SecretsSet {
        route: row.try_get::<i64, _>("route_set")? != 0,
        same_agent: row.try_get::<i64, _>("same_agent_set")? != 0,
    };
    Ok((
        AccountSettings {
            default_inbox_limit: row.try_get("default_inbox_limit")?,
            default_daily_limit: row.try_get("default_daily_limit")?,
            same_agent: SameAgentSettings {
                enabled: row.try_get::<i64, _>("same_agent_enabled")? != 0,
                window_hours: row.try_get("same_agent_window_hours")?,
                only_online: row.try_get::<i64, _>("same_agent_only_online")? != 0,
                within_limits: row.try_get::<i64, _>("same_agent_within_limits")? != 0,
                tag: row.try_get("same_agent_tag")?,
            },
        },
        secrets,
    ))
}

pub async fn save_account_settings(
    db: &Db,
    subdomain: &Subdomain,
    settings: &AccountSettings,
    now: i64,
) -> Result<(), StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    let same = &settings.same_agent;
    sqlx::query(
        "UPDATE routing_settings SET default_inbox_limit = $2, default_daily_limit = $3, \
         same_agent_enabled = $4, same_agent_window_hours = $5, same_agent_only_online = $6, \
         same_agent_within_limits = $7, same_agent_tag = $8, updated_at = $9 \
         WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .bind(settings.default_inbox_limit)
    .bind(settings.default_daily_limit)
    .bind(flag(same.enabled))
    .bind(same.window_hours)
    .bind(flag(same.only_online))
    .bind(flag(same.within_limits))
    .bind(same.tag.as_deref())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Stores a Zendesk webhook's signing secret, sealed.
pub async fn set_webhook_secret(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    hook: Hook,
    secret: &Secret,
    now: i64,
) -> Result<(), StorageError> {
    ensure_settings_row(db, subdomain, now).await?;
    let sealed = keys.seal(
        secret.expose().as_bytes(),
        secret_row(subdomain.as_str(), hook),
    )?;
    let sql = format!(
        "UPDATE routing_settings SET {} = $2, updated_at = $3 WHERE subdomain = $1",
        hook.secret_column()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(sealed)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets a webhook's signing secret (the webhook it belonged to was removed).
pub async fn clear_webhook_secret(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    now: i64,
) -> Result<(), StorageError> {
    let sql = format!(
        "UPDATE routing_settings SET {} = NULL, updated_at = $2 WHERE subdomain = $1",
        hook.secret_column()
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn webhook_secret(
    db: &Db,
    keys: &KeyRing,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<Option<Secret>, StorageError> {
    let sql = format!(
        "SELECT {} FROM routing_settings WHERE subdomain = $1",
        hook.secret_column()
    );
    let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .fetch_optional(db.pool())
        .await?;
    match sealed.flatten() {
        Some(sealed) => Ok(Some(
            keys.open(&sealed, secret_row(subdomain.as_str(), hook))?,
        )),
        None => Ok(None),
    }
}

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

/// Per-agent limits set by an admin.
pub async fn agent_limits(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<Vec<AgentLimits>, StorageError> {
    let rows = sqlx::query(
        "SELECT user_id, inbox_limit, daily_limit FROM routing_agent_limits \
         WHERE subdomain = $1 ORDER BY user_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AgentLimits {
                user_id: r.try_get("user_id")?,
                inbox_limit: r.try_get("inbox_limit")?,
                daily_limit: r.try_get("daily_limit")?,
            })
        })
        .collect()
}

/// Sets (or, with both limits null, clears) one agent's limits.
pub async fn set_agent_limits(
    db: &Db,
    subdomain: &Subdomain,
    limits: &AgentLimits,
) -> Result<(), StorageError> {
    if limits.inbox_limit.is_none() && limits.daily_limit.is_none() {
        sqlx::query("DELETE FROM routing_agent_limits WHERE subdomain = $1 AND user_id = $2")
            .bind(subdomain.as_str())
            .bind(limits.user_id)
            .execute(db.pool())
            .await?;
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO routing_agent_limits (subdomain, user_id, inbox_limit, daily_limit) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (subdomain, user_id) DO UPDATE SET \
         inbox_limit = excluded.inbox_limit, daily_limit = excluded.daily_limit",
    )
    .bind(subdomain.as_str())
    .bind(limits.user_id)
    .bind(limits.inbox_limit)
    .bind(limits.daily_limit)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Applies a page of the incremental ticket export: unsolved tickets are kept with
/// their assignee, solved, closed and deleted ones are dropped.
pub async fn apply_ticket_changes(
    db: &Db,
    subdomain: &Subdomain,
    changes: &[(i64, String, Option<i64>, i64)],
) -> Result<(), StorageError> {
    let mut tx = db.begin_write().await?;
    for (id, status, assignee, updated_at) in changes {
        if matches!(status.as_str(), "new" | "open" | "pending" | "hold") {
            sqlx::query(
                "INSERT INTO routing_tickets (subdomain, ticket_id, assignee_id, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
                 assignee_id = excluded.assignee_id, status = excluded.status, \
                 updated_at = excluded.updated_at WHERE routing_tickets.updated_at <= excluded.updated_at",
            )
            .bind(subdomain.as_str())
            .bind(id)
            .bind(assignee)
            .bind(status)
            .bind(updated_at)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM routing_tickets WHERE subdomain = $1 AND ticket_id = $2")
                .bind(subdomain.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    db.commit(tx).await?;
    Ok(())
}

/// Open tickets (status new or open) per assignee: an agent's inbox.
pub async fn open_counts(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<HashMap<i64, i64>, StorageError> {
    let rows = sqlx::query(
        "SELECT assignee_id, COUNT(*) AS open FROM routing_tickets WHERE subdomain = $1 \
         AND assignee_id IS NOT NULL AND status IN ('new', 'open') GROUP BY assignee_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("assignee_id")?, r.try_get("open")?)))
        .collect()
}

/// Every agent's skill ids.
pub async fn agent_skills(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<HashMap<i64, Vec<String>>, StorageError> {
    let rows = sqlx::query(
        "SELECT user_id, value_id FROM routing_agent_skills WHERE subdomain = $1 \
         ORDER BY user_id, value_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut skills: HashMap<i64, Vec<String>> = HashMap::new();
    for row in rows {
        skills
            .entry(row.try_get("user_id")?)
            .or_default()
            .push(row.try_get("value_id")?);
    }
    Ok(skills)
}

/// Makes `skills` the agent's whole skill set.
pub async fn replace_agent_skills(
    db: &Db,
    subdomain: &Subdomain,
    user_id: i64,
    skills: &[String],
) -> Result<(), StorageError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM routing_agent_skills WHERE subdomain = $1 AND user_id = $2")
        .bind(subdomain.as_str())
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    for value in skills {
        add_skill(&mut tx, subdomain, user_id, value).await?;
    }
    db.commit(tx).await?;
    Ok(())
}

async fn add_skill(
    tx: &mut Tx,
    subdomain: &Subdomain,
    user_id: i64,
    value: &str,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO routing_agent_skills (subdomain, user_id, value_id) VALUES ($1, $2, $3) \
         ON CONFLICT (subdomain, user_id, value_id) DO NOTHING",
    )
    .bind(subdomain.as_str())
    .bind(user_id)
    .bind(value)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn apply_skill_changes(
    db: &Db,
    subdomain: &Subdomain,
    changes: &[SkillChange],
) -> Result<(), StorageError> {
    let mut tx = db.begin_write().await?;
    for change in changes {
        if change.added {
            add_skill(&mut tx, subdomain, change.agent_id, &change.value_id).await?;
        } else {
            sqlx::query(
                "DELETE FROM routing_agent_skills WHERE subdomain = $1 AND user_id = $2 \
                 AND value_id = $3",
            )
            .bind(subdomain.as_str())
            .bind(change.agent_id)
            .bind(&change.value_id)
            .execute(&mut *tx)
            .await?;
        }
    }
    db.commit(tx).await?;
    Ok(())
}

/// Cached required skills of these tickets (those never fetched are missing).
pub async fn ticket_skills(
    db: &Db,
    subdomain: &Subdomain,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<String>>, StorageError> {
    let mut found = HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT ticket_id, value_ids FROM routing_ticket_skills WHERE subdomain = $1 \
             AND ticket_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(subdomain.as_str());
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(db.pool()).await? {
            let values: String = row.try_get("value_ids")?;
            let mut list: Vec<String> = values
                .split(',')
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect();
            list.sort();
            found.insert(row.try_get("ticket_id")?, list);
        }
    }
    Ok(found)
}

pub async fn store_ticket_skills(
    db: &Db,
    subdomain: &Subdomain,
    ticket_id: i64,
    skills: &[String],
    now: i64,
) -> Result<(), StorageError> {
    let mut sorted = skills.to_vec();
    sorted.sort();
    sqlx::query(
        "INSERT INTO routing_ticket_skills (subdomain, ticket_id, value_ids, fetched_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
         value_ids = excluded.value_ids, fetched_at = excluded.fetched_at",
    )
    .bind(subdomain.as_str())
    .bind(ticket_id)
    .bind(sorted.join(","))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// One decision to claim and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    pub ticket_id: i64,
    pub agent_id: i64,
    pub reason: String,
    /// The ticket's `updated_at` (Zendesk's text) the decision was made on.
    pub stamp: String,
    /// The group to move the ticket to with the assignee (a queue's split).
    pub set_group_id: Option<i64>,
}

/// A logged assignment that is being (or was) written to Zendesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: i64,
    pub subdomain: Subdomain,
    pub ticket_id: i64,
    pub agent_id: i64,
    pub queue_id: Option<i64>,
    pub model: String,
    pub reason: String,
    pub decided_stamp: Option<String>,
    pub state: String,
    pub detail: Option<String>,
    pub decided_at: i64,
    /// What the reassignment watch made of it (null: watched or not watched), and why.
    pub watch: Option<String>,
    pub watch_detail: Option<String>,
    /// The group written with the assignee (a queue's split), if any.
    pub set_group_id: Option<i64>,
}

/// Who claims: a queue run holding its lease, the same-agent rule, or an agent pulling
/// their next ticket from a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimer<'a> {
    Queue {
        id: i64,
        owner: &'a str,
        lease_ms: i64,
    },
    SameAgent,
    /// "Next ticket" in the agents' app: logged under the queue (model [`PULL_MODEL`]),
    /// without its lease (a pull never waits for a run); the claims alone keep it from
    /// taking a ticket a run or another pull holds.
    Pull {
        queue_id: i64,
    },
}

/// The model logged for a ticket an agent pulled ("next ticket").
pub const PULL_MODEL: &str = "next_ticket";

/// In one transaction: renews the queue's lease (and gives up, `None`, if the run no
/// longer holds it), claims each ticket not claimed by another live run, and logs the
/// claimed ones as `pending`. Tickets someone else holds are left out. Decisions are
/// claimed in ticket order, so two runs never wait on each other's claims.
pub async fn claim_and_log(
    db: &Db,
    subdomain: &Subdomain,
    claimer: Claimer<'_>,
    model: &str,
    decisions: &[NewAssignment],
    now: i64,
    claim_ms: i64,
) -> Result<Option<Vec<Assignment>>, StorageError> {
    let mut tx = db.begin_write().await?;
    let queue_id = match claimer {
        Claimer::Queue {
            id,
            owner,
            lease_ms,
        } => {
            let held = sqlx::query(
                "UPDATE routing_queues SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(id)
            .bind(owner)
            .bind(now + lease_ms)
            .execute(&mut *tx)
            .await?;
            if held.rows_affected() != 1 {
                return Ok(None);
            }
            Some(id)
        }
        Claimer::SameAgent => None,
        Claimer::Pull { queue_id } => Some(queue_id),
    };
    let mut sorted: Vec<&NewAssignment> = decisions.iter().collect();
    sorted.sort_by_key(|d| d.ticket_id);
    let mut logged = Vec::with_capacity(decisions.len());
    for decision in sorted {
        let claimed = sqlx::query(
            "INSERT INTO routing_claims (subdomain, ticket_id, claimed_until) VALUES ($1, $2, $3) \
             ON CONFLICT (subdomain, ticket_id) DO UPDATE SET claimed_until = excluded.claimed_until, \
             assignment_id = NULL WHERE routing_claims.claimed_until < $4",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(now + claim_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO routing_assignments (subdomain, ticket_id, agent_id, queue_id, model, \
             reason, decided_stamp, state, decided_at, set_group_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(decision.agent_id)
        .bind(queue_id)
        .bind(model)
        .bind(&decision.reason)
        .bind(&decision.stamp)
        .bind(now)
        .bind(decision.set_group_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE routing_claims SET assignment_id = $3 WHERE subdomain = $1 AND ticket_id = $2",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        logged.push(Assignment {
            id,
            subdomain: subdomain.clone(),
            ticket_id: decision.ticket_id,
            agent_id: decision.agent_id,
            queue_id,
            model: model.to_owned(),
            reason: decision.reason.clone(),
            decided_stamp: Some(decision.stamp.clone()),
            state: "pending".to_owned(),
            detail: None,
            decided_at: now,
            watch: None,
            watch_detail: None,
            set_group_id: decision.set_group_id,
        });
    }
    db.commit(tx).await?;
    Ok(Some(logged))
}

/// Takes (or keeps) the claim of a pending assignment being settled after a stop:
/// true when it is this assignment's claim now, false when another run holds the ticket.
pub async fn reclaim(
    db: &Db,
    assignment: &Assignment,
    now: i64,
    claim_ms: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO routing_claims (subdomain, ticket_id, claimed_until, assignment_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
         claimed_until = excluded.claimed_until, assignment_id = excluded.assignment_id \
         WHERE routing_claims.assignment_id = excluded.assignment_id \
         OR routing_claims.claimed_until < $5",
    )
    .bind(assignment.subdomain.as_str())
    .bind(assignment.ticket_id)
    .bind(now + claim_ms)
    .bind(assignment.id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How a pending assignment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Assigned,
    /// The ticket changed meanwhile (assigned by someone, solved, deleted, edited).
    Skipped,
    Failed,
}

impl Written {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// Records the outcome of a write. An assigned ticket stays claimed for `hold_ms`
/// (views lag behind) and counts in the agent's inbox right away; a skipped or failed
/// one is released so a later run may route it again. Only this assignment's own claim
/// is extended or released, and only by the worker that moved it out of `pending`
/// (false: someone else settled it first and nothing was changed).
pub async fn record_written(
    db: &Db,
    assignment: &Assignment,
    outcome: Written,
    detail: Option<&str>,
    now: i64,
    hold_ms: i64,
) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    let moved = sqlx::query(
        "UPDATE routing_assignments SET state = $2, detail = $3, written_at = $4 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(assignment.id)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        // Another worker settled it first: its outcome stands, claims are its to keep.
        db.commit(tx).await?;
        return Ok(false);
    }
    let sub = assignment.subdomain.as_str();
    if outcome == Written::Assigned {
        sqlx::query(
            "UPDATE routing_claims SET claimed_until = $3 WHERE subdomain = $1 AND ticket_id = $2 \
             AND assignment_id = $4",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(now + hold_ms)
        .bind(assignment.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO routing_tickets (subdomain, ticket_id, assignee_id, status, updated_at) \
             VALUES ($1, $2, $3, 'open', $4) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
             assignee_id = excluded.assignee_id, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(assignment.agent_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM routing_claims WHERE subdomain = $1 AND ticket_id = $2 AND assignment_id = $3",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(assignment.id)
        .execute(&mut *tx)
        .await?;
    }
    db.commit(tx).await?;
    Ok(true)
}

const ASSIGNMENT_COLUMNS: &str = "id, subdomain, ticket_id, agent_id, queue_id, model, reason, \
     decided_stamp, state, detail, decided_at, watch, watch_detail, set_group_id";

fn assignment_from(row: &sqlx::any::AnyRow) -> Result<Assignment, StorageError> {
    let subdomain: String = row.try_get("subdomain")?;
    Ok(Assignment {
        id: row.try_get("id")?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("assignment subdomain"))?,
        ticket_id: row.try_get("ticket_id")?,
        agent_id: row.try_get("agent_id")?,
        queue_id: row.try_get("queue_id")?,
        model: row.try_get("model")?,
        reason: row.try_get("reason")?,
        decided_stamp: row.try_get("decided_stamp")?,
        state: row.try_get("state")?,
        detail: row.try_get("detail")?,
        decided_at: row.try_get("decided_at")?,
        watch: row.try_get("watch")?,
        watch_detail: row.try_get("watch_detail")?,
        set_group_id: row.try_get("set_group_id")?,
    })
}

/// Pending assignments of a queue (or of the same-agent rule, `None`) left by a run
/// that stopped before recording the outcome.
pub async fn pending_for(
    db: &Db,
    subdomain: &Subdomain,
    queue_id: Option<i64>,
    decided_before: i64,
) -> Result<Vec<Assignment>, StorageError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM routing_assignments WHERE subdomain = $1 \
         AND state = 'pending' AND decided_at < $2 AND {} ORDER BY id LIMIT 1000",
        if queue_id.is_some() {
            // A pull is decided outside the queue's lease: a run settles it only once its
            // claim has run out, never while the pull may still be writing it.
            "queue_id = $3 AND (model <> $4 OR decided_at < $5)"
        } else {
            "queue_id IS NULL"
        }
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(decided_before);
    if let Some(queue) = queue_id {
        query = query
            .bind(queue)
            .bind(PULL_MODEL)
            .bind(decided_before - crate::routing::run::CLAIM_MS);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(assignment_from).collect()
}

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

/// A webhook call waiting to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    pub subdomain: Subdomain,
    pub kind: String,
    pub ticket_id: i64,
    pub queue_id: Option<i64>,
    pub received_at: i64,
    pub attempts: i64,
    /// Calls received so far; a newer call while this one is handled re-arms the row.
    pub calls: i64,
}

/// Stores a webhook call. A second call for the same ticket while the first waits is
/// the same work (false); while the first is being handled it re-arms the row, so the
/// ticket is looked at again afterwards.
pub async fn enqueue_request(
    db: &Db,
    subdomain: &Subdomain,
    kind: &str,
    ticket_id: i64,
    queue_id: Option<i64>,
    now: i64,
) -> Result<bool, StorageError> {
    let calls: i64 = sqlx::query_scalar(
        "INSERT INTO routing_requests (subdomain, kind, ticket_id, queue_id, received_at, \
         next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (subdomain, kind, ticket_id) DO UPDATE SET \
         calls = routing_requests.calls + 1, \
         next_attempt_at = CASE WHEN routing_requests.next_attempt_at > excluded.next_attempt_at \
         THEN excluded.next_attempt_at ELSE routing_requests.next_attempt_at END \
         RETURNING calls",
    )
    .bind(subdomain.as_str())
    .bind(kind)
    .bind(ticket_id)
    .bind(queue_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(calls == 1)
}

/// Leases up to `limit` due requests for this worker.
pub async fn lease_requests(
    db: &Db,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Request>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, subdomain, kind, ticket_id, queue_id, received_at, attempts, calls \
         FROM routing_requests WHERE next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut leased = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let taken = sqlx::query(
            "UPDATE routing_requests SET lease_owner = $2, lease_until = $3 WHERE id = $1 \
             AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(id)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .execute(db.pool())
        .await?;
        if taken.rows_affected() != 1 {
            continue;
        }
        let subdomain: String = row.try_get("subdomain")?;
        leased.push(Request {
            id,
            subdomain: Subdomain::parse(&subdomain)
                .map_err(|_| StorageError::Corrupt("request subdomain"))?,
            kind: row.try_get("kind")?,
            ticket_id: row.try_get("ticket_id")?,
            queue_id: row.try_get("queue_id")?,
            received_at: row.try_get("received_at")?,
            attempts: row.try_get("attempts")?,
            calls: row.try_get("calls")?,
        });
    }
    Ok(leased)
}

/// Done with a request: deleted, unless another call arrived meanwhile (then it is
/// released to run again).
pub async fn finish_request(db: &Db, request: &Request, now: i64) -> Result<(), StorageError> {
    let deleted = sqlx::query("DELETE FROM routing_requests WHERE id = $1 AND calls = $2")
        .bind(request.id)
        .bind(request.calls)
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        sqlx::query(
            "UPDATE routing_requests SET lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = $2 WHERE id = $1",
        )
        .bind(request.id)
        .bind(now)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Tries a request again at `next_attempt_at`; `failed` counts it as a failed attempt
/// (waiting for a busy queue does not).
pub async fn retry_request(
    db: &Db,
    id: i64,
    next_attempt_at: i64,
    failed: bool,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_requests SET attempts = attempts + $3, next_attempt_at = $2, \
         lease_owner = NULL, lease_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(i64::from(failed))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Routing's retention: claims long expired, assignments older than `keep_ms` (never a
/// pending one) and ticket skills not read for 30 days. Returns the rows deleted.
pub async fn prune(db: &Db, now: i64, keep_ms: i64) -> Result<u64, StorageError> {
    let mut deleted = 0;
    for (sql, cutoff) in [
        (
            "DELETE FROM routing_claims WHERE claimed_until < $1",
            now - 86_400_000,
        ),
        (
            "DELETE FROM routing_assignments WHERE decided_at < $1 AND state <> 'pending'",
            now - keep_ms,
        ),
        (
            "DELETE FROM routing_ticket_skills WHERE fetched_at < $1",
            now - 30 * 86_400_000,
        ),
    ] {
        deleted += sqlx::query(sql)
            .bind(cutoff)
            .execute(db.pool())
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
