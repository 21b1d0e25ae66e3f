//! An agent's reply from Zendesk, posted into its Slack thread.

use super::text::zendesk_to_slack;
use crate::domain::{ExternalId, SlackMessageRef, SlackTs};
use crate::slack::SlackError;
use crate::startup::AppState;
use crate::storage::accounts::Account;
use crate::storage::{StorageError, channel_links, slack_workspaces};

/// A channelback as Zendesk sent it (SPEC 1.6), metadata already verified.
pub struct ChannelbackRequest<'a> {
    pub message: &'a str,
    /// `thread_id`, else `parent_id`: the thread the reply belongs to.
    pub thread: &'a ExternalId,
    pub file_urls: &'a [String],
}

#[derive(Debug)]
pub struct ChannelbackReply {
    pub external_id: ExternalId,
}

#[derive(Debug, thiserror::Error)]
pub enum ChannelbackError {
    #[error("the thread is not a Slack conversation this account knows")]
    UnknownThread,
    #[error("the Slack channel is not linked to this account")]
    ChannelNotLinked,
    #[error("the Slack workspace is not connected")]
    WorkspaceDisconnected,
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Posts the reply in the thread and returns the external id of the new Slack message.
pub async fn post_channelback(
    state: &AppState,
    account: &Account,
    request: &ChannelbackRequest<'_>,
) -> Result<ChannelbackReply, ChannelbackError> {
    let thread = request
        .thread
        .slack_message()
        .ok_or(ChannelbackError::UnknownThread)?;
    if !channel_links::is_linked(&state.db, account.id, &thread.team, &thread.channel).await? {
        return Err(ChannelbackError::ChannelNotLinked);
    }
    let workspace = slack_workspaces::find(&state.db, &state.keys, &thread.team).await?;
    let token = workspace
        .and_then(|w| w.bot_token)
        .ok_or(ChannelbackError::WorkspaceDisconnected)?;
    let text = zendesk_to_slack(request.message);
    let posted = state
        .slack
        .post_message(&token, &thread.channel, &thread.ts, &text)
        .await;
    let posted_ts = match posted {
        Ok(ts) => ts,
        Err(error) => {
            if error.is_workspace_problem() {
                slack_workspaces::flag(&state.db, &thread.team, error.code()).await?;
            }
            return Err(error.into());
        }
    };
    let ts = SlackTs::parse(&posted_ts).map_err(|_| {
        ChannelbackError::Slack(SlackError::Unavailable {
            code: "unexpected_response".into(),
        })
    })?;
    let reply = SlackMessageRef {
        ts,
        ..thread.clone()
    }
    .external_id();
    if !request.file_urls.is_empty() {
        let failed = super::attachments::forward(
            state,
            account,
            &token,
            &thread.channel,
            &thread.ts,
            &reply,
            request.file_urls,
        )
        .await;
        tracing::info!(account = %account.id, files = request.file_urls.len(), failed = failed.len(), "attachments forwarded to Slack");
    }
    Ok(ChannelbackReply { external_id: reply })
}
