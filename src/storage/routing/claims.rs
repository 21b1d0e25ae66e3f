//! Ticket claims and the assignments they log (`routing_claims`,
//! `routing_assignments`): a claim is an insert that only replaces an expired one, so on
//! several replicas a ticket is assigned once; and how each write to Zendesk ended.

use sqlx::Row;

use crate::domain::Subdomain;
use crate::storage::{Db, StorageError};

/// One decision to claim and log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAssignment {
    pub ticket_id: i64,
    pub agent_id: i64,
    pub reason: String,
    /// The ticket's `updated_at` (Zendesk's text) the decision was made on.
    pub stamp: String,
    /// The group to move the ticket to with the assignee (a queue's split).
    pub set_group_id: Option<i64>,
}

/// A logged assignment that is being (or was) written to Zendesk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub id: i64,
    pub subdomain: Subdomain,
    pub ticket_id: i64,
    pub agent_id: i64,
    pub queue_id: Option<i64>,
    pub model: String,
    pub reason: String,
    pub decided_stamp: Option<String>,
    pub state: String,
    pub detail: Option<String>,
    pub decided_at: i64,
    /// What the reassignment watch made of it (null: watched or not watched), and why.
    pub watch: Option<String>,
    pub watch_detail: Option<String>,
    /// The group written with the assignee (a queue's split), if any.
    pub set_group_id: Option<i64>,
}

/// Who claims: a queue run holding its lease, the same-agent rule, or an agent pulling
/// their next ticket from a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claimer<'a> {
    Queue {
        id: i64,
        owner: &'a str,
        lease_ms: i64,
    },
    SameAgent,
    /// "Next ticket" in the agents' app: logged under the queue (model [`PULL_MODEL`]),
    /// without its lease (a pull never waits for a run); the claims alone keep it from
    /// taking a ticket a run or another pull holds.
    Pull {
        queue_id: i64,
    },
}

/// The model logged for a ticket an agent pulled ("next ticket").
pub const PULL_MODEL: &str = "next_ticket";

/// In one transaction: renews the queue's lease (and gives up, `None`, if the run no
/// longer holds it), claims each ticket not claimed by another live run, and logs the
/// claimed ones as `pending`. Tickets someone else holds are left out. Decisions are
/// claimed in ticket order, so two runs never wait on each other's claims.
pub async fn claim_and_log(
    db: &Db,
    subdomain: &Subdomain,
    claimer: Claimer<'_>,
    model: &str,
    decisions: &[NewAssignment],
    now: i64,
    claim_ms: i64,
) -> Result<Option<Vec<Assignment>>, StorageError> {
    let mut tx = db.begin_write().await?;
    let queue_id = match claimer {
        Claimer::Queue {
            id,
            owner,
            lease_ms,
        } => {
            let held = sqlx::query(
                "UPDATE routing_queues SET lease_until = $3 WHERE id = $1 AND lease_owner = $2",
            )
            .bind(id)
            .bind(owner)
            .bind(now + lease_ms)
            .execute(&mut *tx)
            .await?;
            if held.rows_affected() != 1 {
                return Ok(None);
            }
            Some(id)
        }
        Claimer::SameAgent => None,
        Claimer::Pull { queue_id } => Some(queue_id),
    };
    let mut sorted: Vec<&NewAssignment> = decisions.iter().collect();
    sorted.sort_by_key(|d| d.ticket_id);
    let mut logged = Vec::with_capacity(decisions.len());
    for decision in sorted {
        let claimed = sqlx::query(
            "INSERT INTO routing_claims (subdomain, ticket_id, claimed_until) VALUES ($1, $2, $3) \
             ON CONFLICT (subdomain, ticket_id) DO UPDATE SET claimed_until = excluded.claimed_until, \
             assignment_id = NULL WHERE routing_claims.claimed_until < $4",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(now + claim_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO routing_assignments (subdomain, ticket_id, agent_id, queue_id, model, \
             reason, decided_stamp, state, decided_at, set_group_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9) RETURNING id",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(decision.agent_id)
        .bind(queue_id)
        .bind(model)
        .bind(&decision.reason)
        .bind(&decision.stamp)
        .bind(now)
        .bind(decision.set_group_id)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE routing_claims SET assignment_id = $3 WHERE subdomain = $1 AND ticket_id = $2",
        )
        .bind(subdomain.as_str())
        .bind(decision.ticket_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        logged.push(Assignment {
            id,
            subdomain: subdomain.clone(),
            ticket_id: decision.ticket_id,
            agent_id: decision.agent_id,
            queue_id,
            model: model.to_owned(),
            reason: decision.reason.clone(),
            decided_stamp: Some(decision.stamp.clone()),
            state: "pending".to_owned(),
            detail: None,
            decided_at: now,
            watch: None,
            watch_detail: None,
            set_group_id: decision.set_group_id,
        });
    }
    db.commit(tx).await?;
    Ok(Some(logged))
}

/// Takes (or keeps) the claim of a pending assignment being settled after a stop:
/// true when it is this assignment's claim now, false when another run holds the ticket.
pub async fn reclaim(
    db: &Db,
    assignment: &Assignment,
    now: i64,
    claim_ms: i64,
) -> Result<bool, StorageError> {
    let done = sqlx::query(
        "INSERT INTO routing_claims (subdomain, ticket_id, claimed_until, assignment_id) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
         claimed_until = excluded.claimed_until, assignment_id = excluded.assignment_id \
         WHERE routing_claims.assignment_id = excluded.assignment_id \
         OR routing_claims.claimed_until < $5",
    )
    .bind(assignment.subdomain.as_str())
    .bind(assignment.ticket_id)
    .bind(now + claim_ms)
    .bind(assignment.id)
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How a pending assignment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Assigned,
    /// The ticket changed meanwhile (assigned by someone, solved, deleted, edited).
    Skipped,
    Failed,
}

impl Written {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Assigned => "assigned",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
        }
    }
}

