//! `slack_events`: Events API ids already accepted, so Slack's retries do nothing twice.

use super::{StorageError, Tx, now_ms};

/// Records an event id; false when it was seen before (a retry).
pub async fn first_delivery(tx: &mut Tx, event_id: &str, team: &str) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO slack_events (event_id, team_id, received_at) VALUES ($1, $2, $3) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(event_id)
    .bind(team)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}
