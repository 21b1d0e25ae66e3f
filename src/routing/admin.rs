//! The routing admin pages under `/zendesk/routing`: the queue list and its form, the
//! account settings (limits, the same-agent rule, the webhook signing secret), the
//! per-agent limits table, a dry run per queue, "resync skills now", the webhook URLs to
//! set up in Zendesk, and the report (charts and the assignment log).
//!
//! The pages share the status board's admin session (cookie `sd_board`, path
//! `/zendesk`); without one they show a sign-in form. Every POST carries the session's
//! CSRF token, compared in constant time before anything is read or stored. Pages may be
//! framed by Zendesk only (CSP `frame-ancestors`), load no script, and show agents and
//! queues by id.

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::api::{self, DryRunOut};
use super::report::{self, Chart};
use super::settings::{
    AccountSettings, AgentLimits, Hook, Model, QueueKind, QueueSettings, SameAgentSettings,
};
use crate::crypto::tokens::constant_time_eq;
use crate::domain::{Subdomain, ZendeskUserId};
use crate::startup::AppState;
use crate::statuses::Caller;
use crate::statuses::board::{csrf_for, session, start_session};
use crate::statuses::keys;
use crate::statuses::wire::iso_ms;
use crate::storage::agents;
use crate::storage::routing::{self as store, Assignment, Queue, SecretsSet};
use crate::web::{ApiError, Form, html, read_body};

pub const PATH: &str = "/zendesk/routing";
/// Assignments per page of the report's log.
const LOG_PAGE: i64 = 50;

/// Registers the pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(overview))
        .route("/zendesk/routing/sign_in", web::post().to(sign_in))
        .route("/zendesk/routing/queues/new", web::get().to(new_queue))
        .route("/zendesk/routing/queues", web::post().to(create_queue))
        .route("/zendesk/routing/queues/{id}", web::get().to(edit_queue))
        .route("/zendesk/routing/queues/{id}", web::post().to(update_queue))
        .route(
            "/zendesk/routing/queues/{id}/delete",
            web::post().to(delete_queue),
        )
        .route(
            "/zendesk/routing/queues/{id}/dry_run",
            web::get().to(dry_run),
        )
        .route("/zendesk/routing/settings", web::get().to(show_settings))
        .route("/zendesk/routing/settings", web::post().to(save_settings))
        .route("/zendesk/routing/agents", web::get().to(show_agents))
        .route("/zendesk/routing/agents", web::post().to(save_agents))
        .route("/zendesk/routing/skills/resync", web::post().to(resync))
        .route("/zendesk/routing/report", web::get().to(report_page))
        .route(
            "/static/routing.css",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/css; charset=utf-8")
                    .insert_header(("Cache-Control", "public, max-age=3600"))
                    .body(CSS)
            }),
        );
}

const CSS: &str = include_str!("../../static/routing.css");

// ---------------------------------------------------------------------------------------
// Responses

/// Why a page was not shown.
enum Refusal {
    SignIn,
    Error(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Error(error)
    }
}

impl From<crate::storage::StorageError> for Refusal {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Error(error.into())
    }
}

type PageResult = Result<HttpResponse, Refusal>;

#[derive(Template)]
#[template(path = "routing_sign_in.html")]
struct SignInPage<'a> {
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "routing_message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
}

