//! Unit tests of the routing API: log queries, the OpenAPI part, lists refused, secrets.

use super::*;

#[test]
fn log_query_is_checked_and_defaulted() {
    assert_eq!(parse_log_query("").ok(), Some((None, DEFAULT_LOG_PAGE)));
    assert_eq!(
        parse_log_query("before_id=9&limit=3").ok(),
        Some((Some(9), 3))
    );
    for (query, field) in [
        ("before_id=0", "before_id"),
        ("limit=201", "limit"),
        ("limit=x", "limit"),
        ("limit=1&limit=2", "limit"),
    ] {
        match parse_log_query(query) {
            Err(ApiError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{query}"),
            other => panic!("{query}: {other:?}"),
        }
    }
}

#[test]
fn every_routing_operation_is_described() {
    let paths = openapi_paths();
    for (method, path) in OPERATIONS {
        assert!(paths[path][method].is_object(), "{method} {path}");
    }
    let schemas = openapi_schemas();
    let text = paths.to_string();
    for name in text
        .split("#/components/schemas/")
        .skip(1)
        .filter_map(|s| s.split('"').next())
    {
        assert!(
            name == "Error" || schemas[name].is_object(),
            "schema {name} is defined"
        );
    }
}

#[test]
fn lists_are_refused_where_serde_would_read_them_as_fields() {
    assert_eq!(
        first_array(&json!([null, null]), ""),
        Some("body".to_owned())
    );
    assert_eq!(
        first_array(&json!({"same_agent": [true, 72]}), ""),
        Some("same_agent".to_owned())
    );
    assert_eq!(first_array(&json!({"same_agent": {"tag": "x"}}), ""), None);
    let split = json!({"split": [{"group_id": 1, "weight": 75}]});
    assert_eq!(first_array(&split, ""), None);
    assert_eq!(
        first_array(&json!({"split": [[1, 75]]}), ""),
        Some("split[0]".to_owned())
    );
}

#[test]
fn secrets_must_look_like_zendesk_ones() {
    assert!(valid_secret("webhook_secret", "dGhpcyBpcyBhIHNlY3JldA==").is_ok());
    assert!(valid_secret("webhook_secret", "short").is_err());
    assert!(valid_secret("webhook_secret", "has a space in it").is_err());
}
