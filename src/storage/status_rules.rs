//! `status_rules` (each account's optional rules: automatic idle, out-of-office tag,
//! schedules), `zendesk_schedules` (business hours as synced: intervals, time zone,
//! holiday dates; no names), and the per-agent facts the rules use (last activity,
//! chosen schedule) in `zendesk_agents`.

use sqlx::Row;

use super::{Db, StorageError, placeholders};
use crate::domain::{Subdomain, ZendeskUserId};

/// An account's rules; all off by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    /// Online agents idle this many minutes (30 to 1440) become away.
    pub idle_minutes: Option<i64>,
    /// Tag put on a leaving agent's open tickets (e.g. `agent_ooo`).
    pub ooo_tag: Option<String>,
    pub schedules_enabled: bool,
    /// Schedule boundaries up to here (unix ms) were applied.
    pub schedules_checked_at: Option<i64>,
}

pub async fn find(db: &Db, subdomain: &Subdomain) -> Result<Rules, StorageError> {
    let row = sqlx::query(
        "SELECT idle_minutes, ooo_tag, schedules_enabled, schedules_checked_at \
         FROM status_rules WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(Rules::default());
    };
    let enabled: i64 = row.try_get("schedules_enabled")?;
    Ok(Rules {
        idle_minutes: row.try_get("idle_minutes")?,
        ooo_tag: row.try_get("ooo_tag")?,
        schedules_enabled: enabled != 0,
        schedules_checked_at: row.try_get("schedules_checked_at")?,
    })
}

/// Saves an account's rules (the schedule check point is kept).
pub async fn save(
    db: &Db,
    subdomain: &Subdomain,
    rules: &Rules,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO status_rules (subdomain, idle_minutes, ooo_tag, schedules_enabled, \
         updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain) DO UPDATE SET \
         idle_minutes = excluded.idle_minutes, ooo_tag = excluded.ooo_tag, \
         schedules_enabled = excluded.schedules_enabled, updated_at = excluded.updated_at",
    )
    .bind(subdomain.as_str())
    .bind(rules.idle_minutes)
    .bind(rules.ooo_tag.as_deref())
    .bind(i64::from(rules.schedules_enabled))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Accounts with at least one rule on.
pub async fn accounts_with_rules(db: &Db) -> Result<Vec<Subdomain>, StorageError> {
    let raw: Vec<String> = sqlx::query_scalar(
        "SELECT subdomain FROM status_rules WHERE idle_minutes IS NOT NULL \
         OR schedules_enabled = 1 ORDER BY subdomain",
    )
    .fetch_all(db.pool())
    .await?;
    raw.iter()
        .map(|s| Subdomain::parse(s).map_err(|_| StorageError::Corrupt("status_rules.subdomain")))
        .collect()
}

pub async fn set_schedules_checked(
    db: &Db,
    subdomain: &Subdomain,
    at: i64,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE status_rules SET schedules_checked_at = $2 WHERE subdomain = $1")
        .bind(subdomain.as_str())
        .bind(at)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Records activity (a status call or app heartbeat) of these agents.
pub async fn touch(
    db: &Db,
    subdomain: &Subdomain,
    ids: &[ZendeskUserId],
    now: i64,
) -> Result<(), StorageError> {
    let mut conn = db.pool().acquire().await?;
    touch_on(&mut conn, subdomain, ids, now).await
}

/// [`touch`] inside a transaction (or on any connection).
pub async fn touch_on(
    conn: &mut sqlx::AnyConnection,
    subdomain: &Subdomain,
    ids: &[ZendeskUserId],
    now: i64,
) -> Result<(), StorageError> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE zendesk_agents SET last_active_at = $2 WHERE subdomain = $1 AND user_id IN ({})",
        placeholders(2, ids.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(now);
    for id in ids {
        query = query.bind(id.get());
    }
    query.execute(conn).await?;
    Ok(())
}

/// Chooses (or clears) the schedule of an agent; false when the agent is unknown.
pub async fn set_agent_schedule(
    db: &Db,
    subdomain: &Subdomain,
    user_id: ZendeskUserId,
    schedule_id: Option<i64>,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE zendesk_agents SET schedule_id = $3 WHERE subdomain = $1 AND user_id = $2",
    )
    .bind(subdomain.as_str())
    .bind(user_id.get())
    .bind(schedule_id)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A schedule as stored: time zone, intervals, holidays (see `statuses::schedule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSchedule {
    pub schedule_id: i64,
    pub time_zone: String,
    pub intervals: String,
    pub holidays: String,
}

pub async fn save_schedule(
    db: &Db,
    subdomain: &Subdomain,
    schedule: &StoredSchedule,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO zendesk_schedules (subdomain, schedule_id, time_zone, intervals, holidays, \
         synced_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subdomain, schedule_id) \
         DO UPDATE SET time_zone = excluded.time_zone, intervals = excluded.intervals, \
         holidays = excluded.holidays, synced_at = excluded.synced_at",
    )
    .bind(subdomain.as_str())
    .bind(schedule.schedule_id)
    .bind(&schedule.time_zone)
    .bind(&schedule.intervals)
    .bind(&schedule.holidays)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Active agents with a schedule, with that schedule: `(agent, schedule)`.
pub async fn scheduled_agents(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<Vec<(ZendeskUserId, StoredSchedule)>, StorageError> {
    let rows = sqlx::query(
        "SELECT a.user_id, s.schedule_id, s.time_zone, s.intervals, s.holidays \
         FROM zendesk_agents a JOIN zendesk_schedules s \
         ON s.subdomain = a.subdomain AND s.schedule_id = a.schedule_id \
         WHERE a.subdomain = $1 AND a.active = 1 ORDER BY a.user_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("user_id")?;
            Ok((
                ZendeskUserId::new(id).map_err(|_| StorageError::Corrupt("user_id"))?,
                StoredSchedule {
                    schedule_id: row.try_get("schedule_id")?,
                    time_zone: row.try_get("time_zone")?,
                    intervals: row.try_get("intervals")?,
                    holidays: row.try_get("holidays")?,
                },
            ))
        })
        .collect()
}

/// The synced schedules of an account as `(schedule id, time zone)`, by id.
pub async fn schedules(db: &Db, subdomain: &Subdomain) -> Result<Vec<(i64, String)>, StorageError> {
    let rows = sqlx::query(
        "SELECT schedule_id, time_zone FROM zendesk_schedules WHERE subdomain = $1 \
         ORDER BY schedule_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("schedule_id")?, row.try_get("time_zone")?)))
        .collect()
}

/// Every active agent with the schedule chosen for them, if any, by user id.
pub async fn agent_schedules(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<Vec<(i64, Option<i64>)>, StorageError> {
    let rows = sqlx::query(
        "SELECT user_id, schedule_id FROM zendesk_agents WHERE subdomain = $1 AND active = 1 \
         ORDER BY user_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("schedule_id")?)))
        .collect()
}

/// Chooses the schedules of several agents in one transaction: all or none. False (and
/// nothing written) when one of them is not an agent of the account.
pub async fn set_agent_schedules(
    db: &Db,
    subdomain: &Subdomain,
    choices: &[(ZendeskUserId, Option<i64>)],
) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    for (user, schedule) in choices {
        let done = sqlx::query(
            "UPDATE zendesk_agents SET schedule_id = $3 WHERE subdomain = $1 AND user_id = $2",
        )
        .bind(subdomain.as_str())
        .bind(user.get())
        .bind(*schedule)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
    }
    db.commit(tx).await?;
    Ok(true)
}
