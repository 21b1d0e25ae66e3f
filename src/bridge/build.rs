//! Builds the external resource for a queued id, reading the message from Slack.

use chrono::{DateTime, SecondsFormat};

use crate::domain::{SlackMessageRef, SlackTs, SlackUserId};
use crate::slack::SlackError;
use crate::state::AppState;
use crate::storage::accounts::Account;
use crate::storage::channel_links::{self, ChannelSettings};
use crate::storage::outbox::{QueuedResource, ResourceKind};
use crate::storage::{StorageError, slack_workspaces};
use crate::zendesk::{Author, ExternalResource, FieldValue};

const SUBJECT_MAX_CHARS: usize = 80;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the Slack workspace is not connected")]
    WorkspaceDisconnected,
    #[error("the Slack message no longer exists")]
    MessageGone,
    #[error(transparent)]
    Slack(#[from] SlackError),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl BuildError {
    /// Short code kept on the queue row.
    pub fn code(&self) -> String {
        match self {
            Self::WorkspaceDisconnected => "workspace_disconnected".into(),
            Self::MessageGone => "message_not_found".into(),
            Self::Slack(error) => error.code().to_owned(),
            Self::Storage(_) => "storage_error".into(),
        }
    }
}

/// The resource Zendesk gets for one queued row.
pub async fn build_resource(
    state: &AppState,
    account: &Account,
    queued: &QueuedResource,
) -> Result<ExternalResource, BuildError> {
    let workspace = slack_workspaces::find(&state.db, &state.keys, &queued.message.team).await?;
    let token = workspace
        .and_then(|w| w.bot_token)
        .ok_or(BuildError::WorkspaceDisconnected)?;
    let message = &queued.message;
    let thread_id = SlackMessageRef {
        ts: queued.thread_ts.clone(),
        ..message.clone()
    }
    .external_id();
    let base = ResourceBase {
        external_id: queued.external_id.to_string(),
        thread_id: thread_id.to_string(),
        created_at: iso_time(&message.ts),
    };
    if queued.kind == ResourceKind::Delete {
        let mut note = deleted_note(base, message);
        super::limits::fit(&mut note, 0, None);
        return Ok(note);
    }
    let settings = channel_links::find(&state.db, account.id, &message.team, &message.channel)
        .await?
        .map(|link| link.settings)
        .unwrap_or_default();
    let found = match state.content.message(message) {
        Some(cached) => cached,
        None => state
            .slack
            .fetch_message(&token, &message.channel, &queued.parent_ts, &message.ts)
            .await?
            .ok_or(BuildError::MessageGone)?,
    };
    let author_id = found
        .user
        .clone()
        .or(found.bot_id.clone())
        .unwrap_or_else(|| "unknown".into());
    let profile = match SlackUserId::parse(&author_id) {
        Ok(user) => author_profile(state, &token, &message.team, &user).await?,
        Err(_) => None,
    };
    let rendered = super::render::render_message(state, &token, &message.team, &found.text).await;
    let (mut body, mut html) = (rendered.plain, rendered.html);
    if queued.kind == ResourceKind::Edit {
        body = format!("(edited in Slack)\n{body}");
        html = format!("<p><em>(edited in Slack)</em></p>{html}");
    }
    if body.trim().is_empty() {
        body = if found.files.is_empty() {
            "(a Slack message without text)".into()
        } else {
            "(files from Slack)".into()
        };
        html = String::new();
    }
    let is_ticket_start = message.ts == queued.thread_ts && queued.kind == ResourceKind::Message;
    let fields = if is_ticket_start {
        ticket_fields(account, &settings, &body)
    } else {
        Vec::new()
    };
    let (file_urls, unsigned) = file_urls(state, &message.team, &found.files);
    let link = if file_urls.len() > super::limits::MAX_FILES || unsigned > 0 {
        Some(slack_link(state, &token, message).await)
    } else {
        None
    };
    let mut resource = ExternalResource {
        external_id: base.external_id,
        message: body,
        html_message: (!html.trim().is_empty()).then_some(html),
        internal_note: queued.parent_ts != message.ts && settings.replies_as_internal_notes,
        thread_id: base.thread_id,
        created_at: base.created_at,
        author: Author {
            external_id: format!("slack:{}:{author_id}", message.team),
            name: profile
                .as_ref()
                .map(|p| p.display_name.clone())
                .unwrap_or_else(|| format!("Slack user {author_id}")),
            image_url: profile.and_then(|p| p.image_url),
            locale: None,
        },
        allow_channelback: true,
        fields,
        file_urls,
    };
    super::limits::fit(&mut resource, unsigned, link.as_deref());
    Ok(resource)
}

