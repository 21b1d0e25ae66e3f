//! The app's own settings page (an admin page under `/zendesk`, signed in with the
//! admin session): which roles and which groups may use the agents' app. Admins always
//! may, so an admin can never lock everyone out.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::crypto::tokens::constant_time_eq;
use crate::state::AppState;
use crate::statuses::board;
use crate::storage::app_settings::{self, AppAccess};
use crate::web::{ApiError, Form, error_page, html, read_body};

pub const PATH: &str = "/zendesk/app/settings";

pub struct GroupChoice {
    pub id: i64,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "app_settings.html")]
struct SettingsPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    agents_allowed: bool,
    groups: Vec<GroupChoice>,
    notice: Option<&'a str>,
}

/// `GET /zendesk/app/settings`.
pub(super) async fn show(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match render(&state, &req).await {
        Ok(response) => response,
        Err(error) => error_page(error),
    }
}

async fn render(state: &AppState, req: &HttpRequest) -> Result<HttpResponse, ApiError> {
    let (caller, id) = board::session(state, req)
        .await?
        .ok_or(ApiError::Unauthorized(
            "open the app settings from the slackdesk app in Zendesk",
        ))?;
    let access = app_settings::find(&state.db, &caller.subdomain).await?;
    let groups = app_settings::known_groups(&state.db, &caller.subdomain)
        .await?
        .into_iter()
        .map(|id| GroupChoice {
            id,
            checked: access.group_ids.contains(&id),
        })
        .collect();
    let notice = req
        .query_string()
        .contains("saved=1")
        .then_some("Settings saved.");
    let mut response = html(
        StatusCode::OK,
        &SettingsPage {
            subdomain: caller.subdomain.as_str(),
            csrf: &board::csrf_for(&id),
            agents_allowed: access.roles.iter().any(|r| r == "agent"),
            groups,
            notice,
        },
    );
    response.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// `POST /zendesk/app/settings` with `csrf`, `agents` (`on` or absent), `group_id`s.
pub(super) async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = board::session(&state, &req)
        .await?
        .ok_or(ApiError::Unauthorized(
            "open the app settings from the slackdesk app in Zendesk",
        ))?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(&req, &body)?;
    if !constant_time_eq(
        form.required("csrf")?.as_bytes(),
        board::csrf_for(&id).as_bytes(),
    ) {
        return Err(ApiError::Forbidden("the form expired; reload the page"));
    }
    let agents = match form.optional("agents")? {
        None => false,
        Some("on") => true,
        Some(_) => return Err(ApiError::invalid("agents", "must be on or absent")),
    };
    let known = app_settings::known_groups(&state.db, &caller.subdomain).await?;
    let group_ids = form
        .all("group_id")
        .iter()
        .map(|raw| {
            raw.trim()
                .parse::<i64>()
                .ok()
                .filter(|g| known.contains(g))
                .ok_or_else(|| ApiError::invalid("group_id", "is not a group of this account"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut roles = vec!["admin".to_owned()];
    if agents {
        roles.insert(0, "agent".to_owned());
    }
    app_settings::save(
        &state.db,
        &caller.subdomain,
        &AppAccess { roles, group_ids },
        caller.owner,
        state.clock.now_ms(),
    )
    .await?;
    tracing::info!(subdomain = %caller.subdomain, user_id = caller.owner.get(), "app settings saved");
    Ok(HttpResponse::SeeOther()
        .insert_header(("Location", format!("{PATH}?saved=1")))
        .finish())
}
