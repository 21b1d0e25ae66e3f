//! `outbox`: resources waiting to reach Zendesk, by ids only.
//!
//! ```text
//!  enqueue ──▶ pending ──push ok / pull acked──▶ delivered
//!              │  ▲  │
//!              │  │  └── admin: Discard ──▶ discarded
//!              │  └── failure: run_after = now + backoff (see `bridge::delivery`)
//!              └── permanent, or out of tries or age ──▶ dead (last_error = code)
//!                                       admin: Retry ──▶ pending (a new 24 h window)
//!  deleted in Slack before Zendesk saw it ──▶ withdrawn
//! ```
//!
//! Order is per Slack thread: a row is handed out only when no earlier row of its ticket
//! thread is still pending and waiting (backoff or another worker's lease), so a stuck
//! row holds back its own thread and nothing else.
//!
//! Push workers claim rows with a lease (`lease_until`), so on PostgreSQL two replicas
//! never push the same row at once (`FOR UPDATE SKIP LOCKED`, and the lease is checked
//! again when the row is updated). Pull serves pending rows in `seq` order and a row
//! leaves the queue when a later pull's `state` lists it (see `channel::pull`).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Db, StorageError, now_ms, placeholders};
use crate::domain::{
    AccountId, ExternalId, SlackChannelId, SlackMessageRef, SlackTeamId, SlackTs, SlackUserId,
};

/// What a queued resource becomes in Zendesk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    /// A new message: a ticket (top level) or a comment (thread reply).
    Message,
    /// An edit of an earlier message, shown as a new comment.
    Edit,
    /// A deleted message, shown as an internal note.
    Delete,
}

impl ResourceKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Message => "message",
            Self::Edit => "edit",
            Self::Delete => "delete",
        }
    }

    fn parse(raw: &str) -> Result<Self, StorageError> {
        match raw {
            "message" => Ok(Self::Message),
            "edit" => Ok(Self::Edit),
            "delete" => Ok(Self::Delete),
            _ => Err(StorageError::Corrupt("outbox.kind")),
        }
    }
}

pub struct NewResource {
    pub account_id: AccountId,
    pub external_id: ExternalId,
    pub kind: ResourceKind,
    pub message: SlackMessageRef,
    /// The ticket thread (`thread_id` in Zendesk).
    pub thread_ts: SlackTs,
    /// The Slack thread the message sits in (its own ts when top level).
    pub parent_ts: SlackTs,
    pub author: Option<SlackUserId>,
}

#[derive(Debug, Clone)]
pub struct QueuedResource {
    pub seq: i64,
    pub account_id: AccountId,
    pub external_id: ExternalId,
    pub kind: ResourceKind,
    pub message: SlackMessageRef,
    /// The ticket thread (`thread_id` in Zendesk).
    pub thread_ts: SlackTs,
    /// The Slack thread the message sits in, to read it from Slack.
    pub parent_ts: SlackTs,
    pub attempts: i64,
    /// When retrying stops (ms since the epoch).
    pub give_up_at: i64,
    /// When it was queued (ms since the epoch).
    pub created_at: i64,
    /// The code of its last failure, if it failed before.
    pub last_error: Option<String>,
}

const COLUMNS: &str = "seq, account_id, external_id, kind, slack_team, slack_channel, slack_ts, \
                       slack_thread_ts, slack_parent_ts, attempts, created_at, last_error, \
                       COALESCE(give_up_at, created_at + 86400000) AS give_up_at";

/// The account's pending rows, each with `first_waiting`: the first row of its ticket
/// thread that waits (in backoff, or leased by another worker); `$account` and `$now`
/// name the placeholders. A row goes out only if it comes before that one (see
/// [`BEFORE_WAITING`]), which keeps each thread in order and holds back only that thread.
///
/// One window pass over the account's pending rows, so its cost is the same whatever the
/// planner believes: a join to a grouped subquery was planned as a nested loop that
/// re-ran the grouping per candidate whenever the statistics said pending rows were rare
/// (the usual case, right up to a backlog), and a claim then took seconds on PostgreSQL.
fn pending_with_first_waiting(account: &str, now: &str) -> String {
    format!(
        "(SELECT p.*, MIN(CASE WHEN p.run_after > {now} \
              OR (p.lease_until IS NOT NULL AND p.lease_until >= {now}) THEN p.seq END) \
            OVER (PARTITION BY p.slack_team, p.slack_channel, p.slack_thread_ts) AS first_waiting \
          FROM outbox p WHERE p.account_id = {account} AND p.state = 'pending') o"
    )
}

