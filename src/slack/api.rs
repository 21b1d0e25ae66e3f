//! The Slack Web API client (SPEC 2): the calls the bridge needs, with Slack's error
//! model (`{"ok": false, "error": "..."}` on HTTP 200, 429 with `Retry-After`) mapped
//! to [`SlackError`], which says whether a failure is permanent.
//!
//! Message text and file bytes pass through here in memory only; they are never logged
//! or stored.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use url::Url;

use crate::config::{Secret, Settings};
use crate::domain::{SlackChannelId, SlackTs, SlackUserId};
use crate::outbound;

/// Slack errors that retrying will not fix, from the per-method error lists of
/// `conversations.replies`, `conversations.history`, `users.info` and `chat.postMessage`
/// (docs.slack.dev, checked 2026-12). The workspace ones are also in [`WORKSPACE_ERRORS`].
const PERMANENT_ERRORS: [&str; 17] = [
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "msg_too_long",
    "thread_not_found",
    "message_not_found",
    "no_text",
    "invalid_ts_latest",
    "invalid_ts_oldest",
    "token_revoked",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "missing_scope",
    "restricted_action",
    "team_access_not_granted",
    "ekm_access_denied",
];

/// Errors that are about the workspace's install rather than one message: an admin
/// must reconnect Slack, add a scope or grant access; until then its messages wait.
const WORKSPACE_ERRORS: [&str; 7] = [
    "token_revoked",
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "missing_scope",
    "team_access_not_granted",
    "ekm_access_denied",
];

/// Errors Slack documents as passing: retried with backoff.
const TRANSIENT_ERRORS: [&str; 6] = [
    "ratelimited",
    "internal_error",
    "fatal_error",
    "request_timeout",
    "service_unavailable",
    "team_added_to_org",
];

/// How a Slack failure is handled by a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackErrorClass {
    /// Never succeeds for this message (`channel_not_found`, `message_not_found`, …).
    Permanent,
    /// The workspace's install needs an admin; the message waits, bounded by age.
    Workspace,
    /// Slack says so: retried with backoff.
    Transient,
    /// A code no list names: retried a few times, then given up.
    Unknown,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SlackError {
    #[error("Slack answered {code}")]
    Api { code: String },
    #[error("Slack rate limit; retry after {retry_after:?}")]
    RateLimited { retry_after: Duration },
    #[error("Slack is unavailable ({code})")]
    Unavailable { code: String },
}

impl SlackError {
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Api { code } if PERMANENT_ERRORS.contains(&code.as_str()))
    }

    /// Whether the token itself is unusable (revoked, invalid, deactivated), rather than
    /// lacking a scope or a grant.
    pub fn is_token_problem(&self) -> bool {
        matches!(self, Self::Api { code } if ["token_revoked", "invalid_auth", "not_authed", "account_inactive"].contains(&code.as_str()))
    }

    /// What a queue does with this failure.
    pub fn class(&self) -> SlackErrorClass {
        match self {
            Self::Api { code } if WORKSPACE_ERRORS.contains(&code.as_str()) => {
                SlackErrorClass::Workspace
            }
            Self::Api { code } if PERMANENT_ERRORS.contains(&code.as_str()) => {
                SlackErrorClass::Permanent
            }
            Self::Api { code } if TRANSIENT_ERRORS.contains(&code.as_str()) => {
                SlackErrorClass::Transient
            }
            Self::Api { .. } => SlackErrorClass::Unknown,
            Self::RateLimited { .. } | Self::Unavailable { .. } => SlackErrorClass::Transient,
        }
    }

    /// Whether the workspace's token is unusable.
    pub fn is_workspace_problem(&self) -> bool {
        matches!(self, Self::Api { code } if WORKSPACE_ERRORS.contains(&code.as_str()))
    }

    pub fn code(&self) -> &str {
        match self {
            Self::Api { code } | Self::Unavailable { code } => code,
            Self::RateLimited { .. } => "ratelimited",
        }
    }

    pub fn retry_after(&self) -> Duration {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => Duration::from_secs(30),
        }
    }
}

/// The ids `auth.test` reports for a bot token.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthIdentity {
    pub team_id: String,
    pub user_id: String,
    pub bot_id: Option<String>,
}

/// What `oauth.v2.access` returns for a bot install (the token stays in memory).
#[derive(Debug, Clone, Deserialize)]
pub struct OauthInstall {
    pub access_token: String,
    pub bot_user_id: Option<String>,
    pub app_id: Option<String>,
    pub team: OauthTeam,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OauthTeam {
    pub id: String,
}

/// A conversation the bot can see, as the channel picker shows it (the name is shown,
/// never stored).
#[derive(Debug, Clone, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub is_private: bool,
    #[serde(default)]
    pub is_member: bool,
}

