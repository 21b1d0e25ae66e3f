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

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

use crate::domain::{SlackChannelId, SlackMessageRef, SlackTeamId, SlackTs};
use crate::slack::{MessageEvent, SlackEvent};
use crate::state::AppState;
use crate::storage::channel_links::{self, ChannelLink, StartMode};
use crate::storage::outbox::{self, NewResource, ResourceKind, Withdrawal};
use crate::storage::slack_jobs::{self, JobKind};
use crate::storage::slack_workspaces::BotIds;
use crate::storage::threads::{self, Place};
use crate::storage::{Db, StorageError, Tx, channelbacks, slack_events, slack_workspaces};

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
/// `event_time` is the envelope's (Unix seconds; 0 when Slack sent none).
pub async fn accept(
    state: &AppState,
    team: &SlackTeamId,
    event_id: &str,
    event_time: i64,
    event: SlackEvent,
) -> Result<Intake, StorageError> {
    match &event {
        SlackEvent::Uninstalled | SlackEvent::TokensRevoked => {
            // A retry of the removal that arrives after a reinstall must not delete the
            // new token: only a token stored before the event's second is removed.
            let happened_ms = match event_time {
                t if t > 0 => t.saturating_mul(1000),
                _ => crate::storage::now_ms(),
            };
            let removed = slack_workspaces::revoke_if_older(
                &state.db,
                team,
                "slack_app_removed",
                happened_ms,
            )
            .await?;
            if removed {
                tracing::warn!(team = %team, event_id, "Slack tokens removed: the workspace must be connected again");
            } else {
                tracing::info!(team = %team, event_id, "Slack app removal ignored: the token was stored after it");
            }
            return Ok(Intake::Nothing);
        }
        SlackEvent::Ignored(_) => return Ok(Intake::Nothing),
        _ => {}
    }
    state
        .intake
        .submit(team.clone(), event_id.to_owned(), event)
        .await
}

/// Group commit for Slack events.
///
/// ```text
///  request ─┐                        ┌─▶ one transaction: every waiting event ─▶ commit
///  request ─┼─▶ channel ─▶ writer ───┤
///  request ─┘                        └─▶ each request gets its own outcome, then its 200
/// ```
///
/// Every event still has its ids committed before its request is answered; under load the
/// events that arrive while one batch commits share the next transaction, so the database
/// does one commit for many events instead of one each. A batch that fails is retried one
/// event at a time, so one bad event cannot fail its neighbours.
#[derive(Clone, Debug)]
pub struct IntakeQueue {
    sender: mpsc::Sender<Submission>,
}

struct Submission {
    team: SlackTeamId,
    event_id: String,
    event: SlackEvent,
    reply: oneshot::Sender<Result<Intake, StorageError>>,
}

/// Most events committed in one transaction.
const MAX_BATCH: usize = 256;

impl IntakeQueue {
    /// Starts the writer task.
    pub fn start(db: Db, wake: Arc<Notify>) -> Self {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(write_batches(db, wake, receiver));
        Self { sender }
    }

    async fn submit(
        &self,
        team: SlackTeamId,
        event_id: String,
        event: SlackEvent,
    ) -> Result<Intake, StorageError> {
        let (reply, outcome) = oneshot::channel();
        let submission = Submission {
            team,
            event_id,
            event,
            reply,
        };
        self.sender
            .send(submission)
            .await
            .map_err(|_| StorageError::WriterStopped)?;
        outcome.await.map_err(|_| StorageError::WriterStopped)?
    }
}

async fn write_batches(db: Db, wake: Arc<Notify>, mut receiver: mpsc::Receiver<Submission>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let queued = match commit_batch(&db, &batch).await {
            Ok(outcomes) => deliver(batch, outcomes.into_iter().map(Ok).collect()),
            Err(error) => {
                tracing::warn!(events = batch.len(), error = %error, "batched intake failed; retrying one by one");
                let mut outcomes = Vec::with_capacity(batch.len());
                for submission in &batch {
                    outcomes.push(
                        commit_batch(&db, std::slice::from_ref(submission))
                            .await
                            .map(|mut o| o.remove(0)),
                    );
                }
                deliver(batch, outcomes)
            }
        };
        if queued {
            wake.notify_one();
        }
    }
}

/// Commits every event of the batch in one transaction.
async fn commit_batch(db: &Db, batch: &[Submission]) -> Result<Vec<Intake>, StorageError> {
    let mut tx = db.begin_write().await?;
    let mut memo = BatchMemo::default();
    let mut outcomes = Vec::with_capacity(batch.len());
    for submission in batch {
        let outcome = if slack_events::first_delivery(
            &mut tx,
            &submission.event_id,
            submission.team.as_str(),
        )
        .await?
        {
            match route(&mut tx, &mut memo, &submission.team, &submission.event).await? {
                0 => Intake::Nothing,
                queued => Intake::Queued(queued),
            }
        } else {
            Intake::Duplicate
        };
        outcomes.push(outcome);
    }
    db.commit(tx).await?;
    Ok(outcomes)
}

/// Answers each waiting request; true when anything was queued.
fn deliver(batch: Vec<Submission>, outcomes: Vec<Result<Intake, StorageError>>) -> bool {
    let mut queued = false;
    for (submission, outcome) in batch.into_iter().zip(outcomes) {
        queued |= matches!(outcome, Ok(Intake::Queued(_)));
        let _ = submission.reply.send(outcome);
    }
    queued
}

