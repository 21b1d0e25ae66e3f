//! The routing settings JSON API (`/zendesk/routing/api/...`): queues, account settings,
//! per-agent limits, the dry run, the assignment log, "resync skills now", and the
//! webhooks and triggers slackdesk makes in Zendesk (`hooks`: their status in every
//! settings and queue answer, and a call to make them again).
//!
//! Every call authenticates with `X-API-Key` like the status API and is scoped to the
//! key's account: another account's queue is a 404, never a 403. Bodies are parsed
//! strictly (unknown fields refused) and validated in full before anything is stored;
//! a bad value is a 400 naming its field. The same paths and shapes are described in
//! `/openapi.json` ([`RoutingApi`], generated from [`wire`] and the doc-only operations
//! of `openapi.rs`).

mod openapi;
mod wire;

pub use openapi::{RoutingApi, openapi_paths, openapi_schemas};
use wire::{AssignmentOut, LimitsBody, SettingsBody, SettingsOut};
pub use wire::{DecisionOut, DryRunOut, QueueOut, WaitingOut};

pub mod dedicated;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::hooks::{self, HookStatus, Repair};
use super::run::{self, RunError};
use super::settings::{AccountSettings, AgentLimits, Hook, QueueSettings};
use crate::config::Secret;
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::statuses::authenticate;
use crate::storage::agents;
use crate::storage::routing::{self as store, Queue};
use crate::web::{ApiError, Form, read_body, read_json, resource_allowing};
use crate::zendesk::RestError;

/// The API's paths, shared by the router and the OpenAPI document.
pub mod paths {
    pub const QUEUES: &str = "/zendesk/routing/api/queues";
    pub const QUEUE: &str = "/zendesk/routing/api/queues/{id}";
    pub const DRY_RUN: &str = "/zendesk/routing/api/queues/{id}/dry_run";
    pub const SETTINGS: &str = "/zendesk/routing/api/settings";
    pub const LIMITS: &str = "/zendesk/routing/api/agents/limits";
    pub const AGENT_LIMITS: &str = "/zendesk/routing/api/agents/{user_id}/limits";
    pub const ASSIGNMENTS: &str = "/zendesk/routing/api/assignments";
    pub const RESYNC: &str = "/zendesk/routing/api/skills/resync";
    pub const DEDICATED: &str = "/zendesk/routing/api/dedicated";
    pub const DEDICATION: &str = "/zendesk/routing/api/dedicated/{kind}/{id}";
    pub const HOOKS: &str = "/zendesk/routing/api/hooks";
    pub const HOOK: &str = "/zendesk/routing/api/hooks/{hook}";
}

/// Every operation `/openapi.json` lists for routing: (method, path).
pub const OPERATIONS: [(&str, &str); 18] = [
    ("get", paths::QUEUES),
    ("post", paths::QUEUES),
    ("get", paths::QUEUE),
    ("put", paths::QUEUE),
    ("delete", paths::QUEUE),
    ("post", paths::DRY_RUN),
    ("get", paths::SETTINGS),
    ("put", paths::SETTINGS),
    ("get", paths::LIMITS),
    ("get", paths::AGENT_LIMITS),
    ("put", paths::AGENT_LIMITS),
    ("get", paths::ASSIGNMENTS),
    ("post", paths::RESYNC),
    ("get", paths::DEDICATED),
    ("put", paths::DEDICATION),
    ("delete", paths::DEDICATION),
    ("get", paths::HOOKS),
    ("post", paths::HOOK),
];

/// Newest assignments per page when `limit` is not given, and the most one page holds.
pub const DEFAULT_LOG_PAGE: i64 = 50;
pub const MAX_LOG_PAGE: i64 = 200;
/// A webhook signing secret's accepted length (Zendesk's are about 44 characters).
pub const SECRET_CHARS: std::ops::RangeInclusive<usize> = 8..=512;

