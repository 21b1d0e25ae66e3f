//! One delivery round: claimed rows become pushes, and each result decides the row's fate.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::bridge;
use crate::domain::AccountId;
use crate::startup::AppState;
use crate::storage::StorageError;
use crate::storage::accounts::{self, Account};
use crate::storage::outbox::{self, QueuedResource};
use crate::zendesk::{MAX_PUSH_BATCH, PushError, PushResultStatus};

/// Rows claimed per round.
const CLAIM_LIMIT: i64 = 500;
/// How long a claim lasts before another worker may take the rows.
const LEASE_MS: i64 = 60_000;

#[derive(Debug, Default, Clone, Copy)]
pub struct DeliveryRound {
    pub claimed: usize,
    pub delivered: usize,
}

/// Claims due rows and pushes them, account by account, in order.
pub async fn deliver_once(state: &AppState) -> Result<DeliveryRound, StorageError> {
    let claimed = outbox::claim_for_push(&state.db, CLAIM_LIMIT, LEASE_MS).await?;
    let mut round = DeliveryRound {
        claimed: claimed.len(),
        delivered: 0,
    };
    let mut by_account: BTreeMap<AccountId, Vec<QueuedResource>> = BTreeMap::new();
    for row in claimed {
        by_account.entry(row.account_id).or_default().push(row);
    }
    for (account_id, rows) in by_account {
        let Some(account) = accounts::find(&state.db, account_id).await? else {
            continue;
        };
        round.delivered += deliver_account(state, &account, rows).await?;
    }
    Ok(round)
}

async fn deliver_account(
    state: &AppState,
    account: &Account,
    rows: Vec<QueuedResource>,
) -> Result<usize, StorageError> {
    let mut delivered = 0;
    let mut remaining = rows.into_iter();
    loop {
        let batch: Vec<QueuedResource> = remaining.by_ref().take(MAX_PUSH_BATCH).collect();
        if batch.is_empty() {
            return Ok(delivered);
        }
        match push_batch(state, account, &batch).await? {
            BatchEnd::Continue(count) => delivered += count,
            BatchEnd::Stop { delay, code } => {
                // Hand back this batch and the rest; they are tried again after `delay`.
                let rest: Vec<QueuedResource> = remaining.collect();
                for row in batch.iter().chain(rest.iter()) {
                    outbox::retry_later(&state.db, row.seq, &code, delay.as_millis() as i64)
                        .await?;
                }
                return Ok(delivered);
            }
        }
    }
}

enum BatchEnd {
    Continue(usize),
    Stop { delay: Duration, code: String },
}

async fn push_batch(
    state: &AppState,
    account: &Account,
    batch: &[QueuedResource],
) -> Result<BatchEnd, StorageError> {
    let (Some(token), Some(push_id)) = (
        account.push_token(&state.keys)?,
        account.instance_push_id.as_deref(),
    ) else {
        return Ok(BatchEnd::Stop {
            delay: Duration::from_secs(60),
            code: "no_push_credentials".into(),
        });
    };
    let mut resources = Vec::with_capacity(batch.len());
    let mut sent = Vec::with_capacity(batch.len());
    for row in batch {
        match bridge::build_resource(state, account, row).await {
            Ok(resource) => {
                resources.push(resource);
                sent.push(row);
            }
            Err(error) if error.is_permanent() => {
                outbox::mark_failed(&state.db, row.seq, &error.code()).await?;
                state.metrics.record_push("failed", 1);
            }
            Err(error) => {
                outbox::retry_later(
                    &state.db,
                    row.seq,
                    &error.code(),
                    super::backoff(row.attempts).as_millis() as i64,
                )
                .await?;
            }
        }
    }
    if resources.is_empty() {
        return Ok(BatchEnd::Continue(0));
    }
    let request_id = uuid::Uuid::new_v4().to_string();
    let outcome = state
        .zendesk
        .push(&account.subdomain, &token, push_id, &request_id, &resources)
        .await;
    match outcome {
        Ok(outcome) => {
            let mut delivered = Vec::new();
            for ((_, status), row) in outcome.results.iter().zip(sent.iter()) {
                match status {
                    PushResultStatus::Delivered => delivered.push(row.seq),
                    PushResultStatus::RetryLater(code) => {
                        state.metrics.record_push("retry", 1);
                        outbox::retry_later(
                            &state.db,
                            row.seq,
                            code,
                            super::backoff(row.attempts).as_millis() as i64,
                        )
                        .await?;
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
            tracing::info!(account = %account.id, delivered = delivered.len(), sent = sent.len(), "pushed to Zendesk");
            Ok(BatchEnd::Continue(delivered.len()))
        }
        Err(error) => {
            push_failed(
                state,
                account,
                sent.first().map(|r| r.attempts).unwrap_or(1),
                error,
            )
            .await
        }
    }
}

async fn push_failed(
    state: &AppState,
    account: &Account,
    attempts: i64,
    error: PushError,
) -> Result<BatchEnd, StorageError> {
    tracing::warn!(account = %account.id, error = %error, "push failed");
    Ok(match error {
        PushError::RateLimited { retry_after } => {
            state.metrics.record_push("rate_limited", 1);
            BatchEnd::Stop {
                delay: retry_after,
                code: "rate_limited".into(),
            }
        }
        PushError::Transient { code } => {
            state.metrics.record_push("transient_error", 1);
            BatchEnd::Stop {
                delay: super::backoff(attempts),
                code,
            }
        }
        PushError::Unauthorized { status } => {
            // The token no longer works: fall back to pull until the admin UI is saved
            // again with a fresh token.
            let code = format!("push_unauthorized_{status}");
            accounts::set_push_failure(&state.db, account.id, &code).await?;
            BatchEnd::Stop {
                delay: Duration::ZERO,
                code,
            }
        }
        PushError::Rejected { status } => BatchEnd::Stop {
            delay: super::backoff(attempts),
            code: format!("push_rejected_{status}"),
        },
    })
}
