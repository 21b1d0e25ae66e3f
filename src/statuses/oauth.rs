//! Connecting a Zendesk account with OAuth (authorization code, SPEC 3):
//!
//! ```text
//!  GET /zendesk/connect?subdomain=acme ──302──▶ {zendesk}/oauth/authorizations/new
//!  Zendesk ──302──▶ GET /zendesk/connect/callback?code&state ──▶ POST /oauth/tokens
//!        ──▶ users/me must be an admin ──▶ token sealed ──▶ agents synced ──▶ page
//! ```
//!
//! The state is random, single use, valid ten minutes, and stored only as a hash.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::connect;
use crate::crypto::tokens::{hash_secret, random_secret};
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::oauth_states;
use crate::web::{ApiError, Form, html};
use crate::zendesk::connection::{ConnectionError, Grant};

const STATE_TTL_MS: i64 = 10 * 60_000;
pub const CALLBACK_PATH: &str = "/zendesk/connect/callback";

#[derive(Template)]
#[template(path = "message.html")]
struct ResultPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    html(status, &ResultPage { title, message })
}

/// `GET /zendesk/connect?subdomain=`: sends the admin to Zendesk to authorize.
pub(super) async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let form = Form::from_bytes(req.query_string().as_bytes())?;
    let subdomain = Subdomain::parse(form.non_empty("subdomain")?)
        .map_err(|e| ApiError::invalid("subdomain", e.0))?;
    let Some(client_id) = state.settings.zendesk_client_id.as_deref() else {
        return Err(ApiError::Unprocessable {
            code: "oauth_not_configured".into(),
            message: "ZENDESK_CLIENT_ID and ZENDESK_CLIENT_SECRET are not set".into(),
        });
    };
    let secret = random_secret();
    let expires = state.clock.now_ms() + STATE_TTL_MS;
    oauth_states::insert(&state.db, &hash_secret(&secret), &subdomain, expires).await?;
    let mut url = url::Url::parse(&format!(
        "{}/oauth/authorizations/new",
        state.zendesk.base_url(&subdomain)
    ))
    .map_err(ApiError::internal)?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair(
            "redirect_uri",
            &state.settings.public_url_for(CALLBACK_PATH),
        )
        .append_pair("scope", "read write")
        .append_pair("state", &secret);
    Ok(HttpResponse::Found()
        .insert_header(("Location", url.as_str()))
        .insert_header(("Cache-Control", "no-store"))
        .finish())
}

/// `GET /zendesk/connect/callback`: Zendesk sends the admin back with a code.
pub(super) async fn callback(state: web::Data<AppState>, req: HttpRequest) -> HttpResponse {
    match finish(&state, &req).await {
        Ok((subdomain, agents)) => page(
            StatusCode::OK,
            "Zendesk connected",
            &format!(
                "{subdomain} is connected; {agents} agents synced. Close this tab and reload the slackdesk page you came from to see it."
            ),
        ),
        Err(Failure::Refused(message)) => page(StatusCode::BAD_REQUEST, "Not connected", message),
        Err(Failure::NotAdmin) => page(
            StatusCode::FORBIDDEN,
            "Not connected",
            "Only a Zendesk admin can connect the account.",
        ),
        Err(Failure::Upstream(code)) => {
            tracing::warn!(code = %code, "Zendesk OAuth connection failed");
            page(
                StatusCode::BAD_GATEWAY,
                "Not connected",
                "Zendesk did not complete the connection; please try again.",
            )
        }
        Err(Failure::Internal(error)) => actix_web::ResponseError::error_response(&error),
    }
}

enum Failure {
    Refused(&'static str),
    NotAdmin,
    Upstream(String),
    Internal(ApiError),
}

async fn finish(state: &AppState, req: &HttpRequest) -> Result<(Subdomain, usize), Failure> {
    let form = Form::from_bytes(req.query_string().as_bytes())
        .map_err(|_| Failure::Refused("The link is malformed."))?;
    let field = |name| form.optional(name).ok().flatten().filter(|v| !v.is_empty());
    let secret = field("state").ok_or(Failure::Refused("The link is malformed."))?;
    let subdomain = oauth_states::take(&state.db, &hash_secret(secret), state.clock.now_ms())
        .await
        .map_err(|e| Failure::Internal(e.into()))?
        .ok_or(Failure::Refused(
            "This link expired or was already used; start again.",
        ))?;
    if field("error").is_some() {
        return Err(Failure::Refused(
            "Zendesk did not authorize the connection.",
        ));
    }
    let code = field("code").ok_or(Failure::Refused("The link is malformed."))?;
    let (Some(client_id), Some(client_secret)) = (
        state.settings.zendesk_client_id.as_deref(),
        state.settings.zendesk_client_secret.as_ref(),
    ) else {
        return Err(Failure::Refused("Zendesk OAuth is not configured."));
    };
    let redirect_uri = state.settings.public_url_for(CALLBACK_PATH);
    let tokens = state
        .zendesk
        .exchange_code(&subdomain, client_id, client_secret, code, &redirect_uri)
        .await
        .map_err(|e| Failure::Upstream(e.code()))?;
    match connect::connect(state, &subdomain, Grant::AuthorizationCode(tokens)).await {
        Ok(report) => Ok((subdomain, report.agents)),
        Err(ConnectionError::NotAdmin) => Err(Failure::NotAdmin),
        Err(ConnectionError::Zendesk(e)) => Err(Failure::Upstream(e.code())),
        Err(ConnectionError::Refused(code)) => Err(Failure::Upstream(code)),
        Err(other) => Err(Failure::Internal(ApiError::internal(other))),
    }
}
