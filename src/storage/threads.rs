//! `threads` and `sender_windows`: which Slack threads are tickets of an account, and
//! the recent top-level message of each sender (same-sender grouping).
//!
//! A Slack thread maps to the ticket thread it feeds; they differ when a top-level
//! message was grouped into the ticket of the same sender's earlier message.

use sqlx::Row;

use super::{StorageError, Tx, now_ms};
use crate::domain::{AccountId, SlackChannelId, SlackTeamId, SlackTs, SlackUserId};

/// Where a conversation lives: account, workspace and channel.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    pub account: AccountId,
    pub team: &'a SlackTeamId,
    pub channel: &'a SlackChannelId,
}

/// The ticket thread a Slack thread feeds, if it is a ticket of this account.
pub async fn ticket_thread(
    tx: &mut Tx,
    place: Place<'_>,
    slack_thread: &SlackTs,
) -> Result<Option<SlackTs>, StorageError> {
    let row = sqlx::query(
        "SELECT ticket_thread_ts FROM threads WHERE account_id = $1 AND team_id = $2 \
         AND channel_id = $3 AND slack_thread_ts = $4",
    )
    .bind(place.account.to_string())
    .bind(place.team.as_str())
    .bind(place.channel.as_str())
    .bind(slack_thread.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        let ts: String = row.try_get("ticket_thread_ts")?;
        SlackTs::parse(&ts).map_err(|_| StorageError::Corrupt("threads.ticket_thread_ts"))
    })
    .transpose()
}

/// Makes a Slack thread feed a ticket thread; keeps an existing mapping.
pub async fn start(
    tx: &mut Tx,
    place: Place<'_>,
    slack_thread: &SlackTs,
    ticket_thread: &SlackTs,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO threads (account_id, team_id, channel_id, slack_thread_ts, ticket_thread_ts, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account_id, team_id, channel_id, slack_thread_ts) DO NOTHING",
    )
    .bind(place.account.to_string())
    .bind(place.team.as_str())
    .bind(place.channel.as_str())
    .bind(slack_thread.as_str())
    .bind(ticket_thread.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The ticket thread of the sender's last top-level message, if newer than `window_ms`.
pub async fn recent_sender_thread(
    tx: &mut Tx,
    place: Place<'_>,
    user: &SlackUserId,
    window_ms: i64,
) -> Result<Option<SlackTs>, StorageError> {
    let row = sqlx::query(
        "SELECT ticket_thread_ts FROM sender_windows WHERE account_id = $1 AND team_id = $2 \
         AND channel_id = $3 AND user_id = $4 AND last_at >= $5",
    )
    .bind(place.account.to_string())
    .bind(place.team.as_str())
    .bind(place.channel.as_str())
    .bind(user.as_str())
    .bind(now_ms() - window_ms)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        let ts: String = row.try_get("ticket_thread_ts")?;
        SlackTs::parse(&ts).map_err(|_| StorageError::Corrupt("sender_windows.ticket_thread_ts"))
    })
    .transpose()
}

/// Notes the sender's latest top-level message and the ticket thread it went to.
pub async fn touch_sender(
    tx: &mut Tx,
    place: Place<'_>,
    user: &SlackUserId,
    ticket_thread: &SlackTs,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO sender_windows (account_id, team_id, channel_id, user_id, ticket_thread_ts, last_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (account_id, team_id, channel_id, user_id) DO UPDATE SET \
         ticket_thread_ts = excluded.ticket_thread_ts, last_at = excluded.last_at",
    )
    .bind(place.account.to_string())
    .bind(place.team.as_str())
    .bind(place.channel.as_str())
    .bind(user.as_str())
    .bind(ticket_thread.as_str())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Forgets a sender for one account (GDPR erasure).
pub async fn forget_sender(
    db: &super::Db,
    account: AccountId,
    team: &SlackTeamId,
    user: &SlackUserId,
) -> Result<u64, StorageError> {
    let done = sqlx::query(
        "DELETE FROM sender_windows WHERE account_id = $1 AND team_id = $2 AND user_id = $3",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(user.as_str())
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}
