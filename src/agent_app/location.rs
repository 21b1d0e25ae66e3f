//! The app's pages, served by slackdesk as Zendesk "server-side" app locations with
//! `"signedUrls": true`: Zendesk POSTs a ZAF JWT (form field `token`) to
//! `/zendesk/app/location/{top_bar,nav_bar}`; slackdesk verifies it with the app's public
//! key and answers the page with a fresh agent session for the user the JWT names.
//!
//! ```text
//!  Zendesk ──POST token=<ZAF JWT>──▶ /zendesk/app/location/top_bar?origin&app_guid
//!     peek iss/aud ─▶ key of (account, installation): cached, else
//!        GET apps/installations/{id}.json (our service_url, our app id)
//!        GET apps/{app_id}/public_key.pem        (with the account's Zendesk credential)
//!     verify RS256, exp, iss, aud ─▶ sub = the agent ─▶ session (hash stored) ─▶ page
//! ```
//!
//! A token that fails any check gets 401 and nothing is stored. An account slackdesk is
//! not connected to yet has no credential to fetch the key with: its page is served
//! without a session, which can do nothing but show the admin the Authorize button.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::installation;
use super::session;
use super::zaf_jwt::{self, JwtError, ZafIdentity};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::app_sessions::{self, StoredKey};
use crate::web::{ApiError, Form, html, read_body};
use crate::zendesk::connection::ConnectionError;

/// The two locations, each at `/zendesk/app/location/{name}`.
pub const LOCATIONS: [&str; 2] = ["top_bar", "nav_bar"];
pub const PATH_PREFIX: &str = "/zendesk/app/location/";
/// A cached key older than this is fetched again before use.
const KEY_FRESH_MS: i64 = 24 * 60 * 60_000;
/// After a bad signature, a key older than this is fetched again once (key rotation).
const KEY_RECHECK_MS: i64 = 10 * 60_000;
/// Key fetches per second per account, so forged tokens cannot make slackdesk hammer
/// Zendesk.
const KEY_FETCHES_PER_SECOND: u32 = 2;

const APP_JS: &str = include_str!("../../static/app_agent.js");
const APP_CSS: &str = include_str!("../../static/app_agent.css");

#[derive(Template)]
#[template(path = "app_location.html")]
struct LocationPage<'a> {
    location: &'a str,
    session: &'a str,
    user_id: String,
}

#[derive(Template)]
#[template(path = "message.html")]
struct Refused<'a> {
    title: &'a str,
    message: &'a str,
}

enum Failure {
    /// The token is not Zendesk's, not for us, or expired: 401.
    Token(JwtError),
    /// No key to check it with (not our installation, Zendesk refused): 401.
    NoKey(String),
    /// Slackdesk has no Zendesk credential for the account yet.
    NotConnected,
    Api(ApiError),
}

impl From<crate::storage::StorageError> for Failure {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Api(error.into())
    }
}

/// Who may frame the page: the account's own agent interface (and `FRAME_ANCESTORS`).
fn secure(
    state: &AppState,
    subdomain: Option<&Subdomain>,
    mut response: HttpResponse,
) -> HttpResponse {
    let mut ancestors: Vec<String> = match subdomain {
        Some(s) => vec![format!("https://{}.zendesk.com", s.as_str())],
        None => vec!["'none'".to_owned()],
    };
    ancestors.extend(state.settings.frame_ancestors.iter().cloned());
    if ancestors.len() > 1 {
        ancestors.retain(|a| a != "'none'");
    }
    let policy = format!(
        "default-src 'none'; script-src 'self' https://static.zdassets.com; style-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {}",
        ancestors.join(" ")
    );
    let headers = response.headers_mut();
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&policy) {
        headers.insert(actix_web::http::header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    headers.insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    response
}

/// `POST /zendesk/app/location/{top_bar|nav_bar}` with `token`.
pub(super) async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    name: web::Path<String>,
    payload: web::Payload,
) -> HttpResponse {
    let Some(location) = LOCATIONS.iter().find(|l| **l == name.as_str()) else {
        return secure(
            &state,
            None,
            crate::web::error_page(ApiError::NotFound("app location")),
        );
    };
    let token = match read_token(&state, &req, payload).await {
        Ok(token) => token,
        Err(error) => return secure(&state, None, crate::web::error_page(error)),
    };
    let claimed = zaf_jwt::peek(&token).ok();
    let result = match &claimed {
        Some((subdomain, installation_id)) => {
            identify(&state, &token, subdomain, *installation_id).await
        }
        None => Err(Failure::Token(JwtError::Malformed)),
    };
    let frame_for = claimed.as_ref().map(|(s, _)| s);
    match result {
        Ok(identity) => {
            let credential = match session::mint(&state.db, &identity, state.clock.now_ms()).await {
                Ok(credential) => credential,
                Err(error) => {
                    return secure(&state, frame_for, crate::web::error_page(error.into()));
                }
            };
            tracing::info!(
                subdomain = %identity.subdomain,
                installation_id = identity.installation_id,
                user_id = identity.user_id.get(),
                location,
                "app page opened with a verified Zendesk JWT"
            );
            let page = LocationPage {
                location,
                session: &credential,
                user_id: identity.user_id.get().to_string(),
            };
            secure(&state, frame_for, html(StatusCode::OK, &page))
        }
        Err(Failure::NotConnected) => {
            let page = LocationPage {
                location,
                session: "",
                user_id: String::new(),
            };
            secure(&state, frame_for, html(StatusCode::OK, &page))
        }
        Err(Failure::Token(code)) => {
            tracing::info!(code = %code, location, "app page refused: bad Zendesk JWT");
            refused(&state, frame_for)
        }
        Err(Failure::NoKey(code)) => {
            tracing::warn!(code = %code, location, "app page refused: no app key to verify with");
            refused(&state, frame_for)
        }
        Err(Failure::Api(error)) => secure(&state, frame_for, crate::web::error_page(error)),
    }
}