#[derive(Deserialize)]
struct ConversationsPage {
    #[serde(default)]
    channels: Vec<Conversation>,
    #[serde(default)]
    response_metadata: Option<ResponseMetadata>,
}

#[derive(Deserialize)]
struct ConversationInfo {
    channel: Conversation,
}

#[derive(Deserialize, Default)]
struct ResponseMetadata {
    #[serde(default)]
    next_cursor: String,
}

/// A Slack file, as `files.info` describes it (held in memory only).
#[derive(Debug, Clone, Deserialize)]
pub struct SlackFile {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub mimetype: String,
    pub url_private_download: Option<String>,
    pub size: Option<u64>,
}

#[derive(Deserialize)]
struct FileInfo {
    file: SlackFile,
}

#[derive(Deserialize)]
struct UploadUrl {
    upload_url: String,
    file_id: String,
}

#[derive(Clone, Debug)]
pub struct SlackClient {
    http: reqwest::Client,
    api_url: Url,
}

/// A message as read from Slack, held only while a resource is built.
#[derive(Debug, Clone, Deserialize)]
pub struct SlackMessage {
    pub ts: String,
    #[serde(default)]
    pub text: String,
    pub user: Option<String>,
    pub bot_id: Option<String>,
    pub thread_ts: Option<String>,
    #[serde(default)]
    pub files: Vec<serde_json::Value>,
    /// Message metadata (`include_all_metadata`): how slackdesk finds its own replies.
    #[serde(default)]
    pub metadata: Option<MessageMetadata>,
}

/// Slack message metadata: an event type and a payload of ids.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MessageMetadata {
    #[serde(default)]
    pub event_type: String,
    #[serde(default)]
    pub event_payload: serde_json::Value,
}

/// What Zendesk shows as the author; fetched per resource and never stored.
#[derive(Debug, Clone)]
pub struct SlackProfile {
    pub display_name: String,
    pub image_url: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    ok: bool,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PostMessageResponse {
    ts: String,
}

#[derive(Deserialize)]
struct PermalinkResponse {
    permalink: String,
}

#[derive(Deserialize)]
struct RepliesResponse {
    #[serde(default)]
    messages: Vec<SlackMessage>,
    #[serde(default)]
    response_metadata: Option<ResponseMetadata>,
}

#[derive(Deserialize)]
struct UserInfoResponse {
    user: SlackUser,
}

#[derive(Deserialize)]
struct SlackUser {
    #[serde(default)]
    name: String,
    #[serde(default)]
    real_name: Option<String>,
    #[serde(default)]
    profile: SlackUserProfile,
}

#[derive(Deserialize, Default)]
struct SlackUserProfile {
    display_name: Option<String>,
    real_name: Option<String>,
    image_72: Option<String>,
}

impl SlackClient {
    pub fn new(settings: &Settings) -> Result<Self, reqwest::Error> {
        Ok(Self {
            http: outbound::http_client(settings)?,
            api_url: settings.slack_api_url.clone(),
        })
    }

    fn method_url(&self, method: &str) -> String {
        format!("{}/{method}", self.api_url.as_str().trim_end_matches('/'))
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: &str,
        token: &Secret,
        form: &[(&str, &str)],
    ) -> Result<T, SlackError> {
        let request = self
            .http
            .post(self.method_url(method))
            .bearer_auth(token.expose())
            .form(form);
        self.send(request).await
    }

