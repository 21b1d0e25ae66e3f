//! Key rotation: re-seals every stored credential under the active key.
//!
//! Safe while the service runs: each row is rewritten only if it still holds the value
//! that was read (compare and swap), so a credential saved meanwhile is never clobbered,
//! and the running service decrypts both old and new values as long as its key ring
//! holds both keys.

use sqlx::Row;

use super::{Db, StorageError};
use crate::crypto::{KeyRing, SealedFor};

/// Every sealed column: (table, row id column, sealed column).
pub const SEALED_COLUMNS: [(&str, &str, &str); 8] = [
    ("accounts", "id", "push_token"),
    ("slack_workspaces", "team_id", "bot_token"),
    ("setup_sessions", "id_hash", "push_token"),
    ("setup_sessions", "id_hash", "metadata"),
    ("zendesk_connections", "subdomain", "credential"),
    ("routing_settings", "subdomain", "route_webhook_secret"),
    ("routing_settings", "subdomain", "same_agent_webhook_secret"),
    ("attachment_jobs", "reply_external_id", "file_urls"),
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    /// Values re-sealed under the active key.
    pub resealed: u64,
    /// Values already under the active key.
    pub current: u64,
    /// Values changed by someone else while we worked (already sealed anew by them).
    pub raced: u64,
}

pub async fn reseal_all(db: &Db, keys: &KeyRing) -> Result<RotationReport, StorageError> {
    let mut report = RotationReport::default();
    for (table, id_column, column) in SEALED_COLUMNS {
        reseal_column(db, keys, table, id_column, column, &mut report).await?;
    }
    Ok(report)
}

async fn reseal_column(
    db: &Db,
    keys: &KeyRing,
    table: &str,
    id_column: &str,
    column: &str,
    report: &mut RotationReport,
) -> Result<(), StorageError> {
    let select = format!(
        "SELECT {id_column} AS row_id, {column} AS sealed FROM {table} WHERE {column} IS NOT NULL"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(select))
        .fetch_all(db.pool())
        .await?;
    let update =
        format!("UPDATE {table} SET {column} = $1 WHERE {id_column} = $2 AND {column} = $3");
    for row in rows {
        let row_id: String = row.try_get("row_id")?;
        let sealed: Vec<u8> = row.try_get("sealed")?;
        if KeyRing::sealed_key_id(&sealed)? == keys.active_key().as_str() {
            report.current += 1;
            continue;
        }
        let target = SealedFor {
            table,
            column,
            row: &row_id,
        };
        let plaintext = keys.open(&sealed, target)?;
        let resealed = keys.seal(plaintext.expose().as_bytes(), target)?;
        let done = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
            .bind(resealed)
            .bind(&row_id)
            .bind(sealed)
            .execute(db.pool())
            .await?;
        if done.rows_affected() == 1 {
            report.resealed += 1;
        } else {
            report.raced += 1;
        }
    }
    Ok(())
}
