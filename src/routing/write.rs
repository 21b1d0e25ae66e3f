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
use crate::startup::AppState;
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
    /// Left pending (outcome unknown): settled by the next run.
    pub unsettled: usize,
    pub write_calls: usize,
    pub read_calls: usize,
}

impl WriteReport {
    pub fn add(&mut self, other: &WriteReport) {
        self.assigned += other.assigned;
        self.assigned_tickets
            .extend_from_slice(&other.assigned_tickets);
        self.skipped += other.skipped;
        self.unsettled += other.unsettled;
        self.write_calls += other.write_calls;
        self.read_calls += other.read_calls;
    }
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
            record(
                state,
                &assignment,
                Written::Skipped,
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
    outcome: Written,
    detail: Option<&str>,
    report: &mut WriteReport,
) -> Result<(), StorageError> {
    let now = state.clock.now_ms();
    store::record_written(&state.db, assignment, outcome, detail, now, HOLD_MS).await?;
    match outcome {
        Written::Assigned => {
            report.assigned += 1;
            report.assigned_tickets.push(assignment.ticket_id);
        }
        Written::Skipped | Written::Failed => report.skipped += 1,
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
            report.unsettled += batch.len();
            return Ok(report);
        }
    };
    let mut to_write = Vec::new();
    for assignment in batch {
        let ticket = fresh.get(&assignment.ticket_id);
        if ticket.and_then(|t| t.assignee_id) == Some(assignment.agent_id) {
            record(
                state,
                assignment,
                Written::Assigned,
                Some("confirmed"),
                &mut report,
            )
            .await?;
        } else if let Some(why) = changed(ticket) {
            record(state, assignment, Written::Skipped, Some(why), &mut report).await?;
        } else if let Some(ticket) = ticket {
            let edited = assignment
                .decided_stamp
                .as_deref()
                .is_some_and(|stamp| stamp != ticket.updated_stamp);
            let stale = stale_before.is_some_and(|cutoff| assignment.decided_at < cutoff);
            if edited {
                record(
                    state,
                    assignment,
                    Written::Skipped,
                    Some("changed since the decision"),
                    &mut report,
                )
                .await?;
            } else if stale {
                record(
                    state,
                    assignment,
                    Written::Skipped,
                    Some("stale: not written in time"),
                    &mut report,
                )
                .await?;
            } else {
                to_write.push((assignment, ticket.updated_stamp.clone()));
            }
        }
    }
    if to_write.is_empty() {
        return Ok(report);
    }
    let updates: Vec<TicketUpdate> = to_write
        .iter()
        .map(|(a, stamp)| TicketUpdate {
            id: a.ticket_id,
            assignee_id: a.agent_id,
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
    report.write_calls += 1;
    let job = match patiently(|| state.zendesk.update_many(subdomain, auth, &updates)).await {
        Ok(job) => job,
        Err(RestError::Rejected { status }) => {
            // A refusal of the request itself will not change on retry.
            let detail = format!("update_many rejected by Zendesk (http {status})");
            for (assignment, _) in &to_write {
                record(
                    state,
                    assignment,
                    Written::Failed,
                    Some(&detail),
                    &mut report,
                )
                .await?;
            }
            return Ok(report);
        }
        Err(error) => {
            return unsettled(subdomain, &error, to_write.len(), report);
        }
    };
    let job = follow(state, auth, subdomain, job, &mut report).await;
    let results: HashMap<i64, (bool, Option<String>)> = job
        .as_ref()
        .map(|j| {
            j.results
                .iter()
                .map(|(id, ok, code)| (*id, (*ok, code.clone())))
                .collect()
        })
        .unwrap_or_default();
    let Some(job) = job.filter(|j| j.state != JobState::Queued && j.state != JobState::Working)
    else {
        report.unsettled += to_write.len();
        return Ok(report);
    };
    for (assignment, _) in to_write {
        match results.get(&assignment.ticket_id) {
            Some((true, _)) => {
                record(state, assignment, Written::Assigned, None, &mut report).await?
            }
            Some((false, code)) => {
                let detail = code.as_deref().unwrap_or("refused by Zendesk");
                record(
                    state,
                    assignment,
                    Written::Skipped,
                    Some(detail),
                    &mut report,
                )
                .await?;
            }
            None if job.state == JobState::Failed => {
                record(
                    state,
                    assignment,
                    Written::Failed,
                    Some("job failed"),
                    &mut report,
                )
                .await?;
            }
            None => {
                record(
                    state,
                    assignment,
                    Written::Skipped,
                    Some("not in job results"),
                    &mut report,
                )
                .await?
            }
        }
    }
    Ok(report)
}

fn unsettled(
    subdomain: &Subdomain,
    error: &RestError,
    count: usize,
    mut report: WriteReport,
) -> Result<WriteReport, StorageError> {
    tracing::warn!(subdomain = %subdomain, error = %error.code(), count, "update_many failed; left pending");
    report.unsettled += count;
    Ok(report)
}

/// Polls the job until it completes or fails, or the deadline passes (`None` on read
/// errors: the tickets stay pending).
async fn follow(
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
