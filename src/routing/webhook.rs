//! The Zendesk webhooks routing listens to: `POST /zendesk/webhooks/route` (a trigger
//! queue's ticket) and `POST /zendesk/webhooks/same_agent` (a requester's new ticket),
//! each with `?account={subdomain}`.
//!
//! The signature (SPEC 3: base64 HMAC-SHA256 over timestamp + raw body with that
//! webhook's signing secret; each of the two webhooks has its own) is checked in constant time before the body is parsed.
//! The call is stored before the 200 (deduplicated by ticket) and handled by the
//! routing worker, so a call Zendesk saw accepted is never lost.

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::settings::Hook;
use crate::config::Secret;
use crate::crypto::tokens;
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::statuses::openapi::{BodyErrors, ErrorBody};
use crate::storage::routing as store;
use crate::web::{ApiError, read_body, read_json};

pub const ROUTE_PATH: &str = "/zendesk/webhooks/route";
pub const SAME_AGENT_PATH: &str = "/zendesk/webhooks/same_agent";
/// How far the signature timestamp may be from our clock.
pub const MAX_SKEW_MS: i64 = 5 * 60_000;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(ROUTE_PATH, web::post().to(route))
        .route(SAME_AGENT_PATH, web::post().to(same_agent));
}

/// The signature Zendesk sends for `body` at `timestamp` (also used by tests).
pub fn sign(secret: &Secret, timestamp: &str, body: &[u8]) -> String {
    let mac = tokens::hmac_sha256(secret.expose().as_bytes(), &[timestamp.as_bytes(), body]);
    base64::engine::general_purpose::STANDARD.encode(mac)
}

/// Unix ms of a signature timestamp (RFC 3339 as Zendesk sends it, or unix seconds).
fn timestamp_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .map(|t| t.timestamp_millis())
        .ok()
        .or_else(|| {
            text.trim()
                .parse::<i64>()
                .ok()
                .map(|s| s.saturating_mul(1000))
        })
}

/// Checks the signature headers against the secret; `Ok` only for a fresh, exact match.
pub fn verify(
    secret: &Secret,
    req: &HttpRequest,
    body: &[u8],
    now_ms: i64,
) -> Result<(), ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (Some(signature), Some(timestamp)) = (
        header("X-Zendesk-Webhook-Signature"),
        header("X-Zendesk-Webhook-Signature-Timestamp"),
    ) else {
        return Err(ApiError::Unauthorized(
            "send Zendesk's webhook signature headers",
        ));
    };
    let fresh =
        timestamp_ms(timestamp).is_some_and(|at| now_ms.abs_diff(at) <= MAX_SKEW_MS.unsigned_abs());
    let expected = sign(secret, timestamp, body);
    if tokens::constant_time_eq(expected.as_bytes(), signature.trim().as_bytes()) && fresh {
        Ok(())
    } else {
        Err(ApiError::Unauthorized("the webhook signature is not valid"))
    }
}

#[derive(Deserialize)]
struct AccountQuery {
    account: Option<String>,
}

/// Ticket ids arrive as numbers or, from Zendesk placeholders, as strings.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = WebhookId)]
enum Id {
    Number(i64),
    Text(String),
}

impl Id {
    fn get(&self) -> Option<i64> {
        match self {
            Self::Number(n) => Some(*n),
            Self::Text(t) => t.trim().parse().ok(),
        }
        .filter(|n| *n > 0)
    }
}

/// A webhook call's body: the ticket and, for the route webhook, the trigger queue.
#[derive(Deserialize, ToSchema)]
#[schema(as = WebhookCall)]
struct Call {
    ticket_id: Id,
    #[serde(default)]
    queue_id: Option<Id>,
}

