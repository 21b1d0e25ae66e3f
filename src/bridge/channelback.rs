//! An agent's reply from Zendesk, posted into its Slack thread.
//!
//! A reply Zendesk identifies (`request_unique_identifier`) is posted with Slack message
//! metadata carrying a mark derived from the account and that id (a hash: no content,
//! nothing reversible). When an earlier attempt's outcome is unknown, [`find_posted`]
//! looks for the mark in the thread, so a reply that reached Slack is not posted twice.

use super::text::zendesk_to_slack;
use crate::domain::{ExternalId, SlackMessageRef, SlackTs};
use crate::slack::SlackError;
use crate::state::AppState;
use crate::storage::accounts::Account;
use crate::storage::{StorageError, channel_links, slack_workspaces};

/// A channelback as Zendesk sent it (SPEC 1.6), metadata already verified.
pub struct ChannelbackRequest<'a> {
    pub message: &'a str,
    /// The mark of Zendesk's `request_unique_identifier` ([`request_mark`]), when sent.
    pub mark: Option<&'a str>,
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
    let metadata = request.mark.map(metadata_of);
    let posted = state
        .slack
        .post_message(
            &token,
            &thread.channel,
            &thread.ts,
            &text,
            metadata.as_deref(),
        )
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
        // The files follow from a job: the answer must not wait for downloads.
        crate::storage::attachment_jobs::enqueue(
            &state.db,
            &state.keys,
            account.id,
            &reply,
            request.thread,
            request.file_urls,
        )
        .await?;
        state.attachments_wake.notify_one();
        tracing::info!(account = %account.id, reply = %reply, files = request.file_urls.len(), "attachments queued for Slack");
    }
    Ok(ChannelbackReply { external_id: reply })
}

/// The Slack message metadata `event_type` of slackdesk's replies.
const REPLY_EVENT: &str = "slackdesk_reply";

/// The mark of one channelback request: the first 24 hex digits of
/// SHA-256(`account:request id`), the same on every attempt, meaningless elsewhere.
pub fn request_mark(account: &Account, request_id: &str) -> String {
    let digest = crate::crypto::tokens::hash_secret(&format!("{}:{request_id}", account.id));
    digest.chars().take(24).collect()
}

fn metadata_of(mark: &str) -> String {
    serde_json::json!({"event_type": REPLY_EVENT, "event_payload": {"request": mark}}).to_string()
}

/// The reply an earlier attempt of this request already posted in the thread, if any.
pub async fn find_posted(
    state: &AppState,
    account: &Account,
    request: &ChannelbackRequest<'_>,
) -> Result<Option<ExternalId>, ChannelbackError> {
    let Some(mark) = request.mark else {
        return Ok(None);
    };
    let thread = request
        .thread
        .slack_message()
        .ok_or(ChannelbackError::UnknownThread)?;
    let workspace = slack_workspaces::find(&state.db, &state.keys, &thread.team).await?;
    let token = workspace
        .and_then(|w| w.bot_token)
        .ok_or(ChannelbackError::WorkspaceDisconnected)?;
    let messages = state
        .slack
        .thread(&token, &thread.channel, &thread.ts)
        .await?;
    let found = messages.iter().find(|m| {
        m.metadata.as_ref().is_some_and(|meta| {
            meta.event_type == REPLY_EVENT && meta.event_payload["request"].as_str() == Some(mark)
        })
    });
    let Some(message) = found else {
        return Ok(None);
    };
    let ts = SlackTs::parse(&message.ts).map_err(|_| {
        ChannelbackError::Slack(SlackError::Unavailable {
            code: "unexpected_response".into(),
        })
    })?;
    tracing::info!(account = %account.id, "channelback found already posted; not posting again");
    Ok(Some(
        SlackMessageRef {
            ts,
            ..thread.clone()
        }
        .external_id(),
    ))
}
