//! The routing overview page: the account's queues, the webhooks and triggers
//! slackdesk makes in Zendesk (and how to set them up by hand), the skills sync and its
//! "resync now" button.

use super::*;
use crate::routing::hooks::{self, HookStatus};

struct QueueRow {
    id: i64,
    position: i64,
    name: String,
    view_id: i64,
    /// The view's title, read live (never stored); empty when Zendesk cannot say.
    view_title: String,
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
    /// The account's Zendesk connection: routing pauses while it needs a reconnect.
    connection: Option<crate::zendesk::connection::ConnectionNotice>,
    hooks: Vec<HookStatus>,
    hooks_notice: Option<&'a str>,
}

/// `GET /zendesk/routing`.
pub(super) async fn overview(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    let result: PageResult = async {
        let (caller, id) = signed_in(&state, &req).await?;
        let sub = &caller.subdomain;
        let queues = store::list_queues(&state.db, sub).await?;
        let (_, secrets) = store::account_settings(&state.db, sub).await?;
        let sync = store::sync_state(&state.db, sub).await?;
        let hooks = hooks::statuses(&state, sub, 0).await?;
        let account = url_encode(sub.as_str());
        let views = if queues.is_empty() {
            Vec::new()
        } else {
            state
                .names
                .views(&state.zendesk, &state.connections, sub)
                .await
        };
        let title_of = |view: i64| {
            views
                .iter()
                .find(|(id, _)| *id == view)
                .map(|(_, title)| title.clone())
                .unwrap_or_default()
        };
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
                        view_title: title_of(q.settings.view_id),
                        kind: q.settings.kind.as_str(),
                        model: q.settings.model.label(),
                        enabled: q.settings.enabled,
                        last_run: when(q.last_run_at),
                        last_error: q
                            .last_run_error
                            .as_deref()
                            .map(readable_error)
                            .unwrap_or_default(),
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
                connection: state.connections.notice(sub).await.ok(),
                hooks,
                hooks_notice: hooks_notice_of(&req),
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
pub(super) async fn resync(
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

/// A queue's last error as the page says it: the code, with a sentence where the admin
/// needs one to know that nothing is broken.
fn readable_error(code: &str) -> String {
    match code {
        "waiting_for_inbox_counts" => {
            "waiting for the agents' open tickets to be read from Zendesk; routing starts once they are read (waiting_for_inbox_counts)".to_owned()
        }
        other => other.to_owned(),
    }
}