/// The row comes before its thread's first waiting row (see [`pending_with_first_waiting`]).
const BEFORE_WAITING: &str = "(o.first_waiting IS NULL OR o.seq < o.first_waiting)";

/// [`COLUMNS`] of the `o` alias, for selects that join other tables.
fn qualified_columns() -> String {
    "o.seq, o.account_id, o.external_id, o.kind, o.slack_team, o.slack_channel, o.slack_ts, \
     o.slack_thread_ts, o.slack_parent_ts, o.attempts, o.created_at, o.last_error, \
     COALESCE(o.give_up_at, o.created_at + 86400000) AS give_up_at"
        .to_owned()
}

fn corrupt(_: crate::domain::ParseError) -> StorageError {
    StorageError::Corrupt("outbox ids")
}

fn from_row(row: &AnyRow) -> Result<QueuedResource, StorageError> {
    let text = |name: &str| -> Result<String, StorageError> { Ok(row.try_get::<String, _>(name)?) };
    Ok(QueuedResource {
        seq: row.try_get("seq")?,
        account_id: AccountId::parse(&text("account_id")?).map_err(corrupt)?,
        external_id: ExternalId::parse(&text("external_id")?).map_err(corrupt)?,
        kind: ResourceKind::parse(&text("kind")?)?,
        message: SlackMessageRef {
            team: SlackTeamId::parse(&text("slack_team")?).map_err(corrupt)?,
            channel: SlackChannelId::parse(&text("slack_channel")?).map_err(corrupt)?,
            ts: SlackTs::parse(&text("slack_ts")?).map_err(corrupt)?,
        },
        thread_ts: SlackTs::parse(&text("slack_thread_ts")?).map_err(corrupt)?,
        parent_ts: {
            let parent: Option<String> = row.try_get("slack_parent_ts")?;
            match parent {
                Some(parent) => SlackTs::parse(&parent).map_err(corrupt)?,
                None => SlackTs::parse(&text("slack_thread_ts")?).map_err(corrupt)?,
            }
        },
        attempts: row.try_get("attempts")?,
        give_up_at: row.try_get("give_up_at")?,
        created_at: row.try_get("created_at")?,
        last_error: row.try_get("last_error")?,
    })
}

/// Queues a resource; returns false when that external id was already queued for the
/// account (a duplicate event), which is not an error.
pub async fn enqueue<'e, E>(executor: E, resource: &NewResource) -> Result<bool, StorageError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let now = now_ms();
    let done = sqlx::query(
        "INSERT INTO outbox (account_id, external_id, kind, slack_team, slack_channel, slack_ts, \
         slack_thread_ts, slack_user, slack_parent_ts, state, attempts, run_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 'pending', 0, $9, $9) \
         ON CONFLICT (account_id, external_id) DO NOTHING",
    )
    .bind(resource.account_id.to_string())
    .bind(resource.external_id.as_str())
    .bind(resource.kind.as_str())
    .bind(resource.message.team.as_str())
    .bind(resource.message.channel.as_str())
    .bind(resource.message.ts.as_str())
    .bind(resource.thread_ts.as_str())
    .bind(resource.author.as_ref().map(SlackUserId::as_str))
    .bind(now)
    .bind(resource.parent_ts.as_str())
    .execute(executor)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Marks as delivered the account's pending rows whose seq Zendesk acknowledged.
