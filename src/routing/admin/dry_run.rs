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
