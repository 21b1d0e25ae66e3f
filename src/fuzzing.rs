//! The parsers that face untrusted input, for the fuzz targets in `fuzz/` and their stable
//! replay in the tests. Not an API: thin re-exports of what the endpoints call.

use crate::crypto::KeyRing;
use crate::web::{ApiError, Form};

pub use crate::bridge::mrkdwn::{Names, Rendered, mentioned_ids, render as render_mrkdwn};
pub use crate::bridge::zendesk_to_slack;
pub use crate::channel::metadata::Metadata;
pub use crate::domain::ExternalId;
pub use crate::slack::signature;

/// A form body as `/channel/channelback` reads it, and its `file_urls[]`.
pub fn channelback_file_urls(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let form = Form::from_bytes(body)?;
    crate::channel::parse_file_urls(&form)
}

/// A form body as every form endpoint reads it.
pub fn form(body: &[u8]) -> Result<Form, ApiError> {
    Form::from_bytes(body)
}

/// The rows a pull's `state` acknowledges.
pub fn pull_state(raw: &str) -> Result<Vec<i64>, ApiError> {
    crate::channel::acknowledged_rows(raw)
}

/// The Slack OAuth `state`: signs one, and checks one (the set-up session it names, if
/// valid for this browser at `now`).
pub fn sign_slack_state(
    keys: &KeyRing,
    expires: i64,
    session: Option<&str>,
    nonce: &str,
) -> String {
    crate::slack::sign_state(keys, expires, session, nonce)
}

pub fn verify_slack_state(
    keys: &KeyRing,
    raw: &str,
    browser_nonce: &str,
    now: i64,
) -> Option<Option<String>> {
    crate::slack::verify_state(keys, raw, browser_nonce, now)
}
