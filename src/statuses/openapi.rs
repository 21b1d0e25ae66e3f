//! `GET /openapi.json`: the OpenAPI 3.1 document of every JSON API, generated with
//! `utoipa` from the request and response types (`#[derive(ToSchema)]`) and the handlers'
//! `#[utoipa::path]` annotations: the status API (here), the routing settings API
//! ([`crate::routing::api`], merged in), the agents' app API (`/app/v1/…`), the two
//! routing webhooks and `/channel/events`. Schemathesis fuzzes it (`tests/api/fuzz.rs`).
//!
//! The shared pieces live here: the error body ([`ErrorBody`], what
//! `crate::web::ApiError` writes), the responses every keyed call may give
//! ([`KeyErrors`], [`BodyErrors`]) and the security schemes. `ErrorBody` and the export
//! page are doc-only mirrors of shapes serialized elsewhere (`web::error` writes the error
//! with `json!`; `export.rs` is not annotated); tests validate the real output against them.

use std::borrow::Cow;

use actix_web::HttpResponse;
use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};

use super::paths;
use crate::domain::AgentStatus;

/// Every status API operation the document lists: (method, path).
pub const OPERATIONS: [(&str, &str); 6] = [
    ("get", paths::CURRENT_ALL),
    ("get", paths::CURRENT_ONE),
    ("post", paths::CREATE_MANY),
    ("get", paths::INCREMENTAL),
    ("get", paths::INCREMENTAL_EXPORT),
    ("post", paths::HEARTBEAT),
];

/// The operations that are not keyed with `X-API-Key`: the agents' app API (app token
/// and agent session), the routing webhooks (Zendesk's signature) and the channel
/// events (unsigned, checked by metadata).
pub const CALLBACK_OPERATIONS: [(&str, &str); 7] = [
    ("get", crate::agent_app::paths::ME),
    ("post", crate::agent_app::paths::STATUS),
    ("post", crate::agent_app::paths::HEARTBEAT),
    ("post", crate::agent_app::paths::NEXT_TICKET),
    ("post", crate::routing::webhook::ROUTE_PATH),
    ("post", crate::routing::webhook::SAME_AGENT_PATH),
    ("post", crate::channel::events::PATH),
];

pub(super) async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

/// The whole document as JSON: the status API with every other area merged in.
pub fn document() -> Value {
    let mut doc = StatusApi::openapi();
    doc.merge(crate::routing::api::RoutingApi::openapi());
    doc.merge(CallbackApi::openapi());
    let mut json = serde_json::to_value(doc).unwrap_or_default();
    camel_case_links(&mut json);
    json
}

/// utoipa 5 writes a Link object's `operationId` as `operation_id`; OpenAPI (and
/// schemathesis, which follows the links) reads only `operationId`.
fn camel_case_links(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            if let Some(Value::Object(links)) = fields.get_mut("links") {
                for link in links.values_mut().filter_map(Value::as_object_mut) {
                    if let Some(id) = link.remove("operation_id") {
                        link.insert("operationId".to_owned(), id);
                    }
                }
            }
            fields.values_mut().for_each(camel_case_links);
        }
        Value::Array(items) => items.iter_mut().for_each(camel_case_links),
        _ => {}
    }
}

/// The error body of every JSON API: `{"error": {"code", "message"[, "field"]}}`.
#[derive(ToSchema)]
#[schema(as = Error)]
#[allow(dead_code)]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    code: String,
    message: String,
    #[schema(value_type = String, required = false)]
    field: Option<String>,
}

/// The responses every `X-API-Key` (and app token) call may give besides its own.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum KeyErrors {
    #[response(
        status = 401,
        description = "Missing or invalid credentials (X-API-Key; for /app/v1 the app token and agent session)"
    )]
    Unauthorized(ErrorBody),
    #[response(status = 405, description = "Method not allowed; Allow names the allowed methods", headers(("Allow" = String)))]
    MethodNotAllowed(ErrorBody),
    #[response(status = 429, description = "Over the key's rate limit", headers(("Retry-After" = i64, description = "Seconds to wait")))]
    TooManyRequests(ErrorBody),
}

