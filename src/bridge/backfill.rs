//! Slack-side jobs that follow events: bringing in a whole thread when someone reacts
//! with a channel's start emoji, and reacting to a message once its ticket exists.

use crate::config::Secret;
use crate::domain::{SlackMessageRef, SlackTs, SlackUserId};
use crate::slack::SlackError;
use crate::state::AppState;
use crate::storage::outbox::{self, NewResource, ResourceKind};
use crate::storage::slack_jobs::{self, JobKind, SlackJob};
use crate::storage::threads::{self, Place};
use crate::storage::{StorageError, accounts, channel_links, slack_workspaces, ticket_links};
use crate::zendesk::connection::ConnectionError;

/// Runs one claimed job and records its outcome.
pub async fn run_slack_job(state: &AppState, job: &SlackJob) -> Result<(), StorageError> {
    let outcome = match job.kind {
        JobKind::TicketFields => ticket_fields(state, job).await,
        JobKind::Backfill | JobKind::MarkTicket => {
            let token = slack_workspaces::find(&state.db, &state.keys, &job.message.team)
                .await?
                .and_then(|w| w.bot_token);
            let Some(token) = token else {
                return slack_jobs::retry_later(
                    &state.db,
                    job.id,
                    "workspace_disconnected",
                    10 * 60_000,
                )
                .await;
            };
            if job.kind == JobKind::Backfill {
                backfill(state, job, &token).await
            } else {
                mark_ticket(state, job, &token).await
            }
        }
    };
    match outcome {
        Ok(()) => slack_jobs::finish(&state.db, job.id).await,
        Err(JobError::Storage(error)) => Err(error),
        Err(error) => match error.retry_after(job.attempts) {
            Some(delay) => {
                slack_jobs::retry_later(&state.db, job.id, &error.code(), delay.as_millis() as i64)
                    .await
            }
            None => slack_jobs::fail(&state.db, job.id, &error.code()).await,
        },
    }
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Zendesk(#[from] crate::zendesk::RestError),
    #[error("{0}")]
    Gone(&'static str),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl JobError {
    fn code(&self) -> String {
        match self {
            Self::Slack(error) => error.code().to_owned(),
            Self::Zendesk(error) => error.code(),
            Self::Gone(code) => (*code).to_owned(),
            Self::Storage(_) => "storage_error".into(),
        }
    }

    /// When to try again, or `None` when trying again cannot help.
    fn retry_after(&self, attempts: i64) -> Option<std::time::Duration> {
        let backoff = crate::jobs::backoff(attempts);
        match self {
            Self::Slack(error) if error.is_permanent() => None,
            Self::Slack(error) => Some(error.retry_after().max(backoff)),
            Self::Zendesk(crate::zendesk::RestError::RateLimited { retry_after }) => {
                Some((*retry_after).max(backoff))
            }
            Self::Zendesk(crate::zendesk::RestError::Transient { .. }) => Some(backoff),
            // Waits for a person to reconnect Zendesk (the pages say so), then resumes.
            Self::Zendesk(crate::zendesk::RestError::NeedsReconnect { .. }) => {
                Some(backoff.max(std::time::Duration::from_secs(60)))
            }
            Self::Zendesk(_) | Self::Gone(_) => None,
            Self::Storage(_) => Some(backoff),
        }
    }
}

/// Sets the channel's priority and type on the ticket the message started, through the
/// account's Zendesk REST connection.
async fn ticket_fields(state: &AppState, job: &SlackJob) -> Result<(), JobError> {
    let message = &job.message;
    let Some(link) =
        channel_links::find(&state.db, job.account, &message.team, &message.channel).await?
    else {
        return Ok(());
    };
    let (priority, kind) = (
        link.settings.ticket_priority.as_deref(),
        link.settings.ticket_type.as_deref(),
    );
    if priority.is_none() && kind.is_none() {
        return Ok(());
    }
    let ticket = ticket_links::find(&state.db, job.account, &message.external_id())
        .await?
        .ok_or(JobError::Gone("ticket_unknown"))?;
    let account = accounts::find(&state.db, job.account)
        .await?
        .ok_or(JobError::Gone("account_gone"))?;
    let auth = match state.connections.open(&account.subdomain).await {
        Ok(auth) => auth,
        Err(ConnectionError::Storage(error)) => return Err(error.into()),
        Err(ConnectionError::NeedsReconnect(reason)) => {
            return Err(JobError::Zendesk(
                crate::zendesk::RestError::NeedsReconnect { reason },
            ));
        }
        Err(_) => return Err(JobError::Gone("zendesk_not_connected")),
    };
    state
        .zendesk
        .set_ticket_fields(&account.subdomain, &auth, ticket.ticket_id, priority, kind)
        .await?;
    tracing::info!(account = %job.account, ticket_id = ticket.ticket_id, "ticket priority and type set");
    Ok(())
}

/// Makes the reacted-to message's thread a ticket and queues every message in it so far;
/// later replies follow through the thread mapping. The thread is read again after the
/// mapping is committed, so replies posted while it was being set up are not missed
/// (queuing is idempotent by external id).
async fn backfill(state: &AppState, job: &SlackJob, token: &Secret) -> Result<(), JobError> {
    let message = &job.message;
    let thread = state
        .slack
        .thread(token, &message.channel, &message.ts)
        .await?;
    let root = thread
        .first()
        .and_then(|m| m.thread_ts.as_deref().or(Some(m.ts.as_str())))
        .and_then(|ts| SlackTs::parse(ts).ok())
        .unwrap_or_else(|| message.ts.clone());
    let mut queued = queue_thread(state, job, &root, &thread, true).await?;
    let again = state.slack.thread(token, &message.channel, &root).await?;
    queued += queue_thread(state, job, &root, &again, false).await?;
    tracing::info!(account = %job.account, channel = %message.channel, thread = %root, queued, "thread brought in by reaction");
    state.delivery_wake.notify_one();
    Ok(())
}

/// Queues a thread's messages (not our bot's) in one transaction, starting the mapping
/// first when asked.
async fn queue_thread(
    state: &AppState,
    job: &SlackJob,
    root: &SlackTs,
    thread: &[crate::slack::SlackMessage],
    start_mapping: bool,
) -> Result<usize, JobError> {
    let message = &job.message;
    let bot = slack_workspaces::bot_ids(state.db.pool(), &message.team).await?;
    let place = Place {
        account: job.account,
        team: &message.team,
        channel: &message.channel,
    };
    let mut tx = state.db.begin_write().await?;
    if start_mapping {
        threads::start(&mut tx, place, root, root).await?;
    }
    let mut queued = 0;
    for found in thread {
        let from_bot = found.bot_id.is_some() && found.bot_id == bot.bot_id;
        let by_bot_user = found.user.is_some() && found.user == bot.bot_user;
        let (Ok(ts), false) = (SlackTs::parse(&found.ts), from_bot || by_bot_user) else {
            continue;
        };
        let reference = SlackMessageRef {
            ts,
            ..message.clone()
        };
        let resource = NewResource {
            account_id: job.account,
            external_id: reference.external_id(),
            kind: ResourceKind::Message,
            thread_ts: root.clone(),
            parent_ts: root.clone(),
            author: found
                .user
                .as_deref()
                .and_then(|u| SlackUserId::parse(u).ok()),
            message: reference,
        };
        queued += usize::from(outbox::enqueue(&mut *tx, &resource).await?);
    }
    state.db.commit(tx).await?;
    Ok(queued)
}

/// Adds the channel's "ticket created" reaction to the message that started a ticket.
async fn mark_ticket(state: &AppState, job: &SlackJob, token: &Secret) -> Result<(), JobError> {
    let message = &job.message;
    let link = channel_links::find(&state.db, job.account, &message.team, &message.channel).await?;
    let reaction = link.map(|l| l.settings.ticket_reaction).unwrap_or_default();
    if reaction.is_empty() {
        return Ok(());
    }
    state
        .slack
        .add_reaction(token, &message.channel, &message.ts, &reaction)
        .await?;
    Ok(())
}
