//! `GET /` (the home page with the setup checklist) and `GET /setup/zendesk-app.zip`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, web};
use askama::Template;

use super::checklist::{Checklist, checklist};
use crate::state::AppState;
use crate::web::{ApiError, error_page, html, resource_allowing};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(resource_allowing("/", "GET").route(web::get().to(home)))
        .service(
            resource_allowing(super::account::PATH, "GET")
                .route(web::get().to(super::account::show)),
        )
        .service(
            resource_allowing("/setup/zendesk-app.zip", "GET")
                .route(web::get().to(zendesk_app_zip)),
        );
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    c: &'a Checklist,
    /// "Sign in with Zendesk" is offered (the server has a Zendesk OAuth client).
    zendesk_sign_in: bool,
}

/// `GET /`: what slackdesk is and how far setup has come.
async fn home(state: web::Data<AppState>) -> HttpResponse {
    let zendesk_sign_in = crate::statuses::board::zendesk_sign_in_offered(&state);
    match checklist(&state).await {
        Ok(c) => standalone(
            &state,
            html(
                StatusCode::OK,
                &HomePage {
                    c: &c,
                    zendesk_sign_in,
                },
            ),
        ),
        Err(error) => standalone(&state, error_page(ApiError::from(error))),
    }
}

/// `GET /setup/zendesk-app.zip`: the upload-ready Zendesk app for this deployment.
async fn zendesk_app_zip(state: web::Data<AppState>) -> HttpResponse {
    let state = state.get_ref();
    match super::zendesk_package::build(&state.settings) {
        Ok(zip) => HttpResponse::Ok()
            .content_type("application/zip")
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"{}\"",
                    super::zendesk_package::FILE_NAME
                ),
            ))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(zip),
        Err(error) => standalone(
            state,
            error_page(ApiError::Unprocessable {
                code: "zendesk_app_unavailable".to_owned(),
                message: format!(
                    "The Zendesk app cannot be packaged for this deployment: {}",
                    super::checklist::package_problem(&error)
                ),
            }),
        ),
    }
}

/// The headers of a page that is not framed by anyone: its own stylesheet only, no
/// script, no framing, never cached (the checks are live). Its one form ("Sign in with
/// Zendesk") leads to the account's Zendesk.
fn standalone(state: &AppState, mut response: HttpResponse) -> HttpResponse {
    let policy = format!(
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; \
         form-action 'self' {}; frame-ancestors 'none'",
        state.settings.zendesk_url_template.csp_source()
    );
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