/// Lets Zendesk (and `FRAME_ANCESTORS`) frame the page, nobody else; no script, forms
/// post only here; never cached.
fn protect(state: &AppState, mut response: HttpResponse) -> HttpResponse {
    let mut ancestors = vec!["'self'".to_owned(), "https://*.zendesk.com".to_owned()];
    ancestors.extend(state.settings.frame_ancestors.iter().cloned());
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors {}",
        ancestors.join(" ")
    );
    if let Ok(value) = header::HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn page(state: &AppState, status: StatusCode, template: &impl Template) -> HttpResponse {
    protect(state, html(status, template))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// Turns a handler's outcome into the page the browser gets.
fn respond(state: &AppState, req: &HttpRequest, result: PageResult) -> HttpResponse {
    match result {
        Ok(response) => protect(state, response),
        Err(Refusal::SignIn) => {
            let status = if req.method() == Method::GET {
                StatusCode::OK
            } else {
                StatusCode::UNAUTHORIZED
            };
            page(state, status, &SignInPage { error: None })
        }
        Err(Refusal::Error(error)) => {
            use actix_web::ResponseError;
            let status = error.status_code();
            let message = match &error {
                ApiError::Internal(_) => {
                    let _ = error.error_response(); // logs the cause
                    "Something went wrong on our side. Please try again.".to_owned()
                }
                other => other.to_string(),
            };
            page(
                state,
                status,
                &MessagePage {
                    title: "This routing page could not be shown",
                    message: &message,
                },
            )
        }
    }
}

async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<(Caller, String), Refusal> {
    session(state, req).await?.ok_or(Refusal::SignIn)
}

/// The signed-in caller and the posted form, once its CSRF token matches the session.
async fn posted(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(Caller, String, Form), Refusal> {
    let (caller, id) = signed_in(state, req).await?;
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    let sent = form.optional("csrf")?.unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), csrf_for(&id).as_bytes()) {
        return Err(ApiError::Forbidden("the form expired; reload the page and try again").into());
    }
    Ok((caller, id, form))
}

/// `POST /zendesk/routing/sign_in` with `api_key`: the board's session, then the queues.
async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
        let form = Form::parse(&req, &body)?;
        let raw = form
            .optional("api_key")?
            .unwrap_or_default()
            .trim()
            .to_owned();
        let Some(key) = keys::verify(&state.db, &raw).await? else {
            return Ok(html(
                StatusCode::UNAUTHORIZED,
                &SignInPage {
                    error: Some("That API key is not valid."),
                },
            ));
        };
        let cookie = start_session(&state, &key.prefix).await?;
        tracing::info!(key_prefix = %key.prefix, "routing admin sign-in");
        Ok(HttpResponse::SeeOther()
            .insert_header((header::LOCATION, PATH))
            .cookie(cookie)
            .finish())
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Overview: queues, webhooks, skills sync

struct QueueRow {
    id: i64,
    position: i64,
    name: String,
    view_id: i64,
    kind: &'static str,
    model: &'static str,
    enabled: bool,
    last_run: String,
    last_error: String,
}

#[derive(Template)]
#[template(path = "routing.html")]
struct OverviewPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    notice: Option<&'a str>,
    queues: Vec<QueueRow>,
    route_url: String,
    same_agent_url: String,
    webhook_body: &'static str,
    secrets: SecretsSet,
    skills_synced: String,
    skills_full: String,
    resync_pending: bool,
    sync_failure: Option<String>,
}

fn when(ms: Option<i64>) -> String {
    ms.map_or_else(
        || "never".to_owned(),
        |t| {
            let text = iso_ms(t);
            text.get(..19).unwrap_or(&text).replace('T', " ")
        },
    )
}

fn notice_of(req: &HttpRequest) -> Option<&'static str> {
    let query = req.query_string();
    [
        ("saved=1", "Saved."),
        ("deleted=1", "Queue deleted."),
        (
            "resync=1",
            "A full skills resync will run on the next sync pass (within a minute).",
        ),
    ]
    .into_iter()
    .find(|(flag, _)| query.split('&').any(|p| p == *flag))
    .map(|(_, text)| text)
}

