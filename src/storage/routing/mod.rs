//! Routing's tables: settings and sync cursors (`routing_settings`), queues with their
//! round-robin pointer and run lease (`routing_queues`), per-agent limits, who holds
//! which unsolved ticket (`routing_tickets`), skills, ticket claims, the assignment log
//! and accepted webhook calls (`routing_requests`). Ids, counts and reasons only.
//!
//! Exactly-once on several replicas comes from conditional updates that work the same
//! on SQLite and PostgreSQL: a lease is taken by `UPDATE ... WHERE lease_until < now`
//! and counts only if it changed a row; a ticket is claimed by an insert that only
//! replaces an expired claim.

mod agent_limits;
mod claims;
pub mod dedicated;
mod log;
mod queues;
mod requests;
mod settings;
mod skills;
mod sync;
mod tickets;
pub mod watch;

pub use agent_limits::*;
pub use claims::*;
pub use log::*;
pub use queues::*;
pub use requests::*;
pub use settings::*;
pub use skills::*;
pub use sync::*;
pub use tickets::*;

use crate::storage::{Db, StorageError};

/// Stores a flag as SQLite and PostgreSQL both read it.
fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// Routing's retention: claims long expired, assignments older than `keep_ms` (never a
/// pending one) and ticket skills not read for 30 days. Returns the rows deleted.
pub async fn prune(db: &Db, now: i64, keep_ms: i64) -> Result<u64, StorageError> {
    let mut deleted = 0;
    for (sql, cutoff) in [
        (
            "DELETE FROM routing_claims WHERE claimed_until < $1",
            now - 86_400_000,
        ),
        (
            "DELETE FROM routing_assignments WHERE decided_at < $1 AND state <> 'pending'",
            now - keep_ms,
        ),
        (
            "DELETE FROM routing_ticket_skills WHERE fetched_at < $1",
            now - 30 * 86_400_000,
        ),
    ] {
        deleted += sqlx::query(sql)
            .bind(cutoff)
            .execute(db.pool())
            .await?
            .rows_affected();
    }
    Ok(deleted)
}
