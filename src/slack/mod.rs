//! Slack: the Web API client, and the HTTP endpoints Slack and Slack admins call —
//! the Events API intake, the OAuth install, the signed file proxy — plus the Slack app
//! manifest this deployment needs.

mod api;
pub mod app_manifest;
mod events;
mod files;
mod install;
mod intake;
pub mod signature;

pub use api::{
    AuthIdentity, Conversation, FileUpload, OauthInstall, SlackClient, SlackError, SlackErrorClass,
    SlackFile, SlackMessage, SlackProfile,
};
pub use events::{
    EventEnvelope, MessageEvent, SlackEvent, classify, is_emoji_name, message_content,
};
pub use files::signed_file_url;
pub use install::BOT_SCOPES;
pub(crate) use install::{sign_state, verify_state};

use actix_web::web;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/slack/events", web::post().to(intake::events))
        .route("/slack/install", web::get().to(install::install))
        .route("/slack/oauth/callback", web::get().to(install::callback))
        .route(
            "/slack/files/{team}/{file}/{expires}/{signature}",
            web::get().to(files::download),
        );
}
