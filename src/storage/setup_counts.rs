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

/// How far one Zendesk account's setup has come, in counts only: what the signed-in part
/// of the setup checklist shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountCounts {
    /// Integration accounts (Channel Framework instances) of this Zendesk account.
    pub accounts: i64,
    /// Slack workspaces granted to them.
    pub workspaces: i64,
    pub channel_links: i64,
    /// Active agents synced from Zendesk.
    pub agents: i64,
    /// API keys not revoked.
    pub api_keys: i64,
    pub queues: i64,
    /// Routing webhooks whose signing secret is stored (route, same agent).
    pub webhooks: i64,
}

const ACCOUNT_COUNTS: [&str; 7] = [
    "SELECT COUNT(*) FROM accounts WHERE subdomain = $1 AND active = 1",
    "SELECT COUNT(DISTINCT g.team_id) FROM workspace_grants g JOIN accounts a ON a.id = g.account_id \
     WHERE a.subdomain = $1",
    "SELECT COUNT(*) FROM channel_links l JOIN accounts a ON a.id = l.account_id WHERE a.subdomain = $1",
    "SELECT COUNT(*) FROM zendesk_agents WHERE subdomain = $1 AND active = 1",
    "SELECT COUNT(*) FROM api_keys WHERE subdomain = $1 AND revoked_at IS NULL",
    "SELECT COUNT(*) FROM routing_queues WHERE subdomain = $1",
    "SELECT COALESCE(SUM(CASE WHEN route_webhook_secret IS NOT NULL THEN 1 ELSE 0 END + \
     CASE WHEN same_agent_webhook_secret IS NOT NULL THEN 1 ELSE 0 END), 0) \
     FROM routing_settings WHERE subdomain = $1",
];

#[tracing::instrument(skip_all)]
pub async fn account_counts(
    db: &Db,
    subdomain: &crate::domain::Subdomain,
) -> Result<AccountCounts, StorageError> {
    let mut counts = [0_i64; 7];
    for (slot, sql) in counts.iter_mut().zip(ACCOUNT_COUNTS) {
        *slot = sqlx::query_scalar::<_, i64>(sql)
            .bind(subdomain.as_str())
            .fetch_one(db.pool())
            .await?;
    }
    let [
        accounts,
        workspaces,
        channel_links,
        agents,
        api_keys,
        queues,
        webhooks,
    ] = counts;
    Ok(AccountCounts {
        accounts,
        workspaces,
        channel_links,
        agents,
        api_keys,
        queues,
        webhooks,
    })
}
