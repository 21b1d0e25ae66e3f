//! The Slack app manifest for this deployment (`slackdesk slack manifest`): paste it into
//! "Create an app → From a manifest" and the app has the right scopes, events and URLs.

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

/// The manifest as YAML, with every URL built from `PUBLIC_URL`.
pub fn render(settings: &Settings) -> String {
    let list = |items: &[&str], indent: &str| -> String {
        items.iter().map(|i| format!("{indent}- {i}\n")).collect()
    };
    format!(
        "display_information:\n  name: slackdesk\n  description: Slack conversations as Zendesk tickets\n  background_color: \"#4338ca\"\n\
         features:\n  bot_user:\n    display_name: slackdesk\n    always_online: true\n\
         oauth_config:\n  redirect_urls:\n    - {redirect}\n  scopes:\n    bot:\n{scopes}\
         settings:\n  event_subscriptions:\n    request_url: {events}\n    bot_events:\n{bot_events}\
         \x20 org_deploy_enabled: false\n  socket_mode_enabled: false\n  token_rotation_enabled: false\n",
        redirect = settings.public_url_for("/slack/oauth/callback"),
        scopes = list(&BOT_SCOPES, "      "),
        events = settings.public_url_for("/slack/events"),
        bot_events = list(&BOT_EVENTS, "      "),
    )
}
