//! The Slack app manifest for this deployment (`slackdesk slack manifest`): paste it into
//! "Create an app → From a manifest" and the app has the right scopes, events and URLs.
//!
//! The manifest is typed ([`AppManifest`]) and serialized: as YAML here with
//! `serde-saphyr` (maintained, pure Rust, panic-free; serde_yaml is deprecated and
//! serde_yml unsound), and as JSON for the one-click link in `setup::slack_manifest`.

use serde::Serialize;

use super::BOT_SCOPES;
use crate::config::Settings;

/// Bot events the bridge listens to.
pub const BOT_EVENTS: [&str; 5] = [
    "message.channels",
    "message.groups",
    "reaction_added",
    "app_uninstalled",
    "tokens_revoked",
];

/// A Slack app manifest, in the fields and order Slack documents.
#[derive(Debug, Clone, Serialize)]
pub struct AppManifest {
    pub display_information: DisplayInformation,
    pub features: Features,
    pub oauth_config: OauthConfig,
    pub settings: AppSettings,
}

#[derive(Debug, Clone, Serialize)]
pub struct DisplayInformation {
    pub name: &'static str,
    pub description: &'static str,
    pub background_color: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Features {
    pub bot_user: BotUser,
}

#[derive(Debug, Clone, Serialize)]
pub struct BotUser {
    pub display_name: &'static str,
    pub always_online: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct OauthConfig {
    pub redirect_urls: Vec<String>,
    pub scopes: Scopes,
}

#[derive(Debug, Clone, Serialize)]
pub struct Scopes {
    pub bot: &'static [&'static str],
}

#[derive(Debug, Clone, Serialize)]
pub struct AppSettings {
    pub event_subscriptions: EventSubscriptions,
    pub org_deploy_enabled: bool,
    pub socket_mode_enabled: bool,
    pub token_rotation_enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventSubscriptions {
    pub request_url: String,
    pub bot_events: &'static [&'static str],
}

/// The manifest for this deployment, every URL built from `PUBLIC_URL`.
pub fn manifest(settings: &Settings) -> AppManifest {
    manifest_with(
        settings.public_url_for("/slack/oauth/callback"),
        settings.public_url_for("/slack/events"),
    )
}

fn manifest_with(redirect_url: String, request_url: String) -> AppManifest {
    AppManifest {
        display_information: DisplayInformation {
            name: "slackdesk",
            description: "Slack conversations as Zendesk tickets",
            background_color: "#4338ca",
        },
        features: Features {
            bot_user: BotUser {
                display_name: "slackdesk",
                always_online: true,
            },
        },
        oauth_config: OauthConfig {
            redirect_urls: vec![redirect_url],
            scopes: Scopes { bot: &BOT_SCOPES },
        },
        settings: AppSettings {
            event_subscriptions: EventSubscriptions {
                request_url,
                bot_events: &BOT_EVENTS,
            },
            org_deploy_enabled: false,
            socket_mode_enabled: false,
            token_rotation_enabled: false,
        },
    }
}

/// The manifest as YAML, with every URL built from `PUBLIC_URL`.
pub fn render(settings: &Settings) -> String {
    to_yaml(&manifest(settings))
}

/// Lists indented under their key and plain scalars (no folding of long URLs), as the
/// manifest has always been written.
fn to_yaml(manifest: &AppManifest) -> String {
    let options = serde_saphyr::ser_options! {
        compact_list_indent: false,
        prefer_block_scalars: false,
    };
    serde_saphyr::to_string_with_options(manifest, options).unwrap_or_else(|error| {
        // Only strings, booleans and lists: serializing cannot fail.
        tracing::error!(error = %error, "the Slack app manifest did not serialize");
        String::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_yaml_has_every_field_lists_indented_under_their_key() {
        let manifest = manifest_with(
            "https://desk.example.com/slack/oauth/callback".into(),
            "https://desk.example.com/slack/events".into(),
        );
        let scopes: String = BOT_SCOPES
            .iter()
            .map(|scope| format!("      - {scope}\n"))
            .collect();

        let yaml = to_yaml(&manifest);

        let expected = format!(
            "display_information:\n  name: slackdesk\n  description: Slack conversations as Zendesk tickets\n  background_color: \"#4338ca\"\n\
             features:\n  bot_user:\n    display_name: slackdesk\n    always_online: true\n\
             oauth_config:\n  redirect_urls:\n    - https://desk.example.com/slack/oauth/callback\n  scopes:\n    bot:\n{scopes}\
             settings:\n  event_subscriptions:\n    request_url: https://desk.example.com/slack/events\n    bot_events:\n      - message.channels\n      - message.groups\n      - reaction_added\n      - app_uninstalled\n      - tokens_revoked\n\
             \x20 org_deploy_enabled: false\n  socket_mode_enabled: false\n  token_rotation_enabled: false\n"
        );
        assert_eq!(yaml, expected);
    }
}
