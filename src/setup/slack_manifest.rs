//! The Slack app manifest as JSON, and the link that creates the app from it.
//!
//! Slack's "Create an app" page (`https://api.slack.com/apps?new_app=1`) opens its "from
//! a manifest" dialog pre-filled when `manifest_json` carries the URL-encoded JSON
//! manifest. It is the same typed manifest as the YAML of
//! [`crate::slack::app_manifest::render`].

use serde_json::Value;

use crate::config::Settings;
use crate::slack::app_manifest;

/// Slack's "Create an app" page; the manifest follows URL-encoded.
pub const CREATE_APP_URL: &str = "https://api.slack.com/apps?new_app=1&manifest_json=";

/// The manifest for this deployment, every URL built from `PUBLIC_URL`: the typed
/// [`app_manifest::AppManifest`] as a JSON value.
pub fn manifest(settings: &Settings) -> Value {
    serde_json::to_value(app_manifest::manifest(settings)).unwrap_or_else(|error| {
        // Only strings, booleans and lists: serializing cannot fail.
        tracing::error!(error = %error, "the Slack app manifest did not serialize");
        Value::Null
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