/// Reads, authenticates and parses a webhook call: `(account, ticket, queue)`.
async fn accept(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    hook: Hook,
) -> Result<(Subdomain, i64, Option<i64>), ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let query = web::Query::<AccountQuery>::from_query(req.query_string())
        .map_err(|_| ApiError::invalid("account", "must be the Zendesk subdomain"))?;
    let subdomain = query
        .account
        .as_deref()
        .and_then(|a| Subdomain::parse(a).ok())
        .ok_or_else(|| ApiError::invalid("account", "must be the Zendesk subdomain"))?;
    let secret = store::webhook_secret(&state.db, &state.keys, &subdomain, hook)
        .await?
        .ok_or(ApiError::Unauthorized("the webhook signature is not valid"))?;
    verify(&secret, req, &body, state.clock.now_ms())?;
    let call: Call = read_json(req, &body)?;
    let ticket = call
        .ticket_id
        .get()
        .ok_or_else(|| ApiError::invalid("ticket_id", "must be a Zendesk ticket id"))?;
    let queue = match &call.queue_id {
        Some(id) => Some(
            id.get()
                .ok_or_else(|| ApiError::invalid("queue_id", "must be a routing queue id"))?,
        ),
        None => None,
    };
    Ok((subdomain, ticket, queue))
}

async fn store_call(
    state: &AppState,
    hook: Hook,
    (subdomain, ticket, queue): (Subdomain, i64, Option<i64>),
) -> Result<HttpResponse, ApiError> {
    let kind = hook.as_str();
    let now = state.clock.now_ms();
    let fresh = store::enqueue_request(&state.db, &subdomain, kind, ticket, queue, now).await?;
    tracing::info!(subdomain = %subdomain, ticket_id = ticket, kind, duplicate = !fresh, "routing webhook accepted");
    state.routing_wake.notify_one();
    Ok(HttpResponse::Ok().json(Accepted {
        accepted: true,
        duplicate: !fresh,
    }))
}

/// The answer to a webhook call: stored (`duplicate`: that ticket was already waiting).
#[derive(Serialize, ToSchema)]
#[schema(as = WebhookAccepted)]
struct Accepted {
    accepted: bool,
    duplicate: bool,
}

/// `POST /zendesk/webhooks/route?account=...` with `{"ticket_id": ..., "queue_id"?: ...}`.
#[utoipa::path(post, path = ROUTE_PATH, operation_id = "routeWebhook",
    summary = "Zendesk's route webhook: a trigger queue's ticket to route",
    params(("account" = String, Query, description = "The Zendesk subdomain")),
    request_body = Call,
    security(("webhookSignature" = [], "webhookTimestamp" = [])),
    responses(
        (status = 200, description = "Stored for the routing worker", body = Accepted),
        (status = 400, description = "Invalid account, body, ticket_id or queue_id; error.field names it", body = ErrorBody),
        (status = 401, description = "Missing, stale or wrong signature, or no signing secret stored", body = ErrorBody),
        BodyErrors,
    ))]
pub(crate) async fn route(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let call = accept(&state, &req, payload, Hook::Route).await?;
    store_call(&state, Hook::Route, call).await
}

/// `POST /zendesk/webhooks/same_agent?account=...` with `{"ticket_id": ...}`.
#[utoipa::path(post, path = SAME_AGENT_PATH, operation_id = "sameAgentWebhook",
    summary = "Zendesk's same-agent webhook: a requester's new ticket",
    params(("account" = String, Query, description = "The Zendesk subdomain")),
    request_body = Call,
    security(("webhookSignature" = [], "webhookTimestamp" = [])),
    responses(
        (status = 200, description = "Stored for the routing worker", body = Accepted),
        (status = 400, description = "Invalid account, body or ticket_id; error.field names it", body = ErrorBody),
        (status = 401, description = "Missing, stale or wrong signature, or no signing secret stored", body = ErrorBody),
        BodyErrors,
    ))]
pub(crate) async fn same_agent(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let call = accept(&state, &req, payload, Hook::SameAgent).await?;
    store_call(&state, Hook::SameAgent, call).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_read_as_zendesk_sends_them() {
        assert_eq!(timestamp_ms("1970-01-01T00:00:10Z"), Some(10_000));
        assert_eq!(timestamp_ms("10"), Some(10_000));
        assert_eq!(timestamp_ms("yesterday"), None);
    }

    #[test]
    fn ids_may_be_numbers_or_numeric_strings() {
        let call: Call = serde_json::from_str(r#"{"ticket_id":"35436"}"#).unwrap();
        assert_eq!(call.ticket_id.get(), Some(35436));
        let call: Call = serde_json::from_str(r#"{"ticket_id":-4}"#).unwrap();
        assert_eq!(call.ticket_id.get(), None);
    }
}