/// `GET /zendesk/routing`.
async fn overview(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let sub = &caller.subdomain;
        let queues = store::list_queues(&state.db, sub).await?;
        let (_, secrets) = store::account_settings(&state.db, sub).await?;
        let sync = store::sync_state(&state.db, sub).await?;
        let account = url_encode(sub.as_str());
        Ok(html(
            StatusCode::OK,
            &OverviewPage {
                subdomain: sub.as_str(),
                csrf: &csrf_for(&id),
                notice: notice_of(&req),
                queues: queues
                    .iter()
                    .map(|q| QueueRow {
                        id: q.id,
                        position: q.settings.position,
                        name: q.settings.name.clone(),
                        view_id: q.settings.view_id,
                        kind: q.settings.kind.as_str(),
                        model: q.settings.model.label(),
                        enabled: q.settings.enabled,
                        last_run: when(q.last_run_at),
                        last_error: q.last_run_error.clone().unwrap_or_default(),
                    })
                    .collect(),
                route_url: state
                    .settings
                    .public_url_for(&format!("/zendesk/webhooks/route?account={account}")),
                same_agent_url: state
                    .settings
                    .public_url_for(&format!("/zendesk/webhooks/same_agent?account={account}")),
                webhook_body: "{\"ticket_id\": \"{{ticket.id}}\"}",
                secrets,
                skills_synced: when(sync.skills_synced_at),
                skills_full: when(sync.skills_full_at),
                resync_pending: sync.skills_resync_requested,
                sync_failure: sync.sync_failure,
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}

fn url_encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `POST /zendesk/routing/skills/resync`.
async fn resync(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _, _) = posted(&state, &req, payload).await?;
        store::request_skills_resync(&state.db, &caller.subdomain, state.clock.now_ms()).await?;
        tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, "skills resync requested");
        Ok(see_other(&format!("{PATH}?resync=1")))
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Queue form

/// A `<select>` option.
struct Choice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

/// The queue form's fields as text, so a refused form comes back as it was typed.
#[derive(Default)]
struct QueueForm {
    name: String,
    position: String,
    view_id: String,
    kind: String,
    model: String,
    interval_secs: String,
    batch_size: String,
    use_sla: bool,
    skills_timeout_minutes: String,
    audit_tag: String,
    audit_field_id: String,
    audit_field_value: String,
    enabled: bool,
}

fn text_of(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl QueueForm {
    fn new_queue() -> Self {
        Self {
            position: "0".into(),
            kind: QueueKind::Scheduled.as_str().into(),
            model: Model::RoundRobin.as_str().into(),
            interval_secs: "60".into(),
            batch_size: "5".into(),
            enabled: true,
            ..Self::default()
        }
    }

    fn of(settings: &QueueSettings) -> Self {
        Self {
            name: settings.name.clone(),
            position: settings.position.to_string(),
            view_id: settings.view_id.to_string(),
            kind: settings.kind.as_str().into(),
            model: settings.model.as_str().into(),
            interval_secs: settings.interval_secs.to_string(),
            batch_size: settings.batch_size.to_string(),
            use_sla: settings.use_sla,
            skills_timeout_minutes: text_of(settings.skills_timeout_minutes),
            audit_tag: settings.audit_tag.clone().unwrap_or_default(),
            audit_field_id: text_of(settings.audit_field_id),
            audit_field_value: settings.audit_field_value.clone().unwrap_or_default(),
            enabled: settings.enabled,
        }
    }

    fn posted(form: &Form) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<String, ApiError> {
            Ok(form.optional(name)?.unwrap_or_default().to_owned())
        };
        Ok(Self {
            name: text("name")?,
            position: text("position")?,
            view_id: text("view_id")?,
            kind: text("kind")?,
            model: text("model")?,
            interval_secs: text("interval_secs")?,
            batch_size: text("batch_size")?,
            use_sla: form.optional("use_sla")?.is_some(),
            skills_timeout_minutes: text("skills_timeout_minutes")?,
            audit_tag: text("audit_tag")?,
            audit_field_id: text("audit_field_id")?,
            audit_field_value: text("audit_field_value")?,
            enabled: form.optional("enabled")?.is_some(),
        })
    }

    /// The settings, checked: the first bad field is named.
    fn settings(&self) -> Result<QueueSettings, ApiError> {
        QueueSettings {
            name: self.name.clone(),
            position: number("position", &self.position)?,
            view_id: number("view_id", &self.view_id)?,
            kind: QueueKind::parse(&self.kind)
                .ok_or_else(|| ApiError::invalid("kind", "must be scheduled or trigger"))?,
            model: Model::parse(&self.model).ok_or_else(|| {
                ApiError::invalid("model", "must be round_robin, least_active or skills")
            })?,
            interval_secs: number("interval_secs", &self.interval_secs)?,
            batch_size: number("batch_size", &self.batch_size)?,
            use_sla: self.use_sla,
            skills_timeout_minutes: optional_number(
                "skills_timeout_minutes",
                &self.skills_timeout_minutes,
            )?,
            audit_tag: non_blank(&self.audit_tag),
            audit_field_id: optional_number("audit_field_id", &self.audit_field_id)?,
            audit_field_value: non_blank(&self.audit_field_value),
            enabled: self.enabled,
        }
        .validate()
    }

    fn kinds(&self) -> Vec<Choice> {
        [
            (QueueKind::Scheduled, "scheduled (every interval)"),
            (QueueKind::Trigger, "trigger (Zendesk webhook)"),
        ]
        .into_iter()
        .map(|(kind, label)| Choice {
            value: kind.as_str(),
            label,
            selected: self.kind == kind.as_str(),
        })
        .collect()
    }

    fn models(&self) -> Vec<Choice> {
        Model::ALL
            .into_iter()
            .map(|model| Choice {
                value: model.as_str(),
                label: model.label(),
                selected: self.model == model.as_str(),
            })
            .collect()
    }
}

fn number(field: &str, raw: &str) -> Result<i64, ApiError> {
    raw.trim()
        .parse()
        .map_err(|_| ApiError::invalid(field, "must be a whole number"))
}

fn optional_number(field: &str, raw: &str) -> Result<Option<i64>, ApiError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    number(field, raw).map(Some)
}

fn non_blank(raw: &str) -> Option<String> {
    Some(raw.trim().to_owned()).filter(|t| !t.is_empty())
}

#[derive(Template)]
#[template(path = "routing_queue.html")]
struct QueuePage<'a> {
    csrf: &'a str,
    /// `None` for a new queue.
    id: Option<i64>,
    form: &'a QueueForm,
    kinds: Vec<Choice>,
    models: Vec<Choice>,
    error: Option<String>,
}

