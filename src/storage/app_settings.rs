//! `app_settings`: which roles and groups of an account may use the agents' app, and the
//! look-up of one agent's role and groups that the app's requests are checked against.

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::{Subdomain, ZendeskUserId};

/// Who may use the app. No row means everyone with an agent or admin role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppAccess {
    /// `agent`, `admin`.
    pub roles: Vec<String>,
    /// Empty: any group.
    pub group_ids: Vec<i64>,
}

impl Default for AppAccess {
    fn default() -> Self {
        Self {
            roles: vec!["agent".into(), "admin".into()],
            group_ids: Vec::new(),
        }
    }
}

fn ids(raw: &str) -> Vec<i64> {
    raw.split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

pub async fn find(db: &Db, subdomain: &Subdomain) -> Result<AppAccess, StorageError> {
    let row = sqlx::query(
        "SELECT allowed_roles, allowed_group_ids FROM app_settings WHERE subdomain = $1",
    )
    .bind(subdomain.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(AppAccess::default());
    };
    let roles: String = row.try_get("allowed_roles")?;
    let groups: String = row.try_get("allowed_group_ids")?;
    Ok(AppAccess {
        roles: roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect(),
        group_ids: ids(&groups),
    })
}

pub async fn save(
    db: &Db,
    subdomain: &Subdomain,
    access: &AppAccess,
    by: ZendeskUserId,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO app_settings (subdomain, allowed_roles, allowed_group_ids, updated_by, \
         updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain) DO UPDATE SET \
         allowed_roles = excluded.allowed_roles, allowed_group_ids = excluded.allowed_group_ids, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(subdomain.as_str())
    .bind(join(&access.roles))
    .bind(join(&access.group_ids))
    .bind(by.get())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// An active agent's role and group ids, as last synced from Zendesk.
pub async fn agent_role_and_groups(
    db: &Db,
    subdomain: &Subdomain,
    user_id: ZendeskUserId,
) -> Result<Option<(String, Vec<i64>)>, StorageError> {
    let row = sqlx::query(
        "SELECT role, group_ids FROM zendesk_agents WHERE subdomain = $1 AND user_id = $2 \
         AND active = 1",
    )
    .bind(subdomain.as_str())
    .bind(user_id.get())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let role: String = row.try_get("role")?;
        let groups: String = row.try_get("group_ids")?;
        Ok((role, ids(&groups)))
    })
    .transpose()
}

/// Every group id any active agent of the account belongs to, sorted.
pub async fn known_groups(db: &Db, subdomain: &Subdomain) -> Result<Vec<i64>, StorageError> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT group_ids FROM zendesk_agents WHERE subdomain = $1 AND active = 1",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    let mut all: Vec<i64> = rows.iter().flat_map(|r| ids(r)).collect();
    all.sort_unstable();
    all.dedup();
    Ok(all)
}
