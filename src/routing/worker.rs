//! Routing's background round: webhook calls waiting to be handled, scheduled queues
//! that are due (each under its lease), and the per-account sync every minute. One
//! [`round`] does each once, so tests can drive routing without sleeping.

use super::run::{self, RunError};
use super::{same_agent, sync};
use crate::startup::AppState;
use crate::storage::StorageError;
use crate::storage::routing::{self as store, Request};

const REQUEST_LEASE_MS: i64 = 2 * 60_000;
/// Attempts before a webhook call is given up (logged by id).
const MAX_ATTEMPTS: i64 = 10;
const SYNC_EVERY_MS: i64 = 60_000;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub requests: usize,
    pub queue_runs: usize,
    pub syncs: usize,
}

/// Handles due webhook calls, runs due queues and syncs accounts whose sync is due.
pub async fn round(state: &AppState, owner: &str) -> Result<Round, StorageError> {
    let mut done = Round::default();
    let now = state.clock.now_ms();
    for subdomain in store::routing_subdomains(&state.db).await? {
        let sync = store::sync_state(&state.db, &subdomain).await?;
        let due = sync.skills_resync_requested
            || sync
                .tickets_synced_at
                .is_none_or(|at| now - at >= SYNC_EVERY_MS);
        if due
            && sync::sync_account(state, &subdomain, owner)
                .await?
                .is_some()
        {
            done.syncs += 1;
        }
    }
    done.requests = handle_requests(state, owner).await?;
    for queue in store::due_queues(&state.db, state.clock.now_ms()).await? {
        if run::run_if_leased(state, &queue, owner).await?.is_some() {
            done.queue_runs += 1;
        }
    }
    Ok(done)
}

async fn handle_requests(state: &AppState, owner: &str) -> Result<usize, StorageError> {
    let now = state.clock.now_ms();
    let requests = store::lease_requests(&state.db, owner, now, REQUEST_LEASE_MS, 50).await?;
    let count = requests.len();
    for request in requests {
        let outcome = handle(state, &request, owner).await;
        match outcome {
            Ok(true) => store::finish_request(&state.db, request.id).await?,
            Ok(false) => {
                // The queue is busy with another run: try again shortly.
                store::retry_request(&state.db, request.id, state.clock.now_ms() + 1_000).await?;
            }
            Err(RunError::Storage(e)) => return Err(e),
            Err(error) if request.attempts + 1 >= MAX_ATTEMPTS => {
                tracing::error!(subdomain = %request.subdomain, ticket_id = request.ticket_id, error = %error.code(), "routing webhook call given up");
                store::finish_request(&state.db, request.id).await?;
            }
            Err(error) => {
                let backoff = 1_000 * 2_i64.pow(request.attempts.clamp(0, 8) as u32);
                tracing::warn!(subdomain = %request.subdomain, ticket_id = request.ticket_id, error = %error.code(), "routing webhook call failed; will retry");
                store::retry_request(&state.db, request.id, state.clock.now_ms() + backoff).await?;
            }
        }
    }
    Ok(count)
}

/// Handles one call; `Ok(false)` when it must wait for a queue's lease.
async fn handle(state: &AppState, request: &Request, owner: &str) -> Result<bool, RunError> {
    if request.kind == "same_agent" {
        let verdict = same_agent::handle(state, &request.subdomain, request.ticket_id).await?;
        if let same_agent::Verdict::Left(why) = &verdict {
            tracing::info!(subdomain = %request.subdomain, ticket_id = request.ticket_id, why = %why, "same-agent rule left the ticket");
        }
        return Ok(true);
    }
    let queues = store::list_queues(&state.db, &request.subdomain).await?;
    let queue = queues.into_iter().find(|q| {
        q.settings.enabled
            && q.settings.kind == super::settings::QueueKind::Trigger
            && request.queue_id.is_none_or(|id| id == q.id)
    });
    let Some(queue) = queue else {
        tracing::warn!(subdomain = %request.subdomain, ticket_id = request.ticket_id, "no enabled trigger queue for a route call");
        return Ok(true);
    };
    let now = state.clock.now_ms();
    if !store::lease_queue(&state.db, queue.id, owner, now, run::RUN_LEASE_MS).await? {
        return Ok(false);
    }
    let result = run::run_queue(state, &queue, Some(request.ticket_id)).await;
    let error = result.as_ref().err().map(RunError::code);
    store::finish_run(
        &state.db,
        queue.id,
        owner,
        state.clock.now_ms(),
        queue.next_run_at,
        error.as_deref(),
    )
    .await?;
    result.map(|_| true)
}