pub async fn acknowledge(db: &Db, account: AccountId, seqs: &[i64]) -> Result<u64, StorageError> {
    if seqs.is_empty() {
        return Ok(0);
    }
    let sql = format!(
        "UPDATE outbox SET state = 'delivered', delivered_at = $2, lease_until = NULL \
         WHERE account_id = $1 AND state = 'pending' AND seq IN ({})",
        placeholders(2, seqs.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.to_string())
        .bind(now_ms());
    for seq in seqs {
        query = query.bind(*seq);
    }
    Ok(query.execute(db.pool()).await?.rows_affected())
}

/// The account's due pending rows in order, for a pull; a row waiting in backoff holds
/// back the later rows of its thread only.
pub async fn pending_for_pull(
    db: &Db,
    account: AccountId,
    limit: i64,
) -> Result<Vec<QueuedResource>, StorageError> {
    let pending = pending_with_first_waiting("$1", "$2");
    let columns = qualified_columns();
    let sql = format!(
        "SELECT {columns} FROM {pending} WHERE o.run_after <= $2 AND {BEFORE_WAITING} \
         ORDER BY o.seq LIMIT $3"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(account.to_string())
        .bind(now_ms())
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}

/// Leases one push-mode account that has due rows, so that only this worker delivers its
/// queue until the lease ends or is released (on PostgreSQL, `SKIP LOCKED` keeps two
/// replicas from taking the same account; the lease is checked again on update).
pub async fn lease_account(db: &Db, lease_ms: i64) -> Result<Option<AccountId>, StorageError> {
    let now = now_ms();
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE OF a SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE accounts SET delivery_lease_until = $1 \
         WHERE (delivery_lease_until IS NULL OR delivery_lease_until < $2) AND id = ( \
           SELECT a.id FROM accounts a \
           WHERE a.active = 1 AND a.push_token IS NOT NULL AND a.instance_push_id IS NOT NULL \
             AND a.push_failure IS NULL AND a.settings NOT LIKE '%\"pull_only\"%' \
             AND (a.delivery_lease_until IS NULL OR a.delivery_lease_until < $2) \
             AND EXISTS (SELECT 1 FROM outbox o WHERE o.account_id = a.id AND o.state = 'pending' \
                         AND o.run_after <= $2 AND (o.lease_until IS NULL OR o.lease_until < $2)) \
           ORDER BY a.delivery_lease_until IS NOT NULL, a.delivery_lease_until LIMIT 1 {lock}) \
         RETURNING id"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        let id: String = row.try_get("id")?;
        AccountId::parse(&id).map_err(|_| StorageError::Corrupt("accounts.id"))
    })
    .transpose()
}

/// Keeps an account out of delivery for `delay` (Zendesk answered 429 with
/// `Retry-After`): its lease simply lasts that long, on every replica.
pub async fn hold_account(
    db: &Db,
    account: AccountId,
    delay: std::time::Duration,
) -> Result<(), StorageError> {
    let until = now_ms() + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2);
    sqlx::query("UPDATE accounts SET delivery_lease_until = $2 WHERE id = $1")
        .bind(account.to_string())
        .bind(until)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends the leases of an account's claimed rows (a round that failed midway; the worker
/// that holds the account lease is the only one that claims its rows).
pub async fn release_account_rows(db: &Db, account: AccountId) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET lease_until = NULL WHERE account_id = $1 AND state = 'pending' \
         AND lease_until IS NOT NULL",
    )
    .bind(account.to_string())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Ends an account's delivery lease early (its round is over).
pub async fn release_account(db: &Db, account: AccountId) -> Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET delivery_lease_until = NULL WHERE id = $1")
        .bind(account.to_string())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Claims up to `limit` due rows of one (leased) account for `lease_ms`, oldest first,
/// skipping the rows whose thread has an earlier row still waiting.
pub async fn claim_for_push(
    db: &Db,
    account: AccountId,
    limit: i64,
    lease_ms: i64,
) -> Result<Vec<QueuedResource>, StorageError> {
    let now = now_ms();
    // No `FOR UPDATE … SKIP LOCKED` here (PostgreSQL refuses it beside a window): the
    // account lease already makes this worker the only one claiming the account's rows,
    // and the UPDATE checks each row's lease again.
    let pending = pending_with_first_waiting("$4", "$2");
    let sql = format!(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
         WHERE (lease_until IS NULL OR lease_until < $2) AND state = 'pending' AND seq IN ( \
           SELECT o.seq FROM {pending} WHERE o.run_after <= $2 \
             AND (o.lease_until IS NULL OR o.lease_until < $2) AND {BEFORE_WAITING} \
           ORDER BY o.seq LIMIT $3) \
         RETURNING {COLUMNS}"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(now + lease_ms)
        .bind(now)
        .bind(limit)
        .bind(account.to_string())
        .fetch_all(db.pool())
        .await?;
    let mut claimed: Vec<QueuedResource> = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    claimed.sort_by_key(|r| r.seq);
    Ok(claimed)
}

pub async fn mark_delivered(db: &Db, seqs: &[i64]) -> Result<(), StorageError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET state = 'delivered', delivered_at = $1, lease_until = NULL \
         WHERE seq IN ({})",
        placeholders(1, seqs.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms());
    for seq in seqs {
        query = query.bind(*seq);
    }
    query.execute(db.pool()).await?;
    Ok(())
}

