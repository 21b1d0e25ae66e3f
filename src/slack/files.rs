//! Slack files for Zendesk: each file in a message reaches Zendesk as a URL pointing at
//! slackdesk itself, signed and expiring; fetching it streams the file from Slack with
//! the bot token. Nothing is written to disk and nothing of the file is logged.

use actix_web::{HttpResponse, web};
use futures_util::StreamExt;
use serde::Deserialize;

use crate::config::Settings;
use crate::crypto::KeyRing;
use crate::domain::SlackTeamId;
use crate::state::AppState;
use crate::storage::slack_workspaces;
use crate::web::ApiError;

/// How long a file link given to Zendesk stays valid.
pub const FILE_URL_TTL_SECS: i64 = 24 * 60 * 60;
const PURPOSE: &str = "slack-file";

/// The URL Zendesk downloads a Slack file from.
pub fn signed_file_url(
    settings: &Settings,
    keys: &KeyRing,
    team: &SlackTeamId,
    file_id: &str,
    now: i64,
) -> Option<String> {
    if !is_file_id(file_id) {
        return None;
    }
    let expires = now + FILE_URL_TTL_SECS;
    let signature = keys.sign(PURPOSE, &format!("{team}:{file_id}:{expires}"));
    Some(settings.public_url_for(&format!(
        "/slack/files/{team}/{file_id}/{expires}/{signature}"
    )))
}

fn is_file_id(id: &str) -> bool {
    (2..=32).contains(&id.len())
        && id.starts_with('F')
        && id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

#[derive(Deserialize)]
pub struct FilePath {
    team: String,
    file: String,
    expires: i64,
    signature: String,
}

pub async fn download(
    path: web::Path<FilePath>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let path = path.into_inner();
    let message = format!("{}:{}:{}", path.team, path.file, path.expires);
    if !state.keys.verify(PURPOSE, &message, &path.signature) {
        return Err(ApiError::Forbidden("this file link is not valid"));
    }
    if path.expires < chrono::Utc::now().timestamp() {
        return Err(ApiError::Forbidden("this file link has expired"));
    }
    let team = SlackTeamId::parse(&path.team).map_err(|_| ApiError::NotFound("file"))?;
    let workspace = slack_workspaces::find(&state.db, &state.keys, &team).await?;
    let token = workspace
        .and_then(|w| w.bot_token)
        .ok_or(ApiError::NotFound("file"))?;
    let file = state
        .slack
        .file_info(&token, &path.file)
        .await
        .map_err(slack_to_api)?;
    let url = file
        .url_private_download
        .as_deref()
        .ok_or(ApiError::NotFound("file"))?;
    let upstream = state
        .slack
        .download(&token, url)
        .await
        .map_err(slack_to_api)?;
    let mut response = HttpResponse::Ok();
    let content_type = if file.mimetype.is_empty() {
        "application/octet-stream"
    } else {
        file.mimetype.as_str()
    };
    response.content_type(content_type);
    response.insert_header(("Content-Disposition", content_disposition(&file.name)));
    response.insert_header(("Cache-Control", "private, no-store"));
    if let Some(length) = upstream.content_length() {
        response.no_chunking(length);
    }
    tracing::info!(team = %team, file = %file.id, "file streamed to Zendesk");
    let stream = upstream.bytes_stream().map(|chunk| {
        chunk.map_err(|_| actix_web::error::ErrorBadGateway("file stream from Slack failed"))
    });
    Ok(response.streaming(stream))
}

/// `attachment; filename="…"`, with the name reduced to safe ASCII.
fn content_disposition(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let safe = if safe.trim().is_empty() {
        "file".to_owned()
    } else {
        safe
    };
    format!("attachment; filename=\"{safe}\"")
}

fn slack_to_api(error: crate::slack::SlackError) -> ApiError {
    if error.is_permanent() || matches!(&error, crate::slack::SlackError::Api { .. }) {
        ApiError::NotFound("file")
    } else {
        ApiError::RetryLater {
            code: format!("slack_{}", error.code()),
            retry_after_secs: error.retry_after().as_secs().max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_in_headers_are_reduced_to_safe_ascii() {
        assert_eq!(
            content_disposition("report (1).pdf"),
            "attachment; filename=\"report (1).pdf\""
        );
        assert_eq!(
            content_disposition("a\"b\r\nc.txt"),
            "attachment; filename=\"a_b__c.txt\""
        );
        assert_eq!(content_disposition(""), "attachment; filename=\"file\"");
    }

    #[test]
    fn only_slack_file_ids_are_signed() {
        assert!(is_file_id("F0123ABC"));
        assert!(!is_file_id("../etc"));
        assert!(!is_file_id("U0123"));
    }
}
