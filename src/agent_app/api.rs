//! The app's server-to-server API (reached only through Zendesk's proxy with the app
//! token): the agent's own status, changing it, and heartbeats for automatic idle.
//!
//! The account comes from the token, the agent only from the agent session (made from a
//! ZAF JWT Zendesk signed, see [`super::location`]). A `user_id` in the request is
//! optional; one naming anyone else is refused with 403, so a scripted app cannot act for
//! a colleague. Each call checks that the agent is an active agent of the account whom
//! the app settings allow, and limits each agent's rate (see the threat model in docs/agent-app.md).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::session;
use super::token::{AppCaller, authenticate, limit_agent};
use crate::domain::{AgentStatus, ZendeskUserId};
use crate::state::AppState;
use crate::statuses::openapi::{BodyErrors, ErrorBody, KeyErrors};
use crate::statuses::rules::apply_changes;
use crate::statuses::wire::iso_ms;
use crate::storage::statuses::{self, Source};
use crate::storage::{app_settings, status_rules};
use crate::web::{ApiError, Form, read_body, read_json};

/// What the app shows: the agent's status, since when and by whom.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentView {
    #[schema(minimum = 1)]
    pub user_id: i64,
    /// `null` when the agent never had a status.
    #[schema(value_type = Option<AgentStatus>)]
    pub status: Option<&'static str>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
    pub updated_by: Option<i64>,
    /// The statuses the agent can choose.
    #[schema(value_type = Vec<AgentStatus>)]
    pub choices: [&'static str; 3],
    /// On a change: whether it changed anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed: Option<bool>,
    /// The account's Zendesk REST connection, for the admin view (no secrets in it).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub zendesk_connection: Option<crate::zendesk::connection::ConnectionNotice>,
    /// Stuck and given-up deliveries to Zendesk over the account's integrations (counts
    /// only), for the admin view.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub deliveries: Option<crate::storage::outbox::ProblemCounts>,
}

const CHOICES: [&str; 3] = ["online", "away", "offline"];

/// An `/app/v1` body: `user_id` (optional; only the agent's own) and, to change it, `status`.
#[derive(Deserialize, ToSchema)]
pub(crate) struct AgentBody {
    #[schema(minimum = 1)]
    pub(super) user_id: Option<i64>,
    #[schema(value_type = Option<AgentStatus>)]
    status: Option<String>,
}

/// The account and the verified agent of a request. A `user_id` the app sent must be
/// well formed and be the agent's own.
pub(super) async fn identify(
    state: &AppState,
    req: &HttpRequest,
    claimed: Option<i64>,
) -> Result<(AppCaller, ZendeskUserId), ApiError> {
    let caller = authenticate(state, req).await?;
    let claimed = claimed
        .map(|id| ZendeskUserId::new(id).map_err(|e| ApiError::invalid("user_id", e.0)))
        .transpose()?;
    let agent = session::agent(state, req, &caller).await?;
    if claimed.is_some_and(|id| id != agent) {
        tracing::info!(
            subdomain = %caller.subdomain,
            token_prefix = %caller.prefix,
            user_id = agent.get(),
            "agent app named another user_id"
        );
        return Err(ApiError::Forbidden(
            "user_id: the app acts only for the agent Zendesk signed in",
        ));
    }
    Ok((caller, agent))
}

/// The agent may use the app: an active agent of the account whom the settings allow
/// (admins always may).
pub(super) async fn check_agent(
    state: &AppState,
    caller: &AppCaller,
    user_id: ZendeskUserId,
) -> Result<(), ApiError> {
    let Some((role, groups)) =
        app_settings::agent_role_and_groups(&state.db, &caller.subdomain, user_id).await?
    else {
        return Err(ApiError::UnknownReference {
            field: "user_id".into(),
            message: "is not an agent of this Zendesk account (or not synced yet)".into(),
        });
    };
    // Counted once the id is known to be an agent, so made-up ids never add counters.
    limit_agent(state, caller, user_id)?;
    if role == "admin" {
        return Ok(());
    }
    let access = app_settings::find(&state.db, &caller.subdomain).await?;
    let role_ok = access.roles.contains(&role);
    let group_ok =
        access.group_ids.is_empty() || groups.iter().any(|g| access.group_ids.contains(g));
    if role_ok && group_ok {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "slackdesk is not enabled for you; ask a Zendesk admin",
        ))
    }
}