/// Records the outcome of a write. An assigned ticket stays claimed for `hold_ms`
/// (views lag behind) and counts in the agent's inbox right away; a skipped or failed
/// one is released so a later run may route it again. Only this assignment's own claim
/// is extended or released, and only by the worker that moved it out of `pending`
/// (false: someone else settled it first and nothing was changed).
pub async fn record_written(
    db: &Db,
    assignment: &Assignment,
    outcome: Written,
    detail: Option<&str>,
    now: i64,
    hold_ms: i64,
) -> Result<bool, StorageError> {
    let mut tx = db.begin_write().await?;
    let moved = sqlx::query(
        "UPDATE routing_assignments SET state = $2, detail = $3, written_at = $4 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(assignment.id)
    .bind(outcome.as_str())
    .bind(detail)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        // Another worker settled it first: its outcome stands, claims are its to keep.
        db.commit(tx).await?;
        return Ok(false);
    }
    let sub = assignment.subdomain.as_str();
    if outcome == Written::Assigned {
        sqlx::query(
            "UPDATE routing_claims SET claimed_until = $3 WHERE subdomain = $1 AND ticket_id = $2 \
             AND assignment_id = $4",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(now + hold_ms)
        .bind(assignment.id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO routing_tickets (subdomain, ticket_id, assignee_id, status, updated_at) \
             VALUES ($1, $2, $3, 'open', $4) ON CONFLICT (subdomain, ticket_id) DO UPDATE SET \
             assignee_id = excluded.assignee_id, status = excluded.status, updated_at = excluded.updated_at",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(assignment.agent_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    } else {
        sqlx::query(
            "DELETE FROM routing_claims WHERE subdomain = $1 AND ticket_id = $2 AND assignment_id = $3",
        )
        .bind(sub)
        .bind(assignment.ticket_id)
        .bind(assignment.id)
        .execute(&mut *tx)
        .await?;
    }
    db.commit(tx).await?;
    Ok(true)
}

pub(super) const ASSIGNMENT_COLUMNS: &str = "id, subdomain, ticket_id, agent_id, queue_id, model, reason, \
     decided_stamp, state, detail, decided_at, watch, watch_detail, set_group_id";

pub(super) fn assignment_from(row: &sqlx::any::AnyRow) -> Result<Assignment, StorageError> {
    let subdomain: String = row.try_get("subdomain")?;
    Ok(Assignment {
        id: row.try_get("id")?,
        subdomain: Subdomain::parse(&subdomain)
            .map_err(|_| StorageError::Corrupt("assignment subdomain"))?,
        ticket_id: row.try_get("ticket_id")?,
        agent_id: row.try_get("agent_id")?,
        queue_id: row.try_get("queue_id")?,
        model: row.try_get("model")?,
        reason: row.try_get("reason")?,
        decided_stamp: row.try_get("decided_stamp")?,
        state: row.try_get("state")?,
        detail: row.try_get("detail")?,
        decided_at: row.try_get("decided_at")?,
        watch: row.try_get("watch")?,
        watch_detail: row.try_get("watch_detail")?,
        set_group_id: row.try_get("set_group_id")?,
    })
}

/// Pending assignments of a queue (or of the same-agent rule, `None`) left by a run
/// that stopped before recording the outcome.
pub async fn pending_for(
    db: &Db,
    subdomain: &Subdomain,
    queue_id: Option<i64>,
    decided_before: i64,
) -> Result<Vec<Assignment>, StorageError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM routing_assignments WHERE subdomain = $1 \
         AND state = 'pending' AND decided_at < $2 AND {} ORDER BY id LIMIT 1000",
        if queue_id.is_some() {
            // A pull is decided outside the queue's lease: a run settles it only once its
            // claim has run out, never while the pull may still be writing it.
            "queue_id = $3 AND (model <> $4 OR decided_at < $5)"
        } else {
            "queue_id IS NULL"
        }
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(subdomain.as_str())
        .bind(decided_before);
    if let Some(queue) = queue_id {
        query = query
            .bind(queue)
            .bind(PULL_MODEL)
            .bind(decided_before - crate::routing::run::CLAIM_MS);
    }
    let rows = query.fetch_all(db.pool()).await?;
    rows.iter().map(assignment_from).collect()
}
