//! `GET /openapi.json`: the OpenAPI 3.0 document of the public JSON APIs, built from the
//! same path constants the router uses and the same status list the parser accepts.
//! The routing settings API adds its own paths and schemas (`crate::routing::api`).

use actix_web::HttpResponse;
use serde_json::{Value, json};

use super::paths;
use super::wire::MAX_BATCH;
use crate::domain::AgentStatus;

/// Every operation the document lists: (method, path).
pub const OPERATIONS: [(&str, &str); 6] = [
    ("get", paths::CURRENT_ALL),
    ("get", paths::CURRENT_ONE),
    ("post", paths::CREATE_MANY),
    ("get", paths::INCREMENTAL),
    ("get", paths::INCREMENTAL_EXPORT),
    ("post", paths::HEARTBEAT),
];

pub(super) async fn serve() -> HttpResponse {
    HttpResponse::Ok().json(document())
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    })
}

fn ok(schema: &str) -> Value {
    json!({
        "description": "OK",
        "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}
    })
}

fn with_common_errors(mut responses: Value) -> Value {
    responses["405"] = json!({
        "description": "Method not allowed",
        "headers": {"Allow": {"schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    responses["401"] = error_response("Missing or invalid X-API-Key");
    responses["429"] = json!({
        "description": "Over the key's rate limit",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    });
    responses
}

/// The whole document: the status API, then the routing API merged in.
pub fn document() -> Value {
    let mut doc = status_document();
    if let (Some(paths), Value::Object(more)) = (
        doc["paths"].as_object_mut(),
        crate::routing::api::openapi_paths(),
    ) {
        paths.extend(more);
    }
    if let (Some(schemas), Value::Object(more)) = (
        doc["components"]["schemas"].as_object_mut(),
        crate::routing::api::openapi_schemas(),
    ) {
        schemas.extend(more);
    }
    doc["info"]["description"] = json!(
        "Agent status API, compatible with Playlist's (paths and bodies), and the ticket routing settings API."
    );
    doc
}

fn status_document() -> Value {
    let statuses: Vec<&str> = AgentStatus::ALL.iter().map(|s| s.as_str()).collect();
    let user_id = json!({"type": "integer", "format": "int64", "minimum": 1});
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "slackdesk",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Agent status API, compatible with Playlist's (paths and bodies)."
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Status": {"type": "string", "enum": statuses},
                "UserStatus": {
                    "type": "object",
                    "required": ["user_id", "status", "updated_at", "updated_by"],
                    "properties": {
                        "user_id": user_id,
                        "status": {"$ref": "#/components/schemas/Status"},
                        "updated_at": {"type": "string", "format": "date-time"},
                        "updated_by": user_id
                    }
                },
                "CurrentStatuses": {
                    "type": "object", "required": ["user_statuses"],
                    "properties": {"user_statuses": {"type": "array", "items": {"$ref": "#/components/schemas/UserStatus"}}}
                },
                "CurrentStatus": {
                    "type": "object", "required": ["user_status"],
                    "properties": {"user_status": {"$ref": "#/components/schemas/UserStatus"}}
                },
                "CreateItem": {
                    "type": "object", "required": ["user_id", "status"],
                    "properties": {"user_id": user_id, "status": {"$ref": "#/components/schemas/Status"}}
                },
                "CreateManyRequest": {
                    "type": "object", "required": ["user_statuses"],
                    "properties": {
                        "user_statuses": {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                                          "items": {"$ref": "#/components/schemas/CreateItem"}},
                        "notify_app": {"type": "boolean", "default": true}
                    }
                },
                "CreatedStatuses": {
                    "type": "object", "required": ["user_statuses"],
                    "properties": {"user_statuses": {"type": "array", "items": {"$ref": "#/components/schemas/CreateItem"}}}
                },
                "IncrementalPage": {
                    "type": "object",
                    "required": ["user_statuses", "count", "end_time", "next_page", "end_of_stream"],
                    "properties": {
                        "user_statuses": {"type": "array", "items": {"$ref": "#/components/schemas/UserStatus"}},
                        "count": {"type": "integer", "minimum": 0},
                        "end_time": {"type": "integer", "format": "int64"},
                        "next_page": {"type": "string"},
                        "end_of_stream": {"type": "boolean"}
                    }
                },
                "StatusPeriod": {
                    "type": "object",
                    "required": ["id", "user_id", "status", "duration_in_seconds", "updater_id", "started_at", "ended_at"],
                    "properties": {
                        "id": {"type": "integer", "format": "int64", "minimum": 1},
                        "user_id": user_id,
                        "status": {"$ref": "#/components/schemas/Status"},
                        "duration_in_seconds": {"type": "integer", "format": "int64", "minimum": 0},
                        "updater_id": user_id,
                        "started_at": {"type": "string", "format": "date-time"},
                        "ended_at": {"type": "string", "format": "date-time"}
                    }
                },
                "ExportPage": {
                    "type": "object",
                    "required": ["user_statuses", "end_time", "end_of_stream", "cursor", "next_page"],
                    "properties": {
                        "user_statuses": {"type": "array", "maxItems": super::export::PAGE_SIZE,
                                          "items": {"$ref": "#/components/schemas/StatusPeriod"}},
                        "end_time": {"type": "integer", "format": "int64"},
                        "end_of_stream": {"type": "boolean"},
                        "cursor": {"type": "string"},
                        "next_page": {"type": "string"}
                    }
                },
                "Error": {
                    "type": "object", "required": ["error"],
                    "properties": {"error": {
                        "type": "object", "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": "string"}
                        }
                    }}
                }
            }
        },
        "security": [{"apiKey": []}],
        "paths": {
            paths::CURRENT_ALL: {"get": {
                "operationId": "currentStatuses",
                "summary": "Current status of every agent of the key's account",
                "responses": with_common_errors(json!({"200": {
                    "description": "OK",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CurrentStatuses"}}},
                    "links": {"CurrentStatus": {
                        "operationId": "currentStatus",
                        "parameters": {"user_id": "$response.body#/user_statuses/0/user_id"}
                    }}
                }}))
            }},
            paths::CURRENT_ONE: {"get": {
                "operationId": "currentStatus",
                "summary": "Current status of one agent",
                "parameters": [{"name": "user_id", "in": "path", "required": true, "schema": user_id}],
                "responses": with_common_errors(json!({
                    "200": ok("CurrentStatus"),
                    "400": error_response("The user id is not a positive 64-bit integer"),
                    "404": error_response("No status for this agent of the key's account")
                }))
            }},
            paths::CREATE_MANY: {"post": {
                "operationId": "createStatuses",
                "summary": "Set statuses; returns only those that changed",
                "requestBody": {"required": true, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/CreateManyRequest"}}}},
                "responses": with_common_errors(json!({
                    "200": ok("CreatedStatuses"),
                    "400": error_response("Invalid body; error.field names the item and field"),
                    "422": error_response("A user id is not an agent of the key's account; error.field names the item"),
                    "413": error_response("Body too large"),
                    "415": error_response("Body is not JSON")
                }))
            }},
            paths::HEARTBEAT: {"post": {
                "operationId": "heartbeat",
                "summary": "The agent is active (resets automatic idle)",
                "parameters": [{"name": "user_id", "in": "path", "required": true, "schema": user_id}],
                "responses": with_common_errors(json!({
                    "204": {"description": "Recorded"},
                    "400": error_response("The user id is not a positive 64-bit integer"),
                    "404": error_response("Not an agent of the key's account")
                }))
            }},
            paths::INCREMENTAL_EXPORT: {"get": {
                "operationId": "statusPeriods",
                "summary": "Finished status periods (Playlist's Agent Status Incremental Export), oldest ended_at first",
                "description": "Up to 3000 periods a page. A period shows once its end is 2 seconds old. Follow next_page (or pass cursor); when end_of_stream is true, poll next_page later. cursor wins over start_time.",
                "parameters": [
                    {"name": "start_time", "in": "query", "required": false,
                     "schema": {"type": "integer", "format": "int64", "minimum": 0,
                                "maximum": super::rules::MAX_START_TIME}},
                    {"name": "cursor", "in": "query", "required": false,
                     "schema": {"type": "string", "pattern": super::export::CURSOR_PATTERN}}
                ],
                "responses": with_common_errors(json!({
                    "200": ok("ExportPage"),
                    "400": error_response("Invalid start_time or cursor; error.field names it")
                }))
            }},
            paths::INCREMENTAL: {"get": {
                "operationId": "statusChanges",
                "summary": "Status changes since start_time, oldest first, paged",
                "description": "Changes appear once they are 2 seconds old, so none is skipped by a reader that is ahead of a slow writer. Follow next_page; when end_of_stream is true, poll next_page later.",
                "parameters": [
                    {"name": "start_time", "in": "query", "required": true,
                     "schema": {"type": "integer", "format": "int64", "minimum": 0,
                                "maximum": super::rules::MAX_START_TIME}},
                    {"name": "cursor", "in": "query", "required": false,
                     "schema": {"type": "string", "pattern": super::rules::CURSOR_PATTERN}},
                    {"name": "per_page", "in": "query", "required": false,
                     "schema": {"type": "integer", "minimum": 1, "maximum": super::rules::MAX_PAGE}}
                ],
                "responses": with_common_errors(json!({
                    "200": ok("IncrementalPage"),
                    "400": error_response("Invalid query parameter; error.field names it")
                }))
            }}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_in_the_document() {
        let doc = document();
        let routing = crate::routing::api::OPERATIONS;
        for (method, path) in OPERATIONS.iter().chain(routing.iter()) {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        let listed: usize = doc["paths"]
            .as_object()
            .map(|p| {
                p.values()
                    .filter_map(Value::as_object)
                    .map(|ops| ops.keys().filter(|k| *k != "parameters").count())
                    .sum()
            })
            .unwrap_or(0);
        assert_eq!(listed, OPERATIONS.len() + routing.len());
    }
}