/// Registers the API routes; any other method on a path is a 405 with `Allow`.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        resource_allowing(paths::QUEUES, "GET, POST")
            .route(web::get().to(list_queues))
            .route(web::post().to(create_queue)),
    )
    .service(
        resource_allowing(paths::QUEUE, "GET, PUT, DELETE")
            .route(web::get().to(get_queue))
            .route(web::put().to(replace_queue))
            .route(web::delete().to(delete_queue)),
    )
    .service(resource_allowing(paths::DRY_RUN, "POST").route(web::post().to(dry_run)))
    .service(
        resource_allowing(paths::SETTINGS, "GET, PUT")
            .route(web::get().to(get_settings))
            .route(web::put().to(put_settings)),
    )
    .service(resource_allowing(paths::LIMITS, "GET").route(web::get().to(list_limits)))
    .service(
        resource_allowing(paths::AGENT_LIMITS, "GET, PUT")
            .route(web::get().to(get_limits))
            .route(web::put().to(put_limits)),
    )
    .service(resource_allowing(paths::ASSIGNMENTS, "GET").route(web::get().to(assignments)))
    .service(resource_allowing(paths::RESYNC, "POST").route(web::post().to(resync)))
    .service(resource_allowing(paths::HOOKS, "GET").route(web::get().to(get_hooks)))
    .service(resource_allowing(paths::HOOK, "POST").route(web::post().to(remake_hook)))
    .configure(dedicated::routes);
}

// ---------------------------------------------------------------------------------------
// Shared by the API and the admin pages

/// A queue id from a path: a positive integer, else 400 naming `id`.
pub fn parse_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid("id", "must be a positive integer"))
}

/// The account's queue `id`; 404 when it does not exist or belongs to another account.
pub async fn queue_of(state: &AppState, subdomain: &Subdomain, id: i64) -> Result<Queue, ApiError> {
    store::find_queue(&state.db, subdomain, id)
        .await?
        .ok_or(ApiError::NotFound("queue"))
}

/// The request field (and form field) holding a webhook's signing secret.
pub fn secret_field(hook: Hook) -> &'static str {
    match hook {
        Hook::Route => "route_webhook_secret",
        Hook::SameAgent => "same_agent_webhook_secret",
    }
}

/// Checks a webhook signing secret: 8 to 512 characters, no spaces.
pub fn valid_secret(field: &str, raw: &str) -> Result<Secret, ApiError> {
    let ok = SECRET_CHARS.contains(&raw.chars().count()) && !raw.chars().any(char::is_whitespace);
    if !ok {
        return Err(ApiError::invalid(
            field,
            "must be Zendesk's signing secret: 8 to 512 characters without spaces",
        ));
    }
    Ok(Secret::from(raw))
}

/// Turns a dry-run failure into what the admin should do about it.
pub fn dry_run_error(error: RunError) -> ApiError {
    match error {
        RunError::Storage(e) => e.into(),
        RunError::NotConnected => ApiError::Unprocessable {
            code: "zendesk_not_connected".into(),
            message: "connect this account's Zendesk REST API first (slackdesk zendesk connect)"
                .into(),
        },
        RunError::Zendesk(RestError::RateLimited { retry_after }) => ApiError::TooManyRequests {
            retry_after_secs: retry_after.as_secs().max(1),
        },
        RunError::Zendesk(RestError::Unauthorized { .. }) => ApiError::Unprocessable {
            code: "zendesk_unauthorized".into(),
            message: "Zendesk refused the stored credentials; connect the account again".into(),
        },
        RunError::Zendesk(RestError::Rejected { status }) => ApiError::Unprocessable {
            code: "zendesk_rejected".into(),
            message: format!(
                "Zendesk rejected reading the view ({status}); check the queue's view id"
            ),
        },
        RunError::Zendesk(other) => ApiError::RetryLater {
            code: format!("zendesk_{}", other.code()),
            retry_after_secs: 30,
        },
        RunError::LeaseLost => ApiError::RetryLater {
            code: "queue_busy".into(),
            retry_after_secs: 5,
        },
        error @ RunError::CountsNotRead => ApiError::Unprocessable {
            code: error.code(),
            message: error.to_string(),
        },
    }
}

