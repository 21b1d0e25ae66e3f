//! Connecting a Zendesk account with a confidential OAuth client, from the browser:
//!
//! ```text
//!  GET  /zendesk/connect/client_credentials?subdomain=acme ─▶ form
//!  POST /zendesk/connect/client_credentials (subdomain, client_id, client_secret)
//!       ─▶ token (client credentials grant) ─▶ users/me is an admin ─▶ stored ─▶ page
//! ```
//!
//! The secret itself proves the right to connect, as an API key does on the board's
//! sign-in form; cross-site posts are refused. Nothing is stored when a check fails.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::board::admin_page;
use super::connect;
use crate::config::Secret;
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::web::{ApiError, Form, html, read_body};
use crate::zendesk::connection::{ConnectionError, Grant};

pub const PATH: &str = "/zendesk/connect/client_credentials";
const FIELD_MAX: usize = 1000;

#[derive(Template)]
#[template(path = "connect_client_credentials.html")]
struct FormPage<'a> {
    subdomain: &'a str,
    client_id: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "message.html")]
struct ResultPage<'a> {
    title: &'a str,
    message: &'a str,
}

fn form_page(
    state: &AppState,
    status: StatusCode,
    subdomain: &Subdomain,
    client_id: &str,
    error: Option<&str>,
) -> HttpResponse {
    let page = FormPage {
        subdomain: subdomain.as_str(),
        client_id,
        error,
    };
    admin_page(state, html(status, &page))
}

fn subdomain_of(form: &Form) -> Result<Subdomain, ApiError> {
    Subdomain::parse(form.non_empty("subdomain")?).map_err(|e| ApiError::invalid("subdomain", e.0))
}

/// `GET /zendesk/connect/client_credentials?subdomain=`.
pub(super) async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let form = Form::from_bytes(req.query_string().as_bytes())?;
    let subdomain = subdomain_of(&form)?;
    Ok(form_page(&state, StatusCode::OK, &subdomain, "", None))
}

/// `POST /zendesk/connect/client_credentials`.
pub(super) async fn submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    crate::web::refuse_cross_site(&req)?;
    let body = read_body(&req, payload, state.settings.max_body_bytes).await?;
    let form = Form::parse(&req, &body)?;
    let subdomain = subdomain_of(&form)?;
    let client_id = bounded(&form, "client_id")?;
    let client_secret = bounded(&form, "client_secret")?;
    let grant = Grant::ClientCredentials {
        client_id: client_id.to_owned(),
        client_secret: Secret::from(client_secret),
    };
    let refused = |status, message: &str| {
        Ok(form_page(
            &state,
            status,
            &subdomain,
            client_id,
            Some(message),
        ))
    };
    match connect::connect(&state, &subdomain, grant).await {
        Ok(report) => {
            let message = format!(
                "{subdomain} is connected with client credentials; {} agents synced. Tokens are renewed automatically. Close this tab and reload the slackdesk page you came from to see it.",
                report.agents
            );
            let page = ResultPage {
                title: "Zendesk connected",
                message: &message,
            };
            Ok(admin_page(&state, html(StatusCode::OK, &page)))
        }
        Err(ConnectionError::Refused(code)) => refused(
            StatusCode::BAD_REQUEST,
            &format!(
                "Zendesk refused this client ({code}): check the identifier and secret, and that the client is confidential."
            ),
        ),
        Err(ConnectionError::NotAdmin) => refused(
            StatusCode::FORBIDDEN,
            "Zendesk accepted the client, but its tokens do not act as an admin. Create the client as a Zendesk admin.",
        ),
        Err(ConnectionError::Zendesk(error)) => {
            tracing::warn!(subdomain = %subdomain, code = %error.code(), "client credentials connection failed");
            refused(
                StatusCode::BAD_GATEWAY,
                &format!(
                    "Zendesk did not complete the check ({}); nothing was stored. Try again.",
                    error.code()
                ),
            )
        }
        Err(other) => Err(ApiError::internal(other)),
    }
}

/// A required field of at most [`FIELD_MAX`] characters.
fn bounded<'a>(form: &'a Form, name: &'static str) -> Result<&'a str, ApiError> {
    let value = form.non_empty(name)?.trim();
    if value.is_empty() || value.len() > FIELD_MAX {
        return Err(ApiError::invalid(name, "must be 1 to 1000 characters"));
    }
    Ok(value)
}
