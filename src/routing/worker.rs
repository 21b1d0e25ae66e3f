//! Routing's background work, in two rounds the worker loops run side by side:
//! [`route_round`] handles waiting webhook calls, runs due queues and their
//! reassignment watches (each under the queue's lease); [`sync_round`] keeps inbox counts and skills current, every minute per
//! account. A slow sync never holds up a trigger. [`round`] does both once, so tests
//! can drive routing without sleeping.
//!
//! A failure in one account or queue is logged and the round goes on with the others.

use std::collections::{BTreeMap, HashSet};

use super::run::{self, RunError};
use super::settings::QueueKind;
use super::{same_agent, sync};
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::routing::{self as store, Request};

/// A dead worker's webhook calls are taken over after this (a live one finishes or
/// hands them back well within it; its queue lease is renewed while it runs).
const REQUEST_LEASE_MS: i64 = 60_000;
/// An accepted webhook call is retried for this long before it is given up (logged by id).
const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;
const SYNC_EVERY_MS: i64 = 60_000;
/// A trigger call whose ticket could not be assigned yet (no eligible agent, held by
/// another run, outcome unknown) is looked at again after this long.
const ROUTE_AGAIN_MS: i64 = 60_000;
/// Longest wait between two tries of a failing call.
const MAX_BACKOFF_MS: i64 = 10 * 60_000;

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    pub requests: usize,
    pub queue_runs: usize,
    pub syncs: usize,
    /// Queues whose reassignment watch ran.
    pub watches: usize,
}

/// Syncs, then handles calls and runs queues: one of everything (tests, benchmarks).
pub async fn round(state: &AppState, owner: &str) -> Result<Round, StorageError> {
    let syncs = sync_round(state, owner).await?;
    let mut done = route_round(state, owner).await?;
    done.syncs = syncs;
    Ok(done)
}

/// Syncs every routing account whose sync is due (or asked for).
pub async fn sync_round(state: &AppState, owner: &str) -> Result<usize, StorageError> {
    let now = state.clock.now_ms();
    let mut syncs = 0;
    for subdomain in store::routing_subdomains(&state.db).await? {
        let sync = store::sync_state(&state.db, &subdomain).await?;
        let due = sync.skills_resync_requested
            || sync
                .tickets_synced_at
                .is_none_or(|at| now - at >= SYNC_EVERY_MS);
        if !due {
            continue;
        }
        match sync::sync_account(state, &subdomain, owner).await {
            Ok(Some(_)) => syncs += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::error!(subdomain = %subdomain, error = %crate::web::error_chain(&error), "routing sync failed");
            }
        }
    }
    Ok(syncs)
}

/// Handles due webhook calls, then runs the scheduled queues that are due.
pub async fn route_round(state: &AppState, owner: &str) -> Result<Round, StorageError> {
    let mut done = Round {
        requests: handle_requests(state, owner).await?,
        ..Round::default()
    };
    for queue in store::due_queues(&state.db, state.clock.now_ms()).await? {
        match run::run_if_leased(state, &queue, owner).await {
            Ok(Some(_)) => done.queue_runs += 1,
            Ok(None) => {}
            Err(error) => {
                tracing::error!(subdomain = %queue.subdomain, queue_id = queue.id, error = %crate::web::error_chain(&error), "routing queue run failed");
            }
        }
    }
    done.watches = super::reassign::watch_round(state, owner).await?;
    Ok(done)
}

async fn handle_requests(state: &AppState, owner: &str) -> Result<usize, StorageError> {
    let now = state.clock.now_ms();
    let requests = store::lease_requests(&state.db, owner, now, REQUEST_LEASE_MS, 100).await?;
    let count = requests.len();
    let mut route_calls: BTreeMap<(String, Option<i64>), Vec<Request>> = BTreeMap::new();
    for request in requests {
        if request.kind == "same_agent" {
            let outcome = same_agent_call(state, &request).await;
            settle(state, &[request], outcome).await?;
        } else {
            route_calls
                .entry((request.subdomain.as_str().to_owned(), request.queue_id))
                .or_default()
                .push(request);
        }
    }
    // Calls for the same queue that arrived together are routed in one run: one read
    // and one `update_many` for up to 100 tickets.
    for calls in route_calls.into_values() {
        let outcome = route_calls_of_queue(state, &calls, owner).await;
        settle(state, &calls, outcome).await?;
    }
    Ok(count)
}

