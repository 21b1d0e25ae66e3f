//! The Slack part of the admin UI: the workspaces this Zendesk account may use, their
//! channels (names are read from Slack for the page and never stored), and each linked
//! channel's settings.
//!
//! Form fields: `link` = `{team}:{channel}` once per linked channel, and per channel
//! `{team}:{channel}:{setting}`. Channel ids are checked against what the bot can see in
//! a workspace granted to this account, so a forged form cannot link anyone else's channel.

use std::collections::BTreeMap;

use crate::domain::{AccountId, SlackChannelId, SlackTeamId};
use crate::slack::is_emoji_name;
use crate::state::AppState;
use crate::storage::channel_links::{self, ChannelSettings, StartMode};
use crate::storage::{StorageError, Tx, slack_workspaces, workspace_grants};
use crate::web::{ApiError, Form};

const GROUP_MINUTES_MAX: u32 = 24 * 60;

/// Links chosen in the form, per workspace that could be checked.
pub type Links = BTreeMap<SlackTeamId, Vec<(SlackChannelId, ChannelSettings)>>;

/// What the page shows about Slack.
pub struct SlackSection {
    /// Link that installs the Slack app for this account (when OAuth is configured).
    pub install_url: Option<String>,
    pub workspaces: Vec<WorkspaceView>,
}

pub struct WorkspaceView {
    pub team: String,
    /// Why the workspace cannot be used right now, in words.
    pub problem: Option<String>,
    /// What Slack refused lately (a missing scope, access not granted), in words; its
    /// messages wait until an admin fixes it.
    pub attention: Option<String>,
    pub channels: Vec<ChannelRow>,
}

pub struct ChannelRow {
    pub key: String,
    pub name: String,
    pub is_private: bool,
    pub is_member: bool,
    pub linked: bool,
    pub settings: ChannelSettings,
    pub tags: String,
    pub reaction_start: bool,
}

/// Loads the workspaces granted to the subdomain and their channels.
pub async fn load(
    state: &AppState,
    account: Option<AccountId>,
    session_token: &str,
) -> Result<SlackSection, StorageError> {
    let links = match account {
        Some(account) => channel_links::for_account(&state.db, account).await?,
        None => Vec::new(),
    };
    let mut workspaces = Vec::new();
    let session_hash = crate::crypto::tokens::hash_secret(session_token);
    for team in workspace_grants::teams_for(&state.db, account, &session_hash).await? {
        workspaces.push(workspace_view(state, &team, &links).await?);
    }
    let install_url = state
        .settings
        .slack_client_id
        .as_ref()
        .map(|_| format!("/slack/install?session={session_token}"));
    Ok(SlackSection {
        install_url,
        workspaces,
    })
}

async fn workspace_view(
    state: &AppState,
    team: &SlackTeamId,
    links: &[channel_links::ChannelLink],
) -> Result<WorkspaceView, StorageError> {
    let workspace = slack_workspaces::find(&state.db, &state.keys, team).await?;
    let mut view = WorkspaceView {
        team: team.to_string(),
        problem: None,
        attention: None,
        channels: Vec::new(),
    };
    if let Some(code) = workspace.as_ref().and_then(|w| w.needs_attention.clone())
        && workspace.as_ref().is_some_and(|w| w.bot_token.is_some())
    {
        view.attention = Some(format!(
            "Slack refused slackdesk here ({code}); messages from this workspace wait. Reinstall the Slack app with its scopes (Connect Slack) or ask a Slack admin to grant access."
        ));
    }
    let Some(token) = workspace.and_then(|w| w.bot_token) else {
        view.problem =
            Some("The Slack app was removed from this workspace. Connect Slack again.".into());
        return Ok(view);
    };
    match state.slack.conversations(&token).await {
        Ok(conversations) => {
            view.channels = conversations
                .into_iter()
                .filter(|c| SlackChannelId::parse(&c.id).is_ok())
                .map(|c| {
                    let existing = links
                        .iter()
                        .find(|l| &l.team == team && l.channel.as_str() == c.id);
                    let settings = existing.map(|l| l.settings.clone()).unwrap_or_default();
                    ChannelRow {
                        key: format!("{team}:{}", c.id),
                        name: c.name,
                        is_private: c.is_private,
                        is_member: c.is_member,
                        linked: existing.is_some(),
                        tags: settings.ticket_tags.join(" "),
                        reaction_start: settings.start == StartMode::Reaction,
                        settings,
                    }
                })
                .collect();
        }
        Err(error) => {
            view.problem = Some(format!(
                "Slack did not list the channels ({}).",
                error.code()
            ));
        }
    }
    Ok(view)
}

