//! The status API handlers (SPEC 4): authenticate, parse, one rule, respond.

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::authenticate;
use super::openapi::{BodyErrors, ErrorBody, KeyErrors};
use super::paths;
use super::rules;
use super::wire::{
    CreateManyRequest, CreatedStatuses, CurrentStatus, CurrentStatuses, IncrementalPage, UserStatus,
};
use crate::domain::ZendeskUserId;
use crate::state::AppState;
use crate::storage::{agents, status_rules, statuses};
use crate::web::{ApiError, read_body};

#[utoipa::path(get, path = paths::CURRENT_ALL, operation_id = "currentStatuses",
    summary = "Current status of every agent of the key's account",
    responses(
        (status = 200, description = "OK", body = CurrentStatuses, links(
            ("CurrentStatus" = (operation_id = "currentStatus",
                parameters(("user_id" = "$response.body#/user_statuses/0/user_id")))),
        )),
        KeyErrors,
    ))]
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

#[utoipa::path(get, path = paths::CURRENT_ONE, operation_id = "currentStatus",
    summary = "Current status of one agent",
    params(("user_id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "OK", body = CurrentStatus),
        (status = 400, description = "The user id is not a positive 64-bit integer", body = ErrorBody),
        (status = 404, description = "No status for this agent of the key's account", body = ErrorBody),
        KeyErrors,
    ))]
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

#[utoipa::path(post, path = paths::CREATE_MANY, operation_id = "createStatuses",
    summary = "Set statuses; returns only those that changed",
    request_body = CreateManyRequest,
    responses(
        (status = 200, description = "OK", body = CreatedStatuses),
        (status = 400, description = "Invalid body; error.field names the item and field", body = ErrorBody),
        (status = 422, description = "A user id is not an agent of the key's account; error.field names the item", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
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

#[utoipa::path(get, path = paths::INCREMENTAL, operation_id = "statusChanges",
    summary = "Status changes since start_time, oldest first, paged",
    description = "Changes appear once they are 2 seconds old, so none is skipped by a reader that is ahead of a slow writer. Follow next_page; when end_of_stream is true, poll next_page later.",
    params(
        ("start_time" = i64, Query, minimum = 0, maximum = 9_223_372_036_854_775_i64),
        ("cursor" = Option<String>, Query, pattern = "^[0-9]{1,15}\\.-?[0-9]{1,18}$"),
        ("per_page" = Option<i32>, Query, minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "OK", body = IncrementalPage),
        (status = 400, description = "Invalid query parameter; error.field names it", body = ErrorBody),
        KeyErrors,
    ))]
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
#[utoipa::path(post, path = paths::HEARTBEAT, operation_id = "heartbeat",
    summary = "The agent is active (resets automatic idle)",
    params(("user_id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Recorded"),
        (status = 400, description = "The user id is not a positive 64-bit integer", body = ErrorBody),
        (status = 404, description = "Not an agent of the key's account", body = ErrorBody),
        KeyErrors,
    ))]
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
