//! The status API handlers (SPEC 4): authenticate, parse, one rule, respond.

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::authenticate;
use super::rules;
use super::wire::{CreatedStatuses, CurrentStatus, CurrentStatuses, UserStatus};
use crate::domain::ZendeskUserId;
use crate::state::AppState;
use crate::storage::{agents, status_rules, statuses};
use crate::web::{ApiError, read_body};

pub(super) async fn current_all(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let records = statuses::current_all(&state.db, &caller.subdomain).await?;
    Ok(HttpResponse::Ok().json(CurrentStatuses {
        user_statuses: records.iter().map(UserStatus::from).collect(),
    }))
}

pub(super) async fn current_one(
    state: web::Data<AppState>,
    req: HttpRequest,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let user_id = ZendeskUserId::parse(&user_id).map_err(|e| ApiError::invalid("user_id", e.0))?;
    // Reading is not the agent's activity (a dashboard polling it must not keep an agent
    // from going idle): no `status_rules::touch` here.
    let record = statuses::current_one(&state.db, &caller.subdomain, user_id)
        .await?
        .ok_or(ApiError::NotFound("user_status"))?;
    Ok(HttpResponse::Ok().json(CurrentStatus {
        user_status: UserStatus::from(&record),
    }))
}

pub(super) async fn create_many(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let batch = rules::read_batch(&req, &body)?;
    let created = rules::create_many(&state, &caller, batch).await?;
    Ok(HttpResponse::Ok().json(CreatedStatuses {
        user_statuses: created,
    }))
}

pub(super) async fn incremental(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let start = rules::parse_page_start(req.query_string())?;
    let page = rules::incremental(&state, &caller, start).await?;
    Ok(HttpResponse::Ok().json(page))
}

/// The agent's app says the agent is active (for automatic idle): 204.
pub(super) async fn heartbeat(
    state: web::Data<AppState>,
    req: HttpRequest,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let user_id = ZendeskUserId::parse(&user_id).map_err(|e| ApiError::invalid("user_id", e.0))?;
    if agents::active_among(&state.db, &caller.subdomain, &[user_id])
        .await?
        .is_empty()
    {
        return Err(ApiError::NotFound("agent"));
    }
    status_rules::touch(
        &state.db,
        &caller.subdomain,
        &[user_id],
        state.clock.now_ms(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
