//! Per-agent limits an admin set (`routing_agent_limits`).

use sqlx::Row;

use crate::domain::Subdomain;
use crate::routing::settings::AgentLimits;
use crate::storage::{Db, StorageError};

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
