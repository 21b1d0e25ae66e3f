//! An agent's attachments, from Zendesk into the Slack thread, delivered by a job.
//!
//! The channelback answers as soon as the reply's text is in Slack and the files are
//! queued (`storage::attachment_jobs`); Zendesk gives that request a short timeout. The
//! job downloads each file from the account's own Zendesk (with the push token, or in
//! pull mode with the REST connection, since Zendesk may require authentication) and
//! hands it to Slack's external upload flow as a stream when Zendesk says how long it is
//! (buffered up to [`MAX_FILE_BYTES`] otherwise). Nothing touches the disk. Passing
//! failures are retried with backoff; files that cannot be delivered are reported to
//! Zendesk: `channelback/report_error` with a push token, else an internal note on the
//! ticket through the REST connection.

use futures_util::StreamExt;

use super::delivery::{Failure, backoff};
use crate::config::Secret;
use crate::outbound;
use crate::slack::FileUpload;
use crate::state::AppState;
use crate::storage::accounts::{self, Account};
use crate::storage::attachment_jobs::{self, AttachmentJob};
use crate::storage::{StorageError, slack_workspaces, ticket_links};
use crate::zendesk::connection::ZendeskAuth;

/// Largest attachment forwarded to Slack.
pub const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Tries of a job before its remaining files are given up.
const MAX_TRIES: i64 = 6;
/// Jobs claimed per round.
const CLAIM_LIMIT: i64 = 20;
/// A claim lasts this long (downloads and uploads of up to 10 files of 50 MB).
const LEASE_MS: i64 = 10 * 60_000;

/// How the files are downloaded from Zendesk.
enum Download {
    PushToken(Secret),
    Rest(ZendeskAuth),
    Anonymous,
}

/// Delivers due attachment jobs; returns how many jobs were worked on.
pub async fn run_attachment_jobs_once(state: &AppState) -> Result<usize, StorageError> {
    let jobs = attachment_jobs::claim(&state.db, &state.keys, CLAIM_LIMIT, LEASE_MS).await?;
    for job in &jobs {
        deliver_job(state, job).await?;
    }
    Ok(jobs.len())
}

async fn deliver_job(state: &AppState, job: &AttachmentJob) -> Result<(), StorageError> {
    let Some(account) = accounts::find(&state.db, job.account).await? else {
        return attachment_jobs::give_up(&state.db, job.id, "account_removed").await;
    };
    let Some(thread) = job.thread.slack_message() else {
        return attachment_jobs::give_up(&state.db, job.id, "not_a_slack_thread").await;
    };
    let token = slack_workspaces::find(&state.db, &state.keys, &thread.team)
        .await?
        .and_then(|w| w.bot_token);
    let Some(token) = token else {
        return settle(
            state,
            &account,
            job,
            &[],
            vec!["workspace_disconnected".into()],
        )
        .await;
    };
    let download = download_auth(state, &account).await;
    let mut retry = Vec::new();
    let mut given_up = Vec::new();
    for url in &job.file_urls {
        let outcome = match download_file(state, &account, &download, url).await {
            Ok(upload) => state
                .slack
                .upload_to_thread(&token, &thread.channel, &thread.ts, upload)
                .await
                .map_err(|e| Failure::from_slack(&e)),
            Err(failure) => Err(failure),
        };
        match outcome {
            Ok(()) => {}
            Err(failure @ (Failure::Permanent(_) | Failure::Workspace(_))) => {
                given_up.push(failure.code())
            }
            Err(failure) => retry.push((url.clone(), failure.code())),
        }
    }
    tracing::info!(account = %account.id, reply = %job.reply, files = job.file_urls.len(), retry = retry.len(), given_up = given_up.len(), "attachments forwarded to Slack");
    settle(state, &account, job, &retry, given_up).await
}

/// Finishes, retries or gives up the job, and reports what will never reach Slack.
async fn settle(
    state: &AppState,
    account: &Account,
    job: &AttachmentJob,
    retry: &[(String, String)],
    mut given_up: Vec<String>,
) -> Result<(), StorageError> {
    if !retry.is_empty() && job.attempts < MAX_TRIES {
        let urls: Vec<String> = retry.iter().map(|(url, _)| url.clone()).collect();
        let delay = i64::try_from(backoff(job.attempts + 2).as_millis()).unwrap_or(60_000);
        attachment_jobs::retry_later(&state.db, &state.keys, job, &urls, &retry[0].1, delay)
            .await?;
        state.metrics.record_attachments("retry", urls.len() as u64);
    } else {
        given_up.extend(retry.iter().map(|(_, code)| code.clone()));
        match given_up.first() {
            Some(code) => attachment_jobs::give_up(&state.db, job.id, code).await?,
            None => attachment_jobs::finish(&state.db, job.id).await?,
        }
    }
    if !given_up.is_empty() {
        state
            .metrics
            .record_attachments("given_up", given_up.len() as u64);
        tracing::warn!(account = %account.id, reply = %job.reply, codes = ?given_up, "attachments not delivered to Slack");
        report(state, account, job, &given_up).await;
    }
    Ok(())
}

