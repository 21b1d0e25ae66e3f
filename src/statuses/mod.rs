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
pub mod connect;
pub mod keys;
mod notify;
pub mod openapi;
mod rate_limit;
pub mod rules;
pub mod wire;

pub use auth::Caller;
pub use rate_limit::RateLimiter;

use actix_web::web;

/// The status API's paths, shared by the router and the OpenAPI document.
pub mod paths {
    pub const CURRENT_ALL: &str = "/zendesk/user_statuses/current";
    pub const CURRENT_ONE: &str = "/zendesk/users/{user_id}/statuses/current";
    pub const CREATE_MANY: &str = "/zendesk/user_statuses/create_many";
    pub const INCREMENTAL: &str = "/zendesk/user_statuses/incremental";
    pub const OPENAPI: &str = "/openapi.json";
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(paths::CURRENT_ALL, web::get().to(api::current_all))
        .route(paths::CURRENT_ONE, web::get().to(api::current_one))
        .route(paths::CREATE_MANY, web::post().to(api::create_many))
        .route(paths::INCREMENTAL, web::get().to(api::incremental))
        .route(paths::OPENAPI, web::get().to(openapi::serve));
}
