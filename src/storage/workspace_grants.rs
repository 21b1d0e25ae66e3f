//! `workspace_grants`: which Slack workspaces a Zendesk account (by subdomain) may link
//! channels from. A workspace is granted to the account whose admin installed it, or by
//! the operator on the command line; no account sees another's workspaces.

use sqlx::Row;

use super::{Db, StorageError, now_ms};
use crate::domain::{SlackTeamId, Subdomain};

pub async fn grant(db: &Db, subdomain: &Subdomain, team: &SlackTeamId) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO workspace_grants (subdomain, team_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (subdomain, team_id) DO NOTHING",
    )
    .bind(subdomain.as_str())
    .bind(team.as_str())
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn teams_for(db: &Db, subdomain: &Subdomain) -> Result<Vec<SlackTeamId>, StorageError> {
    let rows = sqlx::query(
        "SELECT team_id FROM workspace_grants WHERE subdomain = $1 ORDER BY created_at",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let team: String = row.try_get("team_id")?;
            SlackTeamId::parse(&team).map_err(|_| StorageError::Corrupt("workspace_grants.team_id"))
        })
        .collect()
}

pub async fn is_granted(
    db: &Db,
    subdomain: &Subdomain,
    team: &SlackTeamId,
) -> Result<bool, StorageError> {
    let row =
        sqlx::query("SELECT 1 AS hit FROM workspace_grants WHERE subdomain = $1 AND team_id = $2")
            .bind(subdomain.as_str())
            .bind(team.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(row.is_some())
}
