//! `channel_links`: which Slack channels feed which integration account.
//!
//! One account may link many channels and one channel may feed many accounts; each
//! account only ever sees its own links.

use sqlx::Row;

use super::{Db, StorageError, now_ms};
use crate::domain::{AccountId, SlackChannelId, SlackTeamId};

pub async fn link(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO channel_links (account_id, team_id, channel_id, settings, created_at) \
         VALUES ($1, $2, $3, '{}', $4) ON CONFLICT (account_id, team_id, channel_id) DO NOTHING",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(channel.as_str())
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn is_linked(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<bool, StorageError> {
    let row = sqlx::query(
        "SELECT 1 AS hit FROM channel_links WHERE account_id = $1 AND team_id = $2 AND channel_id = $3",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(channel.as_str())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}

/// The active accounts a channel feeds.
pub async fn accounts_for_channel(
    db: &Db,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<Vec<AccountId>, StorageError> {
    let rows = sqlx::query(
        "SELECT l.account_id FROM channel_links l JOIN accounts a ON a.id = l.account_id \
         WHERE l.team_id = $1 AND l.channel_id = $2 AND a.active = 1 ORDER BY l.created_at",
    )
    .bind(team.as_str())
    .bind(channel.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("account_id")?;
            AccountId::parse(&id).map_err(|_| StorageError::Corrupt("channel_links.account_id"))
        })
        .collect()
}
