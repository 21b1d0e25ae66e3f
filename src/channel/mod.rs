//! The Zendesk Channel Framework endpoints (SPEC 1): manifest, admin UI, pull,
//! channelback, clickthrough, health check, about page and event callbacks.
//!
//! Handlers parse and check the request, make one call into the bridge or storage, and
//! answer. Every request that names an account proves it with the metadata secret
//! ([`metadata`]), compared in constant time before anything is read or written.

mod admin;
mod admin_slack;
mod channelback;
mod clickthrough;
pub(crate) mod events;
mod info;
mod manifest;
pub mod metadata;
mod pull;

pub(crate) use channelback::parse_file_urls;
pub(crate) use pull::acknowledged_rows;

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/manifest.json", web::get().to(manifest::manifest))
        .route("/channel/admin", web::post().to(admin::open))
        .route("/channel/admin/save", web::post().to(admin::save))
        .route(
            "/channel/admin/deliveries",
            web::post().to(admin::delivery_action),
        )
        .route("/channel/pull", web::post().to(pull::pull))
        .route(
            "/channel/channelback",
            web::post().to(channelback::channelback),
        )
        .route(
            "/channel/clickthrough",
            web::get().to(clickthrough::clickthrough),
        )
        .route("/channel/healthcheck", web::get().to(info::healthcheck))
        .route("/channel/about", web::get().to(info::about))
        .route("/channel/events", web::post().to(events::events));
}
