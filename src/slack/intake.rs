//! `POST /slack/events`: the Events API request URL.
//!
//! The signature is checked on the raw body, in constant time, before anything is parsed.
//! The event's ids are committed before we answer, well within Slack's 3 seconds; the
//! slow work (reading Slack, pushing to Zendesk) happens afterwards in the workers.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::events::{EventEnvelope, classify};
use super::signature;
use crate::bridge::intake::{self, Intake};
use crate::domain::SlackTeamId;
use crate::state::AppState;
use crate::web::{ApiError, read_body};

pub async fn events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let Some(secret) = &state.settings.slack_signing_secret else {
        return Err(ApiError::Unprocessable {
            code: "slack_not_configured".into(),
            message: "SLACK_SIGNING_SECRET is not set on this slackdesk".into(),
        });
    };
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now().timestamp();
    signature::verify(
        secret,
        header("x-slack-request-timestamp"),
        header("x-slack-signature"),
        &body,
        now,
    )
    .map_err(|error| {
        tracing::warn!(reason = %error, "Slack request refused");
        ApiError::Unauthorized("the Slack signature is missing, stale or wrong")
    })?;
    let envelope: EventEnvelope = serde_json::from_slice(&body)
        .map_err(|_| ApiError::invalid("body", "is not a Slack Events API payload"))?;
    match envelope {
        EventEnvelope::UrlVerification { challenge } => {
            Ok(HttpResponse::Ok().json(json!({ "challenge": challenge })))
        }
        EventEnvelope::EventCallback {
            team_id,
            event_id,
            event_time,
            event,
        } => {
            let team =
                SlackTeamId::parse(&team_id).map_err(|e| ApiError::invalid("team_id", e.0))?;
            if event_id.is_empty()
                || event_id.len() > 64
                || !event_id.bytes().all(|b| b.is_ascii_alphanumeric())
            {
                return Err(ApiError::invalid("event_id", "is not a Slack event id"));
            }
            let classified = classify(&event);
            remember_content(&state, &team, &classified, &event);
            let outcome = intake::accept(&state, &team, &event_id, event_time, classified).await?;
            let retry = header("x-slack-retry-num").unwrap_or("0");
            tracing::debug!(team = %team, event_id = %event_id, retry, outcome = ?outcome, "Slack event accepted");
            state.metrics.record_slack_event(match outcome {
                Intake::Duplicate => "duplicate",
                Intake::Queued(_) => "queued",
                Intake::Nothing => "ignored",
            });
            Ok(HttpResponse::Ok().finish())
        }
        EventEnvelope::AppRateLimited { team_id } => {
            tracing::warn!(team = %team_id.chars().filter(char::is_ascii_alphanumeric).take(32).collect::<String>(), "Slack is rate limiting events for a workspace");
            Ok(HttpResponse::Ok().finish())
        }
        EventEnvelope::Other => Ok(HttpResponse::Ok().finish()),
    }
}

/// Keeps the message's content in memory for the push, so it need not be read back from
/// Slack (see `bridge::content`). Done before the ids are committed, so the worker never
/// looks for it too early.
fn remember_content(
    state: &AppState,
    team: &SlackTeamId,
    event: &crate::slack::SlackEvent,
    raw: &serde_json::Value,
) {
    use crate::slack::SlackEvent;
    let (SlackEvent::Message(message) | SlackEvent::Edited { message, .. }) = event else {
        return;
    };
    if let Some(content) = crate::slack::message_content(raw) {
        let reference = crate::domain::SlackMessageRef {
            team: team.clone(),
            channel: message.channel.clone(),
            ts: message.ts.clone(),
        };
        state.content.remember_message(&reference, content);
    }
}
