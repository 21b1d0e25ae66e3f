//! `zendesk_hooks`: the Zendesk ids of the webhooks and triggers slackdesk made itself,
//! per account and webhook kind (see `routing::hooks`), with when Zendesk last said they
//! exist, the code of the last failure, and a short lease so that only one admin or
//! replica makes or removes one account's webhook at a time. Ids, times and codes only.
//!
//! Row `queue_id = 0` is the webhook (and the same-agent trigger); a trigger queue's
//! trigger is the row with that queue's id.

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::Subdomain;
use crate::routing::settings::Hook;

/// One thing slackdesk made (or is making) in Zendesk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookRow {
    /// 0: the webhook itself; otherwise the trigger queue this trigger routes to.
    pub queue_id: i64,
    pub webhook_id: Option<String>,
    pub trigger_id: Option<i64>,
    pub made_at: Option<i64>,
    /// When Zendesk last answered whether it exists, and whether it said it was gone.
    pub checked_at: Option<i64>,
    pub missing: bool,
    /// The code of the last failure making or removing (row 0 only).
    pub last_error: Option<String>,
    /// Someone is making or removing them until then (row 0 only; unix ms).
    pub busy_until: i64,
}

fn row_of(row: &sqlx::any::AnyRow) -> Result<HookRow, StorageError> {
    Ok(HookRow {
        queue_id: row.try_get("queue_id")?,
        webhook_id: row.try_get("webhook_id")?,
        trigger_id: row.try_get("trigger_id")?,
        made_at: row.try_get("made_at")?,
        checked_at: row.try_get("checked_at")?,
        missing: row.try_get::<i64, _>("missing")? != 0,
        last_error: row.try_get("last_error")?,
        busy_until: row.try_get("busy_until")?,
    })
}

const COLUMNS: &str =
    "queue_id, webhook_id, trigger_id, made_at, checked_at, missing, last_error, busy_until";

/// The account's rows for one webhook kind, webhook row first.
pub async fn rows(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
) -> Result<Vec<HookRow>, StorageError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM zendesk_hooks WHERE subdomain = $1 AND hook = $2 ORDER BY queue_id"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(hook.as_str())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(row_of).collect()
}

/// Takes the account's lease on one webhook kind until `until`; `false` while another
/// holds it. Creates the webhook row (with no webhook yet) when there is none.
pub async fn take_lease(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    now: i64,
    until: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO zendesk_hooks (subdomain, hook, queue_id, busy_until, updated_at) \
         VALUES ($1, $2, 0, $3, $4) ON CONFLICT (subdomain, hook, queue_id) DO UPDATE \
         SET busy_until = excluded.busy_until, updated_at = excluded.updated_at \
         WHERE zendesk_hooks.busy_until < $4",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .bind(until)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn release_lease(db: &Db, subdomain: &Subdomain, hook: Hook) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_hooks SET busy_until = 0 \
         WHERE subdomain = $1 AND hook = $2 AND queue_id = 0",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records the webhook just made (row 0), present as of `now`.
pub async fn set_webhook(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    webhook_id: Option<&str>,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_hooks SET webhook_id = $3, made_at = $4, checked_at = $4, missing = 0, \
         updated_at = $4 WHERE subdomain = $1 AND hook = $2 AND queue_id = 0",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .bind(webhook_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a trigger just made (`Some`) or removed (`None`) for `queue_id`.
pub async fn set_trigger(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    queue_id: i64,
    trigger_id: Option<i64>,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO zendesk_hooks (subdomain, hook, queue_id, trigger_id, made_at, checked_at, \
         missing, updated_at) VALUES ($1, $2, $3, $4, $5, $5, 0, $5) \
         ON CONFLICT (subdomain, hook, queue_id) DO UPDATE SET trigger_id = excluded.trigger_id, \
         made_at = excluded.made_at, checked_at = excluded.checked_at, missing = 0, \
         updated_at = excluded.updated_at",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .bind(queue_id)
    .bind(trigger_id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Forgets a trigger queue's row (its trigger was removed).
pub async fn delete_row(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    queue_id: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM zendesk_hooks WHERE subdomain = $1 AND hook = $2 AND queue_id = $3")
        .bind(subdomain.as_str())
        .bind(hook.as_str())
        .bind(queue_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Forgets everything made for one webhook kind (lease included).
pub async fn delete_all(db: &Db, subdomain: &Subdomain, hook: Hook) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM zendesk_hooks WHERE subdomain = $1 AND hook = $2")
        .bind(subdomain.as_str())
        .bind(hook.as_str())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records what Zendesk said of one row's webhook or trigger: there (`false`) or gone.
pub async fn record_check(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    queue_id: i64,
    missing: bool,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_hooks SET checked_at = $4, missing = $5 \
         WHERE subdomain = $1 AND hook = $2 AND queue_id = $3",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .bind(queue_id)
    .bind(now)
    .bind(i64::from(missing))
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records how the last attempt to make or remove them went (`None`: it worked).
pub async fn record_outcome(
    db: &Db,
    subdomain: &Subdomain,
    hook: Hook,
    error: Option<&str>,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE zendesk_hooks SET last_error = $3, updated_at = $4 \
         WHERE subdomain = $1 AND hook = $2 AND queue_id = 0",
    )
    .bind(subdomain.as_str())
    .bind(hook.as_str())
    .bind(error)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Accounts with something made by slackdesk or a webhook signing secret stored.
pub async fn subdomains(db: &Db) -> Result<Vec<Subdomain>, StorageError> {
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT subdomain FROM zendesk_hooks UNION SELECT subdomain FROM routing_settings \
         WHERE route_webhook_secret IS NOT NULL OR same_agent_webhook_secret IS NOT NULL \
         ORDER BY 1",
    )
    .fetch_all(db.pool())
    .await?;
    names
        .iter()
        .map(|n| Subdomain::parse(n).map_err(|_| StorageError::Corrupt("zendesk_hooks.subdomain")))
        .collect()
}
