//! From a Slack event to queued work, in one transaction, before Slack gets its 200.
//!
//! ```text
//!  event ─▶ first delivery? ─▶ for each account linking the channel:
//!            top-level message ─▶ new ticket thread (or the sender's recent one)
//!            thread reply      ─▶ comment, if the thread is a ticket of the account
//!            edit / delete     ─▶ comment / internal note, if enabled
//!            start reaction    ─▶ backfill job (the thread so far)
//! ```
//!
//! Only ids are written. Our own bot's messages, and messages we posted for an agent,
//! never come back as comments.

use crate::domain::{SlackMessageRef, SlackTeamId, SlackTs};
use crate::slack::{MessageEvent, SlackEvent};
use crate::startup::AppState;
use crate::storage::channel_links::{self, ChannelLink, StartMode};
use crate::storage::outbox::{self, NewResource, ResourceKind};
use crate::storage::slack_jobs::{self, JobKind};
use crate::storage::threads::{self, Place};
use crate::storage::{StorageError, Tx, channelbacks, slack_events, slack_workspaces};

/// What happened to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intake {
    /// A retry of an event already accepted.
    Duplicate,
    /// Accepted; this many resources and jobs were queued.
    Queued(usize),
    /// Accepted; nothing to do (not linked, our own message, ignored type).
    Nothing,
}

/// Accepts one event: everything it leads to is committed when this returns.
pub async fn accept(
    state: &AppState,
    team: &SlackTeamId,
    event_id: &str,
    event: SlackEvent,
) -> Result<Intake, StorageError> {
    match &event {
        SlackEvent::Uninstalled | SlackEvent::TokensRevoked => {
            slack_workspaces::revoke(&state.db, team, "slack_app_removed").await?;
            tracing::warn!(team = %team, "Slack tokens removed: the workspace must be connected again");
            return Ok(Intake::Nothing);
        }
        SlackEvent::Ignored(_) => return Ok(Intake::Nothing),
        _ => {}
    }
    let mut tx = state.db.begin_write().await?;
    if !slack_events::first_delivery(&mut tx, event_id, team.as_str()).await? {
        return Ok(Intake::Duplicate);
    }
    let queued = route(&mut tx, team, &event).await?;
    tx.commit().await?;
    if queued > 0 {
        state.delivery_wake.notify_one();
    }
    Ok(if queued > 0 {
        Intake::Queued(queued)
    } else {
        Intake::Nothing
    })
}

async fn route(
    tx: &mut Tx,
    team: &SlackTeamId,
    event: &SlackEvent,
) -> Result<usize, StorageError> {
    let channel = match event {
        SlackEvent::Message(m) | SlackEvent::Deleted(m) | SlackEvent::Edited { message: m, .. } => {
            &m.channel
        }
        SlackEvent::Reaction { channel, .. } => channel,
        _ => return Ok(0),
    };
    let links = channel_links::links_of_channel(tx, team, channel).await?;
    if links.is_empty() {
        return Ok(0);
    }
    if let SlackEvent::Message(m) | SlackEvent::Edited { message: m, .. } = event
        && is_ours(tx, team, m).await?
    {
        return Ok(0);
    }
    let mut queued = 0;
    for link in &links {
        queued += match event {
            SlackEvent::Message(message) => on_message(tx, link, message).await?,
            SlackEvent::Edited { message, edit_ts } if link.settings.sync_edits => {
                on_change(tx, link, message, ResourceKind::Edit, Some(edit_ts)).await?
            }
            SlackEvent::Deleted(message) if link.settings.sync_deletes => {
                on_change(tx, link, message, ResourceKind::Delete, None).await?
            }
            SlackEvent::Reaction { ts, reaction, .. } => {
                on_reaction(tx, link, ts, reaction).await?
            }
            _ => 0,
        };
    }
    Ok(queued)
}