fn queue_page(
    csrf: &str,
    id: Option<i64>,
    form: &QueueForm,
    error: Option<String>,
) -> HttpResponse {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    html(
        status,
        &QueuePage {
            csrf,
            id,
            form,
            kinds: form.kinds(),
            models: form.models(),
            error,
        },
    )
}

async fn own_queue(state: &AppState, subdomain: &Subdomain, raw: &str) -> Result<Queue, ApiError> {
    let id = api::parse_id(raw).map_err(|_| ApiError::NotFound("queue"))?;
    api::queue_of(state, subdomain, id).await
}

/// `GET /zendesk/routing/queues/new`.
async fn new_queue(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (_, id) = signed_in(&state, &req).await?;
        Ok(queue_page(
            &csrf_for(&id),
            None,
            &QueueForm::new_queue(),
            None,
        ))
    }
    .await;
    respond(&state, &req, result)
}

/// `GET /zendesk/routing/queues/{id}`.
async fn edit_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        Ok(queue_page(
            &csrf_for(&id),
            Some(queue.id),
            &QueueForm::of(&queue.settings),
            None,
        ))
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues`: creates, or shows the form again naming the bad field.
async fn create_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let typed = QueueForm::posted(&form)?;
        let settings = match typed.settings() {
            Ok(settings) => settings,
            Err(error) => return Ok(queue_page(&csrf_for(&id), None, &typed, Some(error.to_string()))),
        };
        let queue_id =
            store::create_queue(&state.db, &caller.subdomain, &settings, state.clock.now_ms()).await?;
        tracing::info!(subdomain = %caller.subdomain, queue_id, key_prefix = %caller.key_prefix, "routing queue created");
        Ok(see_other(&format!("{PATH}?saved=1")))
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues/{id}`.
async fn update_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        let typed = QueueForm::posted(&form)?;
        let settings = match typed.settings() {
            Ok(settings) => settings,
            Err(error) => {
                return Ok(queue_page(&csrf_for(&id), Some(queue.id), &typed, Some(error.to_string())));
            }
        };
        if !store::update_queue(&state.db, &caller.subdomain, queue.id, &settings, state.clock.now_ms())
            .await?
        {
            return Err(ApiError::NotFound("queue").into());
        }
        tracing::info!(subdomain = %caller.subdomain, queue_id = queue.id, key_prefix = %caller.key_prefix, "routing queue saved");
        Ok(see_other(&format!("{PATH}?saved=1")))
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/queues/{id}/delete`.
async fn delete_queue(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _, _) = posted(&state, &req, payload).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        store::delete_queue(&state.db, &caller.subdomain, queue.id).await?;
        tracing::info!(subdomain = %caller.subdomain, queue_id = queue.id, key_prefix = %caller.key_prefix, "routing queue deleted");
        Ok(see_other(&format!("{PATH}?deleted=1")))
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Dry run

#[derive(Template)]
#[template(path = "routing_dry_run.html")]
struct DryRunPage<'a> {
    queue_id: i64,
    queue_name: &'a str,
    model: &'static str,
    view_id: i64,
    run: Option<DryRunOut>,
    error: Option<String>,
}

/// `GET /zendesk/routing/queues/{id}/dry_run`: decides now, assigns nothing.
async fn dry_run(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _) = signed_in(&state, &req).await?;
        let queue = own_queue(&state, &caller.subdomain, &path).await?;
        let (status, run, error) = match api::dry_run_of(&state, &queue).await {
            Ok(run) => (StatusCode::OK, Some(run), None),
            Err(ApiError::Internal(cause)) => return Err(ApiError::Internal(cause).into()),
            Err(error) => {
                use actix_web::ResponseError;
                (error.status_code(), None, Some(error.to_string()))
            }
        };
        Ok(html(
            status,
            &DryRunPage {
                queue_id: queue.id,
                queue_name: &queue.settings.name,
                model: queue.settings.model.label(),
                view_id: queue.settings.view_id,
                run,
                error,
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Account settings

/// The settings form's fields as text.
#[derive(Default)]
struct SettingsForm {
    default_inbox_limit: String,
    default_daily_limit: String,
    same_agent_enabled: bool,
    same_agent_window_hours: String,
    same_agent_only_online: bool,
    same_agent_within_limits: bool,
    same_agent_tag: String,
}

impl SettingsForm {
    fn of(settings: &AccountSettings) -> Self {
        let same = &settings.same_agent;
        Self {
            default_inbox_limit: text_of(settings.default_inbox_limit),
            default_daily_limit: text_of(settings.default_daily_limit),
            same_agent_enabled: same.enabled,
            same_agent_window_hours: same.window_hours.to_string(),
            same_agent_only_online: same.only_online,
            same_agent_within_limits: same.within_limits,
            same_agent_tag: same.tag.clone().unwrap_or_default(),
        }
    }

    fn posted(form: &Form) -> Result<Self, ApiError> {
        let text = |name: &str| -> Result<String, ApiError> {
            Ok(form.optional(name)?.unwrap_or_default().to_owned())
        };
        Ok(Self {
            default_inbox_limit: text("default_inbox_limit")?,
            default_daily_limit: text("default_daily_limit")?,
            same_agent_enabled: form.optional("same_agent_enabled")?.is_some(),
            same_agent_window_hours: text("same_agent_window_hours")?,
            same_agent_only_online: form.optional("same_agent_only_online")?.is_some(),
            same_agent_within_limits: form.optional("same_agent_within_limits")?.is_some(),
            same_agent_tag: text("same_agent_tag")?,
        })
    }

    fn settings(&self) -> Result<AccountSettings, ApiError> {
        AccountSettings {
            default_inbox_limit: optional_number("default_inbox_limit", &self.default_inbox_limit)?,
            default_daily_limit: optional_number("default_daily_limit", &self.default_daily_limit)?,
            same_agent: SameAgentSettings {
                enabled: self.same_agent_enabled,
                window_hours: number("same_agent.window_hours", &self.same_agent_window_hours)?,
                only_online: self.same_agent_only_online,
                within_limits: self.same_agent_within_limits,
                tag: non_blank(&self.same_agent_tag),
            },
        }
        .validate()
    }
}

#[derive(Template)]
#[template(path = "routing_settings.html")]
struct SettingsPage<'a> {
    csrf: &'a str,
    form: &'a SettingsForm,
    secrets: SecretsSet,
    max_window: i64,
    error: Option<String>,
    notice: Option<&'a str>,
}

/// `GET /zendesk/routing/settings`.
async fn show_settings(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let (settings, secrets) = store::account_settings(&state.db, &caller.subdomain).await?;
        Ok(html(
            StatusCode::OK,
            &SettingsPage {
                csrf: &csrf_for(&id),
                form: &SettingsForm::of(&settings),
                secrets,
                max_window: super::settings::MAX_WINDOW_HOURS,
                error: None,
                notice: notice_of(&req),
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/settings`: the settings and, when typed, a new signing secret.
async fn save_settings(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let typed = SettingsForm::posted(&form)?;
        let checked = typed.settings().and_then(|settings| {
            let mut secrets = Vec::new();
            for hook in [Hook::Route, Hook::SameAgent] {
                let field = api::secret_field(hook);
                let raw = form.optional(field)?.unwrap_or_default().trim();
                if !raw.is_empty() {
                    secrets.push((hook, api::valid_secret(field, raw)?));
                }
            }
            Ok((settings, secrets))
        });
        let (settings, secrets) = match checked {
            Ok(both) => both,
            Err(error) => {
                let (_, stored) = store::account_settings(&state.db, &caller.subdomain).await?;
                return Ok(html(
                    StatusCode::BAD_REQUEST,
                    &SettingsPage {
                        csrf: &csrf_for(&id),
                        form: &typed,
                        secrets: stored,
                        max_window: super::settings::MAX_WINDOW_HOURS,
                        error: Some(error.to_string()),
                        notice: None,
                    },
                ));
            }
        };
        let now = state.clock.now_ms();
        store::save_account_settings(&state.db, &caller.subdomain, &settings, now).await?;
        for (hook, secret) in &secrets {
            store::set_webhook_secret(&state.db, &state.keys, &caller.subdomain, *hook, secret, now).await?;
        }
        let secret_changed = !secrets.is_empty();
        tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, secret_changed, "routing settings saved");
        Ok(see_other("/zendesk/routing/settings?saved=1"))
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Agent limits