/// Releases a claimed row to be tried again after `delay_ms`, recording why;
/// `attempt_delta` corrects the try count (-1: this try does not count; +1: it was not
/// counted when the row was handed out).
pub async fn retry_later(
    db: &Db,
    seq: i64,
    code: &str,
    delay_ms: i64,
    attempt_delta: i64,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET lease_until = NULL, run_after = $2, last_error = $3, \
         attempts = attempts + $4 WHERE seq = $1 AND state = 'pending'",
    )
    .bind(seq)
    .bind(now_ms() + delay_ms)
    .bind(code)
    .bind(attempt_delta)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Hands claimed rows back untried (they wait behind an earlier row of their thread, or
/// their round ended early): their lease ends and the claim's try is not counted.
pub async fn release_untried(db: &Db, seqs: &[i64]) -> Result<(), StorageError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET lease_until = NULL, attempts = attempts - 1 \
         WHERE state = 'pending' AND attempts > 0 AND seq IN ({})",
        placeholders(0, seqs.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for seq in seqs {
        query = query.bind(*seq);
    }
    query.execute(db.pool()).await?;
    Ok(())
}

/// Gives up on a row, keeping the error code (never content) for the admin.
pub async fn mark_dead(db: &Db, seq: i64, code: &str) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE outbox SET state = 'dead', lease_until = NULL, last_error = $2, dead_at = $3 \
         WHERE seq = $1 AND state = 'pending'",
    )
    .bind(seq)
    .bind(code)
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(())
}

/// A delivery an admin should see: stuck (pending after a failure) or dead.
#[derive(Debug, Clone)]
pub struct DeliveryProblem {
    pub seq: i64,
    pub external_id: String,
    pub dead: bool,
    pub code: String,
    pub attempts: i64,
    /// When it was queued (ms).
    pub queued_at: i64,
    /// When it is tried next (stuck) or when it died (dead), ms.
    pub at: i64,
}

/// Most problems listed on a page; the counts cover all of them.
pub const PROBLEMS_LISTED: i64 = 100;

/// The account's stuck and dead deliveries, newest first.
pub async fn problems(db: &Db, account: AccountId) -> Result<Vec<DeliveryProblem>, StorageError> {
    let rows = sqlx::query(
        "SELECT seq, external_id, state, COALESCE(last_error, 'unknown') AS code, attempts, \
         created_at, COALESCE(dead_at, run_after) AS at FROM outbox \
         WHERE account_id = $1 AND (state = 'dead' OR (state = 'pending' AND last_error IS NOT NULL)) \
         ORDER BY seq DESC LIMIT $2",
    )
    .bind(account.to_string())
    .bind(PROBLEMS_LISTED)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let state: String = row.try_get("state")?;
            Ok(DeliveryProblem {
                seq: row.try_get("seq")?,
                external_id: row.try_get("external_id")?,
                dead: state == "dead",
                code: row.try_get("code")?,
                attempts: row.try_get("attempts")?,
                queued_at: row.try_get("created_at")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}

/// How many of the account's deliveries are stuck and how many are dead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProblemCounts {
    pub stuck: i64,
    pub dead: i64,
}

pub async fn problem_counts(db: &Db, account: AccountId) -> Result<ProblemCounts, StorageError> {
    counts_where(db, "o.account_id = $1", &account.to_string()).await
}

/// The same counts over every integration account of a Zendesk subdomain.
pub async fn problem_counts_for_subdomain(
    db: &Db,
    subdomain: &crate::domain::Subdomain,
) -> Result<ProblemCounts, StorageError> {
    counts_where(db, "a.subdomain = $1", subdomain.as_str()).await
}

/// Stuck and dead rows of the accounts `filter` (one bound value) selects.
async fn counts_where(db: &Db, filter: &str, value: &str) -> Result<ProblemCounts, StorageError> {
    let sql = format!(
        "SELECT COALESCE(SUM(CASE WHEN o.state = 'pending' THEN 1 ELSE 0 END), 0) AS stuck, \
         COALESCE(SUM(CASE WHEN o.state = 'dead' THEN 1 ELSE 0 END), 0) AS dead \
         FROM outbox o JOIN accounts a ON a.id = o.account_id WHERE {filter} \
         AND (o.state = 'dead' OR (o.state = 'pending' AND o.last_error IS NOT NULL))"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(value)
        .fetch_one(db.pool())
        .await?;
    Ok(ProblemCounts {
        stuck: row.try_get("stuck")?,
        dead: row.try_get("dead")?,
    })
}

/// An admin's Retry: a stuck or dead row of the account is due now, with its tries reset
/// and a new age window. False when the account has no such row.
pub async fn retry_now(db: &Db, account: AccountId, seq: i64) -> Result<bool, StorageError> {
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE outbox SET state = 'pending', attempts = 0, run_after = $3, lease_until = NULL, \
         give_up_at = $4, dead_at = NULL WHERE account_id = $1 AND seq = $2 \
         AND state IN ('pending', 'dead')",
    )
    .bind(account.to_string())
    .bind(seq)
    .bind(now)
    .bind(now + i64::try_from(crate::bridge::MAX_DELIVERY_AGE.as_millis()).unwrap_or(i64::MAX / 4))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// An admin's Discard: a stuck or dead row of the account leaves the queue for good, so
/// its thread flows again. False when the account has no such row.
pub async fn discard(db: &Db, account: AccountId, seq: i64) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "UPDATE outbox SET state = 'discarded', lease_until = NULL WHERE account_id = $1 \
         AND seq = $2 AND state IN ('pending', 'dead')",
    )
    .bind(account.to_string())
    .bind(seq)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// One account's queue, for `/metrics`.
#[derive(Debug, Clone)]
pub struct QueueStats {
    pub account: String,
    pub depth: i64,
    /// Age of the oldest pending row, ms (0 when none).
    pub oldest_ms: i64,
    pub dead: i64,
}

/// Every account's queue depth, oldest pending row and dead rows.
pub async fn queue_stats(db: &Db) -> Result<Vec<QueueStats>, StorageError> {
    let now = now_ms();
    let rows = sqlx::query(
        "SELECT account_id, \
         COALESCE(SUM(CASE WHEN state = 'pending' THEN 1 ELSE 0 END), 0) AS depth, \
         COALESCE(MIN(CASE WHEN state = 'pending' THEN created_at END), $1) AS oldest, \
         COALESCE(SUM(CASE WHEN state = 'dead' THEN 1 ELSE 0 END), 0) AS dead \
         FROM outbox WHERE state IN ('pending', 'dead') GROUP BY account_id",
    )
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let oldest: i64 = row.try_get("oldest")?;
            Ok(QueueStats {
                account: row.try_get("account_id")?,
                depth: row.try_get("depth")?,
                oldest_ms: (now - oldest).max(0),
                dead: row.try_get("dead")?,
            })
        })
        .collect()
}

