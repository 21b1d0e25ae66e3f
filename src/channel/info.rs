//! `GET /channel/healthcheck` and `GET /channel/about`, and the page shown for a link
//! that leads nowhere.

use actix_web::HttpResponse;
use askama::Template;
use serde_json::json;

use crate::web::{MessagePage, html};

#[derive(Template)]
#[template(path = "about.html")]
struct AboutPage {
    version: &'static str,
}

pub async fn healthcheck() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

pub async fn about() -> HttpResponse {
    html(
        actix_web::http::StatusCode::OK,
        &AboutPage {
            version: env!("CARGO_PKG_VERSION"),
        },
    )
}

pub(crate) fn not_found_page(message: &str) -> HttpResponse {
    html(
        actix_web::http::StatusCode::NOT_FOUND,
        &MessagePage {
            title: "Not found",
            message,
        },
    )
}