/// The dry run of a queue as data (for the API and the page).
pub async fn dry_run_of(state: &AppState, queue: &Queue) -> Result<DryRunOut, ApiError> {
    let preview = run::dry_run(state, queue).await.map_err(dry_run_error)?;
    let handbacks = super::reassign::preview(state, queue)
        .await
        .map_err(dry_run_error)?
        .into_iter()
        .filter(|v| v.outcome == crate::storage::routing::watch::Watch::Released)
        .map(|v| DecisionOut {
            ticket_id: v.ticket_id,
            agent_id: v.agent_id,
            reason: v.reason,
        })
        .collect();
    Ok(DryRunOut {
        queue_id: queue.id,
        considered: preview.tickets.len(),
        assignments: preview
            .outcome
            .assigned
            .into_iter()
            .map(|d| DecisionOut {
                ticket_id: d.ticket_id,
                agent_id: d.agent_id,
                reason: d.reason,
            })
            .collect(),
        waiting: preview
            .outcome
            .waiting
            .into_iter()
            .map(|(ticket_id, reason)| WaitingOut { ticket_id, reason })
            .collect(),
        handbacks,
    })
}

/// The fields that are lists of objects (a queue's `split`).
const LIST_FIELDS: [&str; 1] = ["split"];

/// The path of the first value in `value` that is not an object or a scalar, outside
/// [`LIST_FIELDS`] (whose items must be objects). Serde would read an array as a
/// struct's fields in order; so an array anywhere else is refused instead.
fn first_array(value: &Value, at: &str) -> Option<String> {
    match value {
        Value::Array(items) if LIST_FIELDS.contains(&at) => {
            items.iter().enumerate().find_map(|(i, item)| {
                let path = format!("{at}[{i}]");
                match item {
                    Value::Object(_) => first_array(item, &path),
                    _ => Some(path),
                }
            })
        }
        Value::Array(_) => Some(if at.is_empty() {
            "body".to_owned()
        } else {
            at.to_owned()
        }),
        Value::Object(fields) => fields.iter().find_map(|(name, inner)| {
            let path = if at.is_empty() {
                name.clone()
            } else {
                format!("{at}.{name}")
            };
            first_array(inner, &path)
        }),
        _ => None,
    }
}

/// A JSON object body; an unknown field is named as the field at fault.
pub(super) fn body_of<T: serde::de::DeserializeOwned>(
    req: &HttpRequest,
    body: &[u8],
) -> Result<T, ApiError> {
    let shape: Value = read_json(req, body)?;
    if !shape.is_object() {
        return Err(ApiError::invalid("body", "must be a JSON object"));
    }
    if let Some(field) = first_array(&shape, "") {
        return Err(ApiError::invalid(field, "must not be a list"));
    }
    read_json(req, body).map_err(|error| match error {
        ApiError::InvalidField { field, message } => {
            let unknown = message
                .strip_prefix("unknown field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
            match unknown {
                // The path may or may not already end with the unknown name.
                Some(name) if field == "body" => ApiError::invalid(name, "is not a known field"),
                Some(name) if field == name || field.ends_with(&format!(".{name}")) => {
                    ApiError::invalid(field, "is not a known field")
                }
                Some(name) => ApiError::invalid(format!("{field}.{name}"), "is not a known field"),
                None => ApiError::InvalidField { field, message },
            }
        }
        other => other,
    })
}

/// The `hooks` object of the answers: each webhook's status by its name.
pub fn hooks_json(statuses: &[HookStatus]) -> Value {
    Value::Object(
        statuses
            .iter()
            .map(|s| (s.hook_name().to_owned(), json!(s)))
            .collect(),
    )
}

// ---------------------------------------------------------------------------------------
// Handlers

async fn list_queues(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let queues = store::list_queues(&state.db, &caller.subdomain).await?;
    let out: Vec<QueueOut<'_>> = queues.iter().map(QueueOut::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "queues": out })))
}

async fn create_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let settings = body_of::<QueueSettings>(&req, &body)?.validate()?;
    let now = state.clock.now_ms();
    let id = store::create_queue(&state.db, &caller.subdomain, &settings, now).await?;
    tracing::info!(subdomain = %caller.subdomain, queue_id = id, key_prefix = %caller.key_prefix, "routing queue created");
    let hooks = hooks::after_change(&state, &caller.subdomain, Hook::Route).await?;
    let queue = queue_of(&state, &caller.subdomain, id).await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("{}/{id}", paths::QUEUES)))
        .json(json!({ "queue": QueueOut::from(&queue), "hooks": hooks_json(&hooks) })))
}

async fn get_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let queue = queue_of(&state, &caller.subdomain, parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({ "queue": QueueOut::from(&queue) })))
}

