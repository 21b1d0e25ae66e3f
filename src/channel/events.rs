//! `POST /channel/events`: Zendesk's event callbacks, batched (SPEC 1.8).
//!
//! Each event is handled on its own: one we cannot use is logged by type and skipped,
//! and the batch is still answered 200 so Zendesk does not resend the others. Events
//! that name an account prove it with its metadata. Zendesk does not sign these calls,
//! so `resources_created_from_external_ids` (which carries no metadata) is only applied
//! to external ids the account itself queued.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::channel::metadata::{self, MetadataError};
use crate::domain::{ExternalId, SlackTeamId, SlackUserId, Subdomain};
use crate::state::AppState;
use crate::statuses::openapi::{BodyErrors, ErrorBody};
use crate::storage::accounts::{self, Account};
use crate::storage::slack_jobs::{self, JobKind};
use crate::storage::ticket_links::{self, TicketLink};
use crate::storage::{StorageError, outbox, threads};
use crate::web::{ApiError, read_body, read_json};

/// The path Zendesk posts event callbacks to.
pub const PATH: &str = "/channel/events";
const EVENTS_MAX: usize = 1000;

/// A batch of event callbacks; each should have `type_id`, `subdomain` and `data` (any
/// other item is skipped).
#[derive(Deserialize, ToSchema)]
#[schema(as = EventBatch)]
struct EventBatch {
    #[schema(max_items = 1000)]
    events: Vec<Value>,
}

/// How many events of the batch were handled (the others were skipped).
#[derive(Serialize, ToSchema)]
#[schema(as = EventsHandled)]
struct Handled {
    handled: usize,
}

#[derive(Deserialize)]
struct Event {
    type_id: String,
    subdomain: String,
    #[serde(default)]
    data: Value,
}

#[derive(Deserialize)]
struct ResourceEvent {
    type_id: String,
    external_id: String,
    ticket_id: i64,
    comment_id: Option<i64>,
    follow_up_ticket_id: Option<i64>,
}

#[utoipa::path(post, path = PATH, operation_id = "channelEvents",
    summary = "Zendesk's event callbacks, batched; an event that cannot be used is skipped",
    request_body = EventBatch,
    security(()),
    responses(
        (status = 200, description = "Handled; the others were skipped", body = Handled),
        (status = 400, description = "Not an event batch, or more than 1000 events", body = ErrorBody),
        BodyErrors,
    ))]
pub async fn events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let batch: EventBatch = read_json(&req, &body)?;
    if batch.events.len() > EVENTS_MAX {
        return Err(ApiError::invalid("events", "has more than 1000 events"));
    }
    let mut handled = 0usize;
    for (index, raw) in batch.events.into_iter().enumerate() {
        let Ok(event) = serde_json::from_value::<Event>(raw) else {
            tracing::warn!(
                index,
                "event callback without type_id, subdomain or data skipped"
            );
            continue;
        };
        match handle(&state, &event).await {
            Ok(()) => handled += 1,
            Err(EventError::NotOurs) => {
                tracing::warn!(index, type_id = %event.type_id, "event for an unknown account skipped");
            }
            Err(EventError::Storage(error)) => return Err(error.into()),
        }
    }
    Ok(HttpResponse::Ok().json(Handled { handled }))
}

enum EventError {
    NotOurs,
    Storage(StorageError),
}

impl From<StorageError> for EventError {
    fn from(error: StorageError) -> Self {
        Self::Storage(error)
    }
}

impl From<MetadataError> for EventError {
    fn from(error: MetadataError) -> Self {
        match error {
            MetadataError::Invalid => Self::NotOurs,
            MetadataError::Storage(e) => Self::Storage(e),
        }
    }
}

