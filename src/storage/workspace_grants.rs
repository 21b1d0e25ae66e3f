//! `workspace_grants` and `session_grants`: which Slack workspaces an integration account
//! may link channels from.
//!
//! A workspace is granted to the account whose admin installed it from the admin UI (to
//! the set-up session first, when the account is new, and to the account when it is
//! saved), or by the operator on the command line. A subdomain alone grants nothing:
//! anyone can open a new account for any subdomain.

use sqlx::Row;

use super::{Db, StorageError, Tx, now_ms};
use crate::domain::{AccountId, SlackTeamId};

pub async fn grant(db: &Db, account: AccountId, team: &SlackTeamId) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO workspace_grants (account_id, team_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (account_id, team_id) DO NOTHING",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Grants a workspace to an admin UI set-up session (a new account not saved yet).
pub async fn grant_to_session(
    db: &Db,
    session_hash: &str,
    team: &SlackTeamId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO session_grants (session_hash, team_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (session_hash, team_id) DO NOTHING",
    )
    .bind(session_hash)
    .bind(team.as_str())
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Moves a saved session's grants to its account.
pub async fn adopt_session(
    tx: &mut Tx,
    session_hash: &str,
    account: AccountId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO workspace_grants (account_id, team_id, created_at) \
         SELECT $1, team_id, created_at FROM session_grants WHERE session_hash = $2 \
         ON CONFLICT (account_id, team_id) DO NOTHING",
    )
    .bind(account.to_string())
    .bind(session_hash)
    .execute(&mut **tx)
    .await?;
    sqlx::query("DELETE FROM session_grants WHERE session_hash = $1")
        .bind(session_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The workspaces an account (and, while it is being set up, its session) may use.
pub async fn teams_for(
    db: &Db,
    account: Option<AccountId>,
    session_hash: &str,
) -> Result<Vec<SlackTeamId>, StorageError> {
    let rows = sqlx::query(
        "SELECT team_id, created_at FROM workspace_grants WHERE account_id = $1 \
         UNION SELECT team_id, created_at FROM session_grants WHERE session_hash = $2 ORDER BY created_at",
    )
    .bind(account.map(|a| a.to_string()).unwrap_or_default())
    .bind(session_hash)
    .fetch_all(db.pool())
    .await?;
    let mut teams: Vec<SlackTeamId> = Vec::new();
    for row in rows {
        let team: String = row.try_get("team_id")?;
        let team = SlackTeamId::parse(&team)
            .map_err(|_| StorageError::Corrupt("workspace_grants.team_id"))?;
        if !teams.contains(&team) {
            teams.push(team);
        }
    }
    Ok(teams)
}

pub async fn is_granted(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
) -> Result<bool, StorageError> {
    let row =
        sqlx::query("SELECT 1 AS hit FROM workspace_grants WHERE account_id = $1 AND team_id = $2")
            .bind(account.to_string())
            .bind(team.as_str())
            .fetch_optional(db.pool())
            .await?;
    Ok(row.is_some())
}
