//! `slack_workspaces`: connected Slack workspaces and their sealed bot tokens.

use sqlx::Row;

use super::{Db, StorageError, now_ms};
use crate::config::Secret;
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::{SlackTeamId, SlackUserId};

pub(crate) fn bot_token_row(team: &str) -> SealedFor<'_> {
    SealedFor {
        table: "slack_workspaces",
        column: "bot_token",
        row: team,
    }
}

pub struct WorkspaceInstall<'a> {
    pub team: &'a SlackTeamId,
    pub bot_user: Option<&'a SlackUserId>,
    pub bot_id: Option<&'a str>,
    pub app_id: Option<&'a str>,
    pub bot_token: &'a Secret,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub team: SlackTeamId,
    pub bot_user: Option<String>,
    pub bot_id: Option<String>,
    pub bot_token: Option<Secret>,
    pub needs_attention: Option<String>,
}

/// Stores a workspace's bot token; a reinstall replaces the token and clears any alarm.
pub async fn upsert(
    db: &Db,
    keys: &KeyRing,
    install: &WorkspaceInstall<'_>,
) -> Result<(), StorageError> {
    let team = install.team.as_str();
    let sealed = keys.seal(install.bot_token.expose().as_bytes(), bot_token_row(team))?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO slack_workspaces (team_id, bot_user_id, bot_id, app_id, bot_token, \
         needs_attention, installed_at, updated_at, bot_token_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6, $6, $6) \
         ON CONFLICT (team_id) DO UPDATE SET bot_user_id = excluded.bot_user_id, \
         bot_id = excluded.bot_id, app_id = excluded.app_id, bot_token = excluded.bot_token, \
         needs_attention = NULL, updated_at = excluded.updated_at, \
         bot_token_at = excluded.bot_token_at",
    )
    .bind(team)
    .bind(install.bot_user.map(SlackUserId::as_str))
    .bind(install.bot_id)
    .bind(install.app_id)
    .bind(sealed)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn find(
    db: &Db,
    keys: &KeyRing,
    team: &SlackTeamId,
) -> Result<Option<Workspace>, StorageError> {
    let row = sqlx::query(
        "SELECT bot_user_id, bot_id, bot_token, needs_attention FROM slack_workspaces \
         WHERE team_id = $1",
    )
    .bind(team.as_str())
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: Option<Vec<u8>> = row.try_get("bot_token")?;
    Ok(Some(Workspace {
        team: team.clone(),
        bot_user: row.try_get("bot_user_id")?,
        bot_id: row.try_get("bot_id")?,
        bot_token: sealed
            .map(|s| keys.open(&s, bot_token_row(team.as_str())))
            .transpose()?,
        needs_attention: row.try_get("needs_attention")?,
    }))
}

/// The ids our bot posts under in a workspace (to ignore our own messages).
#[derive(Debug, Default, Clone)]
pub struct BotIds {
    pub bot_user: Option<String>,
    pub bot_id: Option<String>,
}

pub async fn bot_ids<'e, E>(executor: E, team: &SlackTeamId) -> Result<BotIds, StorageError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT bot_user_id, bot_id FROM slack_workspaces WHERE team_id = $1")
        .bind(team.as_str())
        .fetch_optional(executor)
        .await?;
    Ok(match row {
        Some(row) => BotIds {
            bot_user: row.try_get("bot_user_id")?,
            bot_id: row.try_get("bot_id")?,
        },
        None => BotIds::default(),
    })
}

/// Deletes a workspace's token (uninstalled, revoked) unless it was stored after the
/// second the removal happened in (`happened_ms`, whole seconds from Slack's
/// `event_time`): then the removal is an old one, retried after a reinstall. True when a
/// token was removed.
pub async fn revoke_if_older(
    db: &Db,
    team: &SlackTeamId,
    reason: &str,
    happened_ms: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE slack_workspaces SET bot_token = NULL, needs_attention = $2, updated_at = $3 \
         WHERE team_id = $1 AND bot_token IS NOT NULL \
         AND (bot_token_at IS NULL OR bot_token_at < $4)",
    )
    .bind(team.as_str())
    .bind(reason)
    .bind(now_ms())
    .bind(happened_ms.saturating_add(1000))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Flags a workspace an admin must look at, by error code.
pub async fn flag(db: &Db, team: &SlackTeamId, code: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE slack_workspaces SET needs_attention = $2, updated_at = $3 WHERE team_id = $1",
    )
    .bind(team.as_str())
    .bind(code)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Whether a workspace the account links channels from lost its token (uninstalled,
/// revoked): the admin must connect Slack again.
pub async fn account_needs_reconnect(
    db: &Db,
    account: crate::domain::AccountId,
) -> Result<bool, StorageError> {
    let row = sqlx::query(
        "SELECT 1 AS hit FROM channel_links l JOIN slack_workspaces w ON w.team_id = l.team_id \
         WHERE l.account_id = $1 AND w.bot_token IS NULL",
    )
    .bind(account.to_string())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}
