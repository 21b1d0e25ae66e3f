//! `POST /app/v1/next_ticket`: the agent's "Next ticket" button. The agent is the
//! session's (like every `/app/v1` call); the pull itself is
//! [`crate::routing::next_ticket`]. The answer names the ticket, which the app then
//! opens in Zendesk, or says in words why there is none.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::api::{AgentBody, check_agent, identify};
use super::token::AppCaller;
use crate::domain::ZendeskUserId;
use crate::routing::next_ticket::{self, PullError, Pulled};
use crate::state::AppState;
use crate::statuses::openapi::{BodyErrors, ErrorBody, KeyErrors};
use crate::web::{ApiError, read_body, read_json};
use crate::zendesk::RestError;

/// Pulls one agent may start per second (below the app's 5 per agent): each reads the
/// queues' views from Zendesk, so a scripted loop must not spend the account's Zendesk
/// rate limit. A person pressing again at once (after a refusal) stays well within it.
pub const PULLS_PER_SECOND: u32 = 2;

/// The ticket the agent was given, the queue it came from, and why.
#[derive(Debug, Serialize, ToSchema)]
struct PulledOut {
    #[schema(minimum = 1)]
    ticket_id: i64,
    #[schema(minimum = 1)]
    queue_id: i64,
    reason: String,
}

impl From<Pulled> for PulledOut {
    fn from(p: Pulled) -> Self {
        Self {
            ticket_id: p.ticket_id,
            queue_id: p.queue_id,
            reason: p.reason,
        }
    }
}

/// `POST /app/v1/next_ticket` `{[ "user_id" ]}`: assigns the agent their next ticket;
/// 422 with a code and a sentence when there is none for them.
#[utoipa::path(post, path = super::paths::NEXT_TICKET, operation_id = "appNextTicket",
    summary = "Assign the signed-in agent their next ticket (the app's \"Next ticket\")",
    request_body = AgentBody,
    security(("appToken" = [], "appSession" = [])),
    responses(
        (status = 200, description = "Assigned", body = PulledOut),
        (status = 400, description = "Invalid body; error.field names the field", body = ErrorBody),
        (status = 403, description = "user_id names someone else, or the app is not enabled for the agent", body = ErrorBody),
        (status = 422, description = "No ticket for this agent now; error.code and error.message say why", body = ErrorBody),
        (status = 503, description = "Zendesk is unavailable; try again later", body = ErrorBody,
            headers(("Retry-After" = i64, description = "Seconds to wait"))),
        BodyErrors,
        KeyErrors,
    ))]
pub(crate) async fn next_ticket(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let request: AgentBody = read_json(&req, &body)?;
    let (caller, user_id) = identify(&state, &req, request.user_id).await?;
    check_agent(&state, &caller, user_id).await?;
    limit_pulls(&state, &caller, user_id)?;
    let pulled = next_ticket::pull(&state, &caller.subdomain, user_id)
        .await
        .map_err(|error| refusal(&caller, user_id, error))?;
    Ok(HttpResponse::Ok().json(PulledOut::from(pulled)))
}

fn limit_pulls(
    state: &AppState,
    caller: &AppCaller,
    user_id: ZendeskUserId,
) -> Result<(), ApiError> {
    let key = format!("app-pull:{}:{}", caller.prefix, user_id.get());
    state
        .rate_limiter
        .check_second(&key, PULLS_PER_SECOND)
        .map_err(|retry_after_secs| ApiError::TooManyRequests { retry_after_secs })
}

/// What the agent reads when they get no ticket.
fn refusal(caller: &AppCaller, user_id: ZendeskUserId, error: PullError) -> ApiError {
    tracing::info!(
        subdomain = %caller.subdomain,
        user_id = user_id.get(),
        outcome = %error.code(),
        "next ticket: none given"
    );
    match error {
        PullError::Storage(e) => e.into(),
        PullError::Zendesk(RestError::RateLimited { retry_after }) => ApiError::TooManyRequests {
            retry_after_secs: retry_after.as_secs().max(1),
        },
        PullError::Zendesk(RestError::Unauthorized { .. }) => ApiError::Unprocessable {
            code: "zendesk_unauthorized".into(),
            message: "Zendesk refused slackdesk's stored credentials; ask a Zendesk admin to connect again"
                .into(),
        },
        PullError::Zendesk(RestError::Rejected { status }) => ApiError::Unprocessable {
            code: "zendesk_rejected".into(),
            message: format!(
                "Zendesk refused reading a routing queue's view ({status}); ask a Zendesk admin to check the queues"
            ),
        },
        error @ PullError::Zendesk(_) => ApiError::RetryLater {
            code: error.code(),
            retry_after_secs: 30,
        },
        other => ApiError::Unprocessable {
            code: other.code(),
            message: other.to_string(),
        },
    }
}
