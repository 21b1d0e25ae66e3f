//! What the Slack and Zendesk clients share: one way to build an HTTP client, and how to
//! read `Retry-After` and name a transport failure without leaking its details.

use std::time::Duration;

use crate::config::Settings;

pub fn http_client(settings: &Settings) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(settings.http_timeout())
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("slackdesk/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// `Retry-After` in seconds (the form Zendesk and Slack use), capped at an hour.
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|secs| Duration::from_secs(secs.min(3600)))
}

/// A short code for a failed request, for logs and the queue.
pub fn transport_code(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_connect() {
        "connect_error"
    } else {
        "transport_error"
    }
}
