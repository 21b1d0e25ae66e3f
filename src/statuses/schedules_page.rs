//! The agents' schedules page (`/zendesk/board/schedules`): which synced Zendesk
//! business-hours schedule each agent follows, as `statuses schedule` sets it on the
//! command line. Agents are shown by name (read live, never stored); one save writes
//! every choice or none.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::board::{
    admin_page, csrf_for, posted_form, saved, session, signed_in, status_for, to_sign_in,
};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::status_rules;
use crate::web::{ApiError, Form, html};

pub const PATH: &str = "/zendesk/board/schedules";

struct AgentRow {
    user_id: i64,
    name: Option<String>,
    /// The chosen schedule id, or 0 for none.
    chosen: i64,
}

struct ScheduleChoice {
    id: i64,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "status_schedules.html")]
struct SchedulesPage<'a> {
    subdomain: &'a str,
    csrf: &'a str,
    agents: Vec<AgentRow>,
    schedules: Vec<ScheduleChoice>,
    schedules_enabled: bool,
    notice: Option<&'a str>,
    error: Option<String>,
}

async fn schedules_page(
    state: &AppState,
    subdomain: &Subdomain,
    csrf: &str,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<HttpResponse, ApiError> {
    let choices = status_rules::agent_schedules(&state.db, subdomain).await?;
    let ids: Vec<i64> = choices.iter().map(|(id, _)| *id).collect();
    let names = state
        .names
        .names(&state.zendesk, &state.connections, subdomain, &ids)
        .await;
    let schedules = status_rules::schedules(&state.db, subdomain)
        .await?
        .into_iter()
        .map(|(id, time_zone)| ScheduleChoice { id, time_zone })
        .collect();
    let rules = status_rules::find(&state.db, subdomain).await?;
    let status = status_for(&error);
    let page = SchedulesPage {
        subdomain: subdomain.as_str(),
        csrf,
        agents: choices
            .into_iter()
            .map(|(user_id, chosen)| AgentRow {
                name: names.get(&user_id).cloned(),
                user_id,
                chosen: chosen.unwrap_or(0),
            })
            .collect(),
        schedules,
        schedules_enabled: rules.schedules_enabled,
        notice,
        error,
    };
    Ok(admin_page(state, html(status, &page)))
}

/// `GET /zendesk/board/schedules`.
pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let Some((caller, id)) = session(&state, &req).await? else {
        return Ok(to_sign_in());
    };
    let notice = req
        .query_string()
        .contains("saved=1")
        .then_some("Schedules saved.");
    schedules_page(&state, &caller.subdomain, &csrf_for(&id), notice, None).await
}

/// The posted choices: `user_id` and `schedule` in pairs (`schedule` 0: none).
fn parse_choices(form: &Form) -> Result<Vec<(ZendeskUserId, Option<i64>)>, ApiError> {
    let users = form.all("user_id");
    let schedules = form.all("schedule");
    if users.len() != schedules.len() {
        return Err(ApiError::invalid("schedule", "one schedule per agent"));
    }
    users
        .iter()
        .zip(&schedules)
        .map(|(user, schedule)| {
            let user = ZendeskUserId::parse(user).map_err(|e| ApiError::invalid("user_id", e.0))?;
            let schedule = match schedule.trim().parse::<i64>() {
                Ok(0) => None,
                Ok(id) if id > 0 => Some(id),
                _ => {
                    return Err(ApiError::invalid(
                        "schedule",
                        format!("agent {user}: must be a schedule id, or 0 for none"),
                    ));
                }
            };
            Ok((user, schedule))
        })
        .collect()
}

/// `POST /zendesk/board/schedules`: every choice or none.
pub(super) async fn save(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (caller, id) = signed_in(&state, &req).await?;
    let form = posted_form(&state, &req, payload, &id).await?;
    let csrf = csrf_for(&id);
    let choices = match parse_choices(&form) {
        Ok(choices) => choices,
        Err(error) => {
            let shown = Some(error.to_string());
            return schedules_page(&state, &caller.subdomain, &csrf, None, shown).await;
        }
    };
    let known: Vec<i64> = status_rules::schedules(&state.db, &caller.subdomain)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    if let Some((user, Some(schedule))) = choices
        .iter()
        .find(|(_, s)| s.is_some_and(|s| !known.contains(&s)))
    {
        let shown = Some(format!(
            "schedule: agent {user}: schedule {schedule} is not one of the account's synced schedules"
        ));
        return schedules_page(&state, &caller.subdomain, &csrf, None, shown).await;
    }
    if !status_rules::set_agent_schedules(&state.db, &caller.subdomain, &choices).await? {
        let shown = Some("user_id: names someone who is not an agent of this account".to_owned());
        return schedules_page(&state, &caller.subdomain, &csrf, None, shown).await;
    }
    tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, agents = choices.len(), "agents' schedules saved from the page");
    Ok(saved(PATH, "saved"))
}