    /// Sends a Web API request and reads Slack's answer.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, SlackError> {
        let response = request.send().await.map_err(|e| SlackError::Unavailable {
            code: outbound::transport_code(&e).into(),
        })?;
        let status = response.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after =
                outbound::retry_after(response.headers()).unwrap_or(Duration::from_secs(30));
            return Err(SlackError::RateLimited { retry_after });
        }
        if !status.is_success() {
            return Err(SlackError::Unavailable {
                code: format!("http_{}", status.as_u16()),
            });
        }
        let body = response
            .bytes()
            .await
            .map_err(|_| SlackError::Unavailable {
                code: "unreadable_response".into(),
            })?;
        let envelope: Envelope =
            serde_json::from_slice(&body).map_err(|_| SlackError::Unavailable {
                code: "unreadable_response".into(),
            })?;
        if !envelope.ok {
            let code = envelope.error.unwrap_or_else(|| "unknown_error".into());
            if code == "ratelimited" {
                return Err(SlackError::RateLimited {
                    retry_after: Duration::from_secs(30),
                });
            }
            return Err(SlackError::Api { code });
        }
        serde_json::from_slice(&body).map_err(|_| SlackError::Unavailable {
            code: "unexpected_response".into(),
        })
    }

    /// Posts `text` (Slack mrkdwn) in a thread; returns the new message's ts.
    /// Posts `text` in the thread; `metadata` (Slack message metadata, a JSON document of
    /// ids only) marks the message so it can be found again.
    pub async fn post_message(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        thread_ts: &SlackTs,
        text: &str,
        metadata: Option<&str>,
    ) -> Result<String, SlackError> {
        let mut form = vec![
            ("channel", channel.as_str()),
            ("thread_ts", thread_ts.as_str()),
            ("text", text),
        ];
        if let Some(metadata) = metadata {
            form.push(("metadata", metadata));
        }
        let response: PostMessageResponse = self.call("chat.postMessage", token, &form).await?;
        Ok(response.ts)
    }

    pub async fn permalink(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        ts: &SlackTs,
    ) -> Result<String, SlackError> {
        let response: PermalinkResponse = self
            .call(
                "chat.getPermalink",
                token,
                &[("channel", channel.as_str()), ("message_ts", ts.as_str())],
            )
            .await?;
        Ok(response.permalink)
    }

    /// Reads one message of a thread (or the thread's first message) by its ts.
    pub async fn fetch_message(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        thread_ts: &SlackTs,
        ts: &SlackTs,
    ) -> Result<Option<SlackMessage>, SlackError> {
        let response: RepliesResponse = self
            .call(
                "conversations.replies",
                token,
                &[
                    ("channel", channel.as_str()),
                    ("ts", thread_ts.as_str()),
                    ("oldest", ts.as_str()),
                    ("latest", ts.as_str()),
                    ("inclusive", "true"),
                    ("limit", "2"),
                ],
            )
            .await?;
        Ok(response.messages.into_iter().find(|m| m.ts == ts.as_str()))
    }

    /// Every message of a thread, oldest first (all pages).
    pub async fn thread(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        thread_ts: &SlackTs,
    ) -> Result<Vec<SlackMessage>, SlackError> {
        let mut messages = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut form = vec![
                ("channel", channel.as_str()),
                ("ts", thread_ts.as_str()),
                ("limit", "200"),
                ("include_all_metadata", "true"),
            ];
            if !cursor.is_empty() {
                form.push(("cursor", cursor.as_str()));
            }
            let page: RepliesResponse = self.call("conversations.replies", token, &form).await?;
            messages.extend(page.messages);
            cursor = page.response_metadata.unwrap_or_default().next_cursor;
            if cursor.is_empty() {
                break;
            }
        }
        Ok(messages)
    }

    /// Who a bot token belongs to.
    pub async fn auth_test(&self, token: &Secret) -> Result<AuthIdentity, SlackError> {
        self.call("auth.test", token, &[]).await
    }

    /// Exchanges an OAuth code for a bot token (client credentials as basic auth).
    pub async fn oauth_access(
        &self,
        client_id: &str,
        client_secret: &Secret,
        code: &str,
        redirect_uri: &str,
    ) -> Result<OauthInstall, SlackError> {
        let request = self
            .http
            .post(self.method_url("oauth.v2.access"))
            .basic_auth(client_id, Some(client_secret.expose()))
            .form(&[("code", code), ("redirect_uri", redirect_uri)]);
        self.send(request).await
    }

    /// Public channels and the private ones the bot is in (not archived), all pages.
    pub async fn conversations(&self, token: &Secret) -> Result<Vec<Conversation>, SlackError> {
        let mut all = Vec::new();
        let mut cursor = String::new();
        for _ in 0..MAX_PAGES {
            let mut form = vec![
                ("types", "public_channel,private_channel"),
                ("exclude_archived", "true"),
                ("limit", "200"),
            ];
            if !cursor.is_empty() {
                form.push(("cursor", cursor.as_str()));
            }
            let page: ConversationsPage = self.call("conversations.list", token, &form).await?;
            all.extend(page.channels);
            cursor = page.response_metadata.unwrap_or_default().next_cursor;
            if cursor.is_empty() {
                break;
            }
        }
        Ok(all)
    }

    pub async fn conversation(
        &self,
        token: &Secret,
        channel: &str,
    ) -> Result<Conversation, SlackError> {
        let info: ConversationInfo = self
            .call("conversations.info", token, &[("channel", channel)])
            .await?;
        Ok(info.channel)
    }

    /// Adds a reaction; one already there is not an error.
    pub async fn add_reaction(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        ts: &SlackTs,
        name: &str,
    ) -> Result<(), SlackError> {
        let added: Result<serde_json::Value, SlackError> = self
            .call(
                "reactions.add",
                token,
                &[
                    ("channel", channel.as_str()),
                    ("timestamp", ts.as_str()),
                    ("name", name),
                ],
            )
            .await;
        match added {
            Ok(_) => Ok(()),
            Err(SlackError::Api { code }) if code == "already_reacted" => Ok(()),
            Err(error) => Err(error),
        }
    }

    pub async fn file_info(&self, token: &Secret, file: &str) -> Result<SlackFile, SlackError> {
        let info: FileInfo = self.call("files.info", token, &[("file", file)]).await?;
        Ok(info.file)
    }

    /// Starts a download of a private file with the bot token (the body is streamed by the
    /// caller, never kept).
    pub async fn download(
        &self,
        token: &Secret,
        url: &str,
    ) -> Result<reqwest::Response, SlackError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token.expose())
            .send()
            .await
            .map_err(|e| SlackError::Unavailable {
                code: outbound::transport_code(&e).into(),
            })?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(SlackError::Unavailable {
                code: format!("file_http_{}", response.status().as_u16()),
            })
        }
    }

    /// Uploads a file into a thread with Slack's external upload flow
    /// (`files.getUploadURLExternal`, the upload itself, `files.completeUploadExternal`).
    pub async fn upload_to_thread(
        &self,
        token: &Secret,
        channel: &SlackChannelId,
        thread_ts: &SlackTs,
        upload: FileUpload,
    ) -> Result<(), SlackError> {
        let length = upload.length.to_string();
        let target: UploadUrl = self
            .call(
                "files.getUploadURLExternal",
                token,
                &[
                    ("filename", upload.filename.as_str()),
                    ("length", length.as_str()),
                ],
            )
            .await?;
        let sent = self
            .http
            .post(&target.upload_url)
            .header(reqwest::header::CONTENT_LENGTH, length.as_str())
            .body(upload.body)
            .send()
            .await
            .map_err(|e| SlackError::Unavailable {
                code: outbound::transport_code(&e).into(),
            })?;
        if !sent.status().is_success() {
            return Err(SlackError::Unavailable {
                code: format!("upload_http_{}", sent.status().as_u16()),
            });
        }
        let files =
            serde_json::json!([{"id": target.file_id, "title": upload.filename}]).to_string();
        let _: serde_json::Value = self
            .call(
                "files.completeUploadExternal",
                token,
                &[
                    ("files", files.as_str()),
                    ("channel_id", channel.as_str()),
                    ("thread_ts", thread_ts.as_str()),
                ],
            )
            .await?;
        Ok(())
    }

    pub async fn profile(
        &self,
        token: &Secret,
        user: &SlackUserId,
    ) -> Result<SlackProfile, SlackError> {
        let response: UserInfoResponse = self
            .call("users.info", token, &[("user", user.as_str())])
            .await?;
        let user = response.user;
        let display_name = [
            user.profile.display_name,
            user.profile.real_name,
            user.real_name,
        ]
        .into_iter()
        .flatten()
        .find(|n| !n.trim().is_empty())
        .unwrap_or(user.name);
        Ok(SlackProfile {
            display_name,
            image_url: user.profile.image_72.filter(|u| u.starts_with("https://")),
        })
    }
}