/// Shows what the sent-back form asked for instead of what is stored: the channels it
/// ticked and their settings, so a mistake elsewhere on the form does not lose them. A
/// channel whose own settings are wrong keeps its stored settings but the typed tags.
pub fn keep_ticks(section: &mut SlackSection, form: &Form) {
    let ticked = form.all("link");
    for channel in section
        .workspaces
        .iter_mut()
        .flat_map(|w| w.channels.iter_mut())
    {
        channel.linked = ticked.contains(&channel.key.as_str());
        if let Ok(settings) = channel_settings(form, &channel.key) {
            channel.reaction_start = settings.start == StartMode::Reaction;
            channel.settings = settings;
        }
        if let Ok(Some(tags)) = form.optional(&format!("{}:tags", channel.key)) {
            tags.clone_into(&mut channel.tags);
        }
    }
}

/// The links the form asks for, per workspace that could be checked. A workspace whose
/// channels could not be listed is left out, so its existing links stay as they are.
pub async fn parse_links(
    state: &AppState,
    account: Option<AccountId>,
    session_hash: &str,
    form: &Form,
) -> Result<Links, ApiError> {
    let mut visible: BTreeMap<SlackTeamId, Vec<String>> = BTreeMap::new();
    for team in workspace_grants::teams_for(&state.db, account, session_hash).await? {
        let token = slack_workspaces::find(&state.db, &state.keys, &team)
            .await?
            .and_then(|w| w.bot_token);
        if let Some(token) = token
            && let Ok(conversations) = state.slack.conversations(&token).await
        {
            visible.insert(team, conversations.into_iter().map(|c| c.id).collect());
        }
    }
    let mut result: BTreeMap<SlackTeamId, Vec<(SlackChannelId, ChannelSettings)>> = visible
        .keys()
        .map(|team| (team.clone(), Vec::new()))
        .collect();
    let mut keys = form.all("link");
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let (team, channel) = parse_key(key)?;
        let seen = visible
            .get(&team)
            .is_some_and(|ids| ids.iter().any(|id| id == channel.as_str()));
        if !seen {
            return Err(ApiError::invalid(
                "link",
                "names a channel this account's Slack app cannot see",
            ));
        }
        let settings = channel_settings(form, key)?;
        if let Some(links) = result.get_mut(&team) {
            links.push((channel, settings));
        }
    }
    Ok(result)
}

/// Zendesk's ticket priorities and types.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];
pub const TYPES: [&str; 4] = ["question", "incident", "problem", "task"];

/// One of `allowed`, or none when empty.
fn choice(raw: Option<String>, allowed: &[&str], field: &str) -> Result<Option<String>, ApiError> {
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) if allowed.contains(&value) => Ok(Some(value.to_owned())),
        Some(_) => Err(ApiError::invalid(
            field,
            format!("must be one of {}", allowed.join(", ")),
        )),
    }
}

fn parse_key(key: &str) -> Result<(SlackTeamId, SlackChannelId), ApiError> {
    let (team, channel) = key
        .split_once(':')
        .ok_or_else(|| ApiError::invalid("link", "must be team:channel"))?;
    let team = SlackTeamId::parse(team).map_err(|e| ApiError::invalid("link", e.0))?;
    let channel = SlackChannelId::parse(channel).map_err(|e| ApiError::invalid("link", e.0))?;
    Ok((team, channel))
}

