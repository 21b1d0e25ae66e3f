//! The routing API's part of `/openapi.json`: its paths and schemas, merged into the
//! document by `statuses::openapi`. Schemathesis fuzzes everything listed here.

use serde_json::{Value, json};

use super::{DEFAULT_LOG_PAGE, MAX_LOG_PAGE, paths};

fn error(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn ok(description: &str, schema: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {
        "schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

/// The responses every routing operation may give besides its own.
fn common(mut responses: Value, allow: &str) -> Value {
    responses["401"] = error("Missing or invalid X-API-Key");
    responses["405"] = json!({
        "description": format!("Method not allowed (allowed: {allow})"),
        "headers": {"Allow": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    responses["429"] = json!({
        "description": "Over the key's rate limit",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    responses
}

fn with_body(mut responses: Value) -> Value {
    responses["400"] = error("Invalid body; error.field names the field. Nothing was stored.");
    responses["413"] = error("Body too large");
    responses["415"] = error("Body is not JSON");
    responses
}

fn id_param() -> Value {
    json!({"name": "id", "in": "path", "required": true,
           "schema": {"type": "integer", "format": "int64", "minimum": 1}})
}

fn user_param() -> Value {
    json!({"name": "user_id", "in": "path", "required": true,
           "schema": {"type": "integer", "format": "int64", "minimum": 1}})
}

/// The routing paths of `/openapi.json`.
pub fn openapi_paths() -> Value {
    let not_found = error("No such queue in the key's account");
    json!({
        paths::QUEUES: {
            "get": {
                "operationId": "listRoutingQueues",
                "summary": "The account's routing queues in run order",
                "responses": common(json!({"200": ok("OK", "QueueList")}), "GET, POST")
            },
            "post": {
                "operationId": "createRoutingQueue",
                "summary": "Create a queue",
                "requestBody": body("QueueSettings"),
                "responses": common(with_body(json!({
                    "201": {
                        "description": "Created",
                        "headers": {"Location": {"schema": {"type": "string"}}},
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueueEnvelope"}}},
                        "links": {
                            "GetQueue": {"operationId": "getRoutingQueue", "parameters": {"id": "$response.body#/queue/id"}},
                            "DeleteQueue": {"operationId": "deleteRoutingQueue", "parameters": {"id": "$response.body#/queue/id"}}
                        }
                    }
                })), "GET, POST")
            }
        },
        paths::QUEUE: {
            "parameters": [id_param()],
            "get": {
                "operationId": "getRoutingQueue",
                "summary": "One queue",
                "responses": common(json!({
                    "200": ok("OK", "QueueEnvelope"),
                    "400": error("The id is not a positive integer"),
                    "404": not_found
                }), "GET, PUT, DELETE")
            },
            "put": {
                "operationId": "replaceRoutingQueue",
                "summary": "Replace a queue's settings",
                "requestBody": body("QueueSettings"),
                "responses": common(with_body(json!({
                    "200": ok("OK", "QueueEnvelope"),
                    "404": not_found
                })), "GET, PUT, DELETE")
            },
            "delete": {
                "operationId": "deleteRoutingQueue",
                "summary": "Delete a queue",
                "responses": common(json!({
                    "204": {"description": "Deleted"},
                    "400": error("The id is not a positive integer"),
                    "404": not_found
                }), "GET, PUT, DELETE")
            }
        },
        paths::DRY_RUN: {"post": {
            "operationId": "dryRunRoutingQueue",
            "summary": "Which agent each waiting ticket would get now, and why; assigns nothing",
            "parameters": [id_param()],
            "responses": common(json!({
                "200": ok("OK", "DryRun"),
                "400": error("The id is not a positive integer"),
                "404": not_found,
                "422": error("Zendesk is not connected for this account, refused the credentials, or refused to read the view (error.code says which)"),
                "503": {
                    "description": "Zendesk is unavailable; try again later",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
                }
            }), "POST")
        }},
        paths::SETTINGS: {
            "get": {
                "operationId": "getRoutingSettings",
                "summary": "Account-wide routing settings",
                "responses": common(json!({"200": ok("OK", "AccountSettings")}), "GET, PUT")
            },
            "put": {
                "operationId": "putRoutingSettings",
                "summary": "Replace the account-wide routing settings (the *_webhook_secret fields are write-only, for webhooks made by hand; absent keeps the stored one). Turning same_agent.enabled on makes the same-agent webhook and trigger in Zendesk; off removes them",
                "requestBody": body("AccountSettingsRequest"),
                "responses": common(with_body(json!({"200": ok("OK", "AccountSettings")})), "GET, PUT")
            }
        },
        paths::LIMITS: {"get": {
            "operationId": "listRoutingAgentLimits",
            "summary": "Every agent's own limits (null: the account default applies)",
            "responses": common(json!({"200": ok("OK", "AgentLimitsList")}), "GET")
        }},
        paths::AGENT_LIMITS: {
            "parameters": [user_param()],
            "get": {
                "operationId": "getRoutingAgentLimits",
                "summary": "One agent's own limits",
                "responses": common(json!({
                    "200": ok("OK", "AgentLimits"),
                    "400": error("The user id is not a positive 64-bit integer"),
                    "404": error("Not an agent of the key's account")
                }), "GET, PUT")
            },
            "put": {
                "operationId": "putRoutingAgentLimits",
                "summary": "Set one agent's own limits (both null: back to the account default)",
                "requestBody": body("AgentLimitsRequest"),
                "responses": common(with_body(json!({
                    "200": ok("OK", "AgentLimits"),
                    "404": error("Not an agent of the key's account")
                })), "GET, PUT")
            }
        },
        paths::ASSIGNMENTS: {"get": {
            "operationId": "listRoutingAssignments",
            "summary": "The assignment log with reasons, newest first, paged by before_id",
            "parameters": [
                {"name": "before_id", "in": "query", "required": false,
                 "schema": {"type": "integer", "format": "int64", "minimum": 1}},
                {"name": "limit", "in": "query", "required": false,
                 "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LOG_PAGE, "default": DEFAULT_LOG_PAGE}}
            ],
            "responses": common(json!({
                "200": ok("OK", "AssignmentPage"),
                "400": error("Invalid query parameter; error.field names it")
            }), "GET")
        }},
        paths::RESYNC: {"post": {
            "operationId": "resyncRoutingSkills",
            "summary": "Ask for a full skills resync from Zendesk on the next sync pass",
            "responses": common(json!({"202": ok("Accepted", "ResyncRequested")}), "POST")
        }},
        paths::DEDICATED: {"get": {
            "operationId": "listRoutingDedicatedAgents",
            "summary": "Organizations' and requesters' dedicated agents",
            "responses": common(json!({"200": ok("OK", "DedicatedList")}), "GET")
        }},
        paths::DEDICATION: {
            "parameters": [
                {"name": "kind", "in": "path", "required": true,
                 "schema": {"type": "string", "enum": ["organization", "requester"]}},
                id_param()
            ],
            "put": {
                "operationId": "putRoutingDedicatedAgent",
                "summary": "Set the dedicated agent of an organization or a requester, and who takes over when that agent is not eligible",
                "description": "Routing gives the organization's (or requester's; the requester's wins) tickets to this agent when they are eligible (online, in schedule, in the ticket's group and skills, under their limits), else to the fallback agent, else by the queue's model.",
                "requestBody": body("DedicationRequest"),
                "responses": common(with_body(json!({
                    "200": ok("OK", "DedicationEnvelope"),
                    "404": error("agent_id or fallback_agent_id is not an agent of the key's account")
                })), "PUT, DELETE")
            },
            "delete": {
                "operationId": "deleteRoutingDedicatedAgent",
                "summary": "Remove a dedicated agent",
                "responses": common(json!({
                    "204": {"description": "Removed"},
                    "400": error("The kind or id is not valid; error.field names it"),
                    "404": error("No dedicated agent for this organization or requester")
                }), "PUT, DELETE")
            }
        },
        paths::HOOKS: {"get": {
            "operationId": "getRoutingHooks",
            "summary": "The webhooks and triggers slackdesk makes in Zendesk, and whether Zendesk still has them (asked now)",
            "responses": common(json!({"200": ok("OK", "HooksEnvelope")}), "GET")
        }},
        paths::HOOK: {"post": {
            "operationId": "remakeRoutingHook",
            "summary": "Bring one webhook in line now: make again what was deleted in Zendesk, make what is not made, remove what is no longer needed. Replaces a signing secret typed by hand with the one of the webhook slackdesk makes. A Zendesk failure is answered in hooks.{hook}.error, not as an HTTP error.",
            "parameters": [{"name": "hook", "in": "path", "required": true,
                            "schema": {"type": "string", "enum": ["route", "same_agent"]}}],
            "responses": common(json!({
                "200": ok("OK", "HooksEnvelope"),
                "404": error("No such webhook (route or same_agent)")
            }), "POST")
        }}
    })
}

/// The routing schemas of `/openapi.json` (`components.schemas`).
pub fn openapi_schemas() -> Value {
    let id = json!({"type": "integer", "format": "int64", "minimum": 1});
    let limit = json!({"type": "integer", "minimum": 0, "maximum": 10_000, "nullable": true});
    let queue_properties = json!({
        "name": {"type": "string", "description": "1 to 80 characters (trimmed)"},
        "position": {"type": "integer", "minimum": 0, "maximum": 1_000, "default": 0,
                     "description": "Run order: lower runs first and wins a ticket two queues share"},
        "view_id": {"type": "integer", "format": "int64", "minimum": 1},
        "kind": {"type": "string", "enum": ["scheduled", "trigger"]},
        "model": {"type": "string", "enum": ["round_robin", "least_active", "skills"]},
        "interval_secs": {"type": "integer", "minimum": 30, "maximum": 86_400, "default": 60},
        "batch_size": {"type": "integer", "minimum": 1, "maximum": 100, "default": 5},
        "use_sla": {"type": "boolean", "default": false},
        "skills_timeout_minutes": {"type": "integer", "minimum": 1, "maximum": 10_080, "nullable": true},
        "audit_tag": {"type": "string", "nullable": true,
                      "description": "A Zendesk tag: up to 80 letters, digits or _ - : / ."},
        "audit_field_id": {"type": "integer", "format": "int64", "minimum": 1, "nullable": true,
                           "description": "Set together with audit_field_value, or neither"},
        "audit_field_value": {"type": "string", "nullable": true,
                              "description": "1 to 255 bytes; set together with audit_field_id"},
        "enabled": {"type": "boolean", "default": true},
        "reassign": {"$ref": "#/components/schemas/ReassignRules"},
        "split": {"type": "array", "maxItems": 10, "default": [],
                  "description": "Split the queue's tickets between 2 to 10 groups by weight, kept over time; tickets without a group or in one of these groups are moved to the group furthest behind its share that has an eligible agent. Empty: no split.",
                  "items": {"$ref": "#/components/schemas/GroupShare"}}
    });
    let mut queue_out = queue_properties.clone();
    queue_out["id"] = id.clone();
    queue_out["last_run_at"] = json!({"type": "string", "format": "date-time", "nullable": true});
    queue_out["last_run_error"] = json!({"type": "string", "nullable": true});
    let same_agent = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "enabled": {"type": "boolean", "default": false},
            "window_hours": {"type": "integer", "minimum": 1, "maximum": crate::routing::settings::MAX_WINDOW_HOURS, "default": 72},
            "only_online": {"type": "boolean", "default": true},
            "within_limits": {"type": "boolean", "default": true},
            "tag": {"type": "string", "nullable": true,
                    "description": "A Zendesk tag: up to 80 letters, digits or _ - : / ."}
        }
    });
    let mut same_agent_out = same_agent.clone();
    same_agent_out["required"] = json!([
        "enabled",
        "window_hours",
        "only_online",
        "within_limits",
        "tag"
    ]);
    json!({
        "QueueSettings": {
            "type": "object", "additionalProperties": false,
            "required": ["name", "view_id", "kind", "model"],
            "properties": queue_properties
        },
        "Queue": {
            "type": "object",
            "required": ["id", "name", "position", "view_id", "kind", "model", "interval_secs",
                         "batch_size", "use_sla", "skills_timeout_minutes", "audit_tag",
                         "audit_field_id", "audit_field_value", "enabled", "reassign",
                         "split", "last_run_at", "last_run_error"],
            "properties": queue_out
        },
        "ReassignRules": {
            "type": "object", "additionalProperties": false,
            "description": "When a ticket this queue assigned goes back to routing (to another eligible agent when there is one): no public agent reply within unanswered_minutes, or its agent away or offline (or outside their schedule) for away_minutes. Both rules are off by default and never reach back before they were switched on.",
            "properties": {
                "unanswered_minutes": {"type": "integer", "minimum": 1, "maximum": 10_080, "nullable": true, "default": null,
                                       "description": "Minutes without a public agent reply before the ticket moves on; null: off"},
                "when_away": {"type": "boolean", "default": false},
                "away_minutes": {"type": "integer", "minimum": 0, "maximum": 1_440, "default": 5},
                "within_hours": {"type": "integer", "minimum": 1, "maximum": 168, "nullable": true, "default": null,
                                 "description": "Only tickets assigned less than this many hours ago; null: the last week"},
                "max_times": {"type": "integer", "minimum": 1, "maximum": 10, "default": 2,
                              "description": "The most times one ticket moves on"},
                "tag": {"type": "string", "nullable": true, "default": "reassigned_by_slackdesk",
                        "description": "Added each time a ticket moves on. A Zendesk tag: up to 80 letters, digits or _ - : / ."}
            }
        },
        "GroupShare": {
            "type": "object", "additionalProperties": false, "required": ["group_id", "weight"],
            "properties": {
                "group_id": id,
                "weight": {"type": "integer", "minimum": 1, "maximum": 100,
                           "description": "The group's share is its weight over the sum of the weights"}
            }
        },
        "DedicationRequest": {
            "type": "object", "additionalProperties": false, "required": ["agent_id"],
            "properties": {
                "agent_id": id,
                "fallback_agent_id": {"type": "integer", "format": "int64", "minimum": 1, "nullable": true,
                                      "description": "Takes over when the dedicated agent is not eligible; the dedicated agent themselves means no fallback"}
            }
        },
        "Dedication": {
            "type": "object", "required": ["kind", "id", "agent_id", "fallback_agent_id"],
            "properties": {
                "kind": {"type": "string", "enum": ["organization", "requester"]},
                "id": id,
                "agent_id": id,
                "fallback_agent_id": {"type": "integer", "format": "int64", "minimum": 1, "nullable": true}
            }
        },
        "DedicationEnvelope": {
            "type": "object", "required": ["dedicated"],
            "properties": {"dedicated": {"$ref": "#/components/schemas/Dedication"}}
        },
        "DedicatedList": {
            "type": "object", "required": ["dedicated"],
            "properties": {"dedicated": {"type": "array", "items": {"$ref": "#/components/schemas/Dedication"}}}
        },
        "QueueEnvelope": {
            "type": "object", "required": ["queue"],
            "properties": {
                "queue": {"$ref": "#/components/schemas/Queue"},
                "hooks": {"$ref": "#/components/schemas/Hooks",
                          "description": "After a create or replace: the webhooks and triggers in Zendesk, the route webhook brought in line with the trigger queues"}
            }
        },
        "Hooks": {
            "type": "object", "required": ["route", "same_agent"],
            "description": "The webhooks and triggers slackdesk makes in Zendesk: the route webhook (one trigger per enabled trigger queue) and the same-agent webhook (one trigger on new tickets)",
            "properties": {
                "route": {"$ref": "#/components/schemas/HookStatus"},
                "same_agent": {"$ref": "#/components/schemas/HookStatus"}
            }
        },
        "HooksEnvelope": {
            "type": "object", "required": ["hooks"],
            "properties": {"hooks": {"$ref": "#/components/schemas/Hooks"}}
        },
        "HookStatus": {
            "type": "object",
            "required": ["needed", "state", "endpoint", "webhook_id", "webhook", "triggers", "secret_stored", "error", "change"],
            "properties": {
                "needed": {"type": "boolean", "description": "Whether a feature that is on needs it"},
                "state": {"type": "string",
                          "enum": ["not_needed", "present", "missing", "not_made", "by_hand", "leftover", "unknown", "busy"],
                          "description": "present: made by slackdesk and in Zendesk; missing: deleted in Zendesk (POST /hooks/{hook} makes it again); not_made: needed, not made (error says why); by_hand: a signing secret was typed for a webhook made by hand, slackdesk makes none; leftover: no longer needed, removing failed; unknown: Zendesk could not be asked; busy: another request is changing it"},
                "endpoint": {"type": "string", "description": "The URL Zendesk calls"},
                "webhook_id": {"type": "string", "nullable": true, "description": "The Zendesk webhook slackdesk made"},
                "webhook": {"$ref": "#/components/schemas/HookPart"},
                "triggers": {"type": "array", "items": {
                    "type": "object", "required": ["queue_id", "trigger_id", "state", "wanted"],
                    "properties": {
                        "queue_id": {"type": "integer", "format": "int64", "nullable": true,
                                     "description": "The trigger queue it routes to; null: the same-agent trigger"},
                        "trigger_id": {"type": "integer", "format": "int64", "nullable": true},
                        "state": {"$ref": "#/components/schemas/HookPart"},
                        "wanted": {"type": "boolean", "description": "false: left over, to be removed"}
                    }
                }},
                "secret_stored": {"type": "boolean", "description": "Whether its signing secret is stored (never shown)"},
                "error": {"type": "string", "nullable": true,
                          "description": "Code of the last failure making, removing or checking it (e.g. http_503, rate_limited, unauthorized_403, zendesk_not_connected)"},
                "change": {"type": "string", "nullable": true, "enum": ["made", "removed", null],
                           "description": "What this request changed in Zendesk"}
            }
        },
        "HookPart": {"type": "string", "enum": ["present", "missing", "not_made", "unknown"]},
        "QueueList": {
            "type": "object", "required": ["queues"],
            "properties": {"queues": {"type": "array", "items": {"$ref": "#/components/schemas/Queue"}}}
        },
        "DryRun": {
            "type": "object", "required": ["queue_id", "considered", "assignments", "waiting", "handbacks"],
            "properties": {
                "queue_id": id,
                "considered": {"type": "integer", "minimum": 0},
                "assignments": {"type": "array", "items": {
                    "type": "object", "required": ["ticket_id", "agent_id", "reason"],
                    "properties": {"ticket_id": id, "agent_id": id, "reason": {"type": "string"}}
                }},
                "waiting": {"type": "array", "items": {
                    "type": "object", "required": ["ticket_id", "reason"],
                    "properties": {"ticket_id": id, "reason": {"type": "string"}}
                }},
                "handbacks": {"type": "array",
                    "description": "Tickets this queue assigned that its reassignment rules would hand back now, with why",
                    "items": {
                    "type": "object", "required": ["ticket_id", "agent_id", "reason"],
                    "properties": {"ticket_id": id, "agent_id": id, "reason": {"type": "string"}}
                }}
            }
        },
        "AccountSettingsRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {
                "default_inbox_limit": limit,
                "default_daily_limit": limit,
                "same_agent": same_agent,
                "route_webhook_secret": {"type": "string", "nullable": true, "writeOnly": true,
                                   "description": "The route webhook's signing secret in Zendesk, 8 to 512 characters without spaces; absent or null keeps the stored one"},
                "same_agent_webhook_secret": {"type": "string", "nullable": true, "writeOnly": true,
                                   "description": "The same-agent webhook's signing secret in Zendesk, 8 to 512 characters without spaces; absent or null keeps the stored one"}
            }
        },
        "AccountSettings": {
            "type": "object",
            "required": ["default_inbox_limit", "default_daily_limit", "same_agent",
                         "route_webhook_secret_set", "same_agent_webhook_secret_set", "hooks"],
            "properties": {
                "default_inbox_limit": limit,
                "default_daily_limit": limit,
                "same_agent": same_agent_out,
                "route_webhook_secret_set": {"type": "boolean"},
                "same_agent_webhook_secret_set": {"type": "boolean"},
                "hooks": {"$ref": "#/components/schemas/Hooks",
                          "description": "The webhooks and triggers in Zendesk; after a PUT, the same-agent webhook brought in line with same_agent.enabled (saved first: a Zendesk failure is in hooks.same_agent.error, the settings are saved)"}
            }
        },
        "AgentLimitsRequest": {
            "type": "object", "additionalProperties": false,
            "properties": {"inbox_limit": limit, "daily_limit": limit}
        },
        "AgentLimits": {
            "type": "object", "required": ["user_id", "inbox_limit", "daily_limit"],
            "properties": {"user_id": id, "inbox_limit": limit, "daily_limit": limit}
        },
        "AgentLimitsList": {
            "type": "object", "required": ["default_inbox_limit", "default_daily_limit", "agents"],
            "properties": {
                "default_inbox_limit": limit,
                "default_daily_limit": limit,
                "agents": {"type": "array", "items": {"$ref": "#/components/schemas/AgentLimits"}}
            }
        },
        "Assignment": {
            "type": "object",
            "required": ["id", "ticket_id", "agent_id", "queue_id", "model", "reason", "state", "detail", "decided_at", "watch", "watch_detail"],
            "properties": {
                "id": id, "ticket_id": id, "agent_id": id,
                "queue_id": {"type": "integer", "format": "int64", "nullable": true,
                             "description": "The queue the ticket came from; null: assigned by the same-agent rule"},
                "model": {"type": "string",
                          "description": "How it was decided: round_robin, least_active or skills (a queue's run), same_agent (the same-agent rule), next_ticket (the agent pulled it with \"Next ticket\" in the agents' app, from queue_id); reason says why in words"},
                "reason": {"type": "string"},
                "state": {"type": "string", "enum": ["pending", "assigned", "skipped", "failed"]},
                "detail": {"type": "string", "nullable": true},
                "decided_at": {"type": "string", "format": "date-time"},
                "watch": {"type": "string", "nullable": true,
                          "enum": ["answered", "ended", "releasing", "released", "kept", "expired", null],
                          "description": "What the queue's reassignment rules made of it: answered (an agent replied), ended (reassigned by someone else, solved or pending), releasing/released (handed back to routing), kept (moved on the most times already), expired (out of the rules' reach); null: not settled by them"},
                "watch_detail": {"type": "string", "nullable": true,
                                 "description": "Why, in words with ids (e.g. no reply in 15 min from agent 123; reassigned)"}
            }
        },
        "AssignmentPage": {
            "type": "object", "required": ["assignments", "next_before_id"],
            "properties": {
                "assignments": {"type": "array", "items": {"$ref": "#/components/schemas/Assignment"}},
                "next_before_id": {"type": "integer", "format": "int64", "nullable": true,
                                   "description": "Pass as before_id for the next (older) page; null on the last page"}
            }
        },
        "ResyncRequested": {
            "type": "object", "required": ["resync_requested"],
            "properties": {"resync_requested": {"type": "boolean"}}
        }
    })
}
