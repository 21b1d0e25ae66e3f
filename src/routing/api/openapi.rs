//! The routing API's part of `/openapi.json`, generated with `utoipa`: [`RoutingApi`]
//! (merged into the document by `statuses::openapi`). Schemathesis fuzzes everything
//! listed here and checks every answer against these schemas.
//!
//! The operations are thin doc-only fns: the handlers take raw paths and bodies (parsed
//! strictly by `body_of`), and those of `dedicated.rs` live in a file of their own. The
//! API's own shapes derive `ToSchema` in [`super::wire`]; the settings, hooks and
//! dedication shapes (serialized by `routing::settings`, `routing::hooks` and
//! `dedicated.rs`, and the `json!` envelopes of the handlers) are doc-only mirrors here.

use serde::Deserialize;
use serde_json::Value;
use utoipa::{OpenApi, ToSchema};

use super::paths;
use super::wire::{AssignmentOut, DryRunOut, LimitsBody, SettingsBody};
use crate::statuses::openapi::{BodyErrors, ErrorBody, KeyErrors};

/// The routing paths and schemas, for `/openapi.json`.
#[derive(OpenApi)]
#[openapi(paths(
    list_queues,
    create_queue,
    get_queue,
    replace_queue,
    delete_queue,
    dry_run,
    get_settings,
    put_settings,
    list_limits,
    get_limits,
    put_limits,
    assignments,
    resync,
    list_dedicated,
    put_dedicated,
    delete_dedicated,
    get_hooks,
    remake_hook,
))]
pub struct RoutingApi;

/// The routing paths of `/openapi.json`.
pub fn openapi_paths() -> Value {
    let doc = serde_json::to_value(RoutingApi::openapi()).unwrap_or_default();
    doc["paths"].clone()
}

/// The routing schemas of `/openapi.json` (`components.schemas`).
pub fn openapi_schemas() -> Value {
    let doc = serde_json::to_value(RoutingApi::openapi()).unwrap_or_default();
    doc["components"]["schemas"].clone()
}

