//! Per-agent inbox and daily limits, for every agent of the account in one form.

use super::*;

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
    /// Read live from Zendesk for this page; never stored.
    name: Option<String>,
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
    let limits = api::limits_table(state, &caller.subdomain).await?;
    let ids: Vec<i64> = limits.iter().map(|l| l.user_id).collect();
    let names = state
        .names
        .names(&state.zendesk, &state.connections, &caller.subdomain, &ids)
        .await;
    let none = || "none".to_owned();
    let status = crate::statuses::board::status_for(&error);
    Ok(html(
        status,
        &AgentsPage {
            csrf: &csrf_for(id),
            rows: limits
                .into_iter()
                .map(|l| LimitRow {
                    name: names.get(&l.user_id).cloned(),
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
pub(super) async fn show_agents(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
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
pub(super) async fn save_agents(
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
