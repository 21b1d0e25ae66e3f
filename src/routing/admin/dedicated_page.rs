//! The dedicated agents page: who takes an organization's or a requester's tickets
//! first, and who takes over; set and remove them.

use super::*;
use crate::routing::dedicated;
use crate::routing::engine::Dedication;

#[derive(Template)]
#[template(path = "routing_dedicated.html")]
struct DedicatedPage<'a> {
    csrf: &'a str,
    rows: Vec<DedicatedRow>,
    agents: Vec<AgentChoice>,
    error: Option<String>,
    notice: Option<&'a str>,
}

struct DedicatedRow {
    kind: &'static str,
    id: i64,
    agent: String,
    fallback: String,
}

/// An agent to pick, by name when Zendesk could tell it (read live, never stored).
struct AgentChoice {
    id: i64,
    label: String,
}

async fn dedicated_page(
    state: &AppState,
    caller: &Caller,
    id: &str,
    error: Option<String>,
    notice: Option<&str>,
) -> Result<HttpResponse, ApiError> {
    let all = dedicated::list(state, &caller.subdomain).await?;
    let agent_ids: Vec<i64> = agents::list_active(&state.db, &caller.subdomain)
        .await?
        .iter()
        .map(|a| a.user_id.get())
        .collect();
    let names = state
        .names
        .names(
            &state.zendesk,
            &state.connections,
            &caller.subdomain,
            &agent_ids,
        )
        .await;
    let label = |agent: i64| match names.get(&agent) {
        Some(name) => format!("{name} ({agent})"),
        None => format!("agent {agent}"),
    };
    let status = crate::statuses::board::status_for(&error);
    Ok(html(
        status,
        &DedicatedPage {
            csrf: &csrf_for(id),
            rows: all
                .iter()
                .map(|d: &Dedication| DedicatedRow {
                    kind: d.kind.as_str(),
                    id: d.key,
                    agent: label(d.agent),
                    fallback: d
                        .fallback
                        .map_or_else(|| "the queue's model".to_owned(), label),
                })
                .collect(),
            agents: agent_ids
                .iter()
                .map(|&agent| AgentChoice {
                    id: agent,
                    label: label(agent),
                })
                .collect(),
            error,
            notice,
        },
    ))
}

/// `GET /zendesk/routing/dedicated`.
pub(super) async fn show_dedicated(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        Ok(dedicated_page(&state, &caller, &id, None, notice_of(&req)).await?)
    }
    .await;
    respond(&state, &req, result)
}

/// The posted dedication, checked field by field.
fn posted_dedication(form: &Form) -> Result<Dedication, ApiError> {
    Ok(Dedication {
        kind: dedicated::parse_kind(form.required("kind")?)?,
        key: dedicated::parse_key(form.required("id")?)?,
        agent: number("agent_id", form.required("agent_id")?)?,
        fallback: optional_number(
            "fallback_agent_id",
            form.optional("fallback_agent_id")?.unwrap_or(""),
        )?,
    })
}

/// `POST /zendesk/routing/dedicated`: sets one, or shows the page again naming the field.
pub(super) async fn save_dedicated(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id, form) = posted(&state, &req, payload).await?;
        let saved = match posted_dedication(&form) {
            Ok(dedication) => dedicated::set(&state, &caller.subdomain, dedication).await,
            Err(error) => Err(error),
        };
        match saved {
            Ok(_) => Ok(see_other("/zendesk/routing/dedicated?saved=1")),
            Err(ApiError::InvalidField { field, message }) => {
                let text = format!("{field}: {message}");
                Ok(dedicated_page(&state, &caller, &id, Some(text), None).await?)
            }
            Err(ApiError::NotFound(dedicated::NOT_AN_AGENT)) => {
                let text = "agent_id: not an agent of this account".to_owned();
                Ok(dedicated_page(&state, &caller, &id, Some(text), None).await?)
            }
            Err(other) => Err(other.into()),
        }
    }
    .await;
    respond(&state, &req, result)
}

/// `POST /zendesk/routing/dedicated/remove`.
pub(super) async fn remove_dedicated(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _, form) = posted(&state, &req, payload).await?;
        let kind = dedicated::parse_kind(form.required("kind")?)?;
        let key = dedicated::parse_key(form.required("id")?)?;
        dedicated::remove(&state, &caller.subdomain, kind, key).await?;
        Ok(see_other("/zendesk/routing/dedicated?removed=1"))
    }
    .await;
    respond(&state, &req, result)
}
