//! The periodic agent sync: every `AGENT_SYNC_INTERVAL_SECS` (and once at start) each
//! connected Zendesk account's agents are read again, so new agents can get statuses and
//! removed ones stop counting. A failed account is logged by code and the others go on.
//!
//! Every replica running workers syncs; the sync is idempotent, so that costs only
//! Zendesk API calls.

use tokio_util::sync::CancellationToken;

use crate::state::AppState;
use crate::statuses::connect;
use crate::storage::{StorageError, zendesk_connections};

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncRound {
    pub synced: usize,
    pub failed: usize,
}

/// Syncs every connected account once.
pub async fn sync_agents_once(state: &AppState) -> Result<SyncRound, StorageError> {
    let mut round = SyncRound::default();
    for subdomain in zendesk_connections::subdomains(&state.db).await? {
        match connect::sync_agents(state, &subdomain).await {
            Ok(_) => round.synced += 1,
            Err(error) => {
                round.failed += 1;
                tracing::warn!(subdomain = %subdomain, error = %error, "agent sync failed");
            }
        }
    }
    Ok(round)
}

/// Runs rounds until `cancel` fires.
pub async fn run(state: AppState, cancel: CancellationToken) {
    let interval = std::time::Duration::from_secs(state.settings.agent_sync_interval_secs.max(60));
    loop {
        if let Err(error) = sync_agents_once(&state).await {
            tracing::error!(error = %crate::web::error_chain(&error), "agent sync round failed");
        }
        tokio::select! {
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(interval) => {}
        }
    }
    tracing::info!("agent sync worker stopped");
}
