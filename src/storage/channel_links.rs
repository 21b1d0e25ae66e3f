//! `channel_links`: which Slack channels feed which integration account.
//!
//! One account may link many channels and one channel may feed many accounts; each
//! account only ever sees its own links.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use super::{Db, StorageError, Tx, now_ms};
use crate::domain::{AccountId, SlackChannelId, SlackTeamId};

/// How a linked channel turns into tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChannelSettings {
    /// Tags added to tickets started in this channel (besides the account's).
    pub ticket_tags: Vec<String>,
    /// Slack replies become internal notes instead of public comments.
    pub replies_as_internal_notes: bool,
    pub start: StartMode,
    /// The reaction (emoji name, no colons) that starts a ticket in `Reaction` mode.
    pub start_emoji: String,
    /// Consecutive top-level messages from one person within this many minutes join one
    /// ticket; 0 turns grouping off.
    pub same_sender_minutes: u32,
    /// Edited messages add a comment saying so.
    pub sync_edits: bool,
    /// Deleted messages add an internal note saying so.
    pub sync_deletes: bool,
    /// Reaction added to a Slack message once its ticket exists; empty for none.
    pub ticket_reaction: String,
    /// Priority set on new tickets (`low`, `normal`, `high`, `urgent`) through the
    /// account's Zendesk REST connection.
    pub ticket_priority: Option<String>,
    /// Type set on new tickets (`question`, `incident`, `problem`, `task`).
    pub ticket_type: Option<String>,
}

impl Default for ChannelSettings {
    fn default() -> Self {
        Self {
            ticket_tags: Vec::new(),
            replies_as_internal_notes: false,
            start: StartMode::EveryMessage,
            start_emoji: "ticket".into(),
            same_sender_minutes: 0,
            sync_edits: true,
            sync_deletes: true,
            ticket_reaction: "ticket".into(),
            ticket_priority: None,
            ticket_type: None,
        }
    }
}

/// What starts a ticket in a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StartMode {
    /// Every top-level message.
    #[default]
    EveryMessage,
    /// Someone reacts with the start emoji; the thread so far is brought in.
    Reaction,
}

/// A linked channel with its settings.
#[derive(Debug, Clone)]
pub struct ChannelLink {
    pub account: AccountId,
    pub team: SlackTeamId,
    pub channel: SlackChannelId,
    pub settings: ChannelSettings,
    /// When the link was made, unix milliseconds.
    pub created_at: i64,
}

fn settings_json(settings: &ChannelSettings) -> String {
    serde_json::to_string(settings).unwrap_or_else(|_| "{}".to_owned())
}

fn link_from_row(row: &sqlx::any::AnyRow) -> Result<ChannelLink, StorageError> {
    let corrupt = |_| StorageError::Corrupt("channel_links");
    let account: String = row.try_get("account_id")?;
    let team: String = row.try_get("team_id")?;
    let channel: String = row.try_get("channel_id")?;
    let settings: String = row.try_get("settings")?;
    Ok(ChannelLink {
        account: AccountId::parse(&account).map_err(corrupt)?,
        team: SlackTeamId::parse(&team).map_err(corrupt)?,
        channel: SlackChannelId::parse(&channel).map_err(corrupt)?,
        settings: serde_json::from_str(&settings)
            .map_err(|_| StorageError::Corrupt("channel_links.settings"))?,
        created_at: row.try_get("created_at")?,
    })
}

/// Links a channel to an account with default settings (kept if already linked).
pub async fn link(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO channel_links (account_id, team_id, channel_id, settings, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, team_id, channel_id) DO NOTHING",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(channel.as_str())
    .bind(settings_json(&ChannelSettings::default()))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Replaces all of an account's links in one workspace with `links`.
pub async fn replace_for_team(
    tx: &mut Tx,
    account: AccountId,
    team: &SlackTeamId,
    links: &[(SlackChannelId, ChannelSettings)],
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM channel_links WHERE account_id = $1 AND team_id = $2")
        .bind(account.to_string())
        .bind(team.as_str())
        .execute(&mut **tx)
        .await?;
    for (channel, settings) in links {
        sqlx::query(
            "INSERT INTO channel_links (account_id, team_id, channel_id, settings, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(account.to_string())
        .bind(team.as_str())
        .bind(channel.as_str())
        .bind(settings_json(settings))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The account's links, all workspaces.
pub async fn for_account(db: &Db, account: AccountId) -> Result<Vec<ChannelLink>, StorageError> {
    let rows = sqlx::query(
        "SELECT account_id, team_id, channel_id, settings, created_at FROM channel_links WHERE account_id = $1 \
         ORDER BY created_at",
    )
    .bind(account.to_string())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(link_from_row).collect()
}

/// One link, if the account links that channel.
pub async fn find(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<Option<ChannelLink>, StorageError> {
    let row = sqlx::query(
        "SELECT account_id, team_id, channel_id, settings, created_at FROM channel_links \
         WHERE account_id = $1 AND team_id = $2 AND channel_id = $3",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(channel.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.as_ref().map(link_from_row).transpose()
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

/// The links of a channel to active accounts.
pub async fn links_of_channel(
    tx: &mut Tx,
    team: &SlackTeamId,
    channel: &SlackChannelId,
) -> Result<Vec<ChannelLink>, StorageError> {
    let rows = sqlx::query(
        "SELECT l.account_id, l.team_id, l.channel_id, l.settings, l.created_at FROM channel_links l \
         JOIN accounts a ON a.id = l.account_id \
         WHERE l.team_id = $1 AND l.channel_id = $2 AND a.active = 1 ORDER BY l.created_at",
    )
    .bind(team.as_str())
    .bind(channel.as_str())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(link_from_row).collect()
}
