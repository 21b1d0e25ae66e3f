//! What every HTTP endpoint shares: the API error type (status code + stable JSON code),
//! reading bodies under the size limit, and strict form and JSON parsing that names the
//! field at fault.

mod body;
mod error;
mod form;

pub use body::{read_body, read_json};
pub use error::{ApiError, error_chain};
pub use form::Form;

mod assets;
pub use assets::routes as asset_routes;

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

/// Renders an askama page with a status; a render failure is a logged 500.
pub fn html(status: StatusCode, page: &impl askama::Template) -> HttpResponse {
    match page.render() {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(error) => actix_web::ResponseError::error_response(&ApiError::internal(error)),
    }
}

/// Refuses a form the browser says was posted from another site (`Sec-Fetch-Site:
/// cross-site`). Sign-in forms carry no CSRF token yet (there is no session), so this is
/// `303 See Other` to `location`: where a page goes after a form it accepted.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}

/// what stops a page elsewhere signing a visitor in to someone else's account.
pub fn refuse_cross_site(req: &actix_web::HttpRequest) -> Result<(), ApiError> {
    let cross_site = req
        .headers()
        .get("Sec-Fetch-Site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
    if cross_site {
        return Err(ApiError::Forbidden("sign in from slackdesk's own page"));
    }
    Ok(())
}

/// A path whose other methods answer 405 with `Allow: {allow}` (JSON error); add the
/// path's routes to it.
pub fn resource_allowing(path: &str, allow: &'static str) -> actix_web::Resource {
    actix_web::web::resource(path).default_service(actix_web::web::to(move || async move {
        Err::<HttpResponse, _>(ApiError::MethodNotAllowed { allow })
    }))
}

/// A page with a title and one message: confirmations, refusals and errors.
#[derive(askama::Template)]
#[template(path = "message.html")]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub message: &'a str,
}

/// An error as a readable page (for browser-facing endpoints); 500s say nothing inside.
pub fn error_page(error: ApiError) -> HttpResponse {
    use actix_web::ResponseError;
    let status = error.status_code();
    let message = match &error {
        ApiError::Internal(_) => {
            let _ = error.error_response(); // logs the cause
            "Something went wrong on our side. Please try again.".to_owned()
        }
        other => other.to_string(),
    };
    html(
        status,
        &MessagePage {
            title: "Something is not right",
            message: &message,
        },
    )
}
