//! Agent sessions: `sdses_<prefix>_<secret>`, made when Zendesk opens an app page with a
//! verified ZAF JWT, bound to that account, app installation and agent, for
//! [`TTL_MS`]. The page sends it in [`HEADER`] with every `/app/v1` call (next to the
//! account token Zendesk's proxy fills in), and it is the only source of who the agent is.
//!
//! Only a SHA-256 of the whole credential is stored; a presented one is compared with it
//! in constant time.

use actix_web::HttpRequest;

use super::token::AppCaller;
use super::zaf_jwt::ZafIdentity;
use crate::crypto::tokens::{hash_secret, random_secret, secret_matches};
use crate::domain::ZendeskUserId;
use crate::state::AppState;
use crate::storage::app_sessions::{self, StoredSession};
use crate::storage::{Db, StorageError};
use crate::web::ApiError;

const TAG: &str = "sdses_";
/// The request header carrying the session.
pub const HEADER: &str = "X-Slackdesk-Session";
/// How long a session lasts: a working day; reloading Zendesk makes a new one.
pub const TTL_MS: i64 = 8 * 60 * 60_000;
/// The 401 message the app recognizes (it then asks the agent to reload Zendesk).
pub const EXPIRED: &str = "your slackdesk session is missing or expired; reload Zendesk";

fn split(raw: &str) -> Option<&str> {
    let (prefix, secret) = raw.strip_prefix(TAG)?.split_once('_')?;
    let valid = prefix.len() == 12 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
    (valid && secret.len() >= 32).then_some(prefix)
}

/// Makes and stores a session for a verified identity; returns the credential (it goes
/// into the page Zendesk opened, nowhere else).
pub async fn mint(db: &Db, identity: &ZafIdentity, now: i64) -> Result<String, StorageError> {
    let mut bytes = [0u8; 6];
    rand::fill(&mut bytes);
    let prefix = hex::encode(bytes);
    let credential = format!("{TAG}{prefix}_{}", random_secret());
    app_sessions::insert(
        db,
        &StoredSession {
            prefix,
            secret_hash: hash_secret(&credential),
            subdomain: identity.subdomain.clone(),
            installation_id: identity.installation_id,
            user_id: identity.user_id,
        },
        now,
        now + TTL_MS,
    )
    .await?;
    Ok(credential)
}

/// The agent a request acts as: its session must be live and belong to the account token's
/// account and app installation; 401 otherwise.
pub async fn agent(
    state: &AppState,
    req: &HttpRequest,
    caller: &AppCaller,
) -> Result<ZendeskUserId, ApiError> {
    let raw = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or(ApiError::Unauthorized(EXPIRED))?;
    let prefix = split(raw).ok_or(ApiError::Unauthorized(EXPIRED))?;
    let stored = app_sessions::find_live(&state.db, prefix, state.clock.now_ms())
        .await?
        .filter(|s| secret_matches(raw, &s.secret_hash))
        .ok_or(ApiError::Unauthorized(EXPIRED))?;
    if stored.subdomain != caller.subdomain || stored.installation_id != caller.installation_id {
        tracing::info!(
            token_prefix = %caller.prefix,
            session_prefix = %stored.prefix,
            "agent session of another account or installation"
        );
        return Err(ApiError::Unauthorized(EXPIRED));
    }
    Ok(stored.user_id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_sessions_are_looked_up() {
        let good = format!("sdses_0123456789ab_{}", random_secret());
        assert_eq!(split(&good), Some("0123456789ab"));
        assert_eq!(split("sdses_0123456789ab_short"), None);
        assert_eq!(split(&good.replace("sdses_", "sdapp_")), None);
        assert_eq!(split(""), None);
    }
}
