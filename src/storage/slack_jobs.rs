//! `slack_jobs`: work on the Slack side that follows an event: bringing in a whole thread
//! when someone reacts with the start emoji, and marking a Slack message once its ticket
//! exists. Claimed with a lease like the outbox, retried with backoff, deduplicated.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Db, StorageError, now_ms};
use crate::domain::{AccountId, SlackChannelId, SlackMessageRef, SlackTeamId, SlackTs};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Bring in the thread of a message someone reacted to with the start emoji.
    Backfill,
    /// Add the "ticket created" reaction to a Slack message.
    MarkTicket,
    /// Set the channel's priority and type on the ticket a Slack message started.
    TicketFields,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Backfill => "backfill",
            Self::MarkTicket => "mark_ticket",
            Self::TicketFields => "ticket_fields",
        }
    }

    fn parse(raw: &str) -> Result<Self, StorageError> {
        match raw {
            "backfill" => Ok(Self::Backfill),
            "mark_ticket" => Ok(Self::MarkTicket),
            "ticket_fields" => Ok(Self::TicketFields),
            _ => Err(StorageError::Corrupt("slack_jobs.kind")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SlackJob {
    pub id: i64,
    pub account: AccountId,
    pub kind: JobKind,
    pub message: SlackMessageRef,
    pub attempts: i64,
}

/// Queues a job; a job already queued for the same message is not queued twice.
pub async fn enqueue<'e, E>(
    executor: E,
    account: AccountId,
    kind: JobKind,
    message: &SlackMessageRef,
) -> Result<bool, StorageError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO slack_jobs (account_id, kind, team_id, channel_id, ts, state, attempts, run_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6) \
         ON CONFLICT (account_id, kind, team_id, channel_id, ts) DO UPDATE SET state = 'pending', \
         attempts = 0, run_after = excluded.run_after, last_error = NULL WHERE slack_jobs.state = 'failed'",
    )
    .bind(account.to_string())
    .bind(kind.as_str())
    .bind(message.team.as_str())
    .bind(message.channel.as_str())
    .bind(message.ts.as_str())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn from_row(row: &AnyRow) -> Result<SlackJob, StorageError> {
    let text = |name: &str| -> Result<String, StorageError> { Ok(row.try_get::<String, _>(name)?) };
    let corrupt = |_| StorageError::Corrupt("slack_jobs ids");
    Ok(SlackJob {
        id: row.try_get("id")?,
        account: AccountId::parse(&text("account_id")?).map_err(corrupt)?,
        kind: JobKind::parse(&text("kind")?)?,
        message: SlackMessageRef {
            team: SlackTeamId::parse(&text("team_id")?).map_err(corrupt)?,
            channel: SlackChannelId::parse(&text("channel_id")?).map_err(corrupt)?,
            ts: SlackTs::parse(&text("ts")?).map_err(corrupt)?,
        },
        attempts: row.try_get("attempts")?,
    })
}

/// Claims due jobs for `lease_ms` (once across replicas on PostgreSQL).
pub async fn claim(db: &Db, limit: i64, lease_ms: i64) -> Result<Vec<SlackJob>, StorageError> {
    let now = now_ms();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE slack_jobs SET lease_until = $1, attempts = attempts + 1 \
         WHERE (lease_until IS NULL OR lease_until < $2) AND state = 'pending' AND id IN ( \
           SELECT id FROM slack_jobs WHERE state = 'pending' AND run_after <= $2 \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY id LIMIT $3 {lock}) \
         RETURNING id, account_id, kind, team_id, channel_id, ts, attempts"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    let mut jobs: Vec<SlackJob> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

pub async fn finish(db: &Db, id: i64) -> Result<(), StorageError> {
    sqlx::query("UPDATE slack_jobs SET state = 'done', lease_until = NULL WHERE id = $1")
        .bind(id)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn retry_later(db: &Db, id: i64, code: &str, delay_ms: i64) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE slack_jobs SET lease_until = NULL, run_after = $2, last_error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(now_ms() + delay_ms)
    .bind(code)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn fail(db: &Db, id: i64, code: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE slack_jobs SET state = 'failed', lease_until = NULL, last_error = $2 WHERE id = $1",
    )
    .bind(id)
    .bind(code)
    .execute(db.pool())
    .await?;
    Ok(())
}
