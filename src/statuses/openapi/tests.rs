//! The document lists every operation, and the doc-only mirrors match what the code writes.

use super::*;

#[test]
fn every_operation_is_in_the_document() {
    let doc = document();
    let routing = crate::routing::api::OPERATIONS;
    let all: Vec<_> = OPERATIONS
        .iter()
        .chain(routing.iter())
        .chain(CALLBACK_OPERATIONS.iter())
        .collect();
    for (method, path) in &all {
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
    assert_eq!(listed, all.len());
}

/// A validator of the document's schema `name` (OpenAPI 3.1 schemas are JSON Schema 2020-12).
fn validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let schema = serde_json::json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": doc["components"],
    });
    jsonschema::validator_for(&schema).unwrap()
}

/// The keys of `value` that the document's schema `name` does not name.
fn unnamed_keys(doc: &Value, name: &str, value: &Value) -> Vec<String> {
    let properties = &doc["components"]["schemas"][name]["properties"];
    value
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| properties[k.as_str()].is_null())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[actix_web::test]
async fn the_error_schema_matches_what_api_error_writes() {
    use crate::web::ApiError;
    use actix_web::ResponseError;

    let doc = document();
    let error_schema = validator(&doc, "Error");
    for error in [
        ApiError::invalid("user_statuses[0].status", "is not a status"),
        ApiError::NotFound("agent"),
        ApiError::TooManyRequests {
            retry_after_secs: 1,
        },
        ApiError::MethodNotAllowed { allow: "GET" },
    ] {
        let body = actix_web::body::to_bytes(error.error_response().into_body())
            .await
            .unwrap();
        let value: Value = serde_json::from_slice(&body).unwrap();
        assert!(error_schema.is_valid(&value), "{value}");
        assert!(unnamed_keys(&doc, "Error", &value).is_empty(), "{value}");
        assert!(
            unnamed_keys(&doc, "ErrorDetail", &value["error"]).is_empty(),
            "{value}"
        );
    }
}

#[test]
fn the_export_schemas_match_what_the_export_writes() {
    use crate::domain::ZendeskUserId;
    use crate::statuses::export::{ExportPage, StatusPeriod};

    let doc = document();
    let agent = ZendeskUserId::new(12_345).unwrap();
    let period = StatusPeriod {
        id: 7,
        user_id: agent,
        status: AgentStatus::ALL[0],
        duration_in_seconds: 60,
        updater_id: agent,
        started_at: "2020-07-20T09:23:31.018Z".into(),
        ended_at: "2020-07-20T09:24:31.018Z".into(),
    };
    let page = serde_json::to_value(ExportPage {
        user_statuses: vec![period],
        end_time: 1_595_237_071,
        end_of_stream: true,
        cursor: "0".repeat(32),
        next_page: "https://example.test/zendesk/incremental/user_statuses?cursor=0".into(),
    })
    .unwrap();
    assert!(validator(&doc, "ExportPage").is_valid(&page), "{page}");
    assert!(unnamed_keys(&doc, "ExportPage", &page).is_empty());
    let period = &page["user_statuses"][0];
    assert!(unnamed_keys(&doc, "StatusPeriod", period).is_empty());
}

#[test]
fn the_documented_bounds_are_the_codes_constants() {
    use crate::statuses::{export, rules};

    let doc = document();
    let param = |path: &str, name: &str| -> Value {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .unwrap_or_default()
    };
    for path in [paths::INCREMENTAL, paths::INCREMENTAL_EXPORT] {
        assert_eq!(param(path, "start_time")["maximum"], rules::MAX_START_TIME);
    }
    assert_eq!(
        param(paths::INCREMENTAL, "cursor")["pattern"],
        rules::CURSOR_PATTERN
    );
    assert_eq!(
        param(paths::INCREMENTAL, "per_page")["maximum"],
        rules::MAX_PAGE
    );
    assert_eq!(
        param(paths::INCREMENTAL_EXPORT, "cursor")["pattern"],
        export::CURSOR_PATTERN
    );
    let schemas = &doc["components"]["schemas"];
    let batch = &schemas["CreateManyRequest"]["properties"]["user_statuses"];
    assert_eq!(batch["maxItems"], super::super::wire::MAX_BATCH);
    let page = &schemas["ExportPage"]["properties"]["user_statuses"];
    assert_eq!(page["maxItems"], export::PAGE_SIZE);
    let routing = crate::routing::api::openapi_paths();
    let limit = routing[crate::routing::api::paths::ASSIGNMENTS]["get"]["parameters"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == "limit"))
        .map(|p| p["schema"]["maximum"].clone());
    assert_eq!(limit, Some(crate::routing::api::MAX_LOG_PAGE.into()));
    let window =
        &crate::routing::api::openapi_schemas()["SameAgentRequest"]["properties"]["window_hours"];
    assert_eq!(
        window["maximum"],
        crate::routing::settings::MAX_WINDOW_HOURS
    );
}
