//! Renders a Slack message's text for Zendesk: plain text and HTML (see [`super::mrkdwn`]).
//!
//! Names of mentioned people and channels are looked up at that moment and never stored;
//! a lookup that fails leaves the id in place rather than holding the message back.

use std::collections::HashMap;

use super::mrkdwn::{self, Names};
use crate::config::Secret;
use crate::domain::{SlackTeamId, SlackUserId};
use crate::state::AppState;

/// Zendesk's limit for `message` and `html_message`, in characters.
const ZENDESK_TEXT_MAX: usize = 65_535;
/// Most mentions resolved per message (each is one Slack call).
const MAX_LOOKUPS: usize = 20;

pub struct RenderedText {
    pub plain: String,
    pub html: String,
}

#[derive(Default)]
struct LookedUp {
    users: HashMap<String, String>,
    channels: HashMap<String, String>,
}

impl Names for LookedUp {
    fn user(&self, id: &str) -> Option<String> {
        self.users.get(id).cloned()
    }

    fn channel(&self, id: &str) -> Option<String> {
        self.channels.get(id).cloned()
    }
}

/// The message as Zendesk shows it.
pub async fn render_message(
    state: &AppState,
    token: &Secret,
    team: &SlackTeamId,
    text: &str,
) -> RenderedText {
    let (users, channels) = mrkdwn::mentioned_ids(text);
    let mut names = LookedUp::default();
    for user in users.iter().take(MAX_LOOKUPS) {
        let Ok(id) = SlackUserId::parse(user) else {
            continue;
        };
        if let Some(profile) = state.content.profile(team.as_str(), user) {
            names.users.insert(user.clone(), profile.display_name);
        } else if let Ok(profile) = state.slack.profile(token, &id).await {
            state
                .content
                .remember_profile(team.as_str(), user, profile.clone());
            names.users.insert(user.clone(), profile.display_name);
        }
    }
    for channel in channels.iter().take(MAX_LOOKUPS) {
        if let Ok(found) = state.slack.conversation(token, channel).await
            && !found.name.is_empty()
        {
            names.channels.insert(channel.clone(), found.name);
        }
    }
    let rendered = mrkdwn::render(text, &names);
    RenderedText {
        plain: truncate(rendered.plain),
        html: if rendered.html.chars().count() > ZENDESK_TEXT_MAX {
            String::new()
        } else {
            rendered.html
        },
    }
}

/// Cuts text to Zendesk's limit, saying so.
fn truncate(text: String) -> String {
    if text.chars().count() <= ZENDESK_TEXT_MAX {
        return text;
    }
    let note = "\n[…message shortened for Zendesk]";
    let keep = ZENDESK_TEXT_MAX - note.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(note);
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_to_zendesks_limit() {
        let long = "x".repeat(70_000);
        let cut = truncate(long);
        assert_eq!(cut.chars().count(), ZENDESK_TEXT_MAX);
        assert!(cut.ends_with("shortened for Zendesk]"));
        assert_eq!(truncate("short".into()), "short");
    }
}