/// The responses of every call that reads a JSON body, besides a 400 of its own.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    #[response(status = 413, description = "Body too large")]
    TooLarge(ErrorBody),
    #[response(status = 415, description = "Body is not JSON")]
    NotJson(ErrorBody),
}

/// `Status`: the statuses the parser accepts, from [`AgentStatus::ALL`].
impl PartialSchema for AgentStatus {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(AgentStatus::ALL.iter().map(|s| s.as_str())))
            .into()
    }
}

impl ToSchema for AgentStatus {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Status")
    }
}

/// One finished status period (mirror of `export::StatusPeriod`).
#[derive(ToSchema)]
#[schema(as = StatusPeriod)]
#[allow(dead_code)]
struct StatusPeriodDoc {
    #[schema(minimum = 1)]
    id: i64,
    #[schema(minimum = 1)]
    user_id: i64,
    status: AgentStatus,
    #[schema(minimum = 0)]
    duration_in_seconds: i64,
    #[schema(minimum = 1)]
    updater_id: i64,
    #[schema(format = DateTime)]
    started_at: String,
    #[schema(format = DateTime)]
    ended_at: String,
}

/// A page of the incremental export (mirror of `export::ExportPage`).
#[derive(ToSchema)]
#[schema(as = ExportPage)]
#[allow(dead_code)]
struct ExportPageDoc {
    #[schema(max_items = 3000)]
    user_statuses: Vec<StatusPeriodDoc>,
    end_time: i64,
    end_of_stream: bool,
    cursor: String,
    next_page: String,
}

/// Doc-only: the handler is `export::handle`.
#[utoipa::path(
    get,
    path = paths::INCREMENTAL_EXPORT,
    operation_id = "statusPeriods",
    summary = "Finished status periods (Playlist's Agent Status Incremental Export), oldest ended_at first",
    description = "Up to 3000 periods a page. A period shows once its end is 2 seconds old. Follow next_page (or pass cursor); when end_of_stream is true, poll next_page later. cursor wins over start_time.",
    params(
        ("start_time" = Option<i64>, Query, minimum = 0, maximum = 9_223_372_036_854_775_i64),
        ("cursor" = Option<String>, Query, pattern = "^[0-7][0-9a-f]{15}[0-7][0-9a-f]{15}$"),
    ),
    responses(
        (status = 200, description = "OK", body = ExportPageDoc),
        (status = 400, description = "Invalid start_time or cursor; error.field names it", body = ErrorBody),
        KeyErrors,
    ),
)]
#[allow(dead_code)]
fn status_periods() {}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "slackdesk",
        description = "Agent status API, compatible with Playlist's (paths and bodies), the ticket routing settings API, the agents' app API (through Zendesk's proxy), and the webhooks and event callbacks Zendesk calls."
    ),
    paths(
        super::api::current_all,
        super::api::current_one,
        super::api::create_many,
        super::api::heartbeat,
        status_periods,
        super::api::incremental,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SecuritySchemes),
    security(("apiKey" = [])),
)]
struct StatusApi;

/// The calls Zendesk makes: through its proxy for the agents' app, and its webhooks and
/// event callbacks. Each names its own security.
#[derive(OpenApi)]
#[openapi(paths(
    crate::agent_app::api::me,
    crate::agent_app::api::change,
    crate::agent_app::api::heartbeat,
    crate::agent_app::next_ticket::next_ticket,
    crate::routing::webhook::route,
    crate::routing::webhook::same_agent,
    crate::channel::events::events,
))]
struct CallbackApi;

/// `apiKey` (the status and routing APIs); `appToken` + `appSession` (the agents' app,
/// through Zendesk's proxy); `webhookSignature` + `webhookTimestamp` (the routing webhooks).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let header = |name: &str| SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new(name)));
        components.add_security_scheme("apiKey", header("X-API-Key"));
        components.add_security_scheme(
            "appToken",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The app token Zendesk's proxy sends ({{setting.token}})",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme("appSession", header(crate::agent_app::session::HEADER));
        components.add_security_scheme("webhookSignature", header("X-Zendesk-Webhook-Signature"));
        components.add_security_scheme(
            "webhookTimestamp",
            header("X-Zendesk-Webhook-Signature-Timestamp"),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
