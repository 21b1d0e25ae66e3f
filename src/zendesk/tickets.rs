//! Zendesk REST calls for routing (SPEC 3): a view's tickets, tickets by id, the
//! incremental ticket export (who holds which unsolved ticket), skills of agents and
//! tickets, bulk assignment with `update_many` and its job status.
//!
//! Tickets are read into [`TicketState`]: ids, status, priority, times and SLA breach
//! only. Subjects, descriptions and requester details are never deserialized.

use chrono::DateTime;
use serde::{Deserialize, Serialize};

use super::ZendeskClient;
use super::connection::ZendeskAuth;
use super::rest::{MAX_PAGES, RestError, same_account};
use crate::domain::Subdomain;

/// Most tickets one `update_many` call may carry.
pub const MAX_UPDATE_MANY: usize = 100;
/// Pages of a requester's tickets read for the same-agent rule (100 each).
pub const MAX_REQUESTED_PAGES: usize = 10;
/// Pages of a ticket's comments read to find an agent's reply (100 each, newest first).
pub const MAX_COMMENT_PAGES: usize = 3;

/// Who wrote a comment, whether the requester could see it, and when: never its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommentMeta {
    pub author_id: i64,
    pub public: bool,
    pub created_at: i64,
}

impl CommentMeta {
    fn from_raw(raw: RawComment) -> Option<Self> {
        Some(Self {
            author_id: raw.author_id?,
            public: raw.public.unwrap_or(false),
            created_at: DateTime::parse_from_rfc3339(raw.created_at.as_deref()?)
                .ok()?
                .timestamp_millis(),
        })
    }
}

/// A comment as read: only these fields (serde skips the body, html_body, attachments).
#[derive(Deserialize)]
struct RawComment {
    #[serde(default)]
    author_id: Option<i64>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    created_at: Option<String>,
}

#[derive(Deserialize)]
struct CommentsPage {
    #[serde(default)]
    comments: Vec<RawComment>,
    #[serde(default)]
    meta: Option<CommentsMeta>,
    #[serde(default)]
    links: Option<CommentLinks>,
}

#[derive(Deserialize)]
struct CommentsMeta {
    #[serde(default)]
    has_more: bool,
}

#[derive(Deserialize)]
struct CommentLinks {
    #[serde(default)]
    next: Option<String>,
}

/// What routing needs of a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketState {
    pub id: i64,
    pub status: String,
    pub priority: Option<String>,
    pub assignee_id: Option<i64>,
    pub group_id: Option<i64>,
    pub requester_id: Option<i64>,
    pub organization_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Zendesk's `updated_at` text, sent back as `updated_stamp` for a safe update.
    pub updated_stamp: String,
    pub sla_breach_at: Option<i64>,
}

impl TicketState {
    /// Unassigned and not yet solved: a ticket routing may take.
    pub fn is_routable(&self) -> bool {
        self.assignee_id.is_none() && matches!(self.status.as_str(), "new" | "open")
    }
}

#[derive(Deserialize)]
struct RawTicket {
    id: i64,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    assignee_id: Option<i64>,
    #[serde(default)]
    group_id: Option<i64>,
    #[serde(default)]
    requester_id: Option<i64>,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    slas: Option<Slas>,
}

#[derive(Deserialize)]
struct Slas {
    #[serde(default)]
    policy_metrics: Vec<PolicyMetric>,
}

#[derive(Deserialize)]
struct PolicyMetric {
    #[serde(default)]
    breach_at: Option<String>,
}

fn millis(text: Option<&str>) -> Option<i64> {
    text.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
}

impl From<RawTicket> for TicketState {
    fn from(raw: RawTicket) -> Self {
        let sla_breach_at = raw.slas.and_then(|s| {
            s.policy_metrics
                .iter()
                .filter_map(|m| millis(m.breach_at.as_deref()))
                .min()
        });
        let updated_stamp = raw.updated_at.clone().unwrap_or_default();
        let created_at = millis(raw.created_at.as_deref()).unwrap_or(0);
        Self {
            id: raw.id,
            status: raw.status.unwrap_or_else(|| "unknown".to_owned()),
            priority: raw.priority,
            assignee_id: raw.assignee_id,
            group_id: raw.group_id,
            requester_id: raw.requester_id,
            organization_id: raw.organization_id,
            created_at,
            updated_at: millis(raw.updated_at.as_deref()).unwrap_or(created_at),
            updated_stamp,
            sla_breach_at,
        }
    }
}

