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