fn refused(state: &AppState, subdomain: Option<&Subdomain>) -> HttpResponse {
    let page = Refused {
        title: "Not opened",
        message: "Zendesk did not vouch for this page. Open slackdesk from the Zendesk agent interface.",
    };
    secure(state, subdomain, html(StatusCode::UNAUTHORIZED, &page))
}

async fn read_token(
    state: &AppState,
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<String, ApiError> {
    let body = read_body(req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(req, &body)?;
    Ok(form.non_empty("token")?.to_owned())
}

/// Verifies the token with the installation's key, fetching the key again once when it
/// is stale or, after a bad signature, not recent.
async fn identify(
    state: &AppState,
    token: &str,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<ZafIdentity, Failure> {
    let now = state.clock.now_ms();
    let cached = app_sessions::find_key(&state.db, subdomain, installation_id)
        .await?
        .filter(|k| now - k.fetched_at < KEY_FRESH_MS);
    let key = match cached {
        Some(key) => key,
        None => fetch_key(state, subdomain, installation_id).await?,
    };
    match check(token, &key, now, subdomain, installation_id) {
        Err(Failure::Token(JwtError::Signature)) if now - key.fetched_at >= KEY_RECHECK_MS => {
            let key = fetch_key(state, subdomain, installation_id).await?;
            check(token, &key, now, subdomain, installation_id)
        }
        other => other,
    }
}

fn check(
    token: &str,
    key: &StoredKey,
    now: i64,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<ZafIdentity, Failure> {
    let public_key = zaf_jwt::rsa_public_key_from_pem(&key.public_key_pem)
        .ok_or_else(|| Failure::NoKey("stored_key_unreadable".into()))?;
    zaf_jwt::verify(
        token,
        &public_key,
        now.div_euclid(1000),
        subdomain,
        installation_id,
    )
    .map_err(Failure::Token)
}

async fn fetch_key(
    state: &AppState,
    subdomain: &Subdomain,
    installation_id: i64,
) -> Result<StoredKey, Failure> {
    let auth = match state.connections.open(subdomain).await {
        Ok(auth) => auth,
        Err(ConnectionError::NotConnected) => return Err(Failure::NotConnected),
        Err(ConnectionError::Storage(error)) => return Err(error.into()),
        Err(ConnectionError::NeedsReconnect(reason)) => {
            return Err(Failure::NoKey(format!("zendesk_needs_reconnect_{reason}")));
        }
        Err(_) => return Err(Failure::NoKey("credential_unreadable".into())),
    };
    let now = state.clock.now_ms();
    state
        .rate_limiter
        .check_second(
            &format!("appkey:{}", subdomain.as_str()),
            KEY_FETCHES_PER_SECOND,
        )
        .map_err(|retry_after_secs| Failure::Api(ApiError::TooManyRequests { retry_after_secs }))?;
    let app_id = installation::check_is_ours(state, subdomain, &auth, installation_id)
        .await
        .map_err(|e| Failure::NoKey(e.0))?;
    let pem = installation::public_key_pem(state, subdomain, &auth, app_id)
        .await
        .map_err(|e| Failure::NoKey(e.0))?;
    if zaf_jwt::rsa_public_key_from_pem(&pem).is_none() {
        return Err(Failure::NoKey("not_an_rsa_public_key".into()));
    }
    let key = StoredKey {
        app_id,
        public_key_pem: pem,
        fetched_at: now,
    };
    app_sessions::save_key(&state.db, subdomain, installation_id, &key).await?;
    tracing::info!(subdomain = %subdomain, installation_id, app_id, "app public key fetched");
    Ok(key)
}

/// `GET /zendesk/app/assets/app.js` and `app.css`: the pages' script and style.
pub(super) async fn asset(name: web::Path<String>) -> HttpResponse {
    let (body, content_type) = match name.as_str() {
        "app.js" => (APP_JS, "text/javascript; charset=utf-8"),
        "app.css" => (APP_CSS, "text/css; charset=utf-8"),
        _ => return HttpResponse::NotFound().finish(),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=300"))
        .body(body)
}