// ---------------------------------------------------------------------------------------
// Mirrors of shapes serialized elsewhere (never built; `Deserialize` only carries the
// serde attributes utoipa reads: defaults and unknown fields refused).

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum QueueKind {
    Scheduled,
    Trigger,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Model {
    RoundRobin,
    LeastActive,
    Skills,
}

/// Declares a queue shape: the settings, with `$each` on every field that has a default,
/// and `$extra` fields after them.
macro_rules! queue_shape {
    ($(#[$attr:meta])* $name:ident, #[$each:meta] { $($extra:tt)* }) => {
        $(#[$attr])*
        #[allow(dead_code)]
        struct $name {
            /// 1 to 80 characters (trimmed)
            name: String,
            /// Run order: lower runs first and wins a ticket two queues share
            #[$each]
            #[schema(minimum = 0, maximum = 1000, default = 0)]
            position: i64,
            #[schema(minimum = 1)]
            view_id: i64,
            #[schema(inline)]
            kind: QueueKind,
            #[schema(inline)]
            model: Model,
            #[$each]
            #[schema(minimum = 30, maximum = 86_400, default = 60)]
            interval_secs: i64,
            #[$each]
            #[schema(minimum = 1, maximum = 100, default = 5)]
            batch_size: i64,
            #[$each]
            #[schema(default = false)]
            use_sla: bool,
            #[$each]
            #[schema(minimum = 1, maximum = 10_080)]
            skills_timeout_minutes: Option<i64>,
            /// A Zendesk tag: up to 80 letters, digits or _ - : / .
            #[$each]
            audit_tag: Option<String>,
            /// Set together with audit_field_value, or neither
            #[$each]
            #[schema(minimum = 1)]
            audit_field_id: Option<i64>,
            /// 1 to 255 bytes; set together with audit_field_id
            #[$each]
            audit_field_value: Option<String>,
            #[$each]
            #[schema(default = true)]
            enabled: bool,
            #[$each]
            reassign: ReassignRules,
            /// Split the queue's tickets between 2 to 10 groups by weight, kept over time; tickets without a group or in one of these groups are moved to the group furthest behind its share that has an eligible agent. Empty: no split.
            #[$each]
            #[schema(max_items = 10, default = json!([]))]
            split: Vec<GroupShare>,
            $($extra)*
        }
    };
}

queue_shape!(
    /// A queue's settings (create and replace).
    #[derive(Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    QueueSettings,
    #[serde(default)]
    {}
);

queue_shape!(
    /// A stored queue: its id, every setting, and its last run.
    #[derive(ToSchema)]
    Queue,
    #[schema(required = true)]
    {
        #[schema(minimum = 1)]
        id: i64,
        #[schema(format = DateTime, required = true)]
        last_run_at: Option<String>,
        #[schema(required = true)]
        last_run_error: Option<String>,
    }
);

/// When a ticket this queue assigned goes back to routing (to another eligible agent when there is one): no public agent reply within unanswered_minutes, or its agent away or offline (or outside their schedule) for away_minutes. Both rules are off by default and never reach back before they were switched on.
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
#[allow(dead_code)]
struct ReassignRules {
    /// Minutes without a public agent reply before the ticket moves on; null: off
    #[schema(minimum = 1, maximum = 10_080)]
    unanswered_minutes: Option<i64>,
    #[schema(default = false)]
    when_away: bool,
    #[schema(minimum = 0, maximum = 1_440, default = 5)]
    away_minutes: i64,
    /// Only tickets assigned less than this many hours ago; null: the last week
    #[schema(minimum = 1, maximum = 168)]
    within_hours: Option<i64>,
    /// The most times one ticket moves on
    #[schema(minimum = 1, maximum = 10, default = 2)]
    max_times: i64,
    /// Added each time a ticket moves on. A Zendesk tag: up to 80 letters, digits or _ - : / .
    #[schema(default = "reassigned_by_slackdesk")]
    tag: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct GroupShare {
    #[schema(minimum = 1)]
    group_id: i64,
    /// The group's share is its weight over the sum of the weights
    #[schema(minimum = 1, maximum = 100)]
    weight: i64,
}

/// Declares the same-agent settings shape, with `$each` on every field.
macro_rules! same_agent_shape {
    ($(#[$attr:meta])* $name:ident, #[$each:meta]) => {
        $(#[$attr])*
        #[allow(dead_code)]
        pub(super) struct $name {
            #[$each]
            #[schema(default = false)]
            enabled: bool,
            #[$each]
            #[schema(minimum = 1, maximum = 8_760, default = 72)]
            window_hours: i64,
            #[$each]
            #[schema(default = true)]
            only_online: bool,
            #[$each]
            #[schema(default = true)]
            within_limits: bool,
            /// A Zendesk tag: up to 80 letters, digits or _ - : / .
            #[$each]
            tag: Option<String>,
        }
    };
}

same_agent_shape!(
    /// The same-agent rule: a requester's new ticket goes to the agent who had their last one.
    #[derive(Default, Deserialize, ToSchema)]
    #[serde(deny_unknown_fields)]
    SameAgentRequest,
    #[serde(default)]
);

same_agent_shape!(
    /// The same-agent rule as stored.
    #[derive(ToSchema)]
    SameAgent,
    #[schema(required = true)]
);

/// The account-wide routing settings and the webhooks' state.
#[derive(ToSchema)]
#[allow(dead_code)]
struct AccountSettings {
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    default_inbox_limit: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    default_daily_limit: Option<i64>,
    same_agent: SameAgent,
    route_webhook_secret_set: bool,
    same_agent_webhook_secret_set: bool,
    /// The webhooks and triggers in Zendesk; after a PUT, the same-agent webhook brought in line with same_agent.enabled (saved first: a Zendesk failure is in hooks.same_agent.error, the settings are saved)
    hooks: Hooks,
}

/// One agent's own limits (null: the account default applies).
#[derive(ToSchema)]
#[allow(dead_code)]
struct AgentLimits {
    #[schema(minimum = 1)]
    user_id: i64,
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    inbox_limit: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    daily_limit: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct AgentLimitsList {
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    default_inbox_limit: Option<i64>,
    #[schema(minimum = 0, maximum = 10_000, required = true)]
    default_daily_limit: Option<i64>,
    agents: Vec<AgentLimits>,
}

/// The webhooks and triggers slackdesk makes in Zendesk: the route webhook (one trigger per enabled trigger queue) and the same-agent webhook (one trigger on new tickets)
#[derive(ToSchema)]
#[allow(dead_code)]
struct Hooks {
    route: HookStatus,
    same_agent: HookStatus,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct HooksEnvelope {
    hooks: Hooks,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HookPart {
    Present,
    Missing,
    NotMade,
    Unknown,
}

/// present: made by slackdesk and in Zendesk; missing: deleted in Zendesk (POST /hooks/{hook} makes it again); not_made: needed, not made (error says why); by_hand: a signing secret was typed for a webhook made by hand, slackdesk makes none; leftover: no longer needed, removing failed; unknown: Zendesk could not be asked; busy: another request is changing it
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HookState {
    NotNeeded,
    Present,
    Missing,
    NotMade,
    ByHand,
    Leftover,
    Unknown,
    Busy,
}

/// What this request changed in Zendesk
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HookChange {
    Made,
    Removed,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct HookStatus {
    /// Whether a feature that is on needs it
    needed: bool,
    #[schema(inline)]
    state: HookState,
    /// The URL Zendesk calls
    endpoint: String,
    /// The Zendesk webhook slackdesk made
    #[schema(required = true)]
    webhook_id: Option<String>,
    webhook: HookPart,
    triggers: Vec<HookTrigger>,
    /// Whether its signing secret is stored (never shown)
    secret_stored: bool,
    /// Code of the last failure making, removing or checking it (e.g. http_503, rate_limited, unauthorized_403, zendesk_not_connected)
    #[schema(required = true)]
    error: Option<String>,
    #[schema(required = true)]
    change: Option<HookChange>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct HookTrigger {
    /// The trigger queue it routes to; null: the same-agent trigger
    #[schema(required = true)]
    queue_id: Option<i64>,
    #[schema(required = true)]
    trigger_id: Option<i64>,
    state: HookPart,
    /// false: left over, to be removed
    wanted: bool,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct QueueList {
    queues: Vec<Queue>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct QueueEnvelope {
    queue: Queue,
    /// After a create or replace: the webhooks and triggers in Zendesk, the route webhook brought in line with the trigger queues
    hooks: Option<Hooks>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct AssignmentPage {
    assignments: Vec<AssignmentOut<'static>>,
    /// Pass as before_id for the next (older) page; null on the last page
    #[schema(required = true)]
    next_before_id: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ResyncRequested {
    resync_requested: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum DedicationKind {
    Organization,
    Requester,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct DedicationRequest {
    #[schema(minimum = 1)]
    agent_id: i64,
    /// Takes over when the dedicated agent is not eligible; the dedicated agent themselves means no fallback
    #[serde(default)]
    #[schema(minimum = 1)]
    fallback_agent_id: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Dedication {
    #[schema(inline)]
    kind: DedicationKind,
    #[schema(minimum = 1)]
    id: i64,
    #[schema(minimum = 1)]
    agent_id: i64,
    #[schema(minimum = 1, required = true)]
    fallback_agent_id: Option<i64>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct DedicationEnvelope {
    dedicated: Dedication,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct DedicatedList {
    dedicated: Vec<Dedication>,
}

// ---------------------------------------------------------------------------------------
// The operations (doc-only: the handlers are in `super` and `super::dedicated`)

#[utoipa::path(get, path = paths::QUEUES, operation_id = "listRoutingQueues",
    summary = "The account's routing queues in run order",
    responses((status = 200, description = "OK", body = QueueList), KeyErrors))]
#[allow(dead_code)]
fn list_queues() {}

#[utoipa::path(post, path = paths::QUEUES, operation_id = "createRoutingQueue",
    summary = "Create a queue",
    request_body = QueueSettings,
    responses(
        (status = 201, description = "Created", body = QueueEnvelope,
            headers(("Location" = String)),
            links(
                ("GetQueue" = (operation_id = "getRoutingQueue", parameters(("id" = "$response.body#/queue/id")))),
                ("DeleteQueue" = (operation_id = "deleteRoutingQueue", parameters(("id" = "$response.body#/queue/id")))),
            )),
        (status = 400, description = "Invalid body; error.field names the field. Nothing was stored.", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
#[allow(dead_code)]
fn create_queue() {}

#[utoipa::path(get, path = paths::QUEUE, operation_id = "getRoutingQueue",
    summary = "One queue",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "OK", body = QueueEnvelope),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 404, description = "No such queue in the key's account", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn get_queue() {}

#[utoipa::path(put, path = paths::QUEUE, operation_id = "replaceRoutingQueue",
    summary = "Replace a queue's settings",
    params(("id" = i64, Path, minimum = 1)),
    request_body = QueueSettings,
    responses(
        (status = 200, description = "OK", body = QueueEnvelope),
        (status = 400, description = "Invalid body; error.field names the field. Nothing was stored.", body = ErrorBody),
        (status = 404, description = "No such queue in the key's account", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
#[allow(dead_code)]
fn replace_queue() {}

#[utoipa::path(delete, path = paths::QUEUE, operation_id = "deleteRoutingQueue",
    summary = "Delete a queue",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 404, description = "No such queue in the key's account", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn delete_queue() {}

#[utoipa::path(post, path = paths::DRY_RUN, operation_id = "dryRunRoutingQueue",
    summary = "Which agent each waiting ticket would get now, and why; assigns nothing",
    params(("id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "OK", body = DryRunOut),
        (status = 400, description = "The id is not a positive integer", body = ErrorBody),
        (status = 404, description = "No such queue in the key's account", body = ErrorBody),
        (status = 422, description = "Zendesk is not connected for this account, refused the credentials, or refused to read the view (error.code says which)", body = ErrorBody),
        (status = 503, description = "Zendesk is unavailable; try again later", body = ErrorBody,
            headers(("Retry-After" = i64, description = "Seconds to wait"))),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn dry_run() {}

#[utoipa::path(get, path = paths::SETTINGS, operation_id = "getRoutingSettings",
    summary = "Account-wide routing settings",
    responses((status = 200, description = "OK", body = AccountSettings), KeyErrors))]
#[allow(dead_code)]
fn get_settings() {}

#[utoipa::path(put, path = paths::SETTINGS, operation_id = "putRoutingSettings",
    summary = "Replace the account-wide routing settings (the *_webhook_secret fields are write-only, for webhooks made by hand; absent keeps the stored one). Turning same_agent.enabled on makes the same-agent webhook and trigger in Zendesk; off removes them",
    request_body = SettingsBody,
    responses(
        (status = 200, description = "OK", body = AccountSettings),
        (status = 400, description = "Invalid body; error.field names the field. Nothing was stored.", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
#[allow(dead_code)]
fn put_settings() {}

#[utoipa::path(get, path = paths::LIMITS, operation_id = "listRoutingAgentLimits",
    summary = "Every agent's own limits (null: the account default applies)",
    responses((status = 200, description = "OK", body = AgentLimitsList), KeyErrors))]
#[allow(dead_code)]
fn list_limits() {}

#[utoipa::path(get, path = paths::AGENT_LIMITS, operation_id = "getRoutingAgentLimits",
    summary = "One agent's own limits",
    params(("user_id" = i64, Path, minimum = 1)),
    responses(
        (status = 200, description = "OK", body = AgentLimits),
        (status = 400, description = "The user id is not a positive 64-bit integer", body = ErrorBody),
        (status = 404, description = "Not an agent of the key's account", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn get_limits() {}

#[utoipa::path(put, path = paths::AGENT_LIMITS, operation_id = "putRoutingAgentLimits",
    summary = "Set one agent's own limits (both null: back to the account default)",
    params(("user_id" = i64, Path, minimum = 1)),
    request_body = LimitsBody,
    responses(
        (status = 200, description = "OK", body = AgentLimits),
        (status = 400, description = "Invalid body; error.field names the field. Nothing was stored.", body = ErrorBody),
        (status = 404, description = "Not an agent of the key's account", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
#[allow(dead_code)]
fn put_limits() {}

#[utoipa::path(get, path = paths::ASSIGNMENTS, operation_id = "listRoutingAssignments",
    summary = "The assignment log with reasons, newest first, paged by before_id",
    params(
        ("before_id" = Option<i64>, Query, minimum = 1),
        ("limit" = Option<i32>, Query, minimum = 1, maximum = 200),
    ),
    responses(
        (status = 200, description = "OK", body = AssignmentPage),
        (status = 400, description = "Invalid query parameter; error.field names it", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn assignments() {}

#[utoipa::path(post, path = paths::RESYNC, operation_id = "resyncRoutingSkills",
    summary = "Ask for a full skills resync from Zendesk on the next sync pass",
    responses((status = 202, description = "Accepted", body = ResyncRequested), KeyErrors))]
#[allow(dead_code)]
fn resync() {}

#[utoipa::path(get, path = paths::DEDICATED, operation_id = "listRoutingDedicatedAgents",
    summary = "Organizations' and requesters' dedicated agents",
    responses((status = 200, description = "OK", body = DedicatedList), KeyErrors))]
#[allow(dead_code)]
fn list_dedicated() {}

#[utoipa::path(put, path = paths::DEDICATION, operation_id = "putRoutingDedicatedAgent",
    summary = "Set the dedicated agent of an organization or a requester, and who takes over when that agent is not eligible",
    description = "Routing gives the organization's (or requester's; the requester's wins) tickets to this agent when they are eligible (online, in schedule, in the ticket's group and skills, under their limits), else to the fallback agent, else by the queue's model.",
    params(("kind" = inline(DedicationKind), Path), ("id" = i64, Path, minimum = 1)),
    request_body = DedicationRequest,
    responses(
        (status = 200, description = "OK", body = DedicationEnvelope),
        (status = 400, description = "Invalid body; error.field names the field. Nothing was stored.", body = ErrorBody),
        (status = 404, description = "agent_id or fallback_agent_id is not an agent of the key's account", body = ErrorBody),
        BodyErrors,
        KeyErrors,
    ))]
#[allow(dead_code)]
fn put_dedicated() {}

#[utoipa::path(delete, path = paths::DEDICATION, operation_id = "deleteRoutingDedicatedAgent",
    summary = "Remove a dedicated agent",
    params(("kind" = inline(DedicationKind), Path), ("id" = i64, Path, minimum = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "The kind or id is not valid; error.field names it", body = ErrorBody),
        (status = 404, description = "No dedicated agent for this organization or requester", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn delete_dedicated() {}

#[utoipa::path(get, path = paths::HOOKS, operation_id = "getRoutingHooks",
    summary = "The webhooks and triggers slackdesk makes in Zendesk, and whether Zendesk still has them (asked now)",
    responses((status = 200, description = "OK", body = HooksEnvelope), KeyErrors))]
#[allow(dead_code)]
fn get_hooks() {}

#[utoipa::path(post, path = paths::HOOK, operation_id = "remakeRoutingHook",
    summary = "Bring one webhook in line now: make again what was deleted in Zendesk, make what is not made, remove what is no longer needed. Replaces a signing secret typed by hand with the one of the webhook slackdesk makes. A Zendesk failure is answered in hooks.{hook}.error, not as an HTTP error.",
    params(("hook" = inline(HookName), Path)),
    responses(
        (status = 200, description = "OK", body = HooksEnvelope),
        (status = 404, description = "No such webhook (route or same_agent)", body = ErrorBody),
        KeyErrors,
    ))]
#[allow(dead_code)]
fn remake_hook() {}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum HookName {
    Route,
    SameAgent,
}
