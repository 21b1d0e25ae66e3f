//! The status board: a page listing the account's agents by id with their status, since
//! when and by whom, their online time over the last 7 days (the chart, in
//! [`super::board_chart`]), and a form to change one or many. The table refreshes in
//! place every 15 seconds.
//!
//! Sign-in is with a status API key (an admin's): the page then acts as that key (its
//! account, its owner as `updated_by`). The cookie holds a random session id, stored
//! hashed; changes also carry a CSRF token derived from it.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::auth::Caller;
use super::board_chart::{self, Chart};
use super::keys;
use super::rules::{self, Batch};
use super::wire::iso_ms;
use crate::crypto::tokens::{constant_time_eq, hash_secret, random_secret};
use crate::domain::{AgentStatus, ZendeskUserId};
use crate::state::AppState;
use crate::storage::statuses::StatusRecord;
use crate::storage::{agents, api_keys, board_sessions, statuses};
use crate::web::{ApiError, Form, html, read_body, see_other};
use crate::zendesk::connection::ConnectionNotice;

pub const PATH: &str = "/zendesk/board";
const COOKIE: &str = "sd_board";
/// The admin session cookie's path: every admin page lives under it.
const SESSION_PATH: &str = "/zendesk";
const SESSION_MS: i64 = 8 * 3_600_000;

pub struct Row {
    pub user_id: i64,
    /// The agent's name, read live from Zendesk for this page (never stored).
    pub name: Option<String>,
    pub status: &'static str,
    pub since: String,
    pub by: String,
    /// Online time over the last 7 days.
    pub chart: Chart,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    rows: Vec<Row>,
    statuses: [&'static str; 4],
    notice: Option<&'a str>,
    /// The account's Zendesk connection (statuses rules, agent sync and notices need it).
    connection: Option<ConnectionNotice>,
}

#[derive(Template)]
#[template(path = "board_rows.html")]
struct BoardRows {
    rows: Vec<Row>,
}

#[derive(Template)]
#[template(path = "board_sign_in.html")]
struct SignInPage<'a> {
    error: Option<&'a str>,
    /// Zendesk OAuth sign-in is offered (the server has a Zendesk OAuth client).
    zendesk_sign_in: bool,
}

async fn rows(state: &AppState, caller: &Caller) -> Result<Vec<Row>, ApiError> {
    let now = state.clock.now_ms();
    let roster = agents::list_active(&state.db, &caller.subdomain).await?;
    let current = statuses::current_all(&state.db, &caller.subdomain).await?;
    let window = board_chart::window_start(now);
    let history =
        statuses::changes_for_chart(&state.db, &caller.subdomain, window, now + 1).await?;
    let ids: Vec<i64> = roster.iter().map(|a| a.user_id.get()).collect();
    let names = state
        .names
        .names(&state.zendesk, &state.connections, &caller.subdomain, &ids)
        .await;
    Ok(roster
        .iter()
        .map(|agent| {
            let status: Option<&StatusRecord> = current.iter().find(|s| s.user_id == agent.user_id);
            let changes: Vec<(i64, AgentStatus)> = history
                .iter()
                .filter(|c| c.user_id == agent.user_id)
                .map(|c| (c.updated_at, c.status))
                .collect();
            Row {
                name: names.get(&agent.user_id.get()).cloned(),
                user_id: agent.user_id.get(),
                status: status.map_or("none", |s| s.status.as_str()),
                since: status.map_or_else(|| "-".to_owned(), |s| iso_ms(s.updated_at)),
                by: status.map_or_else(|| "-".to_owned(), |s| s.updated_by.to_string()),
                chart: Chart::of(&changes, now),
            }
        })
        .collect())
}

pub(crate) fn csrf_for(session: &str) -> String {
    hash_secret(&format!("board-csrf:{session}"))[..32].to_owned()
}

/// The signed-in caller and the session id, from the admin session cookie. Shared by
/// every admin page under `/zendesk` (the status board and routing).
pub(crate) async fn session(
    state: &AppState,
    req: &HttpRequest,
) -> Result<Option<(Caller, String)>, ApiError> {
    let Some(cookie) = req.cookie(COOKIE) else {
        return Ok(None);
    };
    let id = cookie.value().to_owned();
    let now = state.clock.now_ms();
    let Some(prefix) = board_sessions::key_prefix(&state.db, &hash_secret(&id), now).await? else {
        return Ok(None);
    };
    let Some(key) = api_keys::find_active(&state.db, &prefix).await? else {
        return Ok(None);
    };
    Ok(Some((
        Caller {
            key_prefix: key.prefix,
            subdomain: key.subdomain,
            owner: key.owner,
        },
        id,
    )))
}

/// The signed-in caller and session id of a page's POST, or 401.
pub(crate) async fn signed_in(
    state: &AppState,
    req: &HttpRequest,
) -> Result<(Caller, String), ApiError> {
    session(state, req)
        .await?
        .ok_or(ApiError::Unauthorized("sign in to the status board"))
}

/// The form a signed-in page posted, once its CSRF token matches the session's
/// (compared in constant time, before any other field is read).
pub(crate) async fn posted_form(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
    session_id: &str,
) -> Result<Form, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    let sent = form.optional("csrf")?.unwrap_or_default();
    if !constant_time_eq(sent.as_bytes(), csrf_for(session_id).as_bytes()) {
        return Err(ApiError::Forbidden(
            "the form expired; reload the page and try again",
        ));
    }
    Ok(form)
}