fn channel_settings(form: &Form, key: &str) -> Result<ChannelSettings, ApiError> {
    let field = |name: &str| format!("{key}:{name}");
    let value = |name: &str| -> Result<Option<String>, ApiError> {
        Ok(form.optional(&field(name))?.map(str::to_owned))
    };
    let defaults = ChannelSettings::default();
    let start = match value("start")?.as_deref() {
        None | Some("every_message") => StartMode::EveryMessage,
        Some("reaction") => StartMode::Reaction,
        Some(_) => {
            return Err(ApiError::invalid(
                field("start"),
                "must be every_message or reaction",
            ));
        }
    };
    let emoji = |name: &str, default: &str, allow_empty: bool| -> Result<String, ApiError> {
        let raw = value(name)?.unwrap_or_else(|| default.to_owned());
        let trimmed = raw.trim().trim_matches(':').to_owned();
        if (allow_empty && trimmed.is_empty()) || is_emoji_name(&trimmed) {
            Ok(trimmed)
        } else {
            Err(ApiError::invalid(
                field(name),
                "must be an emoji name like ticket or white_check_mark",
            ))
        }
    };
    let minutes = value("group")?.unwrap_or_else(|| "0".into());
    let same_sender_minutes: u32 = minutes
        .trim()
        .parse()
        .ok()
        .filter(|m| *m <= GROUP_MINUTES_MAX)
        .ok_or_else(|| {
            ApiError::invalid(field("group"), "must be a number of minutes from 0 to 1440")
        })?;
    Ok(ChannelSettings {
        ticket_tags: super::admin::parse_tags(&value("tags")?.unwrap_or_default()).map_err(
            |_| {
                ApiError::invalid(
                    field("tags"),
                    "tags may hold letters, digits and _ - / : . (at most 20)",
                )
            },
        )?,
        replies_as_internal_notes: value("replies")?.as_deref() == Some("internal"),
        start,
        start_emoji: emoji("emoji", &defaults.start_emoji, false)?,
        same_sender_minutes,
        sync_edits: value("edits")?.is_some(),
        sync_deletes: value("deletes")?.is_some(),
        ticket_reaction: emoji("reaction", "", true)?,
        ticket_priority: choice(value("priority")?, &PRIORITIES, &field("priority"))?,
        ticket_type: choice(value("type")?, &TYPES, &field("type"))?,
    })
}

/// Stores the account's links for every workspace that could be checked.
pub async fn save_links(
    tx: &mut Tx,
    account: AccountId,
    links: &Links,
) -> Result<(), StorageError> {
    for (team, channels) in links {
        channel_links::replace_for_team(tx, account, team, channels).await?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn channel_settings_are_read_and_checked() {
        let form = Form::from_bytes(
            b"T1%3AC1%3Atags=Vip+slack&T1%3AC1%3Areplies=internal&T1%3AC1%3Astart=reaction&T1%3AC1%3Aemoji=%3Asos%3A&T1%3AC1%3Agroup=15&T1%3AC1%3Aedits=on&T1%3AC1%3Areaction=",
        )
        .unwrap();
        let settings = channel_settings(&form, "T1:C1").unwrap();
        assert_eq!(settings.ticket_tags, vec!["vip", "slack"]);
        assert!(settings.replies_as_internal_notes);
        assert_eq!(settings.start, StartMode::Reaction);
        assert_eq!(settings.start_emoji, "sos");
        assert_eq!(settings.same_sender_minutes, 15);
        assert!(settings.sync_edits && !settings.sync_deletes);
        assert_eq!(settings.ticket_reaction, "");
        let bad = Form::from_bytes(b"T1%3AC1%3Agroup=99999").unwrap();
        assert!(
            matches!(channel_settings(&bad, "T1:C1"), Err(ApiError::InvalidField { field, .. }) if field == "T1:C1:group")
        );
        let bad_emoji = Form::from_bytes(b"T1%3AC1%3Aemoji=%3Cscript%3E").unwrap();
        assert!(channel_settings(&bad_emoji, "T1:C1").is_err());
    }

    #[test]
    fn keys_must_be_slack_ids() {
        assert!(parse_key("T1:C1").is_ok());
        assert!(parse_key("T1").is_err());
        assert!(parse_key("T1:../x").is_err());
    }
}
