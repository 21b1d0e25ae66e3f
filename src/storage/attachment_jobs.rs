//! `attachment_jobs`: an agent's attachments on their way to the Slack thread, after the
//! channelback that carried them has been answered. The file URLs are sealed (Zendesk
//! may put tokens in them); no file content is ever stored. Claimed with a lease, once
//! across replicas on PostgreSQL (`SKIP LOCKED`).

use sqlx::Row;

use super::{Backend, Db, StorageError, now_ms};
use crate::crypto::{KeyRing, SealedFor};
use crate::domain::{AccountId, ExternalId};

fn urls_row(reply: &str) -> SealedFor<'_> {
    SealedFor {
        table: "attachment_jobs",
        column: "file_urls",
        row: reply,
    }
}

#[derive(Debug, Clone)]
pub struct AttachmentJob {
    pub id: i64,
    pub account: AccountId,
    /// The Slack reply the files belong with.
    pub reply: ExternalId,
    /// The ticket thread (its root message).
    pub thread: ExternalId,
    /// The files still to forward.
    pub file_urls: Vec<String>,
    pub attempts: i64,
}

/// Queues the files of a posted reply; a reply's files are queued once.
pub async fn enqueue(
    db: &Db,
    keys: &KeyRing,
    account: AccountId,
    reply: &ExternalId,
    thread: &ExternalId,
    file_urls: &[String],
) -> Result<(), StorageError> {
    let sealed = seal_urls(keys, reply, file_urls)?;
    let now = now_ms();
    sqlx::query(
        "INSERT INTO attachment_jobs (account_id, reply_external_id, thread_external_id, \
         file_urls, state, attempts, run_after, created_at) \
         VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) \
         ON CONFLICT (account_id, reply_external_id) DO NOTHING",
    )
    .bind(account.to_string())
    .bind(reply.as_str())
    .bind(thread.as_str())
    .bind(sealed)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

fn seal_urls(keys: &KeyRing, reply: &ExternalId, urls: &[String]) -> Result<Vec<u8>, StorageError> {
    let json = serde_json::to_vec(urls).map_err(|_| StorageError::Corrupt("attachment urls"))?;
    Ok(keys.seal(&json, urls_row(reply.as_str()))?)
}

/// Claims due jobs for `lease_ms`, counting a try for each.
pub async fn claim(
    db: &Db,
    keys: &KeyRing,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<AttachmentJob>, StorageError> {
    let now = now_ms();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE attachment_jobs SET lease_until = $1, attempts = attempts + 1 \
         WHERE (lease_until IS NULL OR lease_until < $2) AND state = 'pending' AND id IN ( \
           SELECT id FROM attachment_jobs WHERE state = 'pending' AND run_after <= $2 \
             AND (lease_until IS NULL OR lease_until < $2) ORDER BY id LIMIT $3 {lock}) \
         RETURNING id, account_id, reply_external_id, thread_external_id, file_urls, attempts"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    let corrupt = |_| StorageError::Corrupt("attachment_jobs ids");
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        let reply: String = row.try_get("reply_external_id")?;
        let sealed: Vec<u8> = row.try_get("file_urls")?;
        let opened = keys.open(&sealed, urls_row(&reply))?;
        let file_urls: Vec<String> = serde_json::from_str(opened.expose())
            .map_err(|_| StorageError::Corrupt("attachment_jobs.file_urls"))?;
        jobs.push(AttachmentJob {
            id: row.try_get("id")?,
            account: AccountId::parse(&row.try_get::<String, _>("account_id")?)
                .map_err(|_| StorageError::Corrupt("attachment_jobs.account_id"))?,
            reply: ExternalId::parse(&reply).map_err(corrupt)?,
            thread: ExternalId::parse(&row.try_get::<String, _>("thread_external_id")?)
                .map_err(corrupt)?,
            file_urls,
            attempts: row.try_get("attempts")?,
        });
    }
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

pub async fn finish(db: &Db, id: i64) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE attachment_jobs SET state = 'done', lease_until = NULL, finished_at = $2, file_urls = NULL \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Keeps only the files that still failed, to be tried again after `delay_ms`.
pub async fn retry_later(
    db: &Db,
    keys: &KeyRing,
    job: &AttachmentJob,
    remaining: &[String],
    code: &str,
    delay_ms: i64,
) -> Result<(), StorageError> {
    let sealed = seal_urls(keys, &job.reply, remaining)?;
    sqlx::query(
        "UPDATE attachment_jobs SET lease_until = NULL, run_after = $2, last_error = $3, \
         file_urls = $4 WHERE id = $1",
    )
    .bind(job.id)
    .bind(now_ms() + delay_ms)
    .bind(code)
    .bind(sealed)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Gives up: the code stays, the URLs go.
pub async fn give_up(db: &Db, id: i64, code: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE attachment_jobs SET state = 'dead', lease_until = NULL, last_error = $2, \
         finished_at = $3, file_urls = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(code)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The account's attachment jobs given up, for the admin.
pub async fn dead_count(db: &Db, account: AccountId) -> Result<i64, StorageError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM attachment_jobs WHERE account_id = $1 AND state = 'dead'",
    )
    .bind(account.to_string())
    .fetch_one(db.pool())
    .await?;
    Ok(row.try_get("n")?)
}