async fn view(
    state: &AppState,
    caller: &AppCaller,
    user_id: ZendeskUserId,
    changed: Option<bool>,
) -> Result<AgentView, ApiError> {
    let record = statuses::current_one(&state.db, &caller.subdomain, user_id).await?;
    Ok(AgentView {
        user_id: user_id.get(),
        status: record.as_ref().map(|r| r.status.as_str()),
        updated_at: record.as_ref().map(|r| iso_ms(r.updated_at)),
        updated_by: record.as_ref().map(|r| r.updated_by.get()),
        choices: CHOICES,
        changed,
        zendesk_connection: state.connections.notice(&caller.subdomain).await.ok(),
        deliveries: crate::storage::outbox::problem_counts_for_subdomain(
            &state.db,
            &caller.subdomain,
        )
        .await
        .ok(),
    })
}

/// `GET /app/v1/me[?user_id=]`: the agent's status.
#[utoipa::path(get, path = super::paths::ME, operation_id = "appMe",
    summary = "The signed-in agent's status (agents' app, through Zendesk's proxy)",
    params(("user_id" = Option<i64>, Query, minimum = 1)),
    security(("appToken" = [], "appSession" = [])),
    responses(
        (status = 200, description = "OK", body = AgentView),
        (status = 400, description = "The user id is not a positive 64-bit integer", body = ErrorBody),
        (status = 403, description = "user_id names someone else, or the app is not enabled for the agent", body = ErrorBody),
        (status = 422, description = "Not an agent of this Zendesk account (or not synced yet)", body = ErrorBody),
        KeyErrors,
    ))]
pub(crate) async fn me(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let form = Form::from_bytes(req.query_string().as_bytes())?;
    let claimed = form
        .optional("user_id")?
        .map(|raw| {
            ZendeskUserId::parse(raw)
                .map(ZendeskUserId::get)
                .map_err(|e| ApiError::invalid("user_id", e.0))
        })
        .transpose()?;
    let (caller, user_id) = identify(&state, &req, claimed).await?;
    check_agent(&state, &caller, user_id).await?;
    Ok(HttpResponse::Ok().json(view(&state, &caller, user_id, None).await?))
}

/// `POST /app/v1/status` `{"status"[, "user_id"]}`: the agent changes their own status.
#[utoipa::path(post, path = super::paths::STATUS, operation_id = "appSetStatus",
    summary = "The signed-in agent changes their own status",
    request_body = AgentBody,
    security(("appToken" = [], "appSession" = [])),
    responses(
        (status = 200, description = "OK; changed says whether it changed anything", body = AgentView),
        (status = 400, description = "Invalid body; error.field names the field", body = ErrorBody),
        (status = 403, description = "user_id names someone else, or the app is not enabled for the agent", body = ErrorBody),
        (status = 422, description = "Not an agent of this Zendesk account (or not synced yet)", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
pub(crate) async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let request: AgentBody = read_json(&req, &body)?;
    let (caller, user_id) = identify(&state, &req, request.user_id).await?;
    let status = request
        .status
        .ok_or_else(|| ApiError::invalid("status", "is required"))
        .and_then(|s| AgentStatus::parse(&s).map_err(|e| ApiError::invalid("status", e.0)))?;
    check_agent(&state, &caller, user_id).await?;
    let applied = apply_changes(
        &state,
        &caller.subdomain,
        &[(user_id, status)],
        Some(user_id),
        Source::Api,
        &[user_id],
    )
    .await?;
    tracing::info!(
        subdomain = %caller.subdomain,
        token_prefix = %caller.prefix,
        user_id = user_id.get(),
        changed = !applied.is_empty(),
        "status set from the agent app"
    );
    Ok(HttpResponse::Ok().json(view(&state, &caller, user_id, Some(!applied.is_empty())).await?))
}

/// `POST /app/v1/heartbeat` `{[ "user_id" ]}`: the app is open (activity for automatic
/// idle); answers the current status so the app notices changes made elsewhere.
#[utoipa::path(post, path = super::paths::HEARTBEAT, operation_id = "appHeartbeat",
    summary = "The app is open (activity for automatic idle); answers the current status",
    request_body = AgentBody,
    security(("appToken" = [], "appSession" = [])),
    responses(
        (status = 200, description = "OK", body = AgentView),
        (status = 400, description = "Invalid body; error.field names the field", body = ErrorBody),
        (status = 403, description = "user_id names someone else, or the app is not enabled for the agent", body = ErrorBody),
        (status = 422, description = "Not an agent of this Zendesk account (or not synced yet)", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
pub(crate) async fn heartbeat(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let request: AgentBody = read_json(&req, &body)?;
    let (caller, user_id) = identify(&state, &req, request.user_id).await?;
    check_agent(&state, &caller, user_id).await?;
    status_rules::touch(
        &state.db,
        &caller.subdomain,
        &[user_id],
        state.clock.now_ms(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view(&state, &caller, user_id, None).await?))
}