/// Each file of the message as a signed, expiring slackdesk URL, and how many files had
/// no usable id (Zendesk's cap of 10 is applied by `limits::fit`, which names the rest).
fn file_urls(
    state: &AppState,
    team: &crate::domain::SlackTeamId,
    files: &[serde_json::Value],
) -> (Vec<String>, usize) {
    let now = chrono::Utc::now().timestamp();
    let live: Vec<&serde_json::Value> = files
        .iter()
        .filter(|file| file.get("mode").and_then(serde_json::Value::as_str) != Some("tombstone"))
        .collect();
    let urls: Vec<String> = live
        .iter()
        .filter_map(|file| file.get("id").and_then(serde_json::Value::as_str))
        .filter_map(|id| crate::slack::signed_file_url(&state.settings, &state.keys, team, id, now))
        .collect();
    let unsigned = live.len() - urls.len();
    (urls, unsigned)
}

/// Where the message is in Slack: its permalink, else Slack's redirect into the channel.
async fn slack_link(
    state: &AppState,
    token: &crate::config::Secret,
    message: &SlackMessageRef,
) -> String {
    match state
        .slack
        .permalink(token, &message.channel, &message.ts)
        .await
    {
        Ok(link) if link.starts_with("https://") => link,
        _ => format!(
            "https://slack.com/app_redirect?team={}&channel={}",
            message.team, message.channel
        ),
    }
}

/// The author's name and picture. A user Slack cannot describe (deleted, or from another
/// organisation) is shown by id rather than holding the message back forever.
async fn author_profile(
    state: &AppState,
    token: &crate::config::Secret,
    team: &crate::domain::SlackTeamId,
    user: &SlackUserId,
) -> Result<Option<crate::slack::SlackProfile>, BuildError> {
    if let Some(profile) = state.content.profile(team.as_str(), user.as_str()) {
        return Ok(Some(profile));
    }
    match state.slack.profile(token, user).await {
        Ok(profile) => {
            state
                .content
                .remember_profile(team.as_str(), user.as_str(), profile.clone());
            Ok(Some(profile))
        }
        Err(error @ SlackError::Api { .. }) if !error.is_token_problem() => {
            tracing::info!(user = %user, code = error.code(), "author profile unavailable; using the id");
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

struct ResourceBase {
    external_id: String,
    thread_id: String,
    created_at: String,
}

fn deleted_note(base: ResourceBase, message: &SlackMessageRef) -> ExternalResource {
    ExternalResource {
        external_id: base.external_id,
        message: "This message was deleted in Slack.".into(),
        html_message: None,
        internal_note: true,
        thread_id: base.thread_id,
        created_at: base.created_at,
        author: Author {
            external_id: format!("slack:{}:slackdesk", message.team),
            name: "slackdesk".into(),
            image_url: None,
            locale: None,
        },
        allow_channelback: false,
        fields: Vec::new(),
        file_urls: Vec::new(),
    }
}

fn ticket_fields(account: &Account, settings: &ChannelSettings, body: &str) -> Vec<FieldValue> {
    let first_line = body
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("Slack conversation");
    let subject: String = first_line.trim().chars().take(SUBJECT_MAX_CHARS).collect();
    let mut fields = vec![FieldValue {
        id: "subject".into(),
        value: serde_json::Value::String(subject),
    }];
    let mut tags = account.settings.ticket_tags.clone();
    for tag in &settings.ticket_tags {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    if !tags.is_empty() {
        fields.push(FieldValue {
            id: "tags".into(),
            value: serde_json::json!(tags),
        });
    }
    fields
}

/// A Slack ts as ISO-8601 UTC with milliseconds.
fn iso_time(ts: &SlackTs) -> String {
    DateTime::from_timestamp_micros(ts.unix_micros())
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_ts_becomes_utc_iso_time() {
        let ts = SlackTs::parse("1700000000.123456").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(iso_time(&ts), "2023-11-14T22:13:20.123Z");
    }
}
