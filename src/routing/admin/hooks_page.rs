//! The "Recreate" / "Make them now" button of the webhooks and triggers slackdesk makes
//! in Zendesk (`POST /zendesk/routing/hooks/{hook}`), and the notice a page shows after
//! a save brought them in line (`?hooks=made|removed|failed`).

use super::*;
use crate::routing::hooks::{self, Change, HookStatus, Repair};

/// The query flag telling the next page what a sync did (`&hooks=…`, or empty).
pub(super) fn flag_of(status: &HookStatus) -> &'static str {
    match (status.error.is_some(), status.change) {
        (true, _) => "&hooks=failed",
        (false, Some(Change::Made)) => "&hooks=made",
        (false, Some(Change::Removed)) => "&hooks=removed",
        (false, None) => "",
    }
}

/// The status of `hook` among those a save answered (the one it synced).
pub(super) fn synced(statuses: &[HookStatus], hook: Hook) -> Option<&HookStatus> {
    statuses.iter().find(|s| s.hook == hook)
}

/// The sentence for a `hooks=` flag in the query.
pub(super) fn hooks_notice_of(req: &HttpRequest) -> Option<&'static str> {
    let query = req.query_string();
    [
        ("hooks=made", "The webhook and trigger were made in Zendesk."),
        ("hooks=removed", "The webhook and trigger were removed from Zendesk."),
        (
            "hooks=failed",
            "Saved. The webhook and trigger could not be brought in line in Zendesk: see why below.",
        ),
    ]
    .into_iter()
    .find(|(flag, _)| query.split('&').any(|p| p == *flag))
    .map(|(_, text)| text)
}

/// `POST /zendesk/routing/hooks/{hook}`: make again what was deleted in Zendesk, make
/// what is not made, or remove what is left over; then back to the settings.
pub(super) async fn remake_hooks(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let result: PageResult = async {
        let (caller, _, _) = posted(&state, &req, payload).await?;
        let hook = Hook::parse(&path).ok_or(ApiError::NotFound("webhook"))?;
        let status = hooks::sync(&state, &caller.subdomain, hook, Repair::Yes).await?;
        tracing::info!(subdomain = %caller.subdomain, key_prefix = %caller.key_prefix, hook = hook.as_str(), state = status.state_code(), "Zendesk webhook and trigger remade on request");
        Ok(see_other(&format!("{PATH}/settings?remade=1{}", flag_of(&status))))
    }
    .await;
    respond(&state, &req, result)
}
