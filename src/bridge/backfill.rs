//! Slack-side jobs that follow events: bringing in a whole thread when someone reacts
//! with a channel's start emoji, and reacting to a message once its ticket exists.

use crate::config::Secret;
use crate::domain::{SlackMessageRef, SlackTs, SlackUserId};
use crate::slack::SlackError;
use crate::startup::AppState;
use crate::storage::outbox::{self, NewResource, ResourceKind};
use crate::storage::slack_jobs::{self, JobKind, SlackJob};
use crate::storage::threads::{self, Place};
use crate::storage::{StorageError, channel_links, slack_workspaces};

/// Runs one claimed job and records its outcome.
pub async fn run_slack_job(state: &AppState, job: &SlackJob) -> Result<(), StorageError> {
    let token = slack_workspaces::find(&state.db, &state.keys, &job.message.team)
        .await?
        .and_then(|w| w.bot_token);
    let Some(token) = token else {
        return slack_jobs::retry_later(&state.db, job.id, "workspace_disconnected", 10 * 60_000)
            .await;
    };
    let outcome = match job.kind {
        JobKind::Backfill => backfill(state, job, &token).await,
        JobKind::MarkTicket => mark_ticket(state, job, &token).await,
    };
    match outcome {
        Ok(()) => slack_jobs::finish(&state.db, job.id).await,
        Err(JobError::Slack(error)) if error.is_permanent() => {
            slack_jobs::fail(&state.db, job.id, error.code()).await
        }
        Err(JobError::Slack(error)) => {
            let delay = error.retry_after().max(crate::jobs::backoff(job.attempts));
            slack_jobs::retry_later(&state.db, job.id, error.code(), delay.as_millis() as i64).await
        }
        Err(JobError::Storage(error)) => Err(error),
    }
}

#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Makes the reacted-to message's thread a ticket and queues every message in it so far;
/// later replies follow through the thread mapping.
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
    let bot = slack_workspaces::bot_ids(state.db.pool(), &message.team).await?;
    let place = Place {
        account: job.account,
        team: &message.team,
        channel: &message.channel,
    };
    let mut tx = state.db.begin_write().await?;
    threads::start(&mut tx, place, &root, &root).await?;
    let mut queued = 0;
    for found in &thread {
        let from_bot = found.bot_id.is_some() && found.bot_id == bot.bot_id;
        let (Ok(ts), false) = (
            SlackTs::parse(&found.ts),
            from_bot || found.user == bot.bot_user.clone().filter(|_| found.user.is_some()),
        ) else {
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
    tx.commit().await.map_err(StorageError::from)?;
    tracing::info!(account = %job.account, channel = %message.channel, thread = %root, queued, "thread brought in by reaction");
    state.delivery_wake.notify_one();
    Ok(())
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
