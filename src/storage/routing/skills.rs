//! Agents' skills and the skills read for tickets (`routing_agent_skills`,
//! `routing_ticket_skills`).

use std::collections::HashMap;

use sqlx::Row;

use crate::domain::Subdomain;
use crate::storage::{Db, StorageError, Tx, placeholders};
use crate::zendesk::SkillChange;

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
