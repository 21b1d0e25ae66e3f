//! The Slack app manifest as JSON, and the link that creates the app from it.
//!
//! Slack's "Create an app" page (`https://api.slack.com/apps?new_app=1`) opens its "from
//! a manifest" dialog pre-filled when `manifest_json` carries the URL-encoded JSON
//! manifest. The content matches the YAML of [`crate::slack::app_manifest::render`].

use serde_json::{Value, json};

use crate::config::Settings;
use crate::slack::BOT_SCOPES;
use crate::slack::app_manifest::BOT_EVENTS;

/// Slack's "Create an app" page; the manifest follows URL-encoded.
pub const CREATE_APP_URL: &str = "https://api.slack.com/apps?new_app=1&manifest_json=";

/// The manifest for this deployment, every URL built from `PUBLIC_URL`.
pub fn manifest(settings: &Settings) -> Value {
    json!({
        "display_information": {
            "name": "slackdesk",
            "description": "Slack conversations as Zendesk tickets",
            "background_color": "#4338ca",
        },
        "features": {
            "bot_user": {"display_name": "slackdesk", "always_online": true},
        },
        "oauth_config": {
            "redirect_urls": [settings.public_url_for("/slack/oauth/callback")],
            "scopes": {"bot": BOT_SCOPES},
        },
        "settings": {
            "event_subscriptions": {
                "request_url": settings.public_url_for("/slack/events"),
                "bot_events": BOT_EVENTS,
            },
            "org_deploy_enabled": false,
            "socket_mode_enabled": false,
            "token_rotation_enabled": false,
        },
    })
}

/// The one-click link that creates the Slack app from [`manifest`].
pub fn create_app_link(settings: &Settings) -> String {
    let json = manifest(settings).to_string();
    // form_urlencoded writes a space as `+` (and a literal `+` as `%2B`); Slack reads the
    // value as a URI component, so spaces go as `%20`.
    let encoded: String = form_urlencoded::byte_serialize(json.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("{CREATE_APP_URL}{encoded}")
}
