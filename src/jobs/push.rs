//! One delivery round: claimed rows become pushes, and each result decides the row's fate.
//!
//! An account's rows go out in queue order. When a row cannot be built for a passing
//! reason, it and every later row of the account wait for the next round, so a thread
//! reaches Zendesk in order (a reply never arrives before the message that starts it).

use std::time::Duration;

use crate::bridge;
use crate::config::Secret;
use crate::domain::AccountId;
use crate::startup::AppState;
use crate::storage::StorageError;
use crate::storage::accounts::{self, Account};
use crate::storage::outbox::{self, QueuedResource};
use crate::zendesk::{ExternalResource, MAX_PUSH_BATCH, PushError, PushResultStatus};

/// Rows claimed per account per round.
const CLAIM_LIMIT: i64 = 500;
/// Accounts delivered per round (then the loop looks for Slack jobs again).
const ACCOUNTS_PER_ROUND: usize = 20;
/// How long a claim lasts before another worker may take the rows.
const LEASE_MS: i64 = 60_000;

#[derive(Debug, Default, Clone, Copy)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub delivered: usize,
}

/// The stop code of a push answered 429.
const RATE_LIMITED: &str = "rate_limited";

/// Why an account's round stopped early: its remaining rows wait `delay`.
struct Stop {
    delay: Duration,
    code: String,
}

/// Delivers due rows account by account: each account is leased first, so on several
/// replicas one worker at a time delivers an account's queue, in order.
pub async fn deliver_once(state: &AppState) -> Result<DeliveryRound, StorageError> {
    let mut round = DeliveryRound::default();
    for _ in 0..ACCOUNTS_PER_ROUND {
        let Some(account_id) = outbox::lease_account(&state.db, LEASE_MS).await? else {
            break;
        };
        let mut rate_limited = None;
        let delivered = deliver_leased(state, account_id, &mut round, &mut rate_limited).await;
        match rate_limited {
            // Zendesk's Retry-After holds the whole account, not only the rows just sent.
            Some(delay) => outbox::hold_account(&state.db, account_id, delay).await?,
            None => outbox::release_account(&state.db, account_id).await?,
        }
        round.delivered += delivered?;
    }
    Ok(round)
}

async fn deliver_leased(
    state: &AppState,
    account_id: AccountId,
    round: &mut DeliveryRound,
    rate_limited: &mut Option<Duration>,
) -> Result<usize, StorageError> {
    let rows = outbox::claim_for_push(&state.db, account_id, CLAIM_LIMIT, LEASE_MS).await?;
    round.claimed += rows.len();
    match accounts::find(&state.db, account_id).await? {
        Some(account) => deliver_account(state, &account, &rows, rate_limited).await,
        None => Ok(0),
    }
}

async fn deliver_account(
    state: &AppState,
    account: &Account,
    rows: &[QueuedResource],
    rate_limited: &mut Option<Duration>,
) -> Result<usize, StorageError> {
    let (Some(token), Some(push_id)) = (
        account.push_token(&state.keys)?,
        account.instance_push_id.as_deref(),
    ) else {
        release(
            state,
            rows,
            &Stop {
                delay: Duration::from_secs(60),
                code: "no_push_credentials".into(),
            },
        )
        .await?;
        return Ok(0);
    };
    let mut delivered = 0;
    let mut start = 0;
    while start < rows.len() {
        let batch = &rows[start..rows.len().min(start + MAX_PUSH_BATCH)];
        let built = build_batch(state, account, batch).await?;
        match push_built(
            state,
            account,
            &token,
            push_id,
            &built.resources,
            &built.rows,
        )
        .await?
        {
            Ok(count) => delivered += count,
            Err(stop) => {
                release(state, &rows[start..], &stop).await?;
                if stop.code == RATE_LIMITED {
                    *rate_limited = Some(stop.delay);
                }
                return Ok(delivered);
            }
        }
        if let Some((held_at, stop)) = built.held_back {
            release(state, &rows[start + held_at..], &stop).await?;
            return Ok(delivered);
        }
        start += batch.len();
    }
    Ok(delivered)
}

struct BuiltBatch<'a> {
    resources: Vec<ExternalResource>,
    rows: Vec<&'a QueuedResource>,
    /// Index in the batch of the first row that must wait, and why.
    held_back: Option<(usize, Stop)>,
}

