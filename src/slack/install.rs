//! Installing the Slack app in a workspace (OAuth v2).
//!
//! ```text
//!  admin UI ──▶ GET /slack/install?session=… ──302──▶ Slack authorize (signed state)
//!  Slack ──▶ GET /slack/oauth/callback?code&state ──▶ oauth.v2.access ──▶ token sealed,
//!            workspace granted to the Zendesk account the admin came from
//! ```
//!
//! The `state` is signed with the key ring and expires after ten minutes, so a callback
//! cannot be forged or replayed later; the set-up session proves which Zendesk account
//! the admin came from. Every outcome is a readable page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use crate::crypto::KeyRing;
use crate::domain::{SlackTeamId, SlackUserId};
use crate::state::AppState;
use crate::storage::slack_workspaces::{self, WorkspaceInstall};
use crate::storage::{setup_sessions, workspace_grants};
use crate::web::{MessagePage, html};

/// The bot scopes slackdesk asks for (SPEC 2).
pub const BOT_SCOPES: [&str; 11] = [
    "channels:history",
    "channels:read",
    "groups:history",
    "groups:read",
    "chat:write",
    "chat:write.customize",
    "users:read",
    "files:read",
    "files:write",
    "reactions:read",
    "reactions:write",
];

const STATE_PURPOSE: &str = "slack-oauth-state";
const STATE_TTL_SECS: i64 = 10 * 60;
/// Cookie that ties the OAuth callback to the browser that started the install.
const BROWSER_COOKIE: &str = "slackdesk_oauth";

#[derive(Deserialize)]
pub struct InstallQuery {
    session: Option<String>,
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, &MessagePage { title, message })
}

/// `GET /slack/install`: sends the admin to Slack to approve the app.
pub async fn install(query: web::Query<InstallQuery>, state: web::Data<AppState>) -> HttpResponse {
    let Some(client_id) = state.settings.slack_client_id.as_deref() else {
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Slack is not set up",
            "This slackdesk has no SLACK_CLIENT_ID; ask its operator to configure the Slack app.",
        );
    };
    let session = match &query.session {
        Some(token) => match setup_sessions::find(&state.db, &state.keys, token).await {
            Ok(Some(session)) => Some(session.id_hash),
            Ok(None) => {
                return page(
                    StatusCode::UNAUTHORIZED,
                    "This link has expired",
                    "Open the integration's settings in Zendesk again and use its Connect Slack button.",
                );
            }
            Err(error) => return crate::web::error_page(error.into()),
        },
        None => None,
    };
    let expires = chrono::Utc::now().timestamp() + STATE_TTL_SECS;
    let nonce = crate::crypto::tokens::random_secret();
    let signed = sign_state(&state.keys, expires, session.as_deref(), &nonce);
    let mut target = state.settings.slack_oauth_url.clone();
    target
        .query_pairs_mut()
        .append_pair("client_id", client_id)
        .append_pair("scope", &BOT_SCOPES.join(","))
        .append_pair("state", &signed)
        .append_pair("redirect_uri", &redirect_uri(&state));
    let cookie = actix_web::cookie::Cookie::build(BROWSER_COOKIE, nonce)
        .path("/slack/oauth")
        .http_only(true)
        .secure(state.settings.public_url.scheme() == "https")
        .same_site(actix_web::cookie::SameSite::Lax)
        .max_age(actix_web::cookie::time::Duration::seconds(STATE_TTL_SECS))
        .finish();
    HttpResponse::Found()
        .insert_header(("Location", target.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .cookie(cookie)
        .finish()
}

/// `GET /slack/oauth/callback`: Slack sends the admin back with a code (or an error).
pub async fn callback(
    req: HttpRequest,
    query: web::Query<CallbackQuery>,
    state: web::Data<AppState>,
) -> HttpResponse {
    if let Some(code) = query.error.as_deref() {
        tracing::info!(code = %short_code(code), "Slack sent the admin back without an install");
        return page(
            StatusCode::OK,
            "Slack was not connected",
            &refusal_advice(&short_code(code), &redirect_uri(&state)),
        );
    }
    let browser = req
        .cookie(BROWSER_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let Some(session) = query
        .state
        .as_deref()
        .and_then(|s| verify_state(&state.keys, s, &browser, chrono::Utc::now().timestamp()))
    else {
        return page(
            StatusCode::BAD_REQUEST,
            "This Slack sign-in has expired",
            "Start again from the integration's settings in Zendesk.",
        );
    };
    let (Some(code), Some(client_id), Some(secret)) = (
        query.code.as_deref(),
        state.settings.slack_client_id.as_deref(),
        state.settings.slack_client_secret.as_ref(),
    ) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Slack was not connected",
            "Slack did not send an authorization code.",
        );
    };
    let installed = match state
        .slack
        .oauth_access(client_id, secret, code, &redirect_uri(&state))
        .await
    {
        Ok(installed) => installed,
        Err(error) => {
            tracing::warn!(code = error.code(), "Slack OAuth exchange failed");
            return page(
                StatusCode::BAD_GATEWAY,
                "Slack was not connected",
                &refusal_advice(error.code(), &redirect_uri(&state)),
            );
        }
    };
    match store_install(&state, &installed, session.as_deref()).await {
        Ok(team) => {
            tracing::info!(team = %team, granted = session.is_some(), "Slack workspace connected");
            page(
                StatusCode::OK,
                "Slack is connected",
                "Go back to Zendesk and open the integration's settings again to choose the channels.",
            )
        }
        Err(error) => crate::web::error_page(error),
    }
}

