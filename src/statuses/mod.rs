//! Agent statuses: a Playlist-compatible status API (SPEC 4) over the agents of a
//! connected Zendesk account, its API keys and rate limits, the status history, and the
//! `/openapi.json` that describes it.
//!
//! ```text
//!  X-API-Key ─▶ auth (hash, per-second, per-day) ─▶ rules ─▶ storage (one tx) ─▶ notify
//!  slackdesk zendesk connect ─▶ connect ─▶ Zendesk users + group memberships ─▶ agents
//! ```

mod api;
mod auth;
pub mod board;
mod board_chart;
mod client_credentials;
pub mod connect;
pub mod export;
pub mod keys;
mod keys_page;
mod notify;
pub mod oauth;
pub mod openapi;
mod rate_limit;
pub mod rules;
mod rules_page;
pub mod schedule;
mod schedules_page;
pub mod status_rules;
pub mod time_zones;
pub mod wire;

pub use auth::{Caller, authenticate};
pub use rate_limit::RateLimiter;

use actix_web::web;

const BOARD_JS: &str = include_str!("../../static/board.js");

/// The status API's paths, shared by the router and the OpenAPI document.
pub mod paths {
    pub const CURRENT_ALL: &str = "/zendesk/user_statuses/current";
    pub const CURRENT_ONE: &str = "/zendesk/users/{user_id}/statuses/current";
    pub const CREATE_MANY: &str = "/zendesk/user_statuses/create_many";
    pub const INCREMENTAL: &str = "/zendesk/user_statuses/incremental";
    /// Playlist's Agent Status Incremental Export.
    pub const INCREMENTAL_EXPORT: &str = "/zendesk/incremental/user_statuses";
    pub const HEARTBEAT: &str = "/zendesk/users/{user_id}/heartbeat";
    pub const OPENAPI: &str = "/openapi.json";
    pub const CONNECT: &str = "/zendesk/connect";
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::CONNECT, web::get().to(oauth::start))
        .route(oauth::CALLBACK_PATH, web::get().to(oauth::callback))
        .route(
            client_credentials::PATH,
            web::get().to(client_credentials::show),
        )
        .route(
            client_credentials::PATH,
            web::post().to(client_credentials::submit),
        )
        .route(board::PATH, web::get().to(board::show))
        .route("/zendesk/board/rows", web::get().to(board::refresh))
        .route("/zendesk/board/sign_in", web::post().to(board::sign_in))
        .route("/zendesk/board/change", web::post().to(board::change))
        .route(schedules_page::PATH, web::get().to(schedules_page::show))
        .route(schedules_page::PATH, web::post().to(schedules_page::save))
        .route(rules_page::PATH, web::get().to(rules_page::show))
        .route(rules_page::PATH, web::post().to(rules_page::save))
        .route(keys_page::PATH, web::get().to(keys_page::show))
        .route(keys_page::PATH, web::post().to(keys_page::create))
        .route(keys_page::REVOKE_PATH, web::post().to(keys_page::revoke))
        .route(
            "/static/board.js",
            web::get().to(|| async {
                actix_web::HttpResponse::Ok()
                    .content_type("text/javascript; charset=utf-8")
                    .insert_header(("Cache-Control", "public, max-age=3600"))
                    .body(BOARD_JS)
            }),
        );
    cfg.service(only(
        paths::CURRENT_ALL,
        "GET",
        web::get().to(api::current_all),
    ))
    .service(only(
        paths::CURRENT_ONE,
        "GET",
        web::get().to(api::current_one),
    ))
    .service(only(
        paths::CREATE_MANY,
        "POST",
        web::post().to(api::create_many),
    ))
    .service(only(
        paths::INCREMENTAL,
        "GET",
        web::get().to(api::incremental),
    ))
    .service(only(
        paths::INCREMENTAL_EXPORT,
        "GET",
        web::get().to(export::handle),
    ))
    .service(only(
        paths::HEARTBEAT,
        "POST",
        web::post().to(api::heartbeat),
    ))
    .service(only(paths::OPENAPI, "GET", web::get().to(openapi::serve)));
}

/// A path served by one method; any other method gets 405 with `Allow`.
fn only(path: &str, allow: &'static str, route: actix_web::Route) -> actix_web::Resource {
    crate::web::resource_allowing(path, allow).route(route)
}
