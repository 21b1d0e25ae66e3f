//! `board_sessions`: status board sign-ins. The cookie holds a random id; only its hash is
//! stored, with the API key it was opened with and an expiry.

use super::{Db, StorageError};

pub async fn insert(
    db: &Db,
    id_hash: &str,
    key_prefix: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), StorageError> {
    sqlx::query("DELETE FROM board_sessions WHERE expires_at < $1")
        .bind(now)
        .execute(db.pool())
        .await?;
    sqlx::query("INSERT INTO board_sessions (id_hash, key_prefix, expires_at) VALUES ($1, $2, $3)")
        .bind(id_hash)
        .bind(key_prefix)
        .bind(expires_at)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The key prefix of a live session.
pub async fn key_prefix(db: &Db, id_hash: &str, now: i64) -> Result<Option<String>, StorageError> {
    Ok(sqlx::query_scalar(
        "SELECT key_prefix FROM board_sessions WHERE id_hash = $1 AND expires_at > $2",
    )
    .bind(id_hash)
    .bind(now)
    .fetch_optional(db.pool())
    .await?)
}
