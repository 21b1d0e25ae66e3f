//! `notify_app`: after a change is committed, tells each changed agent's Zendesk app
//! (`POST /api/v2/apps/notify`, event `status_changed`) so it refreshes and shows a
//! notice. Runs in the background; a failure is logged by code and changes nothing.

use serde_json::json;

use super::wire::Created;
use crate::domain::Subdomain;
use crate::state::AppState;

/// The event name the app listens for.
pub const EVENT: &str = "status_changed";

/// Starts the notifications of `created`; does nothing without `ZENDESK_APP_ID`.
pub fn spawn(state: &AppState, subdomain: &Subdomain, created: &[Created]) {
    let Some(app_id) = state.settings.zendesk_app_id else {
        return;
    };
    let state = state.clone();
    let subdomain = subdomain.clone();
    let changes: Vec<(crate::domain::ZendeskUserId, crate::domain::AgentStatus)> =
        created.iter().map(|c| (c.user_id, c.status)).collect();
    tokio::spawn(async move {
        let auth = match state.connections.open(&subdomain).await {
            Ok(auth) => auth,
            Err(error) => {
                tracing::warn!(subdomain = %subdomain, error = %error, "app not notified: no usable Zendesk connection");
                return;
            }
        };
        for (user_id, status) in changes {
            let body = json!({"user_id": user_id, "status": status});
            if let Err(error) = state
                .zendesk
                .notify_app(&subdomain, &auth, app_id, user_id, EVENT, &body)
                .await
            {
                tracing::warn!(
                    subdomain = %subdomain,
                    user_id = user_id.get(),
                    code = %error.code(),
                    "app notification failed"
                );
            }
        }
    });
}
