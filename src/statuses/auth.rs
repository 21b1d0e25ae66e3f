//! Who is calling the status API: the `X-API-Key` header checked against the stored
//! hashes, then the key's per-second and daily limits. The answer scopes every query to
//! the key's account, so one account's key never sees another's agents.

use actix_web::HttpRequest;

use super::keys;
use super::rate_limit::{day_of, secs_to_midnight};
use crate::domain::{Subdomain, ZendeskUserId};
use crate::state::AppState;
use crate::storage::api_keys;
use crate::web::ApiError;

/// The account and owner of a valid key.
#[derive(Debug, Clone)]
pub struct Caller {
    pub key_prefix: String,
    pub subdomain: Subdomain,
    /// Recorded as `updated_by` on the changes this key makes.
    pub owner: ZendeskUserId,
}

/// Checks the key and counts the request against its limits: 401 or 429 otherwise.
pub async fn authenticate(state: &AppState, req: &HttpRequest) -> Result<Caller, ApiError> {
    let raw = req
        .headers()
        .get("X-API-Key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(ApiError::Unauthorized("send a valid API key in X-API-Key"))?;
    let key = keys::verify(&state.db, raw)
        .await?
        .ok_or(ApiError::Unauthorized("send a valid API key in X-API-Key"))?;
    let now = state.clock.now_ms();
    let settings = &state.settings;
    if let Err(retry_after_secs) = state
        .rate_limiter
        .check_second(&key.prefix, settings.status_api_per_second)
    {
        tracing::info!(key_prefix = %key.prefix, "status API key over its per-second limit");
        return Err(ApiError::TooManyRequests { retry_after_secs });
    }
    let today = api_keys::record_use(&state.db, &key.prefix, now, day_of(now)).await?;
    if today > i64::from(settings.status_api_per_day) {
        tracing::info!(key_prefix = %key.prefix, "status API key over its daily limit");
        return Err(ApiError::TooManyRequests {
            retry_after_secs: secs_to_midnight(now),
        });
    }
    Ok(Caller {
        key_prefix: key.prefix,
        subdomain: key.subdomain,
        owner: key.owner,
    })
}
