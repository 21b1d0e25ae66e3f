//! Writing decisions back to Zendesk: `update_many` with at most 100 tickets per call,
//! each carrying the assignee, the audit tag or field, and `safe_update` with the
//! `updated_at` just read, so a ticket that changed meanwhile is refused rather than
//! overwritten. The job is followed to its end and every ticket's outcome is logged.
//!
//! A ticket whose `updated_at` moved on since the decision (a new comment, a group or
//! priority change) is skipped too: the next run decides it again on fresh data.
//!
//! A decision whose outcome is unknown (a timeout, a crash) stays `pending`; the next
//! run of its queue takes its claim again, re-reads the ticket and settles it: already
//! ours → assigned, unchanged and still free → written (unless the decision is older than
//! [`STALE_MS`]), anything else → skipped.

use std::collections::HashMap;
use std::time::Duration;

use super::run::{CLAIM_MS, HOLD_MS, patiently};
use super::settings::QueueSettings;
use crate::domain::Subdomain;
use crate::state::AppState;
use crate::storage::StorageError;
use crate::storage::routing::{self as store, Assignment, Written};
use crate::zendesk::{CustomField, JobState, RestError, TicketState, TicketUpdate, ZendeskAuth};

/// Tickets per `update_many` call (Zendesk's maximum).
pub const BATCH: usize = 100;
/// How long one job is followed before its tickets are left for the next run.
const JOB_DEADLINE: Duration = Duration::from_secs(60);
/// A pending decision older than this is not written any more (the agent's status or
/// load may have changed); it is settled as skipped unless Zendesk shows it was written.
pub const STALE_MS: i64 = 15 * 60_000;

/// What a write adds to each ticket besides the assignee.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audit {
    pub tag: Option<String>,
    pub field: Option<(i64, String)>,
}

impl Audit {
    pub fn of_queue(settings: &QueueSettings) -> Self {
        Self {
            tag: settings.audit_tag.clone(),
            field: settings
                .audit_field_id
                .zip(settings.audit_field_value.clone()),
        }
    }
}

/// Counts of one write-back, including the Zendesk calls it made.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteReport {
    pub assigned: usize,
    /// Tickets now assigned by this write, in order.
    pub assigned_tickets: Vec<i64>,
    pub skipped: usize,
    /// Refused by Zendesk outright (a 4xx on `update_many`).
    pub failed: usize,
    /// Tickets routing is done with without assigning them: assigned by someone else,
    /// solved, deleted, or refused outright.
    pub gone_tickets: Vec<i64>,
    /// Left pending (outcome unknown): settled by the next run.
    pub unsettled: usize,
    pub unsettled_tickets: Vec<i64>,
    pub write_calls: usize,
    pub read_calls: usize,
}

impl WriteReport {
    pub fn add(&mut self, other: &WriteReport) {
        self.assigned += other.assigned;
        self.assigned_tickets
            .extend_from_slice(&other.assigned_tickets);
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.gone_tickets.extend_from_slice(&other.gone_tickets);
        self.unsettled += other.unsettled;
        self.unsettled_tickets
            .extend_from_slice(&other.unsettled_tickets);
        self.write_calls += other.write_calls;
        self.read_calls += other.read_calls;
    }

    fn leave_pending(&mut self, batch: &[&Assignment]) {
        self.unsettled += batch.len();
        self.unsettled_tickets
            .extend(batch.iter().map(|a| a.ticket_id));
    }
}

/// Whether a skipped ticket may still be routed (it changed but is still free) or
/// routing is done with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    RouteAgain,
    Done,
}

/// Writes logged (pending) assignments, 100 per call.
pub async fn write_back(
    state: &AppState,
    auth: &ZendeskAuth,
    logged: &[Assignment],
    audit: &Audit,
) -> Result<WriteReport, StorageError> {
    write_batches(state, auth, logged, audit, None).await
}

async fn write_batches(
    state: &AppState,
    auth: &ZendeskAuth,
    logged: &[Assignment],
    audit: &Audit,
    stale_before: Option<i64>,
) -> Result<WriteReport, StorageError> {
    let mut report = WriteReport::default();
    for chunk in logged.chunks(BATCH) {
        report.add(&settle(state, auth, chunk, audit, stale_before).await?);
    }
    Ok(report)
}

