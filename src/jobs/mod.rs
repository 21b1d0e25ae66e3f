//! Background work: the push delivery worker, the Slack-side jobs, and for statuses the
//! periodic agent sync ([`agent_sync`]) and the status rules (idle, schedules) every minute.
//!
//! ```text
//!  loop: claim due rows (lease) ─▶ group by account ─▶ build ─▶ push ≤100 ─▶ per-result
//!          ▲                                                            │
//!          └──── woken by new work, or every WORKER_POLL_MS ◀───────────┘
//! ```
//!
//! A failed round is logged and the loop goes on. [`deliver_once`] runs one round, so
//! tests drain the queue without sleeping. Shutdown is through a cancellation token; a
//! round in flight finishes, and anything not finished is still in the database.

pub mod agent_sync;
mod housekeeping;
mod push;
mod slack;

pub use agent_sync::{SyncRound, sync_agents_once};
pub use housekeeping::housekeeping_once;
pub use push::{DeliveryRound, deliver_once};
pub use slack::run_slack_jobs_once;

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Starts the workers; the handle finishes when all of them stopped after `cancel`.
pub fn spawn_workers(state: AppState, cancel: CancellationToken) -> JoinHandle<()> {
    let delivery = spawn_delivery(state.clone(), cancel.clone());
    let sync = tokio::spawn(agent_sync::run(state.clone(), cancel.clone()));
    let rules = tokio::spawn(status_rules_loop(state.clone(), cancel.clone()));
    let routing = tokio::spawn(routing_loop(state.clone(), cancel.clone()));
    let routing_sync = tokio::spawn(routing_sync_loop(state.clone(), cancel.clone()));
    let attachments = tokio::spawn(attachments_loop(state.clone(), cancel.clone()));
    let renewal = tokio::spawn(connection_renewal_loop(state, cancel));
    tokio::spawn(async move {
        let _ = delivery.await;
        let _ = attachments.await;
        let _ = sync.await;
        let _ = rules.await;
        let _ = routing.await;
        let _ = routing_sync.await;
        let _ = renewal.await;
    })
}

/// How often the attachments worker looks for due retries when nothing wakes it (a new
/// job wakes it at once).
const ATTACHMENTS_POLL: Duration = Duration::from_secs(1);

/// Forwards agents' attachments to Slack, apart from the delivery loop so that a slow
/// download never delays resources on their way to Zendesk.
async fn attachments_loop(state: AppState, cancel: CancellationToken) {
    let poll = state.settings.worker_poll_interval().max(ATTACHMENTS_POLL);
    loop {
        let worked = match crate::bridge::run_attachment_jobs_once(&state).await {
            Ok(count) => count,
            Err(error) => {
                tracing::error!(error = %crate::web::error_chain(&error), "attachment job round failed");
                0
            }
        };
        if worked > 0 && !cancel.is_cancelled() {
            continue;
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = state.attachments_wake.notified() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Renews idle Zendesk connections before their refresh token expires, every
/// [`RENEWAL_POLL`] (a look at one small table; renewals themselves are rare).
async fn connection_renewal_loop(state: AppState, cancel: CancellationToken) {
    loop {
        if let Err(error) = state.connections.renew_idle().await {
            tracing::error!(error = %crate::web::error_chain(&error), "Zendesk connection renewal round failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(RENEWAL_POLL) => {}
        }
    }
    tracing::info!("Zendesk connection renewal worker stopped");
}

/// How often idle connections are looked at.
const RENEWAL_POLL: Duration = Duration::from_secs(5);

/// Applies the status rules (idle, schedules) every minute until `cancel` fires.
async fn status_rules_loop(state: AppState, cancel: CancellationToken) {
    loop {
        if let Err(error) = crate::statuses::status_rules::run_once(&state).await {
            tracing::error!(error = %crate::web::error_chain(&error), "status rules round failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(Duration::from_secs(60)) => {}
        }
    }
    tracing::info!("status rules worker stopped");
}

/// Routing: webhook calls and due queues, every second or when a call arrives.
async fn routing_loop(state: AppState, cancel: CancellationToken) {
    let owner = format!("routing-{}", uuid::Uuid::new_v4());
    loop {
        if let Err(error) = crate::routing::worker::route_round(&state, &owner).await {
            tracing::error!(error = %crate::web::error_chain(&error), "routing round failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = state.routing_wake.notified() => {}
            () = tokio::time::sleep(ROUTING_POLL) => {}
        }
    }
    tracing::info!("routing worker stopped");
}

/// Routing's syncs (inbox counts, skills), apart so a slow export never delays a trigger.
async fn routing_sync_loop(state: AppState, cancel: CancellationToken) {
    let owner = format!("routing-sync-{}", uuid::Uuid::new_v4());
    loop {
        if let Err(error) = crate::routing::worker::sync_round(&state, &owner).await {
            tracing::error!(error = %crate::web::error_chain(&error), "routing sync round failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(Duration::from_secs(10)) => {}
        }
    }
    tracing::info!("routing sync worker stopped");
}

/// How often the routing worker looks for due queues when nothing wakes it.
const ROUTING_POLL: Duration = Duration::from_secs(1);

/// The delivery worker; it stops when `cancel` fires.
fn spawn_delivery(state: AppState, cancel: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let poll = state.settings.worker_poll_interval();
        let mut next_housekeeping = tokio::time::Instant::now();
        loop {
            if tokio::time::Instant::now() >= next_housekeeping {
                if let Err(error) = housekeeping_once(&state).await {
                    tracing::error!(error = %crate::web::error_chain(&error), "housekeeping failed");
                }
                next_housekeeping += HOUSEKEEPING_EVERY;
            }
            let jobs = match run_slack_jobs_once(&state).await {
                Ok(count) => count,
                Err(error) => {
                    tracing::error!(error = %crate::web::error_chain(&error), "Slack job round failed");
                    0
                }
            };
            let delivered = match deliver_once(&state).await {
                Ok(round) => round.claimed,
                Err(error) => {
                    tracing::error!(error = %crate::web::error_chain(&error), "delivery round failed");
                    0
                }
            };
            let busy = jobs + delivered > 0;
            if busy {
                if cancel.is_cancelled() {
                    break;
                }
                continue;
            }
            tokio::select! {
                () = cancel.cancelled() => break,
                () = state.delivery_wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
        tracing::info!("delivery worker stopped");
    })
}

/// How often expired ids are forgotten.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(60 * 60);

/// Exponential backoff with a cap: 2s, 4s, 8s … 10 minutes.
pub(crate) fn backoff(attempts: i64) -> Duration {
    let exponent = attempts.clamp(1, 10) as u32;
    Duration::from_secs(2u64.pow(exponent).min(600))
}
