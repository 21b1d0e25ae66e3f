//! `app_tokens`: the account tokens of the agents' Zendesk app. Only the SHA-256 of a
//! token is stored, with the account and app installation it was written into.

use sqlx::Row;

use super::{Db, StorageError};
use crate::domain::{Subdomain, ZendeskUserId};

/// A live token as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAppToken {
    pub prefix: String,
    pub subdomain: Subdomain,
    pub installation_id: i64,
    pub secret_hash: String,
}

/// A token being created.
pub struct NewAppToken<'a> {
    pub prefix: &'a str,
    pub subdomain: &'a Subdomain,
    pub installation_id: i64,
    pub secret_hash: &'a str,
    pub created_by: ZendeskUserId,
}

pub async fn insert(db: &Db, token: &NewAppToken<'_>, now: i64) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO app_tokens (prefix, subdomain, installation_id, secret_hash, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(token.prefix)
    .bind(token.subdomain.as_str())
    .bind(token.installation_id)
    .bind(token.secret_hash)
    .bind(token.created_by.get())
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The token with this prefix, unless revoked.
pub async fn find_active(db: &Db, prefix: &str) -> Result<Option<StoredAppToken>, StorageError> {
    let row = sqlx::query(
        "SELECT prefix, subdomain, installation_id, secret_hash FROM app_tokens \
         WHERE prefix = $1 AND revoked_at IS NULL",
    )
    .bind(prefix)
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        let subdomain: String = row.try_get("subdomain")?;
        Ok(StoredAppToken {
            prefix: row.try_get("prefix")?,
            subdomain: Subdomain::parse(&subdomain)
                .map_err(|_| StorageError::Corrupt("app_tokens.subdomain"))?,
            installation_id: row.try_get("installation_id")?,
            secret_hash: row.try_get("secret_hash")?,
        })
    })
    .transpose()
}

/// Revokes the installation's other tokens (a new one was written into its settings).
pub async fn revoke_others(
    db: &Db,
    subdomain: &Subdomain,
    installation_id: i64,
    keep: &str,
    now: i64,
) -> Result<u64, StorageError> {
    Ok(sqlx::query(
        "UPDATE app_tokens SET revoked_at = $4 WHERE subdomain = $1 AND installation_id = $2 \
         AND prefix <> $3 AND revoked_at IS NULL",
    )
    .bind(subdomain.as_str())
    .bind(installation_id)
    .bind(keep)
    .bind(now)
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// Deletes a token that never reached Zendesk.
pub async fn delete(db: &Db, prefix: &str) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM app_tokens WHERE prefix = $1")
        .bind(prefix)
        .execute(db.pool())
        .await?;
    Ok(())
}
