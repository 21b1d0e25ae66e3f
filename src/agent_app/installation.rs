//! Writing the app token into the app installation's secure setting, server to server
//! (`PUT /api/v2/apps/installations/{id}.json` with the admin's OAuth token), so the token
//! never passes through a browser.

use serde_json::json;

use crate::domain::Subdomain;
use crate::outbound::transport_code;
use crate::state::AppState;
use crate::zendesk::{RestError, ZendeskAuth};

/// The app's secure setting that holds the token (`{{setting.token}}`).
pub const TOKEN_SETTING: &str = "token";
/// The app's hidden setting with slackdesk's address.
pub const SERVICE_URL_SETTING: &str = "service_url";

/// Why Zendesk did not take the setting: a short code for logs and the page.
#[derive(Debug, thiserror::Error)]
#[error("Zendesk did not update the app installation ({0})")]
pub struct InstallationError(pub String);

impl From<RestError> for InstallationError {
    fn from(error: RestError) -> Self {
        Self(match error {
            RestError::Unauthorized { status } | RestError::Rejected { status } => {
                format!("http_{status}")
            }
            other => other.code(),
        })
    }
}

/// Checks that installation `installation_id` is the slackdesk app built for this server
/// (`GET /api/v2/apps/installations/{id}.json`: its `service_url` setting is our
/// `PUBLIC_URL`, and its `app_id` is `ZENDESK_APP_ID` when that is set). Without this, a
/// crafted authorize link could make an admin write slackdesk's token into another app's
/// `token` setting, which would then send it to that app's server. Answers the app id.
pub async fn check_is_ours(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    installation_id: i64,
) -> Result<i64, InstallationError> {
    let url = format!(
        "{}/api/v2/apps/installations/{installation_id}.json",
        state.zendesk.base_url(subdomain)
    );
    let response = state
        .zendesk
        .authorized(auth, |http| http.get(&url))
        .await
        .map_err(InstallationError::from)?;
    let body: serde_json::Value = response
        .json()
        .await
        .map_err(|_| InstallationError("bad_response".into()))?;
    let installation = body.get("installation").unwrap_or(&body);
    let ours = state.settings.public_url.as_str().trim_end_matches('/');
    let service_url = installation
        .pointer("/settings/service_url")
        .and_then(serde_json::Value::as_str)
        .map(|u| u.trim_end_matches('/'));
    if service_url != Some(ours) {
        return Err(InstallationError("not_this_service".into()));
    }
    let app_id = installation
        .get("app_id")
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| InstallationError("bad_response".into()))?;
    if state
        .settings
        .zendesk_app_id
        .is_some_and(|ours| ours != app_id)
    {
        return Err(InstallationError("not_this_app".into()));
    }
    Ok(app_id)
}

/// The app's public key, a PEM (`GET /api/v2/apps/{app_id}/public_key.pem`): what ZAF
/// JWTs of the app's installations are signed for.
pub async fn public_key_pem(
    state: &AppState,
    subdomain: &Subdomain,
    auth: &ZendeskAuth,
    app_id: i64,
) -> Result<String, InstallationError> {
    const MAX_PEM_BYTES: usize = 16 * 1024;
    let url = format!(
        "{}/api/v2/apps/{app_id}/public_key.pem",
        state.zendesk.base_url(subdomain)
    );
    let response = state
        .zendesk
        .authorized(auth, |http| http.get(&url))
        .await
        .map_err(InstallationError::from)?;
    let body = response
        .bytes()
        .await
        .map_err(|e| InstallationError(transport_code(&e).to_owned()))?;
    if body.len() > MAX_PEM_BYTES {
        return Err(InstallationError("bad_response".into()));
    }
    String::from_utf8(body.to_vec()).map_err(|_| InstallationError("bad_response".into()))
}

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