/// Most pages read from a paged Slack list (200 items each).
const MAX_PAGES: usize = 50;

/// A file on its way to Slack: its name, exact length and a streamed body.
pub struct FileUpload {
    pub filename: String,
    pub length: u64,
    pub body: reqwest::Body,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permanent_errors_are_told_apart_from_transient_ones() {
        let api = |code: &str| SlackError::Api { code: code.into() };
        assert!(api("channel_not_found").is_permanent());
        assert!(api("token_revoked").is_workspace_problem());
        assert!(!api("internal_error").is_permanent());
        for code in [
            "missing_scope",
            "restricted_action",
            "team_access_not_granted",
        ] {
            assert!(api(code).is_permanent(), "{code}");
        }
        assert_eq!(api("missing_scope").class(), SlackErrorClass::Workspace);
        assert_eq!(api("not_authed").class(), SlackErrorClass::Workspace);
        assert_eq!(api("restricted_action").class(), SlackErrorClass::Permanent);
        assert_eq!(
            api("service_unavailable").class(),
            SlackErrorClass::Transient
        );
        assert_eq!(api("something_new").class(), SlackErrorClass::Unknown);
        assert!(
            !SlackError::RateLimited {
                retry_after: Duration::from_secs(1)
            }
            .is_permanent()
        );
    }
}
