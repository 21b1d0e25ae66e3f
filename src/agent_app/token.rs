//! The app token: `sdapp_<prefix>_<secret>`, one per account and app installation. The
//! app never sees it: slackdesk writes it into the installation's secure setting and
//! Zendesk's proxy puts it into `Authorization: Bearer …` of `secure: true` requests.
//!
//! Only a SHA-256 of the whole token is stored; a presented token is compared with it in
//! constant time. Limits are counted per agent (heartbeats of 200 agents must not share
//! one budget) and per token (a cap on one account's total).

use actix_web::HttpRequest;

use crate::crypto::tokens::{hash_secret, random_secret, secret_matches};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::app_tokens::{self, NewAppToken};
use crate::storage::{Db, StorageError};
use crate::web::ApiError;

const TAG: &str = "sdapp_";
/// Requests per second one agent's app may send (status, heartbeat, reads).
pub const PER_AGENT_PER_SECOND: u32 = 5;
/// Requests per second all apps of one token may send, in one process.
pub const PER_TOKEN_PER_SECOND: u32 = 200;

/// The account a valid token belongs to.
#[derive(Debug, Clone)]
pub struct AppCaller {
    pub prefix: String,
    pub subdomain: Subdomain,
    pub installation_id: i64,
}

/// A new token (shown to nobody: it goes straight into Zendesk's secure setting).
pub struct MintedToken {
    pub prefix: String,
    pub token: String,
}

impl std::fmt::Debug for MintedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MintedToken({}, ***)", self.prefix)
    }
}

fn split(raw: &str) -> Option<&str> {
    let (prefix, secret) = raw.strip_prefix(TAG)?.split_once('_')?;
    let valid = prefix.len() == 12 && prefix.bytes().all(|b| b.is_ascii_hexdigit());
    (valid && secret.len() >= 32).then_some(prefix)
}

/// Creates and stores a token for an installation.
pub async fn mint(
    db: &Db,
    subdomain: &Subdomain,
    installation_id: i64,
    created_by: ZendeskUserId,
    now: i64,
) -> Result<MintedToken, StorageError> {
    let mut bytes = [0u8; 6];
    rand::fill(&mut bytes);
    let prefix = hex::encode(bytes);
    let token = format!("{TAG}{prefix}_{}", random_secret());
    app_tokens::insert(
        db,
        &NewAppToken {
            prefix: &prefix,
            subdomain,
            installation_id,
            secret_hash: &hash_secret(&token),
            created_by,
        },
        now,
    )
    .await?;
    Ok(MintedToken { prefix, token })
}

/// The stored token matching a presented one, unless unknown or revoked.
pub async fn verify(db: &Db, raw: &str) -> Result<Option<AppCaller>, StorageError> {
    let Some(prefix) = split(raw) else {
        return Ok(None);
    };
    let stored = app_tokens::find_active(db, prefix).await?;
    Ok(stored
        .filter(|t| secret_matches(raw, &t.secret_hash))
        .map(|t| AppCaller {
            prefix: t.prefix,
            subdomain: t.subdomain,
            installation_id: t.installation_id,
        }))
}

/// Checks `Authorization: Bearer <token>`: 401 otherwise.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<AppCaller, ApiError> {
    const MISSING: &str = "authorize the slackdesk app (no valid app token was sent)";
    let raw = req
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::Unauthorized(MISSING))?;
    let caller = verify(&state.db, raw)
        .await?
        .ok_or(ApiError::Unauthorized(MISSING))?;
    if let Err(retry_after_secs) = state
        .rate_limiter
        .check_second(&format!("app:{}", caller.prefix), PER_TOKEN_PER_SECOND)
    {
        tracing::info!(token_prefix = %caller.prefix, "app token over its per-second limit");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    Ok(caller)
}

/// Counts one request of one agent's app: 429 past [`PER_AGENT_PER_SECOND`].
pub fn limit_agent(
    state: &AppState,
    caller: &AppCaller,
    user_id: ZendeskUserId,
) -> Result<(), ApiError> {
    let key = format!("app:{}:{}", caller.prefix, user_id.get());
    state
        .rate_limiter
        .check_second(&key, PER_AGENT_PER_SECOND)
        .map_err(|retry_after_secs| {
            tracing::info!(token_prefix = %caller.prefix, user_id = user_id.get(), "agent app over its per-second limit");
            ApiError::TooManyRequests { retry_after_secs }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_looked_up() {
        let good = format!("sdapp_0123456789ab_{}", random_secret());
        assert_eq!(split(&good), Some("0123456789ab"));
        assert_eq!(split("sdapp_0123456789ab_short"), None);
        assert_eq!(split(&good.replace("sdapp_", "sdk_")), None);
        assert_eq!(split(""), None);
        assert_eq!(split("sdapp_xyz_0123456789abcdef0123456789abcdef"), None);
    }
}
