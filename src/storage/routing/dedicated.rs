//! Dedicated agents: an organization's or a requester's own agent, and who takes over
//! when that agent is not eligible. Ids only.

use sqlx::Row;

use crate::domain::Subdomain;
use crate::routing::engine::{DedicatedTo, Dedication};
use crate::storage::{Db, StorageError};

/// The account's dedications, organizations first, then by id.
pub async fn list(db: &Db, subdomain: &Subdomain) -> Result<Vec<Dedication>, StorageError> {
    let rows = sqlx::query(
        "SELECT kind, key_id, agent_id, fallback_agent_id FROM routing_dedicated_agents \
         WHERE subdomain = $1 ORDER BY kind, key_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let kind: String = row.try_get("kind")?;
            Ok(Dedication {
                kind: DedicatedTo::parse(&kind).ok_or(StorageError::Corrupt("dedication kind"))?,
                key: row.try_get("key_id")?,
                agent: row.try_get("agent_id")?,
                fallback: row.try_get("fallback_agent_id")?,
            })
        })
        .collect()
}

/// Sets (or replaces) one organization's or requester's dedicated agent.
pub async fn set(
    db: &Db,
    subdomain: &Subdomain,
    dedication: &Dedication,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO routing_dedicated_agents (subdomain, kind, key_id, agent_id, \
         fallback_agent_id, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (subdomain, kind, key_id) DO UPDATE SET agent_id = excluded.agent_id, \
         fallback_agent_id = excluded.fallback_agent_id, updated_at = excluded.updated_at",
    )
    .bind(subdomain.as_str())
    .bind(dedication.kind.as_str())
    .bind(dedication.key)
    .bind(dedication.agent)
    .bind(dedication.fallback)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Removes one; false when there was none.
pub async fn remove(
    db: &Db,
    subdomain: &Subdomain,
    kind: DedicatedTo,
    key: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "DELETE FROM routing_dedicated_agents WHERE subdomain = $1 AND kind = $2 AND key_id = $3",
    )
    .bind(subdomain.as_str())
    .bind(kind.as_str())
    .bind(key)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}