#[derive(Deserialize)]
struct TicketsPage {
    #[serde(default)]
    tickets: Vec<RawTicket>,
    #[serde(default)]
    next_page: Option<String>,
}

/// One ticket's change for `update_many`: the assignee, the audit tag and field, and
/// the `updated_at` read, so Zendesk refuses the write if the ticket changed since.
#[derive(Debug, Clone, Serialize)]
pub struct TicketUpdate {
    pub id: i64,
    /// `None` (sent as `null`) hands the ticket back unassigned.
    pub assignee_id: Option<i64>,
    /// Moves the ticket to this group too (not sent when `None`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_id: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub additional_tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_fields: Vec<CustomField>,
    pub safe_update: bool,
    pub updated_stamp: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CustomField {
    pub id: i64,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Working,
    Completed,
    Failed,
}

/// A background job's state and, once done, which tickets it updated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub id: String,
    pub state: JobState,
    /// `(ticket id, updated)`; a ticket missing from the results was not updated.
    pub results: Vec<(i64, bool, Option<String>)>,
}

#[derive(Deserialize)]
struct JobEnvelope {
    job_status: RawJob,
}

#[derive(Deserialize)]
struct RawJob {
    id: String,
    status: String,
    #[serde(default)]
    results: Option<Vec<RawJobResult>>,
}

#[derive(Deserialize)]
struct RawJobResult {
    id: Option<i64>,
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

impl From<RawJob> for JobStatus {
    fn from(raw: RawJob) -> Self {
        let state = match raw.status.as_str() {
            "queued" => JobState::Queued,
            "working" => JobState::Working,
            "completed" => JobState::Completed,
            _ => JobState::Failed,
        };
        let results = raw
            .results
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| {
                let updated = r.error.is_none()
                    && (r.success == Some(true) || r.status.as_deref() == Some("Updated"));
                // Zendesk's error codes (e.g. "UpdateConflict"), never free text.
                let code = r.error.map(|e| e.chars().take(60).collect());
                r.id.map(|id| (id, updated, code))
            })
            .collect();
        Self {
            id: raw.id,
            state,
            results,
        }
    }
}

/// A page of the incremental ticket export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketChanges {
    pub tickets: Vec<(i64, String, Option<i64>, i64)>,
    pub after_cursor: Option<String>,
    pub end_of_stream: bool,
}

#[derive(Deserialize)]
struct RawExport {
    #[serde(default)]
    tickets: Vec<RawTicket>,
    #[serde(default)]
    after_cursor: Option<String>,
    #[serde(default)]
    end_of_stream: bool,
}

/// A page of the open tickets (`status<pending`) from the search export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenTickets {
    pub tickets: Vec<(i64, String, Option<i64>, i64)>,
    /// Where the next page starts; `None` on the last page.
    pub after_cursor: Option<String>,
}

#[derive(Deserialize)]
struct RawSearchExport {
    #[serde(default)]
    results: Vec<RawTicket>,
    #[serde(default)]
    meta: Option<SearchMeta>,
}

#[derive(Deserialize)]
struct SearchMeta {
    #[serde(default)]
    has_more: bool,
    #[serde(default)]
    after_cursor: Option<String>,
}

/// An agent gaining or losing a skill, from the incremental skills export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillChange {
    pub agent_id: i64,
    pub value_id: String,
    pub added: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillChanges {
    pub changes: Vec<SkillChange>,
    /// The cursor to continue from next time.
    pub cursor: Option<String>,
}

#[derive(Deserialize)]
struct RawSkillExport {
    #[serde(default)]
    instance_values: Vec<RawInstanceValue>,
    #[serde(default)]
    next_page: Option<String>,
    #[serde(default)]
    count: i64,
}

