//! An agent's attachments, from Zendesk into the Slack thread.
//!
//! Each file is downloaded with the account's push token and handed to Slack's external
//! upload flow as a stream when Zendesk says how long it is (buffered up to
//! [`MAX_FILE_BYTES`] otherwise). Nothing touches the disk. The reply's text is already in
//! Slack when this runs, so a file that fails is reported to Zendesk
//! (`channelback/report_error`) instead of failing the channelback, which would post
//! the text twice.

use futures_util::StreamExt;

use crate::config::Secret;
use crate::domain::{ExternalId, SlackChannelId, SlackTs};
use crate::outbound;
use crate::slack::FileUpload;
use crate::startup::AppState;
use crate::storage::accounts::Account;

/// Largest attachment forwarded to Slack.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// Uploads every file; returns the codes of the ones that failed (after reporting them).
pub async fn forward(
    state: &AppState,
    account: &Account,
    slack_token: &Secret,
    channel: &SlackChannelId,
    thread_ts: &SlackTs,
    reply: &ExternalId,
    file_urls: &[String],
) -> Vec<String> {
    let push_token = account.push_token(&state.keys).ok().flatten();
    let mut failures = Vec::new();
    for url in file_urls {
        let outcome = match download(state, account, push_token.as_ref(), url).await {
            Ok(upload) => state
                .slack
                .upload_to_thread(slack_token, channel, thread_ts, upload)
                .await
                .map_err(|e| format!("slack_{}", e.code())),
            Err(code) => Err(code),
        };
        if let Err(code) = outcome {
            tracing::warn!(account = %account.id, reply = %reply, code = %code, "attachment not forwarded to Slack");
            report(state, account, push_token.as_ref(), reply, &code).await;
            failures.push(code);
        }
    }
    failures
}

async fn download(
    state: &AppState,
    account: &Account,
    push_token: Option<&Secret>,
    url: &str,
) -> Result<FileUpload, String> {
    if !on_accounts_zendesk(state, account, url) {
        return Err("attachment_not_on_zendesk".into());
    }
    let mut request = state.zendesk.http().get(url);
    if let Some(token) = push_token {
        request = request.bearer_auth(token.expose());
    }
    let response = request
        .send()
        .await
        .map_err(|e| outbound::transport_code(&e).to_owned())?;
    if !response.status().is_success() {
        return Err(format!("attachment_http_{}", response.status().as_u16()));
    }
    let filename = file_name(url, response.headers());
    match response.content_length() {
        Some(length) if length > MAX_FILE_BYTES => Err("attachment_too_large".into()),
        Some(length) => Ok(FileUpload {
            filename,
            length,
            body: reqwest::Body::wrap_stream(response.bytes_stream()),
        }),
        None => buffered(filename, response).await,
    }
}

/// Attachments are fetched only from the account's own Zendesk host, so a crafted
/// `file_urls[]` can neither reach internal addresses nor carry the push token elsewhere.
fn on_accounts_zendesk(state: &AppState, account: &Account, url: &str) -> bool {
    let (Ok(target), Ok(zendesk)) = (
        url::Url::parse(url),
        url::Url::parse(&state.zendesk.base_url(&account.subdomain)),
    ) else {
        return false;
    };
    target.origin() == zendesk.origin()
}

/// Reads a body of unknown length into memory, up to the limit.
async fn buffered(filename: String, response: reqwest::Response) -> Result<FileUpload, String> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| outbound::transport_code(&e).to_owned())?;
        if body.len() as u64 + chunk.len() as u64 > MAX_FILE_BYTES {
            return Err("attachment_too_large".into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(FileUpload {
        filename,
        length: body.len() as u64,
        body: reqwest::Body::from(body),
    })
}

/// The attachment's name: from `Content-Disposition`, else the URL's `name` query or last
/// path segment; reduced to safe characters.
fn file_name(url: &str, headers: &reqwest::header::HeaderMap) -> String {
    let from_header = headers
        .get(reqwest::header::CONTENT_DISPOSITION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("filename=").nth(1))
        .map(|n| {
            n.trim_matches(|c| c == '"' || c == ';' || c == ' ')
                .to_owned()
        });
    let from_url = url::Url::parse(url).ok().and_then(|u| {
        let named = u
            .query_pairs()
            .find(|(k, _)| k == "name")
            .map(|(_, v)| v.into_owned());
        named.or_else(|| {
            u.path_segments()
                .and_then(|mut s| s.next_back().map(str::to_owned))
        })
    });
    let raw = from_header.or(from_url).unwrap_or_default();
    let safe: String = raw
        .chars()
        .filter(|c| !c.is_control() && !"/\\".contains(*c))
        .take(200)
        .collect();
    if safe.trim().is_empty() {
        "attachment".into()
    } else {
        safe
    }
}

async fn report(
    state: &AppState,
    account: &Account,
    push_token: Option<&Secret>,
    reply: &ExternalId,
    code: &str,
) {
    let (Some(token), Some(push_id)) = (push_token, account.instance_push_id.as_deref()) else {
        return;
    };
    let description = format!("An attachment could not be posted to Slack ({code}).");
    if let Err(error) = state
        .zendesk
        .report_channelback_error(
            &account.subdomain,
            token,
            push_id,
            reply.as_str(),
            &description,
        )
        .await
    {
        tracing::warn!(account = %account.id, error = %error, "channelback error report failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_header_or_the_url() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(
            file_name(
                "https://z.test/attachments/token/abc/?name=report.pdf",
                &headers
            ),
            "report.pdf"
        );
        assert_eq!(
            file_name("https://z.test/files/photo.png", &headers),
            "photo.png"
        );
        headers.insert(
            reqwest::header::CONTENT_DISPOSITION,
            "attachment; filename=\"a/b.txt\""
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(file_name("https://z.test/x", &headers), "ab.txt");
        assert_eq!(
            file_name("not a url", &reqwest::header::HeaderMap::new()),
            "attachment"
        );
    }
}
