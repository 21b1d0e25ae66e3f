//! The agents' Zendesk app, server side: the app's pages (server-side locations Zendesk
//! opens with a signed ZAF JWT, which names the agent), the account token and the agent
//! session, the API the app reaches through Zendesk's proxy (`/app/v1/…`, including the
//! agent's "Next ticket"), authorizing the app and signing admins in through Zendesk
//! OAuth (`/zendesk/app/…`), and the app's own settings page.
//!
//! ```text
//!  Zendesk ──POST token=<ZAF JWT, RS256>──▶ /zendesk/app/location/{top_bar,nav_bar}
//!        verified (app public key, exp, iss, aud) ──▶ page + agent session (hash stored)
//!  page ──client.request({secure:true}, X-Slackdesk-Session)──▶ Zendesk proxy
//!        ──Bearer {{setting.token}}──▶ /app/v1/*  (account from the token, agent from the session)
//!  Authorize / admin pages ──new tab──▶ /zendesk/app/{authorize,open} ──OAuth──▶ callback
//!        callback ──PUT installations/{id} settings.token──▶ Zendesk (token never in a browser)
//! ```
//!
//! The page's script and style are `static/app_agent.{js,css}`, its HTML
//! `templates/app_location.html`; the uploaded app (manifest, icons, translations) lives in
//! `zendesk-app/`; packaging is in [`crate::zendesk_app`].

pub(crate) mod api;
pub mod installation;
pub mod location;
pub(crate) mod next_ticket;
pub mod session;
mod settings;
mod sign_in;
pub mod token;
pub mod zaf_jwt;

pub use api::AgentView;
pub use sign_in::CALLBACK_PATH;

use actix_web::{HttpResponse, web};

const CONTINUE_JS: &str = include_str!("../../static/app_continue.js");

/// The app's paths.
pub mod paths {
    pub const ME: &str = "/app/v1/me";
    pub const STATUS: &str = "/app/v1/status";
    pub const HEARTBEAT: &str = "/app/v1/heartbeat";
    pub const NEXT_TICKET: &str = "/app/v1/next_ticket";
    pub const AUTHORIZE: &str = "/zendesk/app/authorize";
    pub const OPEN: &str = "/zendesk/app/open";
    pub const SETTINGS: &str = super::settings::PATH;
    pub const TOP_BAR: &str = "/zendesk/app/location/top_bar";
    pub const NAV_BAR: &str = "/zendesk/app/location/nav_bar";
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(only(paths::ME, "GET", web::get().to(api::me)))
        .service(only(paths::STATUS, "POST", web::post().to(api::change)))
        .service(only(
            paths::HEARTBEAT,
            "POST",
            web::post().to(api::heartbeat),
        ))
        .service(only(
            paths::NEXT_TICKET,
            "POST",
            web::post().to(next_ticket::next_ticket),
        ))
        .service(only(
            "/zendesk/app/location/{name}",
            "POST",
            web::post().to(location::open),
        ))
        .route("/zendesk/app/assets/{name}", web::get().to(location::asset))
        .route(paths::AUTHORIZE, web::get().to(sign_in::authorize))
        .route(paths::OPEN, web::get().to(sign_in::open))
        .route(sign_in::CALLBACK_PATH, web::get().to(sign_in::callback))
        .route(paths::SETTINGS, web::get().to(settings::show))
        .route(paths::SETTINGS, web::post().to(settings::save))
        .route(
            "/static/app_continue.js",
            web::get().to(|| async {
                HttpResponse::Ok()
                    .content_type("text/javascript; charset=utf-8")
                    .insert_header(("Cache-Control", "public, max-age=3600"))
                    .body(CONTINUE_JS)
            }),
        );
}

/// A path served by one method; any other method gets 405 with `Allow`.
fn only(path: &str, allow: &'static str, route: actix_web::Route) -> actix_web::Resource {
    crate::web::resource_allowing(path, allow).route(route)
}