#[derive(Deserialize)]
struct RawInstanceValue {
    #[serde(default)]
    instance_id: Option<serde_json::Value>,
    #[serde(default)]
    attribute_value_id: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct AttributeValues {
    #[serde(default)]
    attribute_values: Vec<AttributeValue>,
}

#[derive(Deserialize)]
struct AttributeValue {
    id: String,
}

fn cursor_of(next_page: &str) -> Option<String> {
    url::Url::parse(next_page).ok().and_then(|u| {
        u.query_pairs()
            .find(|(k, _)| k == "cursor")
            .map(|(_, v)| v.into_owned())
    })
}

impl ZendeskClient {
    /// Every ticket in a view (`GET /api/v2/views/{id}/tickets.json`, paged), with SLA
    /// breach times when `with_slas`.
    pub async fn view_tickets(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        view_id: i64,
        with_slas: bool,
    ) -> Result<Vec<TicketState>, RestError> {
        let base = self.base_url(subdomain);
        let include = if with_slas { "&include=slas" } else { "" };
        let mut url = format!("{base}/api/v2/views/{view_id}/tickets.json?per_page=100{include}");
        let mut all = Vec::new();
        for _ in 0..MAX_PAGES {
            let page: TicketsPage = self.get_json(&url, auth).await?;
            all.extend(page.tickets.into_iter().map(TicketState::from));
            match page.next_page {
                Some(next) => url = same_account(&base, next)?,
                None => break,
            }
        }
        Ok(all)
    }

    /// Up to 100 tickets by id (`GET /api/v2/tickets/show_many.json`); deleted ones are
    /// missing from the answer.
    pub async fn tickets_by_id(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ids: &[i64],
    ) -> Result<Vec<TicketState>, RestError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let url = format!(
            "{}/api/v2/tickets/show_many.json?ids={list}",
            self.base_url(subdomain)
        );
        let page: TicketsPage = self.get_json(&url, auth).await?;
        Ok(page.tickets.into_iter().map(TicketState::from).collect())
    }

    /// The requester's most recent tickets, newest first
    /// (`GET /api/v2/users/{id}/tickets/requested.json`), back to `since_ms`, at most
    /// [`MAX_REQUESTED_PAGES`] pages, and stopping at the first page that holds a ticket
    /// with another assignee than the newest earlier one (or none; `new_ticket` itself is
    /// not compared): the same-agent rule needs no more.
    pub async fn requested_tickets(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        requester_id: i64,
        since_ms: i64,
        new_ticket: i64,
    ) -> Result<Vec<TicketState>, RestError> {
        let base = self.base_url(subdomain);
        let mut url = format!(
            "{base}/api/v2/users/{requester_id}/tickets/requested.json\
             ?sort_by=created_at&sort_order=desc&per_page=100"
        );
        let mut all = Vec::new();
        for _ in 0..MAX_REQUESTED_PAGES {
            let page: TicketsPage = self.get_json(&url, auth).await?;
            let before = all.len();
            all.extend(
                page.tickets
                    .into_iter()
                    .map(TicketState::from)
                    .filter(|t| t.created_at >= since_ms),
            );
            let reached_window_start = all.len() - before < 100;
            let earlier = |t: &&TicketState| t.id != new_ticket;
            let first_assignee = all.iter().find(earlier).and_then(|t| t.assignee_id);
            let mixed = first_assignee.is_none()
                || all[before..]
                    .iter()
                    .filter(earlier)
                    .any(|t| t.assignee_id != first_assignee);
            if mixed {
                break;
            }
            match page.next_page {
                Some(next) if !reached_window_start => url = same_account(&base, next)?,
                _ => break,
            }
        }
        Ok(all)
    }

    /// Who wrote the ticket's newest comments, newest first
    /// (`GET /api/v2/tickets/{id}/comments.json?sort_order=desc`), back to `since_ms`, at
    /// most [`MAX_COMMENT_PAGES`] pages of 100. Only author, visibility and time are read:
    /// bodies and attachments are never deserialized.
    pub async fn comments_since(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ticket_id: i64,
        since_ms: i64,
    ) -> Result<Vec<CommentMeta>, RestError> {
        let base = self.base_url(subdomain);
        let mut url = format!(
            "{base}/api/v2/tickets/{ticket_id}/comments.json?sort_order=desc&page[size]=100"
        );
        let mut all = Vec::new();
        for _ in 0..MAX_COMMENT_PAGES {
            let page: CommentsPage = self.get_json(&url, auth).await?;
            let before = all.len();
            all.extend(
                page.comments
                    .into_iter()
                    .filter_map(CommentMeta::from_raw)
                    .filter(|c| c.created_at >= since_ms),
            );
            let reached_since = all.len() - before < 100;
            match (page.meta.and_then(|m| m.has_more.then_some(())), page.links) {
                (Some(()), Some(CommentLinks { next: Some(next) })) if !reached_since => {
                    url = same_account(&base, next)?;
                }
                _ => break,
            }
        }
        Ok(all)
    }

