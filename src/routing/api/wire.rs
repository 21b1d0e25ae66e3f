//! The routing API's wire shapes: what the handlers serialize and parse. The API's own
//! shapes derive `ToSchema` for `/openapi.json` ([`super::openapi`]).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::openapi::SameAgentRequest;
use crate::routing::settings::{AccountSettings, QueueSettings, SameAgentSettings};
use crate::statuses::wire::iso_ms;
use crate::storage::routing::{Assignment, Queue};

/// A stored queue as the API shows it: its id, every setting, and its last run.
#[derive(Debug, Serialize)]
pub struct QueueOut<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub settings: &'a QueueSettings,
    pub last_run_at: Option<String>,
    pub last_run_error: Option<&'a str>,
}

impl<'a> From<&'a Queue> for QueueOut<'a> {
    fn from(queue: &'a Queue) -> Self {
        Self {
            id: queue.id,
            settings: &queue.settings,
            last_run_at: queue.last_run_at.map(iso_ms),
            last_run_error: queue.last_run_error.as_deref(),
        }
    }
}

/// `PUT /settings`: the account settings and, optionally, a new webhook signing secret
/// (write-only: absent or null keeps the stored one; it is never shown again).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AccountSettingsRequest)]
pub(super) struct SettingsBody {
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub(super) default_inbox_limit: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub(super) default_daily_limit: Option<i64>,
    #[serde(default)]
    #[schema(value_type = SameAgentRequest)]
    pub(super) same_agent: SameAgentSettings,
    /// The route webhook's signing secret in Zendesk, 8 to 512 characters without spaces; absent or null keeps the stored one
    #[serde(default)]
    #[schema(write_only)]
    pub(super) route_webhook_secret: Option<String>,
    /// The same-agent webhook's signing secret in Zendesk, 8 to 512 characters without spaces; absent or null keeps the stored one
    #[serde(default)]
    #[schema(write_only)]
    pub(super) same_agent_webhook_secret: Option<String>,
}

#[derive(Debug, Serialize)]
pub(super) struct SettingsOut<'a> {
    #[serde(flatten)]
    pub(super) settings: &'a AccountSettings,
    /// Whether each webhook's signing secret is stored (secrets are never shown).
    pub(super) route_webhook_secret_set: bool,
    pub(super) same_agent_webhook_secret_set: bool,
    /// The webhooks and triggers slackdesk makes in Zendesk, by webhook.
    pub(super) hooks: Value,
}

/// `PUT /agents/{user_id}/limits`: one agent's own limits (null: the account default).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AgentLimitsRequest)]
pub(super) struct LimitsBody {
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub(super) inbox_limit: Option<i64>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10_000)]
    pub(super) daily_limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionOut {
    #[schema(minimum = 1)]
    pub ticket_id: i64,
    #[schema(minimum = 1)]
    pub agent_id: i64,
    pub reason: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitingOut {
    #[schema(minimum = 1)]
    pub ticket_id: i64,
    pub reason: String,
}

/// What a dry run found: the tickets it read and what it would do with each.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = DryRun)]
pub struct DryRunOut {
    #[schema(minimum = 1)]
    pub queue_id: i64,
    pub considered: usize,
    pub assignments: Vec<DecisionOut>,
    pub waiting: Vec<WaitingOut>,
    /// Tickets the queue assigned that its reassignment rules would hand back now.
    pub handbacks: Vec<DecisionOut>,
}

/// One decision of the assignment log.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Assignment)]
pub(super) struct AssignmentOut<'a> {
    #[schema(minimum = 1)]
    id: i64,
    #[schema(minimum = 1)]
    ticket_id: i64,
    #[schema(minimum = 1)]
    agent_id: i64,
    /// The queue the ticket came from; null: assigned by the same-agent rule
    #[schema(required = true)]
    queue_id: Option<i64>,
    /// How it was decided: round_robin, least_active or skills (a queue's run), same_agent (the same-agent rule), next_ticket (the agent pulled it with "Next ticket" in the agents' app, from queue_id); reason says why in words
    model: &'a str,
    reason: &'a str,
    #[schema(value_type = AssignmentState, inline)]
    state: &'a str,
    #[schema(required = true)]
    detail: Option<&'a str>,
    #[schema(format = DateTime)]
    decided_at: String,
    /// What the queue's reassignment rules made of it: answered (an agent replied), ended (reassigned by someone else, solved or pending), releasing/released (handed back to routing), kept (moved on the most times already), expired (out of the rules' reach); null: not settled by them
    #[schema(value_type = Option<AssignmentWatch>, required = true)]
    watch: Option<&'a str>,
    /// Why, in words with ids (e.g. no reply in 15 min from agent 123; reassigned)
    #[schema(required = true)]
    watch_detail: Option<&'a str>,
}

/// The states of an assignment (as stored).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum AssignmentState {
    Pending,
    Assigned,
    Skipped,
    Failed,
}

/// What the reassignment watch made of an assignment (as stored).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum AssignmentWatch {
    Answered,
    Ended,
    Releasing,
    Released,
    Kept,
    Expired,
}

impl<'a> From<&'a Assignment> for AssignmentOut<'a> {
    fn from(a: &'a Assignment) -> Self {
        Self {
            id: a.id,
            ticket_id: a.ticket_id,
            agent_id: a.agent_id,
            queue_id: a.queue_id,
            model: &a.model,
            reason: &a.reason,
            state: &a.state,
            detail: a.detail.as_deref(),
            decided_at: iso_ms(a.decided_at),
            watch: a.watch.as_deref(),
            watch_detail: a.watch_detail.as_deref(),
        }
    }
}