/// Settles what a stopped run left pending for this queue (`None`: the same-agent rule).
pub async fn resume_pending(
    state: &AppState,
    auth: &ZendeskAuth,
    subdomain: &Subdomain,
    queue_id: Option<i64>,
    decided_before: i64,
    audit: &Audit,
) -> Result<WriteReport, StorageError> {
    let pending = store::pending_for(&state.db, subdomain, queue_id, decided_before).await?;
    if pending.is_empty() {
        return Ok(WriteReport::default());
    }
    tracing::info!(subdomain = %subdomain, queue_id, pending = pending.len(), "settling assignments left pending");
    let now = state.clock.now_ms();
    let mut ours = Vec::with_capacity(pending.len());
    let mut report = WriteReport::default();
    for assignment in pending {
        if store::reclaim(&state.db, &assignment, now, CLAIM_MS).await? {
            ours.push(assignment);
        } else {
            let outcome = (Written::Skipped, Then::RouteAgain);
            record(
                state,
                &assignment,
                outcome,
                Some("claimed by another run"),
                &mut report,
            )
            .await?;
        }
    }
    report.add(&write_batches(state, auth, &ours, audit, Some(now - STALE_MS)).await?);
    Ok(report)
}

async fn record(
    state: &AppState,
    assignment: &Assignment,
    (outcome, then): (Written, Then),
    detail: Option<&str>,
    report: &mut WriteReport,
) -> Result<(), StorageError> {
    let now = state.clock.now_ms();
    if !store::record_written(&state.db, assignment, outcome, detail, now, HOLD_MS).await? {
        return Ok(());
    }
    match outcome {
        Written::Assigned => {
            report.assigned += 1;
            report.assigned_tickets.push(assignment.ticket_id);
        }
        Written::Skipped => report.skipped += 1,
        Written::Failed => report.failed += 1,
    }
    if outcome != Written::Assigned && then == Then::Done {
        report.gone_tickets.push(assignment.ticket_id);
    }
    Ok(())
}

/// Why a ticket read just before writing may no longer be routed.
fn changed(ticket: Option<&TicketState>) -> Option<&'static str> {
    match ticket {
        None => Some("deleted"),
        Some(t) if t.assignee_id.is_some() => Some("already assigned"),
        Some(t) if !t.is_routable() => Some("no longer new or open"),
        Some(_) => None,
    }
}