    /// Assigns tickets in one background job (`PUT /api/v2/tickets/update_many.json`).
    pub async fn update_many(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        updates: &[TicketUpdate],
    ) -> Result<JobStatus, RestError> {
        let url = format!(
            "{}/api/v2/tickets/update_many.json",
            self.base_url(subdomain)
        );
        let body = serde_json::json!({ "tickets": updates });
        let response = self
            .authorized(auth, |http| http.put(&url).json(&body))
            .await?;
        let job: JobEnvelope = response.json().await.map_err(|_| RestError::BadResponse)?;
        Ok(job.job_status.into())
    }

    /// A background job's progress (`GET /api/v2/job_statuses/{id}.json`).
    pub async fn job_status(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        job_id: &str,
    ) -> Result<JobStatus, RestError> {
        if !job_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(RestError::BadResponse);
        }
        let url = format!(
            "{}/api/v2/job_statuses/{job_id}.json",
            self.base_url(subdomain)
        );
        let job: JobEnvelope = self.get_json(&url, auth).await?;
        Ok(job.job_status.into())
    }

    /// One page of the incremental ticket export
    /// (`GET /api/v2/incremental/tickets/cursor.json`), from a time or a cursor:
    /// `(ticket id, status, assignee, updated_at)` for every ticket changed since.
    pub async fn ticket_changes(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        cursor: Option<&str>,
        start_time_secs: i64,
    ) -> Result<TicketChanges, RestError> {
        let base = self.base_url(subdomain);
        let mut url = url::Url::parse(&format!("{base}/api/v2/incremental/tickets/cursor.json"))
            .map_err(|_| RestError::BadResponse)?;
        match cursor {
            Some(cursor) => url.query_pairs_mut().append_pair("cursor", cursor),
            None => url
                .query_pairs_mut()
                .append_pair("start_time", &start_time_secs.to_string()),
        };
        let page: RawExport = self.get_json(url.as_str(), auth).await?;
        Ok(TicketChanges {
            tickets: page
                .tickets
                .into_iter()
                .map(TicketState::from)
                .map(|t| (t.id, t.status, t.assignee_id, t.updated_at))
                .collect(),
            after_cursor: page.after_cursor,
            end_of_stream: page.end_of_stream,
        })
    }

    /// One page (up to 1,000) of the account's new and open tickets
    /// (`GET /api/v2/search/export.json?query=status<pending&filter[type]=ticket`): the
    /// seed of the open-ticket counts before the incremental export takes over.
    pub async fn open_tickets(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        cursor: Option<&str>,
    ) -> Result<OpenTickets, RestError> {
        let base = self.base_url(subdomain);
        let mut url = url::Url::parse(&format!("{base}/api/v2/search/export.json"))
            .map_err(|_| RestError::BadResponse)?;
        url.query_pairs_mut()
            .append_pair("query", "status<pending")
            .append_pair("filter[type]", "ticket")
            .append_pair("page[size]", "1000");
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("page[after]", cursor);
        }
        let page: RawSearchExport = self.get_json(url.as_str(), auth).await?;
        let meta = page.meta.unwrap_or(SearchMeta {
            has_more: false,
            after_cursor: None,
        });
        Ok(OpenTickets {
            tickets: page
                .results
                .into_iter()
                .map(TicketState::from)
                .map(|t| (t.id, t.status, t.assignee_id, t.updated_at))
                .collect(),
            after_cursor: meta.after_cursor.filter(|_| meta.has_more),
        })
    }

    /// An agent's skill ids (`GET /api/v2/routing/agents/{id}/instance_values.json`).
    pub async fn agent_skills(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        agent_id: i64,
    ) -> Result<Vec<String>, RestError> {
        let url = format!(
            "{}/api/v2/routing/agents/{agent_id}/instance_values.json",
            self.base_url(subdomain)
        );
        let values: AttributeValues = self.get_json(&url, auth).await?;
        Ok(values.attribute_values.into_iter().map(|v| v.id).collect())
    }

    /// A ticket's required skill ids (`GET /api/v2/routing/tickets/{id}/instance_values.json`).
    pub async fn ticket_skills(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        ticket_id: i64,
    ) -> Result<Vec<String>, RestError> {
        let url = format!(
            "{}/api/v2/routing/tickets/{ticket_id}/instance_values.json",
            self.base_url(subdomain)
        );
        let values: AttributeValues = self.get_json(&url, auth).await?;
        Ok(values.attribute_values.into_iter().map(|v| v.id).collect())
    }

    /// Agents' skill changes since `cursor`
    /// (`GET /api/v2/incremental/routing/instance_values.json`, every page).
    pub async fn agent_skill_changes(
        &self,
        subdomain: &Subdomain,
        auth: &ZendeskAuth,
        cursor: Option<&str>,
    ) -> Result<SkillChanges, RestError> {
        let base = self.base_url(subdomain);
        let mut url = url::Url::parse(&format!(
            "{base}/api/v2/incremental/routing/instance_values.json"
        ))
        .map_err(|_| RestError::BadResponse)?;
        if let Some(cursor) = cursor {
            url.query_pairs_mut().append_pair("cursor", cursor);
        }
        let mut url = url.to_string();
        let mut changes = Vec::new();
        let mut last_cursor = cursor.map(str::to_owned);
        for _ in 0..MAX_PAGES {
            let page: RawSkillExport = self.get_json(&url, auth).await?;
            changes.extend(page.instance_values.into_iter().filter_map(|v| {
                let added = match v.kind.as_deref() {
                    Some("associate_agent") => true,
                    Some("unassociate_agent") => false,
                    _ => return None,
                };
                let agent_id = match v.instance_id? {
                    serde_json::Value::Number(n) => n.as_i64()?,
                    serde_json::Value::String(s) => s.parse().ok()?,
                    _ => return None,
                };
                Some(SkillChange {
                    agent_id,
                    value_id: v.attribute_value_id?,
                    added,
                })
            }));
            let Some(next) = page.next_page else { break };
            if let Some(cursor) = cursor_of(&next) {
                last_cursor = Some(cursor);
            }
            if page.count == 0 {
                break;
            }
            url = same_account(&base, next)?;
        }
        Ok(SkillChanges {
            changes,
            cursor: last_cursor,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_keeps_ids_times_and_the_earliest_breach_only() {
        let raw: RawTicket = serde_json::from_value(serde_json::json!({
            "id": 35436, "subject": "secret", "description": "secret too",
            "status": "open", "priority": "urgent", "assignee_id": null, "group_id": 9,
            "requester_id": 20978392, "created_at": "2026-11-20T10:00:00Z",
            "updated_at": "2026-11-20T10:05:00Z",
            "slas": {"policy_metrics": [
                {"breach_at": "2026-11-20T12:00:00Z", "metric": "first_reply_time"},
                {"breach_at": "2026-11-20T11:00:00Z", "metric": "next_reply_time"}]}
        }))
        .unwrap();
        let ticket = TicketState::from(raw);
        assert!(ticket.is_routable());
        assert_eq!(ticket.group_id, Some(9));
        assert_eq!(ticket.updated_stamp, "2026-11-20T10:05:00Z");
        assert_eq!(
            ticket.sla_breach_at,
            Some(
                DateTime::parse_from_rfc3339("2026-11-20T11:00:00Z")
                    .unwrap()
                    .timestamp_millis()
            )
        );
    }

    #[test]
    fn job_results_say_which_tickets_were_updated() {
        let raw: JobEnvelope = serde_json::from_value(serde_json::json!({"job_status": {
            "id": "8b726e606741012ffc2d782bcb7848fe", "status": "completed",
            "results": [
                {"id": 1, "action": "update", "success": true, "status": "Updated"},
                {"id": 2, "error": "UpdateConflict", "details": "changed"}]}}))
        .unwrap();
        let job = JobStatus::from(raw.job_status);
        assert_eq!(job.state, JobState::Completed);
        assert_eq!(
            job.results,
            vec![(1, true, None), (2, false, Some("UpdateConflict".into()))]
        );
    }
}
