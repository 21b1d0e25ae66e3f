//! Accepted webhook calls waiting to be handled (`routing_requests`), leased so one
//! replica handles each.

use sqlx::Row;

use crate::domain::Subdomain;
use crate::storage::{Db, StorageError};

/// A webhook call waiting to be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub id: i64,
    pub subdomain: Subdomain,
    pub kind: String,
    pub ticket_id: i64,
    pub queue_id: Option<i64>,
    pub received_at: i64,
    pub attempts: i64,
    /// Calls received so far; a newer call while this one is handled re-arms the row.
    pub calls: i64,
}

/// Stores a webhook call. A second call for the same ticket while the first waits is
/// the same work (false); while the first is being handled it re-arms the row, so the
/// ticket is looked at again afterwards.
pub async fn enqueue_request(
    db: &Db,
    subdomain: &Subdomain,
    kind: &str,
    ticket_id: i64,
    queue_id: Option<i64>,
    now: i64,
) -> Result<bool, StorageError> {
    let calls: i64 = sqlx::query_scalar(
        "INSERT INTO routing_requests (subdomain, kind, ticket_id, queue_id, received_at, \
         next_attempt_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (subdomain, kind, ticket_id) DO UPDATE SET \
         calls = routing_requests.calls + 1, \
         next_attempt_at = CASE WHEN routing_requests.next_attempt_at > excluded.next_attempt_at \
         THEN excluded.next_attempt_at ELSE routing_requests.next_attempt_at END \
         RETURNING calls",
    )
    .bind(subdomain.as_str())
    .bind(kind)
    .bind(ticket_id)
    .bind(queue_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(calls == 1)
}

/// Leases up to `limit` due requests for this worker.
pub async fn lease_requests(
    db: &Db,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Request>, StorageError> {
    let rows = sqlx::query(
        "SELECT id, subdomain, kind, ticket_id, queue_id, received_at, attempts, calls \
         FROM routing_requests WHERE next_attempt_at <= $1 \
         AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut leased = Vec::new();
    for row in rows {
        let id: i64 = row.try_get("id")?;
        let taken = sqlx::query(
            "UPDATE routing_requests SET lease_owner = $2, lease_until = $3 WHERE id = $1 \
             AND (lease_until IS NULL OR lease_until < $4)",
        )
        .bind(id)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .execute(db.pool())
        .await?;
        if taken.rows_affected() != 1 {
            continue;
        }
        let subdomain: String = row.try_get("subdomain")?;
        leased.push(Request {
            id,
            subdomain: Subdomain::parse(&subdomain)
                .map_err(|_| StorageError::Corrupt("request subdomain"))?,
            kind: row.try_get("kind")?,
            ticket_id: row.try_get("ticket_id")?,
            queue_id: row.try_get("queue_id")?,
            received_at: row.try_get("received_at")?,
            attempts: row.try_get("attempts")?,
            calls: row.try_get("calls")?,
        });
    }
    Ok(leased)
}

/// Done with a request: deleted, unless another call arrived meanwhile (then it is
/// released to run again).
pub async fn finish_request(db: &Db, request: &Request, now: i64) -> Result<(), StorageError> {
    let deleted = sqlx::query("DELETE FROM routing_requests WHERE id = $1 AND calls = $2")
        .bind(request.id)
        .bind(request.calls)
        .execute(db.pool())
        .await?;
    if deleted.rows_affected() == 0 {
        sqlx::query(
            "UPDATE routing_requests SET lease_owner = NULL, lease_until = NULL, \
             next_attempt_at = $2 WHERE id = $1",
        )
        .bind(request.id)
        .bind(now)
        .execute(db.pool())
        .await?;
    }
    Ok(())
}

/// Tries a request again at `next_attempt_at`; `failed` counts it as a failed attempt
/// (waiting for a busy queue does not).
pub async fn retry_request(
    db: &Db,
    id: i64,
    next_attempt_at: i64,
    failed: bool,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE routing_requests SET attempts = attempts + $3, next_attempt_at = $2, \
         lease_owner = NULL, lease_until = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(i64::from(failed))
    .execute(db.pool())
    .await?;
    Ok(())
}