#[derive(Template)]
#[template(path = "routing_agents.html")]
struct AgentsPage<'a> {
    csrf: &'a str,
    rows: Vec<LimitRow>,
    default_inbox: String,
    default_daily: String,
    error: Option<String>,
    notice: Option<&'a str>,
}

/// One agent's row: their own limits as text (blank: the account default).
struct LimitRow {
    user_id: i64,
    inbox: String,
    daily: String,
}

async fn agents_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    error: Option<String>,
    notice: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let (settings, _) = store::account_settings(&state.db, &caller.subdomain).await?;
    let none = || "none".to_owned();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(html(
        status,
        &AgentsPage {
            csrf: &csrf_for(id),
            rows: api::limits_table(state, &caller.subdomain)
                .await?
                .into_iter()
                .map(|l| LimitRow {
                    user_id: l.user_id,
                    inbox: text_of(l.inbox_limit),
                    daily: text_of(l.daily_limit),
                })
                .collect(),
            default_inbox: settings
                .default_inbox_limit
                .map_or_else(none, |n| n.to_string()),
            default_daily: settings
                .default_daily_limit
                .map_or_else(none, |n| n.to_string()),
            error,
            notice,
        },
    ))
}

/// `GET /zendesk/routing/agents`.
async fn show_agents(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        Ok(agents_page(&state, &caller, &id, None, notice_of(&req)).await?)
    }
    .await;
    respond(&state, &req, result)
}

