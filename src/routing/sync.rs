//! Keeping routing's picture of Zendesk current without a person logged in: who holds
//! which unsolved ticket (the incremental ticket export, every minute) and agents'
//! skills (incrementally every minute, fully every 6 hours or on "resync now").
//! One replica syncs an account at a time (the account's sync lease).

use super::run::patiently;
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::routing::{self as store, SyncState};
use crate::storage::{StorageError, agents};
use crate::zendesk::{RestError, ZendeskAuth};

/// Full skills sync interval.
pub const FULL_SKILLS_EVERY_MS: i64 = 6 * 3_600_000;
/// Export pages read per sync (Zendesk allows about 10 incremental export calls a minute);
/// the rest continue next time from the cursor.
const MAX_EXPORT_PAGES: usize = 8;
/// Renewed while a sync works (see `run::renewing`): a dead worker's account is free
/// again within this.
const SYNC_LEASE_MS: i64 = 30_000;
/// Search export pages (1,000 open tickets each) read per sync while seeding.
const MAX_SEED_PAGES: usize = 20;
/// The incremental export starts this long before the seed began, so nothing changed
/// during the seed is missed.
const SEED_OVERLAP_SECS: i64 = 300;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub ticket_changes: usize,
    pub skill_changes: usize,
    pub full_skills: bool,
}

/// Syncs one account if this worker gets its lease; errors are recorded on the account.
pub async fn sync_account(
    state: &AppState,
    subdomain: &Subdomain,
    owner: &str,
) -> Result<Option<SyncReport>, StorageError> {
    let now = state.clock.now_ms();
    if !store::take_sync_lease(&state.db, subdomain, owner, now, SYNC_LEASE_MS).await? {
        return Ok(None);
    }
    let renew = || {
        store::take_sync_lease(
            &state.db,
            subdomain,
            owner,
            state.clock.now_ms(),
            SYNC_LEASE_MS,
        )
    };
    let Some(result) = super::run::renewing(sync_with_lease(state, subdomain), renew).await else {
        tracing::warn!(subdomain = %subdomain, "routing sync lost its lease; stopping");
        return Ok(None);
    };
    store::release_sync_lease(&state.db, subdomain, owner).await?;
    match result {
        Ok(report) => Ok(Some(report)),
        Err(SyncError::Storage(e)) => Err(e),
        Err(SyncError::Zendesk(e)) => {
            tracing::warn!(subdomain = %subdomain, error = %e.code(), "routing sync failed");
            store::record_sync_failure(&state.db, subdomain, &e.code(), state.clock.now_ms())
                .await?;
            Ok(Some(SyncReport::default()))
        }
        Err(SyncError::NotConnected) => Ok(Some(SyncReport::default())),
    }
}

#[derive(Debug, thiserror::Error)]
enum SyncError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Zendesk(#[from] RestError),
    #[error("not connected")]
    NotConnected,
}

async fn sync_with_lease(state: &AppState, subdomain: &Subdomain) -> Result<SyncReport, SyncError> {
    let auth = match state.connections.open(subdomain).await {
        Ok(auth) => auth,
        Err(crate::zendesk::connection::ConnectionError::Storage(e)) => return Err(e.into()),
        Err(crate::zendesk::connection::ConnectionError::NotConnected) => {
            return Err(SyncError::NotConnected);
        }
        Err(other) => return Err(SyncError::Zendesk(other.into())),
    };
    let sync = store::sync_state(&state.db, subdomain).await?;
    let mut report = SyncReport {
        ticket_changes: sync_tickets(state, subdomain, &auth, &sync).await?,
        ..SyncReport::default()
    };
    let now = state.clock.now_ms();
    let full_due = sync.skills_resync_requested
        || sync
            .skills_full_at
            .is_none_or(|at| now - at >= FULL_SKILLS_EVERY_MS);
    if full_due {
        full_skills(state, subdomain, &auth).await?;
        report.full_skills = true;
    }
    let changes = patiently(|| {
        state
            .zendesk
            .agent_skill_changes(subdomain, &auth, sync.skills_cursor.as_deref())
    })
    .await?;
    store::apply_skill_changes(&state.db, subdomain, &changes.changes).await?;
    store::save_skills_cursor(
        &state.db,
        subdomain,
        changes.cursor.as_deref(),
        full_due,
        now,
    )
    .await?;
    report.skill_changes = changes.changes.len();
    Ok(report)
}

/// Keeps the open-ticket counts current: the first time, a search export of the open
/// tickets (fast: only open ones); then the incremental export from a little before the
/// seed began, from its stored cursor.
async fn sync_tickets(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    sync: &SyncState,
) -> Result<usize, SyncError> {
    if !sync.tickets_seed_done && sync.tickets_cursor.is_none() {
        return seed_open_tickets(state, subdomain, auth, sync).await;
    }
    let start_secs = sync
        .tickets_seed_started_at
        .map_or(1, |at| (at / 1_000 - SEED_OVERLAP_SECS).max(1));
    let mut cursor = sync.tickets_cursor.clone();
    let mut seen = 0;
    for _ in 0..MAX_EXPORT_PAGES {
        let page = patiently(|| {
            state
                .zendesk
                .ticket_changes(subdomain, auth, cursor.as_deref(), start_secs)
        })
        .await?;
        store::apply_ticket_changes(&state.db, subdomain, &page.tickets).await?;
        seen += page.tickets.len();
        if page.after_cursor.is_some() {
            cursor = page.after_cursor;
        }
        store::save_tickets_cursor(
            &state.db,
            subdomain,
            cursor.as_deref(),
            state.clock.now_ms(),
        )
        .await?;
        if page.end_of_stream {
            break;
        }
    }
    Ok(seen)
}

/// Reads up to [`MAX_SEED_PAGES`] pages of open tickets; the seed continues from its
/// cursor next time until the last page, then the incremental export takes over.
async fn seed_open_tickets(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    sync: &SyncState,
) -> Result<usize, SyncError> {
    let started_at = sync
        .tickets_seed_started_at
        .unwrap_or_else(|| state.clock.now_ms());
    let mut cursor = sync.tickets_seed_cursor.clone();
    let mut seen = 0;
    for _ in 0..MAX_SEED_PAGES {
        let page = patiently(|| {
            state
                .zendesk
                .open_tickets(subdomain, auth, cursor.as_deref())
        })
        .await?;
        store::apply_ticket_changes(&state.db, subdomain, &page.tickets).await?;
        seen += page.tickets.len();
        cursor = page.after_cursor;
        let done = cursor.is_none();
        store::save_seed(
            &state.db,
            subdomain,
            started_at,
            cursor.as_deref(),
            done,
            state.clock.now_ms(),
        )
        .await?;
        if done {
            break;
        }
    }
    Ok(seen)
}

/// Replaces every active agent's skills with Zendesk's.
async fn full_skills(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
) -> Result<(), SyncError> {
    for agent in agents::list_active(&state.db, subdomain).await? {
        let id = agent.user_id.get();
        let skills = patiently(|| state.zendesk.agent_skills(subdomain, auth, id)).await?;
        store::replace_agent_skills(&state.db, subdomain, id, &skills).await?;
    }
    Ok(())
}
