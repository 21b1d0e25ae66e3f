//! The status rules page (`/zendesk/board/rules`): automatic idle, the out-of-office tag
//! and business-hours schedules, as `statuses rules` sets them on the command line. A
//! refused form comes back as typed with the field named; nothing is stored then.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::board::{
    admin_page, csrf_for, posted_form, saved, session, signed_in, status_for, to_sign_in,
};
use super::status_rules::{idle_minutes, ticket_tag};
use crate::state::AppState;
use crate::storage::status_rules::{self, Rules};
use crate::web::{ApiError, Form, html};

pub const PATH: &str = "/zendesk/board/rules";

/// The form's fields as text, so a refused form is shown as it was typed.
struct RulesForm {
    idle_minutes: String,
    ooo_tag: String,
    schedules: bool,
}

impl RulesForm {
    fn of(rules: &Rules) -> Self {
        Self {
            idle_minutes: rules
                .idle_minutes
                .map(|m| m.to_string())
                .unwrap_or_default(),
            ooo_tag: rules.ooo_tag.clone().unwrap_or_default(),
            schedules: rules.schedules_enabled,
        }
    }

    fn posted(form: &Form) -> Result<Self, ApiError> {
        Ok(Self {
            idle_minutes: form
                .optional("idle_minutes")?
                .unwrap_or("")
                .trim()
                .to_owned(),
            ooo_tag: form.optional("ooo_tag")?.unwrap_or("").trim().to_owned(),
            schedules: form.optional("schedules")?.is_some(),
        })
    }

    /// The rules this form asks for (blank: off); the first bad field is named.
    fn apply(&self, mut rules: Rules) -> Result<Rules, ApiError> {
        rules.idle_minutes = match self.idle_minutes.as_str() {
            "" => None,
            raw => Some(
                raw.parse::<i64>()
                    .ok()
                    .and_then(|m| idle_minutes(m).ok())
                    .ok_or_else(|| {
                        ApiError::invalid("idle_minutes", "must be 30 to 1440 minutes, or blank")
                    })?,
            ),
        };
        rules.ooo_tag = match self.ooo_tag.as_str() {
            "" => None,
            raw => Some(ticket_tag(raw).map_err(|e| ApiError::invalid("ooo_tag", e.0))?),
        };
        rules.schedules_enabled = self.schedules;
        Ok(rules)
    }
}

#[derive(Template)]
#[template(path = "status_rules.html")]
struct RulesPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    form: &'a RulesForm,
    notice: Option<&'a str>,
    error: Option<String>,
}

fn rules_page(
    state: &AppState,
    subdomain: &str,
    csrf: &str,
    form: &RulesForm,
    notice: Option<&str>,
    error: Option<String>,
) -> HttpResponse {
    let status = status_for(&error);
    let page = RulesPage {
        subdomain,
        csrf,
        form,
        notice,
        error,
    };
    admin_page(state, html(status, &page))
}

/// `GET /zendesk/board/rules`.
pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some((caller, id)) = session(&state, &req).await? else {
        return Ok(to_sign_in());
    };
    let rules = status_rules::find(&state.db, &caller.subdomain).await?;
    let notice = req
        .query_string()
        .contains("saved=1")
        .then_some("Rules saved.");
    Ok(rules_page(
        &state,
        caller.subdomain.as_str(),
        &csrf_for(&id),
        &RulesForm::of(&rules),
        notice,
        None,
    ))
}

/// `POST /zendesk/board/rules` with `csrf`, `idle_minutes`, `ooo_tag` and `schedules`.
pub(super) async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = signed_in(&state, &req).await?;
    let form = posted_form(&state, &req, payload, &id).await?;
    let csrf = csrf_for(&id);
    let typed = RulesForm::posted(&form)?;
    let stored = status_rules::find(&state.db, &caller.subdomain).await?;
    let rules = match typed.apply(stored) {
        Ok(rules) => rules,
        Err(error) => {
            let shown = error.to_string();
            return Ok(rules_page(
                &state,
                caller.subdomain.as_str(),
                &csrf,
                &typed,
                None,
                Some(shown),
            ));
        }
    };
    status_rules::save(&state.db, &caller.subdomain, &rules, state.clock.now_ms()).await?;
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, idle = ?rules.idle_minutes, schedules = rules.schedules_enabled, "status rules saved from the page");
    Ok(saved(PATH, "saved"))
}
