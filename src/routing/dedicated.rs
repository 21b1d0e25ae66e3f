//! Dedicated agents: an admin names the agent an organization's or a requester's
//! tickets go to first, and optionally who takes over when that agent is not eligible
//! (offline, out of schedule, outside the ticket's group or skills, at a limit). When
//! neither may take a ticket, the queue's own model decides. The engine applies them
//! ([`super::engine::Dedicated`]); this module checks and stores what an admin sets.

use super::engine::{DedicatedTo, Dedication};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::agents;
use crate::storage::routing::dedicated as routing_dedicated;
use crate::web::ApiError;

/// What a 404 names when an agent given is not an active agent of the account.
pub const NOT_AN_AGENT: &str =
    "agent (agent_id or fallback_agent_id is not an agent of this account)";

/// The account's dedications (organizations first, then requesters, by id).
pub async fn list(state: &AppState, subdomain: &Subdomain) -> Result<Vec<Dedication>, ApiError> {
    Ok(routing_dedicated::list(&state.db, subdomain).await?)
}

/// Checks and stores one dedication: both agents must be active agents of the account
/// (else 404); a fallback that is the dedicated agent is no fallback. A bad id is named.
pub async fn set(
    state: &AppState,
    subdomain: &Subdomain,
    mut dedication: Dedication,
) -> Result<Dedication, ApiError> {
    if dedication.key <= 0 {
        return Err(ApiError::invalid(
            "id",
            "must be a Zendesk organization or user id",
        ));
    }
    let agent = agent_id("agent_id", dedication.agent)?;
    dedication.fallback = dedication.fallback.filter(|id| *id != dedication.agent);
    let fallback = dedication
        .fallback
        .map(|id| agent_id("fallback_agent_id", id))
        .transpose()?;
    let asked: Vec<ZendeskUserId> = std::iter::once(agent).chain(fallback).collect();
    let active = agents::active_among(&state.db, subdomain, &asked).await?;
    if asked.iter().any(|id| !active.contains(id)) {
        return Err(ApiError::NotFound(NOT_AN_AGENT));
    }
    routing_dedicated::set(&state.db, subdomain, &dedication, state.clock.now_ms()).await?;
    tracing::info!(subdomain = %subdomain, kind = %dedication.kind, key = dedication.key, agent_id = dedication.agent, "dedicated agent set");
    Ok(dedication)
}

/// Removes one; 404 when there was none.
pub async fn remove(
    state: &AppState,
    subdomain: &Subdomain,
    kind: DedicatedTo,
    key: i64,
) -> Result<(), ApiError> {
    if routing_dedicated::remove(&state.db, subdomain, kind, key).await? {
        tracing::info!(subdomain = %subdomain, kind = %kind, key, "dedicated agent removed");
        Ok(())
    } else {
        Err(ApiError::NotFound("dedicated agent"))
    }
}

/// A `kind` from a path or form: organization or requester.
pub fn parse_kind(raw: &str) -> Result<DedicatedTo, ApiError> {
    DedicatedTo::parse(raw)
        .ok_or_else(|| ApiError::invalid("kind", "must be organization or requester"))
}

/// An organization's or requester's id from a path or form.
pub fn parse_key(raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid("id", "must be a Zendesk organization or user id"))
}

fn agent_id(field: &str, id: i64) -> Result<ZendeskUserId, ApiError> {
    ZendeskUserId::new(id).map_err(|e| ApiError::invalid(field, e.0))
}
