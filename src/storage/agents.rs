//! `zendesk_agents`: the agents and admins of each connected subdomain, as synced from
//! Zendesk. Only what routing and statuses need: id, role, groups, time zone. No names,
//! no emails.

use std::collections::HashSet;

use sqlx::Row;

use super::{Db, StorageError, Tx, placeholders};
use crate::domain::{Subdomain, ZendeskUserId};

/// One agent as Zendesk reported it at the last sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentRecord {
    pub user_id: ZendeskUserId,
    /// `agent` or `admin`.
    pub role: String,
    pub default_group_id: Option<i64>,
    pub group_ids: Vec<i64>,
    /// Zendesk's IANA time zone name, for schedules.
    pub time_zone: Option<String>,
}

/// Makes `agents` the subdomain's agent list: the others are kept but marked inactive
/// (their status history stays meaningful), so they no longer count as agents.
pub async fn replace_all(
    tx: &mut Tx,
    subdomain: &Subdomain,
    agents: &[AgentRecord],
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query("UPDATE zendesk_agents SET active = 0 WHERE subdomain = $1")
        .bind(subdomain.as_str())
        .execute(&mut **tx)
        .await?;
    for agent in agents {
        let groups = agent
            .group_ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        sqlx::query(
            "INSERT INTO zendesk_agents (subdomain, user_id, role, default_group_id, group_ids, \
             time_zone, active, synced_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7) \
             ON CONFLICT (subdomain, user_id) DO UPDATE SET role = excluded.role, \
             default_group_id = excluded.default_group_id, group_ids = excluded.group_ids, \
             time_zone = excluded.time_zone, active = 1, synced_at = excluded.synced_at",
        )
        .bind(subdomain.as_str())
        .bind(agent.user_id.get())
        .bind(&agent.role)
        .bind(agent.default_group_id)
        .bind(groups)
        .bind(agent.time_zone.as_deref())
        .bind(now)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Those of `ids` that are active agents of the subdomain.
pub async fn active_among(
    db: &Db,
    subdomain: &Subdomain,
    ids: &[ZendeskUserId],
) -> Result<HashSet<ZendeskUserId>, StorageError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let sql = format!(
        "SELECT user_id FROM zendesk_agents WHERE subdomain = $1 AND active = 1 \
         AND user_id IN ({})",
        placeholders(1, ids.len())
    );
    let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)).bind(subdomain.as_str());
    for id in ids {
        query = query.bind(id.get());
    }
    let found = query.fetch_all(db.pool()).await?;
    found
        .into_iter()
        .map(|id| {
            ZendeskUserId::new(id).map_err(|_| StorageError::Corrupt("zendesk_agents.user_id"))
        })
        .collect()
}

/// The active agents of a subdomain, by id.
pub async fn list_active(db: &Db, subdomain: &Subdomain) -> Result<Vec<AgentRecord>, StorageError> {
    let rows = sqlx::query(
        "SELECT user_id, role, default_group_id, group_ids, time_zone FROM zendesk_agents \
         WHERE subdomain = $1 AND active = 1 ORDER BY user_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("user_id")?;
            let groups: String = row.try_get("group_ids")?;
            Ok(AgentRecord {
                user_id: ZendeskUserId::new(id)
                    .map_err(|_| StorageError::Corrupt("zendesk_agents.user_id"))?,
                role: row.try_get("role")?,
                default_group_id: row.try_get("default_group_id")?,
                group_ids: groups
                    .split(',')
                    .filter(|g| !g.is_empty())
                    .map(|g| {
                        g.parse()
                            .map_err(|_| StorageError::Corrupt("zendesk_agents.group_ids"))
                    })
                    .collect::<Result<_, _>>()?,
                time_zone: row.try_get("time_zone")?,
            })
        })
        .collect()
}
