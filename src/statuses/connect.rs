//! Connecting a Zendesk account and syncing its agents. The connection itself (its
//! grant, renewal and state) belongs to `crate::zendesk::connection`.
//!
//! ```text
//!  connect: grant ─▶ connection (checked: users/me is an admin; stored sealed) ─▶ sync
//!  sync:    GET users?role[]=agent&role[]=admin (paged) ┐
//!           GET group_memberships (paged)               ┴▶ ids, role, groups, tz ─▶ one tx
//! ```

use std::collections::HashMap;

use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::agents::{self, AgentRecord};
use crate::storage::zendesk_connections;
use crate::zendesk::connection::{ConnectionError, Grant};
use crate::zendesk::{RestError, ZendeskAuth};

/// What a sync found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    /// The user the credentials belong to (on connect).
    pub connected_as: Option<ZendeskUserId>,
    pub agents: usize,
}

/// Connects the account with `grant` (checked with Zendesk before it is stored) and
/// syncs its agents.
pub async fn connect(
    state: &AppState,
    subdomain: &Subdomain,
    grant: Grant,
) -> Result<SyncReport, ConnectionError> {
    let me = state.connections.connect(subdomain, grant).await?;
    let report = sync_agents(state, subdomain).await?;
    Ok(SyncReport {
        connected_as: Some(me.id),
        ..report
    })
}

/// Replaces the subdomain's agent list with Zendesk's; records the outcome.
pub async fn sync_agents(
    state: &AppState,
    subdomain: &Subdomain,
) -> Result<SyncReport, ConnectionError> {
    let auth = state.connections.open(subdomain).await?;
    let fetched = fetch_agents(state, subdomain, &auth).await;
    let now = state.clock.now_ms();
    let agents = match fetched {
        Ok(agents) => agents,
        Err(error) => {
            zendesk_connections::record_sync(&state.db, subdomain, now, Some(&error.code()))
                .await?;
            return Err(error.into());
        }
    };
    let mut tx = state.db.begin_write().await?;
    agents::replace_all(&mut tx, subdomain, &agents, now).await?;
    state.db.commit(tx).await?;
    zendesk_connections::record_sync(&state.db, subdomain, now, None).await?;
    let schedules = super::status_rules::sync_schedules(state, subdomain, &auth).await;
    tracing::info!(subdomain = %subdomain, agents = agents.len(), schedules, "agents synced");
    Ok(SyncReport {
        connected_as: None,
        agents: agents.len(),
    })
}

async fn fetch_agents(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
) -> Result<Vec<AgentRecord>, RestError> {
    let users = state.zendesk.agents(subdomain, auth).await?;
    let memberships = state.zendesk.group_memberships(subdomain, auth).await?;
    let mut groups: HashMap<i64, Vec<i64>> = HashMap::new();
    for membership in memberships {
        groups
            .entry(membership.user_id)
            .or_default()
            .push(membership.group_id);
    }
    let mut agents: Vec<AgentRecord> = users
        .into_iter()
        .filter(|u| u.active != Some(false) && u.suspended != Some(true))
        .filter_map(|u| {
            let role = u.role.filter(|r| r == "agent" || r == "admin")?;
            let user_id = ZendeskUserId::new(u.id).ok()?;
            let mut group_ids = groups.remove(&u.id).unwrap_or_default();
            group_ids.sort_unstable();
            group_ids.dedup();
            Some(AgentRecord {
                user_id,
                role,
                default_group_id: u.default_group_id,
                group_ids,
                time_zone: u.iana_time_zone,
            })
        })
        .collect();
    agents.sort_by_key(|a| a.user_id);
    agents.dedup_by_key(|a| a.user_id);
    Ok(agents)
}
