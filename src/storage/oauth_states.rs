//! `zendesk_oauth_states`: OAuth connections in progress. Only a hash of the state sent to
//! Zendesk is kept, with the subdomain and an expiry; it is used once.

use super::{Db, StorageError};
use crate::domain::Subdomain;

pub async fn insert(
    db: &Db,
    state_hash: &str,
    subdomain: &Subdomain,
    expires_at: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM zendesk_oauth_states WHERE expires_at < $1")
        .bind(expires_at - 3_600_000)
        .execute(db.pool())
        .await?;
    sqlx::query(
        "INSERT INTO zendesk_oauth_states (state_hash, subdomain, expires_at) VALUES ($1, $2, $3)",
    )
    .bind(state_hash)
    .bind(subdomain.as_str())
    .bind(expires_at)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Consumes a state: its subdomain if it exists and has not expired.
pub async fn take(db: &Db, state_hash: &str, now: i64) -> Result<Option<Subdomain>, StorageError> {
    let subdomain: Option<String> = sqlx::query_scalar(
        "DELETE FROM zendesk_oauth_states WHERE state_hash = $1 AND expires_at > $2 \
         RETURNING subdomain",
    )
    .bind(state_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    subdomain
        .map(|s| {
            Subdomain::parse(&s)
                .map_err(|_| StorageError::Corrupt("zendesk_oauth_states.subdomain"))
        })
        .transpose()
}
