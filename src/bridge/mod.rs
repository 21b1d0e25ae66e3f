//! The bridge: where a Slack message becomes a Zendesk resource and a Zendesk reply
//! becomes a Slack message.
//!
//! ```text
//!  Slack event ──enqueue──▶ outbox (ids) ──build──▶ ExternalResource ──▶ push / pull
//!  channelback ──────────────────────────▶ chat.postMessage(thread_ts) ──▶ external_id
//! ```
//!
//! Content is fetched from Slack when a resource is built and dropped after it is sent.

mod attachments;
mod backfill;
mod build;
mod channelback;
pub mod content;
pub mod delivery;
pub mod intake;
pub mod limits;
pub mod mrkdwn;
mod render;
mod text;

pub use attachments::run_attachment_jobs_once;
pub use backfill::run_slack_job;
pub use build::{BuildError, build_resource};
pub use channelback::{
    ChannelbackError, ChannelbackReply, ChannelbackRequest, find_posted, post_channelback,
    request_mark,
};
pub use delivery::MAX_AGE as MAX_DELIVERY_AGE;
pub use text::zendesk_to_slack;

use crate::domain::{AccountId, ExternalId, SlackMessageRef, SlackTs, SlackUserId};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::outbox::{self, NewResource, ResourceKind};

/// The external id of a queued resource: the message's own id, or a derived one for an
/// edit (one per edit, so every edit shows) or a deletion.
pub fn external_id_for(
    message: &SlackMessageRef,
    kind: ResourceKind,
    edit_ts: Option<&SlackTs>,
) -> ExternalId {
    match (kind, edit_ts) {
        (ResourceKind::Message, _) => message.external_id(),
        (ResourceKind::Edit, Some(edit_ts)) => {
            message.derived_external_id(&format!("edit:{edit_ts}"))
        }
        (ResourceKind::Edit, None) => message.derived_external_id("edit"),
        (ResourceKind::Delete, _) => message.derived_external_id("deleted"),
    }
}

/// Queues one Slack message of a ticket thread for an account, bypassing the Events API
/// (for tools and tests); false when it was queued before.
pub async fn enqueue_message(
    state: &AppState,
    account: AccountId,
    message: SlackMessageRef,
    thread_ts: SlackTs,
    author: Option<SlackUserId>,
    kind: ResourceKind,
) -> Result<bool, StorageError> {
    let resource = NewResource {
        account_id: account,
        external_id: external_id_for(&message, kind, None),
        kind,
        parent_ts: thread_ts.clone(),
        message,
        thread_ts,
        author,
    };
    let inserted = outbox::enqueue(state.db.pool(), &resource).await?;
    if inserted {
        state.delivery_wake.notify_one();
    }
    Ok(inserted)
}

/// The Slack message an external id names, as a link for an agent's browser.
/// `None` when the id is not one of ours or its workspace is unknown here.
pub async fn clickthrough_target(
    state: &AppState,
    external_id: &crate::domain::ExternalId,
) -> Result<Option<String>, StorageError> {
    let Some(message) = external_id.slack_message() else {
        return Ok(None);
    };
    let Some(workspace) =
        crate::storage::slack_workspaces::find(&state.db, &state.keys, &message.team).await?
    else {
        return Ok(None);
    };
    if let Some(token) = &workspace.bot_token {
        match state
            .slack
            .permalink(token, &message.channel, &message.ts)
            .await
        {
            Ok(link) if link.starts_with("https://") => return Ok(Some(link)),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(team = %message.team, code = error.code(), "permalink lookup failed")
            }
        }
    }
    // Slack's own redirect opens the channel in the right workspace.
    Ok(Some(format!(
        "https://slack.com/app_redirect?team={}&channel={}",
        message.team, message.channel
    )))
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("Slack refused the token: {0}")]
    Slack(#[from] crate::slack::SlackError),
    #[error("Slack reported an unexpected team id")]
    BadTeam,
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Stores a bot token after checking it with `auth.test`, and grants the workspace to the
/// integration accounts that exist now for the given Zendesk subdomains (the operator's
/// decision; accounts opened later do not inherit it).
pub async fn connect_workspace(
    state: &AppState,
    token: &crate::config::Secret,
    subdomains: &[crate::domain::Subdomain],
) -> Result<crate::domain::SlackTeamId, ConnectError> {
    let identity = state.slack.auth_test(token).await?;
    let team =
        crate::domain::SlackTeamId::parse(&identity.team_id).map_err(|_| ConnectError::BadTeam)?;
    let bot_user = SlackUserId::parse(&identity.user_id).ok();
    crate::storage::slack_workspaces::upsert(
        &state.db,
        &state.keys,
        &crate::storage::slack_workspaces::WorkspaceInstall {
            team: &team,
            bot_user: bot_user.as_ref(),
            bot_id: identity.bot_id.as_deref(),
            app_id: None,
            bot_token: token,
        },
    )
    .await?;
    for subdomain in subdomains {
        for account in crate::storage::accounts::find_by_subdomain(&state.db, subdomain).await? {
            crate::storage::workspace_grants::grant(&state.db, account.id, &team).await?;
        }
    }
    Ok(team)
}
