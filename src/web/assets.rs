//! The stylesheet and script of our pages, built into the binary.

use actix_web::{HttpResponse, web};

const CSS: &str = include_str!("../../static/slackdesk.css");
const AUTOSUBMIT_JS: &str = include_str!("../../static/autosubmit.js");

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/static/slackdesk.css",
        web::get().to(|| asset("text/css; charset=utf-8", CSS)),
    )
    .route(
        "/static/autosubmit.js",
        web::get().to(|| asset("text/javascript; charset=utf-8", AUTOSUBMIT_JS)),
    );
}

async fn asset(content_type: &'static str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(body)
}