async fn download_auth(state: &AppState, account: &Account) -> Download {
    if let Ok(Some(token)) = account.push_token(&state.keys) {
        return Download::PushToken(token);
    }
    match state.connections.open(&account.subdomain).await {
        Ok(auth) => Download::Rest(auth),
        Err(error) => {
            tracing::info!(account = %account.id, code = %error.code(), "no Zendesk connection for attachment downloads; trying without");
            Download::Anonymous
        }
    }
}

async fn download_file(
    state: &AppState,
    account: &Account,
    download: &Download,
    url: &str,
) -> Result<FileUpload, Failure> {
    if !on_accounts_zendesk(state, account, url) {
        return Err(Failure::Permanent("attachment_not_on_zendesk".into()));
    }
    let response = match download {
        Download::Rest(auth) => state
            .zendesk
            .authorized(auth, |http| http.get(url))
            .await
            .map_err(|e| rest_failure(&e))?,
        Download::PushToken(token) => {
            checked(state.zendesk.http().get(url).bearer_auth(token.expose())).await?
        }
        Download::Anonymous => checked(state.zendesk.http().get(url)).await?,
    };
    let filename = file_name(url, response.headers());
    match response.content_length() {
        Some(length) if length > MAX_FILE_BYTES => {
            Err(Failure::Permanent("attachment_too_large".into()))
        }
        Some(length) => Ok(FileUpload {
            filename,
            length,
            body: reqwest::Body::wrap_stream(response.bytes_stream()),
        }),
        None => buffered(filename, response).await,
    }
}

async fn checked(request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
    let response = request
        .send()
        .await
        .map_err(|e| Failure::Transient(outbound::transport_code(&e).to_owned()))?;
    let status = response.status();
    let code = format!("attachment_http_{}", status.as_u16());
    match status.as_u16() {
        200..=299 => Ok(response),
        408 | 429 | 500..=599 => Err(Failure::Transient(code)),
        _ => Err(Failure::Permanent(code)),
    }
}

fn rest_failure(error: &crate::zendesk::RestError) -> Failure {
    use crate::zendesk::RestError;
    match error {
        RestError::RateLimited { .. } | RestError::Transient { .. } => {
            Failure::Transient(format!("attachment_{}", error.code()))
        }
        RestError::Rejected { status } | RestError::Unauthorized { status } => {
            Failure::Permanent(format!("attachment_http_{status}"))
        }
        _ => Failure::Permanent(format!("attachment_{}", error.code())),
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
async fn buffered(filename: String, response: reqwest::Response) -> Result<FileUpload, Failure> {
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Failure::Transient(outbound::transport_code(&e).to_owned()))?;
        if body.len() as u64 + chunk.len() as u64 > MAX_FILE_BYTES {
            return Err(Failure::Permanent("attachment_too_large".into()));
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

/// Tells the agents in Zendesk which files never reached Slack (codes only).
async fn report(state: &AppState, account: &Account, job: &AttachmentJob, codes: &[String]) {
    let description = format!(
        "{} attachment(s) could not be posted to the Slack thread ({}).",
        codes.len(),
        codes.join(", ")
    );
    let push = account.push_token(&state.keys).ok().flatten();
    if let (Some(token), Some(push_id)) = (push, account.instance_push_id.as_deref()) {
        match state
            .zendesk
            .report_channelback_error(
                &account.subdomain,
                &token,
                push_id,
                job.reply.as_str(),
                &description,
            )
            .await
        {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(account = %account.id, error = %error, "channelback error report failed")
            }
        }
    }
    if let Err(code) = internal_note(state, account, job, &description).await {
        tracing::warn!(account = %account.id, reply = %job.reply, code = %code, "attachment failure not reported to Zendesk");
        state
            .metrics
            .record_attachments("unreported", codes.len() as u64);
    }
}

/// The failure as an internal note on the ticket, through the REST connection.
async fn internal_note(
    state: &AppState,
    account: &Account,
    job: &AttachmentJob,
    description: &str,
) -> Result<(), String> {
    let link = ticket_links::find(&state.db, account.id, &job.thread)
        .await
        .map_err(|_| "storage_error".to_owned())?
        .ok_or_else(|| "ticket_unknown".to_owned())?;
    let auth = state
        .connections
        .open(&account.subdomain)
        .await
        .map_err(|e| e.code())?;
    state
        .zendesk
        .add_internal_note(&account.subdomain, &auth, link.ticket_id, description)
        .await
        .map_err(|e| e.code())
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