async fn handle(state: &AppState, event: &Event) -> Result<(), EventError> {
    let subdomain = Subdomain::parse(&event.subdomain).map_err(|_| EventError::NotOurs)?;
    match event.type_id.as_str() {
        "create_integration_instance" | "activate_integration_instance" => {
            let account = account_of(state, event, &subdomain).await?;
            accounts::set_active(&state.db, account.id, true).await?;
            tracing::info!(account = %account.id, type_id = %event.type_id, "account active");
        }
        "deactivate_integration_instance" => {
            let account = account_of(state, event, &subdomain).await?;
            accounts::set_active(&state.db, account.id, false).await?;
            let by = event
                .data
                .get("deactivated_by")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            tracing::info!(account = %account.id, deactivated_by = by, "account deactivated");
        }
        "destroy_integration_instance" => {
            let account = account_of(state, event, &subdomain).await?;
            let mut tx = state.db.begin_write().await?;
            accounts::delete(&mut tx, account.id).await?;
            state.db.commit(tx).await?;
            tracing::info!(account = %account.id, "account and its data deleted");
        }
        "destroy_user_identity" => forget_author(state, event, &subdomain).await?,
        "resources_created_from_external_ids" => record_tickets(state, event, &subdomain).await?,
        other => tracing::info!(type_id = other, subdomain = %subdomain, "event noted"),
    }
    Ok(())
}

async fn account_of(
    state: &AppState,
    event: &Event,
    subdomain: &Subdomain,
) -> Result<Account, EventError> {
    let raw = event
        .data
        .get("metadata")
        .and_then(Value::as_str)
        .ok_or(EventError::NotOurs)?;
    let account = metadata::verify(&state.db, raw).await?;
    if &account.subdomain != subdomain {
        return Err(EventError::NotOurs);
    }
    Ok(account)
}

/// GDPR erasure: `slack:{team}:{user}` is forgotten by every account it concerns.
async fn forget_author(
    state: &AppState,
    event: &Event,
    subdomain: &Subdomain,
) -> Result<(), EventError> {
    let author = event
        .data
        .pointer("/author/external_id")
        .and_then(Value::as_str)
        .ok_or(EventError::NotOurs)?;
    let mut parts = author.split(':');
    let (Some("slack"), Some(team), Some(user)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(EventError::NotOurs);
    };
    let team = SlackTeamId::parse(team).map_err(|_| EventError::NotOurs)?;
    let user = SlackUserId::parse(user).map_err(|_| EventError::NotOurs)?;
    let accounts = match event.data.get("metadata").and_then(Value::as_str) {
        Some(_) => vec![account_of(state, event, subdomain).await?],
        None => accounts::find_by_subdomain(&state.db, subdomain).await?,
    };
    for account in accounts {
        threads::forget_sender(&state.db, account.id, &team, &user).await?;
        let forgotten = outbox::forget_author(&state.db, account.id, &team, &user).await?;
        tracing::info!(account = %account.id, forgotten, "author identity forgotten");
    }
    Ok(())
}

async fn record_tickets(
    state: &AppState,
    event: &Event,
    subdomain: &Subdomain,
) -> Result<(), EventError> {
    let resource_events = event
        .data
        .get("resource_events")
        .and_then(Value::as_array)
        .ok_or(EventError::NotOurs)?;
    let accounts = accounts::find_by_subdomain(&state.db, subdomain).await?;
    for raw in resource_events {
        let Ok(created) = serde_json::from_value::<ResourceEvent>(raw.clone()) else {
            continue;
        };
        let Ok(external_id) = ExternalId::parse(&created.external_id) else {
            continue;
        };
        for account in &accounts {
            if !ticket_links::account_sent(&state.db, account.id, &external_id).await? {
                continue;
            }
            let link = TicketLink {
                kind: created.type_id.clone(),
                ticket_id: created.ticket_id,
                comment_id: created.comment_id,
                follow_up_ticket_id: created.follow_up_ticket_id,
            };
            ticket_links::record(&state.db, account.id, &external_id, &link).await?;
            if created.type_id == "comment_on_new_ticket"
                && let Some(message) = external_id.slack_message()
                && message.external_id() == external_id
            {
                slack_jobs::enqueue(state.db.pool(), account.id, JobKind::MarkTicket, &message)
                    .await?;
                slack_jobs::enqueue(state.db.pool(), account.id, JobKind::TicketFields, &message)
                    .await?;
                state.delivery_wake.notify_one();
            }
            tracing::info!(account = %account.id, external_id = %external_id, ticket_id = created.ticket_id, "ticket linked");
        }
    }
    Ok(())
}
