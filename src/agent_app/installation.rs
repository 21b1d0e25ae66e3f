//! Writing the app token into the app installation's secure setting, server to server
//! (`PUT /api/v2/apps/installations/{id}.json` with the admin's OAuth token), so the token
//! never passes through a browser.

use serde_json::json;

use crate::domain::Subdomain;
use crate::outbound::transport_code;
use crate::startup::AppState;

/// The app's secure setting that holds the token (`{{setting.token}}`).
pub const TOKEN_SETTING: &str = "token";
/// The app's hidden setting with slackdesk's address.
pub const SERVICE_URL_SETTING: &str = "service_url";

/// Why Zendesk did not take the setting: a short code for logs and the page.
#[derive(Debug, thiserror::Error)]
#[error("Zendesk did not update the app installation ({0})")]
pub struct InstallationError(pub String);

/// Sets the installation's `token` (and `service_url`, so an update that replaces all
/// settings keeps it).
pub async fn write_token(
    state: &AppState,
    subdomain: &Subdomain,
    access_token: &str,
    installation_id: i64,
    token: &str,
) -> Result<(), InstallationError> {
    let url = format!(
        "{}/api/v2/apps/installations/{installation_id}.json",
        state.zendesk.base_url(subdomain)
    );
    let service_url = state.settings.public_url.as_str().trim_end_matches('/');
    let body = json!({"settings": {TOKEN_SETTING: token, SERVICE_URL_SETTING: service_url}});
    let response = state
        .zendesk
        .http()
        .put(url)
        .bearer_auth(access_token)
        .json(&body)
        .send()
        .await
        .map_err(|e| InstallationError(transport_code(&e).to_owned()))?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(InstallationError(format!("http_{}", status.as_u16())))
    }
}
