//! A queue's dry run: which agent each waiting ticket would get and why, without assigning.

use super::queues::own_queue;
use super::*;

#[derive(Template)]
#[template(path = "routing_dry_run.html")]
struct DryRunPage<'a> {
    queue_id: i64,
    queue_name: &'a str,
    model: &'static str,
    view_id: i64,
    run: Option<DryRunOut>,
    error: Option<String>,
    /// Agents' names read live from Zendesk for this page (never stored).
    names: std::collections::HashMap<i64, String>,
}

impl DryRunPage<'_> {
    /// The agent as the page shows them: their name and id, or the id alone.
    fn agent(&self, id: &i64) -> String {
        match self.names.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_string(),
        }
    }
}

/// `GET /zendesk/routing/queues/{id}/dry_run`: decides now, assigns nothing.
pub(super) async fn dry_run(
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
        let ids: Vec<i64> = run
            .as_ref()
            .map(|r| r.assignments.iter().map(|d| d.agent_id).collect())
            .unwrap_or_default();
        let names = state
            .names
            .names(&state.zendesk, &state.connections, &caller.subdomain, &ids)
            .await;
        Ok(html(
            status,
            &DryRunPage {
                queue_id: queue.id,
                queue_name: &queue.settings.name,
                model: queue.settings.model.label(),
                view_id: queue.settings.view_id,
                run,
                error,
                names,
            },
        ))
    }
    .await;
    respond(&state, &req, result)
}