async fn replace_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let id = parse_id(&id)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let settings = body_of::<QueueSettings>(&req, &body)?.validate()?;
    let now = state.clock.now_ms();
    if !store::update_queue(&state.db, &caller.subdomain, id, &settings, now).await? {
        return Err(ApiError::NotFound("queue"));
    }
    tracing::info!(subdomain = %caller.subdomain, queue_id = id, key_prefix = %caller.key_prefix, "routing queue replaced");
    let hooks = hooks::after_change(&state, &caller.subdomain, Hook::Route).await?;
    let queue = queue_of(&state, &caller.subdomain, id).await?;
    Ok(HttpResponse::Ok()
        .json(json!({ "queue": QueueOut::from(&queue), "hooks": hooks_json(&hooks) })))
}

async fn delete_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let id = parse_id(&id)?;
    if !store::delete_queue(&state.db, &caller.subdomain, id).await? {
        return Err(ApiError::NotFound("queue"));
    }
    tracing::info!(subdomain = %caller.subdomain, queue_id = id, key_prefix = %caller.key_prefix, "routing queue deleted");
    hooks::after_change(&state, &caller.subdomain, Hook::Route).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn dry_run(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let queue = queue_of(&state, &caller.subdomain, parse_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(dry_run_of(&state, &queue).await?))
}

async fn settings_response(
    state: &AppState,
    subdomain: &Subdomain,
    hooks: &[HookStatus],
) -> Result<HttpResponse, ApiError> {
    let (settings, secrets) = store::account_settings(&state.db, subdomain).await?;
    Ok(HttpResponse::Ok().json(SettingsOut {
        settings: &settings,
        route_webhook_secret_set: secrets.route,
        same_agent_webhook_secret_set: secrets.same_agent,
        hooks: hooks_json(hooks),
    }))
}

async fn get_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let hooks = hooks::statuses(&state, &caller.subdomain, 0).await?;
    settings_response(&state, &caller.subdomain, &hooks).await
}

async fn put_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let body: SettingsBody = body_of(&req, &body)?;
    let settings = AccountSettings {
        default_inbox_limit: body.default_inbox_limit,
        default_daily_limit: body.default_daily_limit,
        same_agent: body.same_agent,
    }
    .validate()?;
    let mut secrets = Vec::new();
    for (hook, raw) in [
        (Hook::Route, &body.route_webhook_secret),
        (Hook::SameAgent, &body.same_agent_webhook_secret),
    ] {
        if let Some(raw) = raw {
            secrets.push((hook, valid_secret(secret_field(hook), raw)?));
        }
    }
    let now = state.clock.now_ms();
    store::save_account_settings(&state.db, &caller.subdomain, &settings, now).await?;
    for (hook, secret) in &secrets {
        store::set_webhook_secret(
            &state.db,
            &state.keys,
            &caller.subdomain,
            *hook,
            secret,
            now,
        )
        .await?;
    }
    let secret_changed = !secrets.is_empty();
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, secret_changed, "routing settings saved");
    let hooks = hooks::after_change(&state, &caller.subdomain, Hook::SameAgent).await?;
    settings_response(&state, &caller.subdomain, &hooks).await
}

/// `GET /hooks`: each webhook's status, Zendesk asked now.
async fn get_hooks(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let hooks = hooks::statuses(&state, &caller.subdomain, 0).await?;
    Ok(HttpResponse::Ok().json(json!({ "hooks": hooks_json(&hooks) })))
}