/// Every row of the limits form, checked; nothing is stored unless all are good.
async fn posted_limits(
    state: &AppState,
    subdomain: &Subdomain,
    form: &Form,
) -> Result<Vec<AgentLimits>, ApiError> {
    let users = form.all("user_id");
    let inbox = form.all("inbox_limit");
    let daily = form.all("daily_limit");
    if inbox.len() != users.len() || daily.len() != users.len() {
        return Err(ApiError::invalid(
            "user_id",
            "each agent row needs both limits",
        ));
    }
    let mut ids = Vec::with_capacity(users.len());
    for raw in &users {
        ids.push(ZendeskUserId::parse(raw).map_err(|e| ApiError::invalid("user_id", e.0))?);
    }
    let active = agents::active_among(&state.db, subdomain, &ids).await?;
    let mut rows = Vec::with_capacity(ids.len());
    for ((user, inbox), daily) in ids.into_iter().zip(inbox).zip(daily) {
        if !active.contains(&user) {
            return Err(ApiError::invalid(
                "user_id",
                format!("{} is not an agent of this account", user.get()),
            ));
        }
        let limits = AgentLimits {
            user_id: user.get(),
            inbox_limit: optional_number("inbox_limit", inbox)?,
            daily_limit: optional_number("daily_limit", daily)?,
        }
        .validate()
        .map_err(|error| match error {
            ApiError::InvalidField { field, message } => {
                ApiError::invalid(field, format!("agent {}: {message}", user.get()))
            }
            other => other,
        })?;
        rows.push(limits);
    }
    Ok(rows)
}