/// One batch of at most 100: read fresh, skip the changed, write the rest, follow the job.
async fn settle(
    state: &AppState,
    auth: &ZendeskAuth,
    batch: &[Assignment],
    audit: &Audit,
    stale_before: Option<i64>,
) -> Result<WriteReport, StorageError> {
    let mut report = WriteReport::default();
    let Some(first) = batch.first() else {
        return Ok(report);
    };
    let subdomain = &first.subdomain;
    let ids: Vec<i64> = batch.iter().map(|a| a.ticket_id).collect();
    report.read_calls += 1;
    let fresh = match patiently(|| state.zendesk.tickets_by_id(subdomain, auth, &ids)).await {
        Ok(tickets) => tickets
            .into_iter()
            .map(|t| (t.id, t))
            .collect::<HashMap<_, _>>(),
        Err(error) => {
            tracing::warn!(subdomain = %subdomain, error = %error.code(), "cannot read tickets before assigning; left pending");
            report.leave_pending(&batch.iter().collect::<Vec<_>>());
            return Ok(report);
        }
    };
    let mut to_write = Vec::new();
    for assignment in batch {
        let ticket = fresh.get(&assignment.ticket_id);
        let verdict = match ticket {
            Some(t) if t.assignee_id == Some(assignment.agent_id) => {
                Some((Written::Assigned, Then::Done, "confirmed"))
            }
            _ => match (changed(ticket), ticket) {
                (Some(why), _) => Some((Written::Skipped, Then::Done, why)),
                (None, Some(t)) if edited(assignment, t) => Some((
                    Written::Skipped,
                    Then::RouteAgain,
                    "changed since the decision",
                )),
                (None, _) if stale_before.is_some_and(|cutoff| assignment.decided_at < cutoff) => {
                    Some((
                        Written::Skipped,
                        Then::RouteAgain,
                        "stale: not written in time",
                    ))
                }
                (None, Some(t)) => {
                    to_write.push((assignment, t.updated_stamp.clone()));
                    None
                }
                (None, None) => None,
            },
        };
        if let Some((outcome, then, why)) = verdict {
            record(state, assignment, (outcome, then), Some(why), &mut report).await?;
        }
    }
    if to_write.is_empty() {
        return Ok(report);
    }
    let updates: Vec<TicketUpdate> = to_write
        .iter()
        .map(|(a, stamp)| TicketUpdate {
            id: a.ticket_id,
            assignee_id: Some(a.agent_id),
            group_id: a.set_group_id,
            additional_tags: audit.tag.iter().cloned().collect(),
            custom_fields: audit
                .field
                .iter()
                .map(|(id, value)| CustomField {
                    id: *id,
                    value: value.clone(),
                })
                .collect(),
            safe_update: true,
            updated_stamp: stamp.clone(),
        })
        .collect();
    let written: Vec<&Assignment> = to_write.iter().map(|(a, _)| *a).collect();
    report.write_calls += 1;
    let job = match patiently(|| state.zendesk.update_many(subdomain, auth, &updates)).await {
        Ok(job) => job,
        Err(RestError::Rejected { status }) => {
            // A refusal of the request itself will not change on retry.
            let detail = format!("update_many rejected by Zendesk (http {status})");
            for assignment in written {
                let outcome = (Written::Failed, Then::Done);
                record(state, assignment, outcome, Some(&detail), &mut report).await?;
            }
            return Ok(report);
        }
        Err(error) => {
            tracing::warn!(subdomain = %subdomain, error = %error.code(), count = written.len(), "update_many failed; left pending");
            report.leave_pending(&written);
            return Ok(report);
        }
    };
    let job = follow(state, auth, subdomain, job, &mut report).await;
    let Some(job) = job.filter(|j| !matches!(j.state, JobState::Queued | JobState::Working)) else {
        report.leave_pending(&written);
        return Ok(report);
    };
    let results: HashMap<i64, (bool, Option<String>)> = job
        .results
        .iter()
        .map(|(id, ok, code)| (*id, (*ok, code.clone())))
        .collect();
    for assignment in written {
        let (outcome, detail) = match results.get(&assignment.ticket_id) {
            Some((true, _)) => ((Written::Assigned, Then::Done), None),
            // Refused for this ticket (e.g. a safe-update conflict): it may still be free.
            Some((false, code)) => (
                (Written::Skipped, Then::RouteAgain),
                Some(
                    code.clone()
                        .unwrap_or_else(|| "refused by Zendesk".to_owned()),
                ),
            ),
            None if job.state == JobState::Failed => (
                (Written::Failed, Then::RouteAgain),
                Some("job failed".to_owned()),
            ),
            None => (
                (Written::Skipped, Then::RouteAgain),
                Some("not in job results".to_owned()),
            ),
        };
        record(state, assignment, outcome, detail.as_deref(), &mut report).await?;
    }
    Ok(report)
}

/// Whether the ticket changed since the decision was made on it.
fn edited(assignment: &Assignment, ticket: &TicketState) -> bool {
    assignment
        .decided_stamp
        .as_deref()
        .is_some_and(|stamp| stamp != ticket.updated_stamp)
}

/// Polls the job until it completes or fails, or the deadline passes (`None` on read
/// errors: the tickets stay pending).
pub(super) async fn follow(
    state: &AppState,
    auth: &ZendeskAuth,
    subdomain: &Subdomain,
    mut job: crate::zendesk::JobStatus,
    report: &mut WriteReport,
) -> Option<crate::zendesk::JobStatus> {
    let deadline = tokio::time::Instant::now() + JOB_DEADLINE;
    let mut pause = Duration::from_millis(100);
    while matches!(job.state, JobState::Queued | JobState::Working) {
        if tokio::time::Instant::now() + pause > deadline {
            return Some(job);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(3));
        report.read_calls += 1;
        match patiently(|| state.zendesk.job_status(subdomain, auth, &job.id)).await {
            Ok(next) => job = next,
            Err(error) => {
                tracing::warn!(subdomain = %subdomain, error = %error.code(), "cannot follow update_many job");
                return None;
            }
        }
    }
    Some(job)
}