async fn build_batch<'a>(
    state: &AppState,
    account: &Account,
    batch: &'a [QueuedResource],
) -> Result<BuiltBatch<'a>, StorageError> {
    let mut built = BuiltBatch {
        resources: Vec::with_capacity(batch.len()),
        rows: Vec::with_capacity(batch.len()),
        held_back: None,
    };
    for (index, row) in batch.iter().enumerate() {
        match bridge::build_resource(state, account, row).await {
            Ok(resource) => {
                built.resources.push(resource);
                built.rows.push(row);
            }
            Err(error) if error.is_permanent() => {
                outbox::mark_failed(&state.db, row.seq, &error.code()).await?;
                state.metrics.record_push("failed", 1);
            }
            Err(error) => {
                tracing::warn!(account = %account.id, seq = row.seq, code = %error.code(), "resource not built; it and later ones wait");
                let delay =
                    super::backoff(row.attempts).max(error.retry_after().unwrap_or_default());
                let stop = Stop {
                    delay,
                    code: error.code(),
                };
                built.held_back = Some((index, stop));
                break;
            }
        }
    }
    Ok(built)
}

/// Pushes built resources and applies Zendesk's per-resource results; `Err(Stop)` when
/// the push as a whole failed.
async fn push_built(
    state: &AppState,
    account: &Account,
    token: &Secret,
    push_id: &str,
    resources: &[ExternalResource],
    rows: &[&QueuedResource],
) -> Result<Result<usize, Stop>, StorageError> {
    if resources.is_empty() {
        return Ok(Ok(0));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let outcome = match state
        .zendesk
        .push(&account.subdomain, token, push_id, &request_id, resources)
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => {
            let attempts = rows.first().map(|r| r.attempts).unwrap_or(1);
            return Ok(Err(push_failed(state, account, attempts, error).await?));
        }
    };
    let mut delivered = Vec::new();
    for ((_, status), row) in outcome.results.iter().zip(rows) {
        match status {
            PushResultStatus::Delivered => delivered.push(row.seq),
            PushResultStatus::RetryLater(code) => {
                state.metrics.record_push("retry", 1);
                let delay = super::backoff(row.attempts).as_millis() as i64;
                outbox::retry_later(&state.db, row.seq, code, delay).await?;
            }
            PushResultStatus::Failed(code) => {
                state.metrics.record_push("failed", 1);
                tracing::warn!(account = %account.id, external_id = %row.external_id, code = %code, "Zendesk refused a resource");
                outbox::mark_failed(&state.db, row.seq, code).await?;
            }
        }
    }
    outbox::mark_delivered(&state.db, &delivered).await?;
    state
        .metrics
        .record_push("delivered", delivered.len() as u64);
    tracing::info!(account = %account.id, delivered = delivered.len(), sent = rows.len(), "pushed to Zendesk");
    Ok(Ok(delivered.len()))
}

/// Hands rows back to the queue, to be tried again after the stop's delay.
async fn release(
    state: &AppState,
    rows: &[QueuedResource],
    stop: &Stop,
) -> Result<(), StorageError> {
    let delay = stop.delay.as_millis() as i64;
    for row in rows {
        outbox::retry_later(&state.db, row.seq, &stop.code, delay).await?;
    }
    Ok(())
}

async fn push_failed(
    state: &AppState,
    account: &Account,
    attempts: i64,
    error: PushError,
) -> Result<Stop, StorageError> {
    tracing::warn!(account = %account.id, error = %error, "push failed");
    let stop = |delay, code| Stop { delay, code };
    Ok(match error {
        PushError::RateLimited { retry_after } => {
            state.metrics.record_push("rate_limited", 1);
            stop(retry_after, RATE_LIMITED.into())
        }
        PushError::Transient { code } => {
            state.metrics.record_push("transient_error", 1);
            stop(super::backoff(attempts), code)
        }
        PushError::Unauthorized { status } => {
            // The token no longer works: fall back to pull until the admin UI is saved
            // again with a fresh token.
            let code = format!("push_unauthorized_{status}");
            accounts::set_push_failure(&state.db, account.id, &code).await?;
            state.metrics.record_push("unauthorized", 1);
            stop(Duration::ZERO, code)
        }
        PushError::Rejected { status } => {
            state.metrics.record_push("rejected", 1);
            stop(super::backoff(attempts), format!("push_rejected_{status}"))
        }
    })
}
