//! The routing admin pages under `/zendesk/routing`: the queue list and its form, the
//! account settings (limits, the same-agent rule, the webhooks' signing secrets), the
//! per-agent limits table, a dry run per queue, "resync skills now", the webhooks and
//! triggers slackdesk makes in Zendesk (with a Recreate button) and the webhook URLs to
//! set up by hand, and the report (charts and the assignment log).
//!
//! The pages share the status board's admin session (cookie `sd_board`, path
//! `/zendesk`); without one they show a sign-in form. Every POST carries the session's
//! CSRF token, compared in constant time before anything is read or stored. Pages may be
//! framed by Zendesk only (CSP `frame-ancestors`), load no script, and show agents and
//! queues by id.

mod account_settings;
mod agent_limits;
mod dedicated_page;
mod dry_run;
mod hooks_page;
mod overview;
mod queues;
mod report_page;

use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::api::{self, DryRunOut};
use super::report::{self, Chart};
use super::settings::{
    AccountSettings, AgentLimits, GroupShare, Hook, Model, QueueKind, QueueSettings, ReassignRules,
    SameAgentSettings,
};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::statuses::Caller;
use crate::statuses::board::{csrf_for, session, start_session};
use crate::statuses::keys;
use crate::statuses::wire::iso_ms;
use crate::storage::agents;
use crate::storage::routing::{self as store, Assignment, Queue, SecretsSet};
use crate::web::see_other;
use crate::web::{ApiError, Form, html, read_body};

use account_settings::{save_settings, show_settings};
use agent_limits::{save_agents, show_agents};
use dedicated_page::{remove_dedicated, save_dedicated, show_dedicated};
use dry_run::dry_run;
use hooks_page::{flag_of, hooks_notice_of, remake_hooks, synced};
use overview::{overview, resync};
use queues::{create_queue, delete_queue, edit_queue, new_queue, update_queue};
use report_page::report_page;

pub const PATH: &str = "/zendesk/routing";
/// Assignments per page of the report's log.
const LOG_PAGE: i64 = 50;

/// Registers the pages.
pub fn routes(cfg: &mut web::ServiceConfig) {
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
        .route(
            "/zendesk/routing/hooks/{hook}",
            web::post().to(remake_hooks),
        )
        .route("/zendesk/routing/agents", web::get().to(show_agents))
        .route("/zendesk/routing/agents", web::post().to(save_agents))
        .route("/zendesk/routing/dedicated", web::get().to(show_dedicated))
        .route("/zendesk/routing/dedicated", web::post().to(save_dedicated))
        .route(
            "/zendesk/routing/dedicated/remove",
            web::post().to(remove_dedicated),
        )
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

const CSS: &str = include_str!("../../../static/routing.css");

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
    /// Zendesk OAuth sign-in is offered.
    zendesk_sign_in: bool,
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
    // "Sign in with Zendesk" is a form whose answer redirects to the account's Zendesk.
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' {}; \
         base-uri 'none'; frame-ancestors {}",
        state.settings.zendesk_url_template.csp_source(),
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
            let zendesk_sign_in = crate::statuses::board::zendesk_sign_in_offered(state);
            page(
                state,
                status,
                &SignInPage {
                    error: None,
                    zendesk_sign_in,
                },
            )
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
    let form = crate::statuses::board::posted_form(state, req, payload, &id).await?;
    Ok((caller, id, form))
}

/// `POST /zendesk/routing/sign_in` with `api_key`: the board's session, then the queues.
async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        crate::web::refuse_cross_site(&req)?;
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
                    zendesk_sign_in: crate::statuses::board::zendesk_sign_in_offered(&state),
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
// Helpers the pages share

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
        ("removed=1", "Removed."),
        (
            "resync=1",
            "A full skills resync will run on the next sync pass (within a minute).",
        ),
    ]
    .into_iter()
    .find(|(flag, _)| query.split('&').any(|p| p == *flag))
    .map(|(_, text)| text)
}

fn text_of(value: Option<i64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
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