/// `POST /zendesk/routing/agents`: every agent's limits at once.
async fn save_agents(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let rows = match posted_limits(&state, &caller.subdomain, &form).await {
            Ok(rows) => rows,
            Err(ApiError::InvalidField { field, message }) => {
                let text = format!("{field}: {message}");
                return Ok(agents_page(&state, &caller, &id, Some(text), None).await?);
            }
            Err(other) => return Err(other.into()),
        };
        for limits in &rows {
            store::set_agent_limits(&state.db, &caller.subdomain, limits).await?;
        }
        tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, agents = rows.len(), "agent limits saved");
        Ok(see_other("/zendesk/routing/agents?saved=1"))
    }
    .await;
    respond(&state, &req, result)
}

// ---------------------------------------------------------------------------------------
// Report

struct LogRow {
    id: i64,
    at: String,
    ticket_id: i64,
    agent_id: i64,
    queue: String,
    model: String,
    state: String,
    reason: String,
}

impl From<&Assignment> for LogRow {
    fn from(a: &Assignment) -> Self {
        Self {
            id: a.id,
            at: when(Some(a.decided_at)),
            ticket_id: a.ticket_id,
            agent_id: a.agent_id,
            queue: a
                .queue_id
                .map_or_else(|| "same agent".to_owned(), |q| q.to_string()),
            model: a.model.clone(),
            state: a.state.clone(),
            reason: a.reason.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "routing_report.html")]
struct ReportPage {
    agents: Vec<Chart>,
    queues: Vec<Chart>,
    width: i64,
    height: i64,
    first_day: String,
    log: Vec<LogRow>,
    older: Option<i64>,
    newest: bool,
}

/// `GET /zendesk/routing/report[?before_id=]`.
async fn report_page(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _) = signed_in(&state, &req).await?;
        let (before_id, _) = api::parse_log_query(req.query_string())?;
        let now = state.clock.now_ms();
        let first = report::first_day(now);
        let counts =
            store::daily_counts(&state.db, &caller.subdomain, first * report::DAY_MS).await?;
        let (agents, queues) = report::charts(&counts, now);
        let log = store::log(&state.db, &caller.subdomain, before_id, LOG_PAGE).await?;
        let older = (log.len() as i64 == LOG_PAGE)
            .then(|| log.last().map(|a| a.id))
            .flatten();
        Ok(html(
            StatusCode::OK,
            &ReportPage {
                agents,
                queues,
                width: report::CHART_WIDTH,
                height: report::CHART_HEIGHT,
                first_day: iso_ms(first * report::DAY_MS).chars().take(10).collect(),
                log: log.iter().map(LogRow::from).collect(),
                older,
                newest: before_id.is_none(),
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &str) -> Form {
        match Form::from_bytes(body.as_bytes()) {
            Ok(form) => form,
            Err(error) => panic!("{error}"),
        }
    }

    fn field(result: Result<QueueSettings, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidField { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn the_queue_form_reads_blanks_as_none_and_names_bad_fields() {
        let good = "name=Billing&position=2&view_id=42&kind=trigger&model=skills&interval_secs=60\
                    &batch_size=3&skills_timeout_minutes=&audit_tag=routed&audit_field_id=&audit_field_value=&enabled=on";
        let settings = QueueForm::posted(&form(good)).and_then(|f| f.settings());
        match settings {
            Ok(s) => {
                assert_eq!(
                    (s.kind, s.model, s.batch_size),
                    (QueueKind::Trigger, Model::Skills, 3)
                );
                assert_eq!((s.skills_timeout_minutes, s.audit_field_id), (None, None));
                assert!(s.enabled && !s.use_sla);
            }
            Err(error) => panic!("{error}"),
        }
        let bad = good.replace("view_id=42", "view_id=forty");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "view_id"
        );
        let bad = good.replace("model=skills", "model=random");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "model"
        );
        let bad = good.replace("batch_size=3", "batch_size=500");
        assert_eq!(
            field(QueueForm::posted(&form(&bad)).and_then(|f| f.settings())),
            "batch_size"
        );
    }
}