/// Our bot's own messages, and the replies we posted for agents.
async fn is_ours(
    tx: &mut Tx,
    team: &SlackTeamId,
    message: &MessageEvent,
) -> Result<bool, StorageError> {
    let bot = slack_workspaces::bot_ids(&mut **tx, team).await?;
    let by_bot_user = message
        .user
        .as_ref()
        .is_some_and(|u| bot.bot_user.as_deref() == Some(u.as_str()));
    let by_bot_id = message.bot_id.is_some() && message.bot_id == bot.bot_id;
    if by_bot_user || by_bot_id {
        return Ok(true);
    }
    let external_id = SlackMessageRef {
        team: team.clone(),
        channel: message.channel.clone(),
        ts: message.ts.clone(),
    }
    .external_id();
    channelbacks::posted(tx, &external_id).await
}

async fn on_message(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
) -> Result<usize, StorageError> {
    let place = place_of(link);
    let ticket_thread = if message.is_top_level() {
        if link.settings.start == StartMode::Reaction {
            return Ok(0);
        }
        let thread = ticket_thread_for_new_message(tx, link, message).await?;
        threads::start(tx, place, &message.ts, &thread).await?;
        thread
    } else {
        match threads::ticket_thread(tx, place, message.slack_thread()).await? {
            Some(thread) => thread,
            None => return Ok(0),
        }
    };
    enqueue(
        tx,
        link,
        message,
        ticket_thread,
        ResourceKind::Message,
        None,
    )
    .await
}

/// A new top-level message starts a ticket, unless the same person started one in this
/// channel within the grouping window: then it joins that ticket.
async fn ticket_thread_for_new_message(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
) -> Result<SlackTs, StorageError> {
    let place = place_of(link);
    let window_ms = i64::from(link.settings.same_sender_minutes) * 60_000;
    let (Some(user), true) = (&message.user, window_ms > 0) else {
        return Ok(message.ts.clone());
    };
    let thread = threads::recent_sender_thread(tx, place, user, window_ms)
        .await?
        .unwrap_or_else(|| message.ts.clone());
    threads::touch_sender(tx, place, user, &thread).await?;
    Ok(thread)
}

async fn on_change(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
    kind: ResourceKind,
    edit_ts: Option<&SlackTs>,
) -> Result<usize, StorageError> {
    match threads::ticket_thread(tx, place_of(link), message.slack_thread()).await? {
        Some(thread) => enqueue(tx, link, message, thread, kind, edit_ts).await,
        None => Ok(0),
    }
}

async fn on_reaction(
    tx: &mut Tx,
    link: &ChannelLink,
    ts: &SlackTs,
    reaction: &str,
) -> Result<usize, StorageError> {
    if link.settings.start != StartMode::Reaction || reaction != link.settings.start_emoji {
        return Ok(0);
    }
    let message = SlackMessageRef {
        team: link.team.clone(),
        channel: link.channel.clone(),
        ts: ts.clone(),
    };
    let queued = slack_jobs::enqueue(&mut **tx, link.account, JobKind::Backfill, &message).await?;
    Ok(usize::from(queued))
}

async fn enqueue(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
    ticket_thread: SlackTs,
    kind: ResourceKind,
    edit_ts: Option<&SlackTs>,
) -> Result<usize, StorageError> {
    let reference = SlackMessageRef {
        team: link.team.clone(),
        channel: link.channel.clone(),
        ts: message.ts.clone(),
    };
    let resource = NewResource {
        account_id: link.account,
        external_id: super::external_id_for(&reference, kind, edit_ts),
        kind,
        thread_ts: ticket_thread,
        parent_ts: message.slack_thread().clone(),
        author: message.user.clone(),
        message: reference,
    };
    Ok(usize::from(outbox::enqueue(&mut **tx, &resource).await?))
}

fn place_of(link: &ChannelLink) -> Place<'_> {
    Place {
        account: link.account,
        team: &link.team,
        channel: &link.channel,
    }
}