/// `POST /hooks/{hook}`: make again what was deleted in Zendesk, make what is not made,
/// remove what is left over (replacing a signing secret typed by hand).
async fn remake_hook(
    state: web::Data<AppState>,
    req: HttpRequest,
    hook: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let hook = Hook::parse(&hook).ok_or(ApiError::NotFound("webhook"))?;
    let status = hooks::sync(&state, &caller.subdomain, hook, Repair::Yes).await?;
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, hook = hook.as_str(), state = status.state_code(), "Zendesk webhook and trigger remade on request");
    let hooks: Vec<HookStatus> = hooks::statuses(&state, &caller.subdomain, i64::MAX)
        .await?
        .into_iter()
        .map(|other| {
            if other.hook == hook {
                status.clone()
            } else {
                other
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(json!({ "hooks": hooks_json(&hooks) })))
}

async fn list_limits(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let (settings, _) = store::account_settings(&state.db, &caller.subdomain).await?;
    let rows = limits_table(&state, &caller.subdomain).await?;
    Ok(HttpResponse::Ok().json(json!({
        "default_inbox_limit": settings.default_inbox_limit,
        "default_daily_limit": settings.default_daily_limit,
        "agents": rows,
    })))
}

/// Every active agent with their own limits (null where they use the default).
pub async fn limits_table(
    state: &AppState,
    subdomain: &Subdomain,
) -> Result<Vec<AgentLimits>, ApiError> {
    let set = store::agent_limits(&state.db, subdomain).await?;
    Ok(agents::list_active(&state.db, subdomain)
        .await?
        .into_iter()
        .map(|agent| {
            let id = agent.user_id.get();
            set.iter()
                .find(|l| l.user_id == id)
                .copied()
                .unwrap_or(AgentLimits {
                    user_id: id,
                    inbox_limit: None,
                    daily_limit: None,
                })
        })
        .collect())
}

/// The path's user id, which must be an active agent of the account (else 404).
async fn agent_of(state: &AppState, subdomain: &Subdomain, raw: &str) -> Result<i64, ApiError> {
    let user_id = ZendeskUserId::parse(raw).map_err(|e| ApiError::invalid("user_id", e.0))?;
    if agents::active_among(&state.db, subdomain, &[user_id])
        .await?
        .is_empty()
    {
        return Err(ApiError::NotFound("agent"));
    }
    Ok(user_id.get())
}

async fn one_agent_limits(
    state: &AppState,
    subdomain: &Subdomain,
    user_id: i64,
) -> Result<AgentLimits, ApiError> {
    Ok(store::agent_limits(&state.db, subdomain)
        .await?
        .into_iter()
        .find(|l| l.user_id == user_id)
        .unwrap_or(AgentLimits {
            user_id,
            inbox_limit: None,
            daily_limit: None,
        }))
}

async fn get_limits(
    state: web::Data<AppState>,
    req: HttpRequest,
    user_id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let user_id = agent_of(&state, &caller.subdomain, &user_id).await?;
    Ok(HttpResponse::Ok().json(one_agent_limits(&state, &caller.subdomain, user_id).await?))
}

async fn put_limits(
    state: web::Data<AppState>,
    req: HttpRequest,
    user_id: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let user_id = agent_of(&state, &caller.subdomain, &user_id).await?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let body: LimitsBody = body_of(&req, &body)?;
    let limits = AgentLimits {
        user_id,
        inbox_limit: body.inbox_limit,
        daily_limit: body.daily_limit,
    }
    .validate()?;
    store::set_agent_limits(&state.db, &caller.subdomain, &limits).await?;
    Ok(HttpResponse::Ok().json(one_agent_limits(&state, &caller.subdomain, user_id).await?))
}

/// `before_id` and `limit` of a log page; 400 naming the parameter when malformed.
pub fn parse_log_query(query: &str) -> Result<(Option<i64>, i64), ApiError> {
    let form = Form::from_bytes(query.as_bytes())?;
    let before_id = match form.optional("before_id")? {
        None | Some("") => None,
        Some(raw) => Some(
            raw.parse::<i64>()
                .ok()
                .filter(|id| *id > 0)
                .ok_or_else(|| ApiError::invalid("before_id", "must be a positive integer"))?,
        ),
    };
    let limit = match form.optional("limit")? {
        None | Some("") => DEFAULT_LOG_PAGE,
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LOG_PAGE).contains(n))
            .ok_or_else(|| ApiError::invalid("limit", "must be 1 to 200"))?,
    };
    Ok((before_id, limit))
}

async fn assignments(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    let (before_id, limit) = parse_log_query(req.query_string())?;
    let page = store::log(&state.db, &caller.subdomain, before_id, limit).await?;
    let next = (page.len() as i64 == limit)
        .then(|| page.last().map(|a| a.id))
        .flatten();
    let out: Vec<AssignmentOut<'_>> = page.iter().map(AssignmentOut::from).collect();
    Ok(HttpResponse::Ok().json(json!({ "assignments": out, "next_before_id": next })))
}

async fn resync(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &req).await?;
    store::request_skills_resync(&state.db, &caller.subdomain, state.clock.now_ms()).await?;
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, "skills resync requested");
    Ok(HttpResponse::Accepted().json(json!({ "resync_requested": true })))
}

#[cfg(test)]
mod tests;