/// What one batch has read already: a channel's links and a workspace's bot ids do not
/// change within the batch's transaction, so each is read once per batch.
#[derive(Default)]
struct BatchMemo {
    links: HashMap<(SlackTeamId, SlackChannelId), Vec<ChannelLink>>,
    bots: HashMap<SlackTeamId, BotIds>,
}

impl BatchMemo {
    async fn links(
        &mut self,
        tx: &mut Tx,
        team: &SlackTeamId,
        channel: &SlackChannelId,
    ) -> Result<Vec<ChannelLink>, StorageError> {
        let key = (team.clone(), channel.clone());
        if let Some(links) = self.links.get(&key) {
            return Ok(links.clone());
        }
        let links = channel_links::links_of_channel(tx, team, channel).await?;
        self.links.insert(key, links.clone());
        Ok(links)
    }

    async fn bot(&mut self, tx: &mut Tx, team: &SlackTeamId) -> Result<BotIds, StorageError> {
        if let Some(bot) = self.bots.get(team) {
            return Ok(bot.clone());
        }
        let bot = slack_workspaces::bot_ids(&mut **tx, team).await?;
        self.bots.insert(team.clone(), bot.clone());
        Ok(bot)
    }
}

async fn route(
    tx: &mut Tx,
    memo: &mut BatchMemo,
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
    let links = memo.links(tx, team, channel).await?;
    if links.is_empty() {
        return Ok(0);
    }
    let bot = memo.bot(tx, team).await?;
    if let SlackEvent::Message(m) | SlackEvent::Edited { message: m, .. } = event
        && is_ours(tx, team, &bot, m).await?
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
            SlackEvent::Reaction {
                ts, reaction, user, ..
            } if !by_bot(&bot, user.as_ref()) => on_reaction(tx, link, ts, reaction).await?,
            _ => 0,
        };
    }
    Ok(queued)
}

/// Our bot's own messages, and the replies we posted for agents.
fn by_bot(bot: &BotIds, user: Option<&crate::domain::SlackUserId>) -> bool {
    user.is_some_and(|u| bot.bot_user.as_deref() == Some(u.as_str()))
}

async fn is_ours(
    tx: &mut Tx,
    team: &SlackTeamId,
    bot: &BotIds,
    message: &MessageEvent,
) -> Result<bool, StorageError> {
    let by_bot_user = by_bot(bot, message.user.as_ref());
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
            None => return adopt_thread_then_enqueue(tx, link, message).await,
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

/// A new top-level message starts a ticket, unless it follows, within the grouping window
/// and with nobody else posting in between, a top-level message from the same person:
/// then it joins that message's ticket.
async fn ticket_thread_for_new_message(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
) -> Result<SlackTs, StorageError> {
    let place = place_of(link);
    let window_ms = i64::from(link.settings.same_sender_minutes) * 60_000;
    if window_ms == 0 {
        return Ok(message.ts.clone());
    }
    let posted_at = message.ts.unix_millis();
    let joined = match &message.user {
        Some(user) => threads::recent_sender_thread(tx, place, user, posted_at - window_ms).await?,
        None => None,
    };
    let thread = joined.unwrap_or_else(|| message.ts.clone());
    threads::touch_sender(tx, place, message.user.as_ref(), &thread, posted_at).await?;
    Ok(thread)
}

/// A reply whose thread is not (yet) a ticket: when its first message was posted after the
/// channel was linked, in a channel where every message starts a ticket, that message's
/// own event is late (a Slack retry) or in flight; start the ticket from it now, so the
/// reply is not lost. Its event does nothing when it comes (same external id).
async fn adopt_thread_then_enqueue(
    tx: &mut Tx,
    link: &ChannelLink,
    reply: &MessageEvent,
) -> Result<usize, StorageError> {
    let root = reply.slack_thread().clone();
    let posted_after_link = root.unix_millis() >= link.created_at - CLOCK_TOLERANCE_MS;
    if link.settings.start != StartMode::EveryMessage || !posted_after_link {
        return Ok(0);
    }
    threads::start(tx, place_of(link), &root, &root).await?;
    let first = MessageEvent {
        channel: reply.channel.clone(),
        ts: root.clone(),
        thread_ts: None,
        user: None,
        bot_id: None,
    };
    let queued = enqueue(tx, link, &first, root.clone(), ResourceKind::Message, None).await?;
    Ok(queued + enqueue(tx, link, reply, root, ResourceKind::Message, None).await?)
}

/// How far Slack's clock (message ts) and ours may disagree.
const CLOCK_TOLERANCE_MS: i64 = 60_000;

async fn on_change(
    tx: &mut Tx,
    link: &ChannelLink,
    message: &MessageEvent,
    kind: ResourceKind,
    edit_ts: Option<&SlackTs>,
) -> Result<usize, StorageError> {
    let Some(thread) = threads::ticket_thread(tx, place_of(link), message.slack_thread()).await?
    else {
        return Ok(0);
    };
    if kind == ResourceKind::Delete {
        let original =
            super::external_id_for(&reference_of(link, message), ResourceKind::Message, None);
        // A message Zendesk never got is withdrawn, not followed by a lone "deleted" note.
        if outbox::withdraw(tx, link.account, &original).await? != Withdrawal::AlreadySent {
            return Ok(0);
        }
    }
    enqueue(tx, link, message, thread, kind, edit_ts).await
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

fn reference_of(link: &ChannelLink, message: &MessageEvent) -> SlackMessageRef {
    SlackMessageRef {
        team: link.team.clone(),
        channel: link.channel.clone(),
        ts: message.ts.clone(),
    }
}

fn place_of(link: &ChannelLink) -> Place<'_> {
    Place {
        account: link.account,
        team: &link.team,
        channel: &link.channel,
    }
}