/// Rows still waiting to reach Zendesk, over all accounts.
pub async fn depth(db: &Db) -> Result<i64, StorageError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
        .fetch_one(db.pool())
        .await?;
    Ok(row.try_get("n")?)
}

/// Forgets which Slack user wrote the account's queued rows (GDPR erasure of an author).
pub async fn forget_author(
    db: &Db,
    account: AccountId,
    team: &SlackTeamId,
    user: &SlackUserId,
) -> Result<u64, StorageError> {
    let done = sqlx::query(
        "UPDATE outbox SET slack_user = NULL WHERE account_id = $1 AND slack_team = $2 \
         AND slack_user = $3",
    )
    .bind(account.to_string())
    .bind(team.as_str())
    .bind(user.as_str())
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// What happened to a queued message that was then deleted in Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Withdrawal {
    /// It never reached Zendesk and now never will.
    Cancelled,
    /// Zendesk has it (or it failed for good): a deletion note makes sense.
    AlreadySent,
    /// It was never queued.
    NotQueued,
}

/// Withdraws a resource (and its edits) never yet offered to Zendesk (by a push or in a
/// pull response).
pub async fn withdraw(
    tx: &mut super::Tx,
    account: AccountId,
    external_id: &ExternalId,
) -> Result<Withdrawal, StorageError> {
    let cancel = |pattern: &'static str| {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET state = 'withdrawn', last_error = 'deleted_in_slack', lease_until = NULL \
             WHERE account_id = $1 AND state = 'pending' AND attempts = 0 AND external_id {pattern} $2"
        )))
    };
    let cancelled = cancel("=")
        .bind(account.to_string())
        .bind(external_id.as_str())
        .execute(&mut **tx)
        .await?;
    if cancelled.rows_affected() > 0 {
        cancel("LIKE")
            .bind(account.to_string())
            .bind(format!("{}:edit:%", external_id.as_str()))
            .execute(&mut **tx)
            .await?;
        return Ok(Withdrawal::Cancelled);
    }
    let exists =
        sqlx::query("SELECT 1 AS hit FROM outbox WHERE account_id = $1 AND external_id = $2")
            .bind(account.to_string())
            .bind(external_id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    Ok(if exists.is_some() {
        Withdrawal::AlreadySent
    } else {
        Withdrawal::NotQueued
    })
}

/// Notes that a pull response offered these rows to Zendesk (they stay pending until the
/// next pull acknowledges them, but may already be in Zendesk).
pub async fn mark_offered(db: &Db, seqs: &[i64]) -> Result<(), StorageError> {
    if seqs.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE outbox SET attempts = attempts + 1 WHERE seq IN ({})",
        placeholders(0, seqs.len())
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for seq in seqs {
        query = query.bind(*seq);
    }
    query.execute(db.pool()).await?;
    Ok(())
}
