//! Who holds which unsolved ticket (`routing_tickets`), kept from the incremental
//! ticket export, and the open counts read from it.

use std::collections::HashMap;

use sqlx::Row;

use crate::domain::Subdomain;
use crate::storage::{Db, StorageError};

/// Applies a page of the incremental ticket export: unsolved tickets are kept with
/// their assignee, solved, closed and deleted ones are dropped.
pub async fn apply_ticket_changes(
    db: &Db,
    subdomain: &Subdomain,
    changes: &[(i64, String, Option<i64>, i64)],
) -> Result<(), StorageError> {
    let mut tx = db.begin_write().await?;
    for (id, status, assignee, updated_at) in changes {
        if matches!(status.as_str(), "new" | "open" | "pending" | "hold") {
            sqlx::query(
                "INSERT INTO routing_tickets (subdomain, ticket_id, assignee_id, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
                 assignee_id = excluded.assignee_id, status = excluded.status, \
                 updated_at = excluded.updated_at WHERE routing_tickets.updated_at <= excluded.updated_at",
            )
            .bind(subdomain.as_str())
            .bind(id)
            .bind(assignee)
            .bind(status)
            .bind(updated_at)
            .execute(&mut *tx)
            .await?;
        } else {
            sqlx::query("DELETE FROM routing_tickets WHERE subdomain = $1 AND ticket_id = $2")
                .bind(subdomain.as_str())
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
    }
    db.commit(tx).await?;
    Ok(())
}

/// Open tickets (status new or open) per assignee: an agent's inbox.
pub async fn open_counts(
    db: &Db,
    subdomain: &Subdomain,
) -> Result<HashMap<i64, i64>, StorageError> {
    let rows = sqlx::query(
        "SELECT assignee_id, COUNT(*) AS open FROM routing_tickets WHERE subdomain = $1 \
         AND assignee_id IS NOT NULL AND status IN ('new', 'open') GROUP BY assignee_id",
    )
    .bind(subdomain.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("assignee_id")?, r.try_get("open")?)))
        .collect()
}
