//! Counts for the public setup checklist on `/`: how many rows exist, never which.

use super::{Db, StorageError};

/// How far setup has come, in counts only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetupCounts {
    /// Integration accounts (one per Zendesk channel integration instance).
    pub accounts: i64,
    /// Zendesk webhooks calling us whose signing secret is stored (routing and
    /// same-agent, per account).
    pub webhooks: i64,
    /// Slack workspaces with a bot token.
    pub workspaces: i64,
    /// Slack channels linked to an account.
    pub channel_links: i64,
}

const ACCOUNTS: &str = "SELECT COUNT(*) FROM accounts";
const WEBHOOKS: &str = "SELECT \
     (SELECT COUNT(*) FROM routing_settings WHERE route_webhook_secret IS NOT NULL) + \
     (SELECT COUNT(*) FROM routing_settings WHERE same_agent_webhook_secret IS NOT NULL)";
const WORKSPACES: &str = "SELECT COUNT(*) FROM slack_workspaces WHERE bot_token IS NOT NULL";
const CHANNEL_LINKS: &str = "SELECT COUNT(*) FROM channel_links";

#[tracing::instrument(skip_all)]
pub async fn setup_counts(db: &Db) -> Result<SetupCounts, StorageError> {
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(db.pool())
            .await
            .map_err(StorageError::from)
    };
    Ok(SetupCounts {
        accounts: count(ACCOUNTS).await?,
        webhooks: count(WEBHOOKS).await?,
        workspaces: count(WORKSPACES).await?,
        channel_links: count(CHANNEL_LINKS).await?,
    })
}