/// How handling a group of calls went.
enum Handled {
    /// The queue is busy with another run: try again shortly (not a failure).
    Busy,
    /// Routing is done with these tickets; the others are tried again in a minute.
    Done(HashSet<i64>),
}

/// Records how handling went for these calls: done, wait for the queue, route again
/// later, or retry after a failure (given up 24 hours after a call arrived).
async fn settle(
    state: &AppState,
    calls: &[Request],
    outcome: Result<Handled, RunError>,
) -> Result<(), StorageError> {
    let now = state.clock.now_ms();
    for request in calls {
        let expired = now - request.received_at >= GIVE_UP_AFTER_MS;
        match &outcome {
            Ok(Handled::Done(done)) if done.contains(&request.ticket_id) => {
                store::finish_request(&state.db, request, now).await?;
            }
            Ok(Handled::Busy) => {
                store::retry_request(&state.db, request.id, now + 1_000, false).await?
            }
            _ if expired => {
                tracing::error!(subdomain = %request.subdomain, ticket_id = request.ticket_id, kind = %request.kind, "routing webhook call given up after 24 hours");
                store::finish_request(&state.db, request, now).await?;
            }
            // Waiting for an agent, held by another run, or left pending: look again.
            Ok(Handled::Done(_)) => {
                store::retry_request(&state.db, request.id, now + ROUTE_AGAIN_MS, false).await?;
            }
            Err(error) => {
                let backoff =
                    (1_000 * 2_i64.pow(request.attempts.clamp(0, 10) as u32)).min(MAX_BACKOFF_MS);
                tracing::warn!(subdomain = %request.subdomain, ticket_id = request.ticket_id, kind = %request.kind, error = %error.code(), "routing webhook call failed; will retry");
                store::retry_request(&state.db, request.id, now + backoff, true).await?;
            }
        }
    }
    Ok(())
}

async fn same_agent_call(state: &AppState, request: &Request) -> Result<Handled, RunError> {
    let verdict = same_agent::handle(state, &request.subdomain, request.ticket_id).await?;
    if let same_agent::Verdict::Left(why) = &verdict {
        tracing::info!(subdomain = %request.subdomain, ticket_id = request.ticket_id, why = %why, "same-agent rule left the ticket");
    }
    // The rule is applied once per call; a ticket it leaves is the queues' to route.
    Ok(Handled::Done(HashSet::from([request.ticket_id])))
}

/// Routes trigger calls for one account and queue choice; `Ok(false)` when the queue is
/// busy with another run.
async fn route_calls_of_queue(
    state: &AppState,
    calls: &[Request],
    owner: &str,
) -> Result<Handled, RunError> {
    let everything = || Handled::Done(calls.iter().map(|c| c.ticket_id).collect());
    let Some(first) = calls.first() else {
        return Ok(everything());
    };
    let subdomain = &first.subdomain;
    let is_trigger_queue = |q: &store::Queue| {
        q.settings.enabled
            && q.settings.kind == QueueKind::Trigger
            && first.queue_id.is_none_or(|id| id == q.id)
    };
    let queues = store::list_queues(&state.db, subdomain).await?;
    let Some(queue) = queues.into_iter().find(is_trigger_queue) else {
        tracing::warn!(subdomain = %subdomain, calls = calls.len(), "no enabled trigger queue for route calls");
        return Ok(everything());
    };
    let Some(queue) = run::take_lease(state, &queue, owner, false).await? else {
        return Ok(Handled::Busy);
    };
    let result = if is_trigger_queue(&queue) {
        let tickets: Vec<i64> = calls.iter().map(|c| c.ticket_id).collect();
        run::run_queue(state, &queue, Some(&tickets), owner)
            .await
            .map(|report| Handled::Done(report.done_tickets.into_iter().collect()))
    } else {
        // Disabled or changed kind since the list was read.
        Ok(everything())
    };
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
    result
}