/// 400 for a page shown again with a problem, 200 otherwise.
pub(crate) fn status_for<E>(problem: &Option<E>) -> StatusCode {
    match problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    }
}

/// Where a page sends a visitor who is not signed in: the board's sign-in form.
pub(crate) fn to_sign_in() -> HttpResponse {
    see_other(PATH)
}

/// A signed-in page's answer to a saved form: back to `path` saying so.
pub(crate) fn saved(path: &str, flag: &str) -> HttpResponse {
    see_other(&format!("{path}?{flag}=1"))
}

fn sign_in_page(state: &AppState, status: StatusCode, error: Option<&str>) -> HttpResponse {
    let zendesk_sign_in = zendesk_sign_in_offered(state);
    admin_page(
        state,
        html(
            status,
            &SignInPage {
                error,
                zendesk_sign_in,
            },
        ),
    )
}

/// Whether the sign-in pages offer "Sign in with Zendesk" (`ZENDESK_CLIENT_ID` and
/// `ZENDESK_CLIENT_SECRET` set): Zendesk OAuth, admins only, no key to copy.
pub(crate) fn zendesk_sign_in_offered(state: &AppState) -> bool {
    state
        .settings
        .zendesk_client_id
        .as_deref()
        .is_some_and(|id| !id.trim().is_empty())
        && state.settings.zendesk_client_secret.is_some()
}

/// The headers of an admin page: it loads only its own script and style, fetches and
/// posts only to this service, and only Zendesk (and `FRAME_ANCESTORS`) may frame it.
pub(crate) fn admin_page(state: &AppState, mut response: HttpResponse) -> HttpResponse {
    use actix_web::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, HeaderValue};
    let mut ancestors = vec!["https://*.zendesk.com".to_owned()];
    ancestors.extend(state.settings.frame_ancestors.iter().cloned());
    // "Sign in with Zendesk" is a form whose answer redirects to the account's Zendesk.
    let policy = format!(
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; \
         connect-src 'self'; base-uri 'none'; form-action 'self' {}; frame-ancestors {}",
        state.settings.zendesk_url_template.csp_source(),
        ancestors.join(" ")
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(CONTENT_SECURITY_POLICY, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `GET /zendesk/board`.
pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some((caller, id)) = session(&state, &req).await? else {
        return Ok(sign_in_page(&state, StatusCode::OK, None));
    };
    let notice = req
        .query_string()
        .contains("changed=1")
        .then_some("Statuses saved.");
    let page = BoardPage {
        subdomain: caller.subdomain.as_str(),
        csrf: &csrf_for(&id),
        rows: rows(&state, &caller).await?,
        statuses: AgentStatus::ALL.map(AgentStatus::as_str),
        notice,
        connection: state.connections.notice(&caller.subdomain).await.ok(),
    };
    Ok(admin_page(&state, html(StatusCode::OK, &page)))
}

/// `GET /zendesk/board/rows`: the table body, for the in-place refresh.
pub(super) async fn refresh(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (caller, _) = signed_in(&state, &req).await?;
    let rows = BoardRows {
        rows: rows(&state, &caller).await?,
    };
    Ok(admin_page(&state, html(StatusCode::OK, &rows)))
}

/// `POST /zendesk/board/sign_in` with `api_key`.
pub(super) async fn sign_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    crate::web::refuse_cross_site(&req)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(&req, &body)?;
    let raw = form
        .optional("api_key")?
        .unwrap_or_default()
        .trim()
        .to_owned();
    let Some(key) = keys::verify(&state.db, &raw).await? else {
        return Ok(sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That API key is not valid."),
        ));
    };
    let cookie = start_session(&state, &key.prefix).await?;
    tracing::info!(key_prefix = %key.prefix, "status board sign-in");

    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", PATH))
        .cookie(cookie)
        .finish())
}

/// Starts an admin session acting as the API key `key_prefix`: stores the hash of a new
/// random id and returns the cookie carrying it (8 hours, `HttpOnly`, `SameSite=Strict`,
/// path `/zendesk` so the status board and the routing pages share it).
pub(crate) async fn start_session(
    state: &AppState,
    key_prefix: &str,
) -> Result<Cookie<'static>, ApiError> {
    let id = random_secret();
    let now = state.clock.now_ms();
    board_sessions::insert(
        &state.db,
        &hash_secret(&id),
        key_prefix,
        now + SESSION_MS,
        now,
    )
    .await?;
    Ok(Cookie::build(COOKIE, id)
        .path(SESSION_PATH)
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::hours(8))
        .finish())
}

/// `POST /zendesk/board/change` with `csrf`, `status` and one or more `user_id`.
pub(super) async fn change(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = signed_in(&state, &req).await?;
    let form = posted_form(&state, &req, payload, &id).await?;
    let status = AgentStatus::parse(form.required("status")?)
        .map_err(|e| ApiError::invalid("status", e.0))?;
    let items = form
        .all("user_id")
        .iter()
        .enumerate()
        .map(|(index, raw)| {
            ZendeskUserId::parse(raw)
                .map(|id| (index, id, status))
                .map_err(|e| ApiError::invalid("user_id", e.0))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if items.is_empty() {
        return Err(ApiError::invalid("user_id", "choose at least one agent"));
    }
    rules::create_many(
        &state,
        &caller,
        Batch {
            items,
            notify_app: true,
        },
    )
    .await?;
    Ok(saved(PATH, "changed"))
}