/// Stores a bot token from an install and grants the workspace to the Zendesk account.
async fn store_install(
    state: &AppState,
    installed: &crate::slack::OauthInstall,
    session_hash: Option<&str>,
) -> Result<SlackTeamId, crate::web::ApiError> {
    let team = SlackTeamId::parse(&installed.team.id)
        .map_err(|e| crate::web::ApiError::invalid("team", e.0))?;
    let token = crate::config::Secret::new(installed.access_token.clone());
    let identity = state.slack.auth_test(&token).await.ok();
    let bot_user = installed
        .bot_user_id
        .as_deref()
        .and_then(|u| SlackUserId::parse(u).ok());
    slack_workspaces::upsert(
        &state.db,
        &state.keys,
        &WorkspaceInstall {
            team: &team,
            bot_user: bot_user.as_ref(),
            bot_id: identity.as_ref().and_then(|i| i.bot_id.as_deref()),
            app_id: installed.app_id.as_deref(),
            bot_token: &token,
        },
    )
    .await?;
    if let Some(hash) = session_hash {
        // The account being edited gets the workspace now; a new one when it is saved.
        match setup_sessions::account_of(&state.db, hash).await? {
            Some(account) => workspace_grants::grant(&state.db, account, &team).await?,
            None => workspace_grants::grant_to_session(&state.db, hash, &team).await?,
        }
    }
    Ok(team)
}

/// An error code from Slack, cut to what a code can be (it is echoed on the page).
fn short_code(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(64)
        .collect()
}

/// What to do about Slack's refusal of an install, in words, with Slack's code.
fn refusal_advice(code: &str, redirect_uri: &str) -> String {
    match code {
        "access_denied" => "The request was cancelled in Slack. Nothing was changed.".to_owned(),
        "invalid_team_for_non_distributed_app" => format!(
            "Slack refused the install ({code}): this Slack app can only be installed in the workspace it was created in. To connect another workspace, open the app at api.slack.com/apps, then Manage Distribution, and activate public distribution (this does not list it in the Slack Marketplace). Then connect Slack again."
        ),
        "bad_redirect_uri" | "oauth_authorization_url_mismatch" => format!(
            "Slack refused the install ({code}): the Slack app's OAuth settings must list {redirect_uri} as a redirect URL (it is in the app manifest this deployment serves). Fix it at api.slack.com/apps, then connect Slack again."
        ),
        "invalid_client_id" | "bad_client_secret" => format!(
            "Slack refused the install ({code}): SLACK_CLIENT_ID or SLACK_CLIENT_SECRET does not match the Slack app. Copy both from the app's Basic Information page and restart slackdesk."
        ),
        "invalid_code" | "code_already_used" => format!(
            "Slack refused the install ({code}): the sign-in was already used or has expired. Connect Slack again from the integration's settings."
        ),
        _ => format!("Slack refused the install ({code}). Please try again."),
    }
}

fn redirect_uri(state: &AppState) -> String {
    state.settings.public_url_for("/slack/oauth/callback")
}

/// `base64url(expires:session hash:nonce).{signature}`; the nonce is also in a cookie of
/// the browser that started the install.
pub(crate) fn sign_state(
    keys: &KeyRing,
    expires: i64,
    session_hash: Option<&str>,
    nonce: &str,
) -> String {
    let payload = format!("{expires}:{}:{nonce}", session_hash.unwrap_or("-"));
    let encoded = URL_SAFE_NO_PAD.encode(payload.as_bytes());
    format!("{encoded}.{}", keys.sign(STATE_PURPOSE, &encoded))
}

/// The set-up session a valid, unexpired state names (`Some(None)` for an install
/// started without one).
pub(crate) fn verify_state(
    keys: &KeyRing,
    raw: &str,
    browser_nonce: &str,
    now: i64,
) -> Option<Option<String>> {
    let (encoded, signature) = raw.split_once('.')?;
    if !keys.verify(STATE_PURPOSE, encoded, signature) {
        return None;
    }
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(encoded).ok()?).ok()?;
    let mut parts = payload.splitn(3, ':');
    let expires: i64 = parts.next()?.parse().ok()?;
    if expires < now {
        return None;
    }
    let session = parts.next()?;
    let nonce = parts.next()?;
    // The callback must come back to the browser that started the install.
    if !crate::crypto::tokens::constant_time_eq(nonce.as_bytes(), browser_nonce.as_bytes()) {
        return None;
    }
    match session {
        "-" => Some(None),
        hash if hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            Some(Some(hash.to_owned()))
        }
        _ => None,
    }
}
