//! `ticket_links`: which Zendesk ticket and comment each of our external ids became,
//! learnt from `resources_created_from_external_ids` events.

use sqlx::Row;

use super::{Db, StorageError, now_ms};
use crate::domain::{AccountId, ExternalId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketLink {
    pub kind: String,
    pub ticket_id: i64,
    pub comment_id: Option<i64>,
    pub follow_up_ticket_id: Option<i64>,
}

/// Records (or updates) what an external id became.
pub async fn record(
    db: &Db,
    account: AccountId,
    external_id: &ExternalId,
    link: &TicketLink,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO ticket_links (account_id, external_id, kind, ticket_id, comment_id, \
         follow_up_ticket_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (account_id, external_id) DO UPDATE SET kind = excluded.kind, \
         ticket_id = excluded.ticket_id, comment_id = excluded.comment_id, \
         follow_up_ticket_id = excluded.follow_up_ticket_id",
    )
    .bind(account.to_string())
    .bind(external_id.as_str())
    .bind(&link.kind)
    .bind(link.ticket_id)
    .bind(link.comment_id)
    .bind(link.follow_up_ticket_id)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn find(
    db: &Db,
    account: AccountId,
    external_id: &ExternalId,
) -> Result<Option<TicketLink>, StorageError> {
    let row = sqlx::query(
        "SELECT kind, ticket_id, comment_id, follow_up_ticket_id FROM ticket_links \
         WHERE account_id = $1 AND external_id = $2",
    )
    .bind(account.to_string())
    .bind(external_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    row.map(|row| {
        Ok(TicketLink {
            kind: row.try_get("kind")?,
            ticket_id: row.try_get("ticket_id")?,
            comment_id: row.try_get("comment_id")?,
            follow_up_ticket_id: row.try_get("follow_up_ticket_id")?,
        })
    })
    .transpose()
}

/// Whether an account ever queued this external id (to match events that carry no
/// metadata to the right account).
pub async fn account_sent(
    db: &Db,
    account: AccountId,
    external_id: &ExternalId,
) -> Result<bool, StorageError> {
    let row = sqlx::query(
        "SELECT 1 AS hit FROM outbox WHERE account_id = $1 AND external_id = $2 \
         UNION ALL SELECT 1 AS hit FROM channelbacks WHERE account_id = $1 AND external_id = $2",
    )
    .bind(account.to_string())
    .bind(external_id.as_str())
    .fetch_optional(db.pool())
    .await?;
    Ok(row.is_some())
}
