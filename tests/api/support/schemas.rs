//! Test support: checks JSON bodies against Zendesk's own Channel Framework JSON Schemas.
//!
//! This module owns loading the schema files in `tests/zendesk-schemas/` (copied unchanged
//! from Zendesk), compiling them once with every `$ref` between files resolved offline, and
//! reporting validation errors in a readable form. Formats are asserted, including the two
//! custom ones Zendesk uses (`external-id`, `https-url`).
//!
//! Zendesk's files are older than the JSON Schema drafts this crate implements; the few
//! places where they say something no draft understands are rewritten in memory (never on
//! disk) by [`normalise`], which documents each case.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Registry, Uri, ValidationError, Validator};
use serde_json::Value;

/// Directory holding Zendesk's schema files (and their LICENSE).
const SCHEMA_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/zendesk-schemas");

/// Made-up base URI under which every schema file is registered, so that relative
/// references such as `"external_resource.json"` resolve to the sibling file. Nothing is
/// ever fetched from it: the validators are built offline from an in-memory registry.
const BASE_URI: &str = "file:///zendesk-schemas/";

/// How many characters of the offending body a failed assertion prints.
const MAX_BODY_CHARS: usize = 4000;

/// Panics unless `body` is valid under the Zendesk schema `schema_file`
/// (a file name such as `"pull_payload.json"`).
///
/// # Panics
///
/// When `body` is invalid: the message names the schema, lists every error with its
/// instance path, and shows the body. Also as [`schema_errors`] does.
pub fn assert_matches_schema(schema_file: &str, body: &Value) {
    let errors = schema_errors(schema_file, body);
    if errors.is_empty() {
        return;
    }
    // Writing to a String cannot fail, so the `fmt::Result`s below are ignored.
    let mut message = format!(
        "body does not match Zendesk schema `{schema_file}` ({} error{}):\n",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
    for (index, error) in errors.iter().enumerate() {
        let _ = writeln!(message, "  {}. {error}", index + 1);
    }
    let pretty = serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string());
    if pretty.chars().count() > MAX_BODY_CHARS {
        let cut: String = pretty.chars().take(MAX_BODY_CHARS).collect();
        let _ = write!(message, "body (first {MAX_BODY_CHARS} chars):\n{cut}\n...");
    } else {
        let _ = write!(message, "body:\n{pretty}");
    }
    panic!("{message}");
}

/// Every validation error of `body` under the Zendesk schema `schema_file`, one line each
/// (`<instance path>: <message> (schema path <evaluation path>)`); empty when valid.
///
/// # Panics
///
/// If `schema_file` is not one of the files in `tests/zendesk-schemas/`, or if the schemas
/// cannot be loaded or compiled (the message names the file).
pub fn schema_errors(schema_file: &str, body: &Value) -> Vec<String> {
    let validators = validators();
    let Some(validator) = validators.get(schema_file) else {
        let mut known: Vec<&str> = validators.keys().map(String::as_str).collect();
        known.sort_unstable();
        panic!(
            "no Zendesk schema named `{schema_file}` in {SCHEMA_DIR}; known schemas: {}",
            known.join(", ")
        );
    };
    validator.iter_errors(body).map(|e| describe(&e)).collect()
}

/// A readable description of one validation error: `<instance path>: <message> (schema
/// path <evaluation path>)`. For a failed `anyOf`/`oneOf` the value itself is left out of
/// the headline (it is the whole object, often the whole body) and each branch's own errors
/// follow on indented lines, so the reader sees why no branch matched.
fn describe(error: &ValidationError<'_>) -> String {
    describe_at_depth(error, 1)
}

fn describe_at_depth(error: &ValidationError<'_>, depth: usize) -> String {
    let instance_path = error.instance_path().as_str();
    let at = if instance_path.is_empty() {
        "(root)"
    } else {
        instance_path
    };
    let schema_path = error.evaluation_path();
    let (ValidationErrorKind::AnyOf { context: branches }
    | ValidationErrorKind::OneOfNotValid { context: branches }) = error.kind()
    else {
        return format!("{at}: {error} (schema path {schema_path})");
    };
    let mut text = format!("{at}: {} (schema path {schema_path})", error.masked());
    let indent = "    ".repeat(depth + 1);
    for (index, branch) in branches.iter().enumerate() {
        let _ = write!(text, "\n{indent}branch {index}:");
        for sub in branch {
            let sub = describe_at_depth(sub, depth + 2);
            let _ = write!(text, "\n{indent}  - {sub}");
        }
    }
    text
}

/// The compiled validators, keyed by schema file name; built on first use.
fn validators() -> &'static HashMap<String, Validator> {
    static VALIDATORS: OnceLock<HashMap<String, Validator>> = OnceLock::new();
    VALIDATORS.get_or_init(build_validators)
}

/// Loads every `*.json` file of [`SCHEMA_DIR`], registers them all under [`BASE_URI`] and
/// compiles one validator per file. Panics with the file name on any problem.
fn build_validators() -> HashMap<String, Validator> {
    let schemas = load_schemas();

    let resources = schemas.iter().map(|(name, contents)| {
        (
            format!("{BASE_URI}{name}"),
            Draft::Draft202012.create_resource(contents.clone()),
        )
    });
    let registry = Registry::new()
        .draft(Draft::Draft202012)
        .extend(resources)
        .and_then(jsonschema::RegistryBuilder::prepare)
        .unwrap_or_else(|e| panic!("cannot register the Zendesk schemas of {SCHEMA_DIR}: {e}"));

    schemas
        .iter()
        .map(|(name, contents)| {
            let validator = jsonschema::options()
                // Zendesk's files carry no `$schema`. 2020-12 is chosen on purpose: they put
                // keywords beside `$ref` (e.g. every `event_callback_*.json` adds `data`
                // rules next to its `$ref` to the base) and mean them to apply, which draft 7
                // and older would silently ignore.
                .with_draft(Draft::Draft202012)
                .with_registry(&registry)
                .with_base_uri(format!("{BASE_URI}{name}"))
                .offline()
                .should_validate_formats(true)
                .should_ignore_unknown_formats(false)
                .with_format("external-id", is_external_id)
                .with_format("https-url", is_https_url)
                .build(contents)
                .unwrap_or_else(|e| {
                    panic!("cannot compile Zendesk schema `{name}` from {SCHEMA_DIR}: {e}")
                });
            (name.clone(), validator)
        })
        .collect()
}

/// Reads and normalises every `*.json` file of [`SCHEMA_DIR`], keyed by file name.
fn load_schemas() -> BTreeMap<String, Value> {
    let entries = fs::read_dir(SCHEMA_DIR)
        .unwrap_or_else(|e| panic!("cannot list Zendesk schemas in {SCHEMA_DIR}: {e}"));
    let mut schemas = BTreeMap::new();
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("cannot list Zendesk schemas in {SCHEMA_DIR}: {e}"))
            .path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read Zendesk schema {}: {e}", path.display()));
        let mut contents: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("Zendesk schema {} is not JSON: {e}", path.display()));
        normalise(&mut contents);
        schemas.insert(name.to_owned(), contents);
    }
    assert!(
        !schemas.is_empty(),
        "no Zendesk schemas (*.json) found in {SCHEMA_DIR}"
    );
    schemas
}

/// `type` names in Zendesk's files that are not JSON Schema types in any current draft.
/// A `type` keyword naming one of them is dropped, i.e. it constrains nothing:
///
/// - `"any"` (`external_resource.json`, `field_value.value`) is draft 3's spelling of "no
///   type constraint", so dropping it keeps its meaning exactly;
/// - `"time"` (`event_callback_base.json`, `timestamp`) is not a type in any draft and the
///   file does not say what it means, so it is left unconstrained rather than guessed at
///   (being stricter could reject real Zendesk events).
///
/// Without this, compiling those schemas fails (`"time"` is not one of the seven types).
const NON_STANDARD_TYPES: [&str; 2] = ["any", "time"];

/// Rewrites, in memory, the parts of Zendesk's schemas that no implemented draft accepts
/// (see [`NON_STANDARD_TYPES`]). Everything else is left exactly as in the file.
fn normalise(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            let non_standard = match map.get("type") {
                Some(Value::String(name)) => NON_STANDARD_TYPES.contains(&name.as_str()),
                Some(Value::Array(names)) => names.iter().any(|n| {
                    n.as_str()
                        .is_some_and(|name| NON_STANDARD_TYPES.contains(&name))
                }),
                _ => false,
            };
            if non_standard {
                map.remove("type");
            }
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

/// Custom format `external-id` (SPEC 1.4): 1..=255 ASCII characters, no leading or trailing
/// whitespace. Control characters are refused too: no id Zendesk or slackdesk makes has them.
fn is_external_id(value: &str) -> bool {
    (1..=255).contains(&value.len())
        && value.bytes().all(|b| b.is_ascii() && !b.is_ascii_control())
        && value.trim() == value
}

/// Custom format `https-url`: an absolute RFC 3986 URI with scheme `https` (any case) and a
/// non-empty host. Relative references, `http:` and other schemes are refused.
fn is_https_url(value: &str) -> bool {
    let Ok(uri) = Uri::<&str>::parse(value) else {
        return false;
    };
    uri.scheme().as_str().eq_ignore_ascii_case("https")
        && uri
            .authority()
            .is_some_and(|authority| !authority.host().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resource(external_id: &str) -> Value {
        json!({
            "external_id": external_id,
            "message": "hello from Slack",
            "thread_id": "slack:T1:C1:1700000000.000100",
            "created_at": "2024-05-01T12:00:00Z",
            "author": {
                "external_id": "slack:T1:U1",
                "name": "Ada",
                "image_url": "https://avatars.slack-edge.com/ada.png",
                "locale": "en-US"
            },
            "display_info": [{"type": "slack-message", "data": {"channel": "C1"}}],
            "allow_channelback": true,
            "fields": [{"id": "subject", "value": "hello"}, {"id": 360_001, "value": ["a", 1]}],
            "file_urls": ["https://slackdesk.example.com/files/F1"]
        })
    }

    fn pull_payload(resources: &[Value]) -> Value {
        json!({
            "external_resources": resources,
            "state": "{\"cursor\":\"1700000000.000100\"}",
            "metadata_needs_update": false
        })
    }

    fn manifest(admin_ui: &str) -> Value {
        json!({
            "name": "Slack",
            "id": "https://slackdesk.example.com/zendesk",
            "version": "0.1.0",
            "author": "slackdesk",
            "channelback_files": true,
            "create_followup_tickets": true,
            "urls": {
                "admin_ui": admin_ui,
                "pull_url": "https://slackdesk.example.com/zendesk/pull",
                "channelback_url": "https://slackdesk.example.com/zendesk/channelback",
                "clickthrough_url": "https://slackdesk.example.com/zendesk/clickthrough",
                "event_callback_url": "https://slackdesk.example.com/zendesk/events"
            }
        })
    }

    fn event(type_id: &str, data: &Value) -> Value {
        json!({
            "type_id": type_id,
            "timestamp": "2024-05-01T12:00:00Z",
            "subdomain": "acme",
            "integration_name": "Slack",
            "integration_id": "5a1b2c",
            "data": data
        })
    }

    /// Whether some error is at `path` and its text contains `needle`.
    fn has_error(errors: &[String], path: &str, needle: &str) -> bool {
        errors
            .iter()
            .any(|e| e.starts_with(&format!("{path}: ")) && e.contains(needle))
    }

    fn schema_files() -> Vec<String> {
        let mut names: Vec<String> = validators().keys().cloned().collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_schema_file_compiles() {
        let names = schema_files();
        for expected in [
            "pull_payload.json",
            "external_resource.json",
            "manifest.json",
            "channelback_payload.json",
            "channelback_payload_v2.json",
            "push_parameters.json",
            "report_channelback_error.json",
            "event_callback_any.json",
        ] {
            assert!(names.iter().any(|n| n == expected), "{expected} missing");
        }
        assert_eq!(names.len(), 19, "schemas loaded: {names:?}");
    }

    #[test]
    fn valid_pull_payload_passes() {
        let body = pull_payload(&[resource("slack:T1:C1:1700000000.000100")]);
        assert_matches_schema("pull_payload.json", &body);
        assert_matches_schema("pull_payload.json", &json!({"external_resources": []}));
    }

    #[test]
    fn pull_payload_with_resource_missing_external_id_fails() {
        let mut item = resource("x");
        if let Some(map) = item.as_object_mut() {
            map.remove("external_id");
        }
        let errors = schema_errors("pull_payload.json", &pull_payload(&[item]));
        assert!(
            has_error(&errors, "/external_resources/0", "\"external_id\""),
            "{errors:#?}"
        );
    }

    #[test]
    fn external_resource_rules_come_through_the_cross_file_ref() {
        let mut item = resource("slack:1");
        item["created_at"] = json!("2024-05-01 12:00");
        item["message"] = json!("");
        item["file_urls"] = json!(["http://insecure.example.com/f"]);
        item["author"]["external_id"] = json!(" padded");
        let errors = schema_errors("pull_payload.json", &pull_payload(&[item]));
        for path in [
            "/external_resources/0/created_at",
            "/external_resources/0/message",
            "/external_resources/0/file_urls/0",
            "/external_resources/0/author/external_id",
        ] {
            assert!(
                has_error(&errors, path, ""),
                "no error at {path}: {errors:#?}"
            );
        }
        assert_eq!(errors.len(), 4, "{errors:#?}");
    }

    #[test]
    fn created_at_needs_a_zone() {
        let mut item = resource("slack:1");
        item["created_at"] = json!("2024-05-01T12:00:00");
        let errors = schema_errors("external_resource.json", &item);
        assert!(
            has_error(&errors, "/created_at", "date-time"),
            "{errors:#?}"
        );
        item["created_at"] = json!("2024-05-01T12:00:00.123+02:00");
        assert_matches_schema("external_resource.json", &item);
    }

    /// SPEC 1.4 says `parent_id` or `thread_id`, never both, but Zendesk's schema does not
    /// encode it: the service's own tests must check that rule themselves.
    #[test]
    fn schema_does_not_forbid_parent_id_with_thread_id() {
        let mut item = resource("slack:1");
        item["parent_id"] = json!("slack:0");
        assert!(item.get("thread_id").is_some());
        assert!(schema_errors("external_resource.json", &item).is_empty());
    }

    #[test]
    fn manifest_urls_must_be_absolute_https() {
        assert_matches_schema(
            "manifest.json",
            &manifest("https://slackdesk.example.com/zendesk/admin"),
        );
        // The schema says `format: https-url` (not `uri`): relative and plain-http URLs fail.
        for bad in [
            "/zendesk/admin",
            "admin",
            "http://127.0.0.1:8080/zendesk/admin",
            "https:///no-host",
            "https://exa mple.com/",
        ] {
            let errors = schema_errors("manifest.json", &manifest(bad));
            assert!(
                has_error(&errors, "/urls/admin_ui", "https-url"),
                "{bad}: {errors:#?}"
            );
        }
    }

    #[test]
    fn manifest_requires_admin_ui() {
        let mut body = manifest("https://slackdesk.example.com/a");
        if let Some(urls) = body["urls"].as_object_mut() {
            urls.remove("admin_ui");
        }
        let errors = schema_errors("manifest.json", &body);
        assert!(has_error(&errors, "/urls", "\"admin_ui\""), "{errors:#?}");
    }

    #[test]
    fn channelback_payload_with_empty_external_id_fails() {
        for schema in ["channelback_payload.json", "channelback_payload_v2.json"] {
            assert_matches_schema(
                schema,
                &json!({"external_id": "slack:T1:C1:1700000000.000200", "allow_channelback": true}),
            );
            let errors = schema_errors(schema, &json!({"external_id": ""}));
            assert!(
                has_error(&errors, "/external_id", ""),
                "{schema}: {errors:#?}"
            );
            let errors = schema_errors(schema, &json!({"allow_channelback": true}));
            assert!(
                has_error(&errors, "(root)", "\"external_id\""),
                "{schema}: {errors:#?}"
            );
        }
    }

    #[test]
    fn push_and_report_error_bodies() {
        assert_matches_schema(
            "push_parameters.json",
            &json!({"instance_push_id": "abc", "external_resources": [resource("slack:1")]}),
        );
        let errors = schema_errors(
            "push_parameters.json",
            &json!({"instance_push_id": "", "external_resources": [{}]}),
        );
        assert!(has_error(&errors, "/instance_push_id", ""), "{errors:#?}");
        assert!(
            has_error(&errors, "/external_resources/0", "\"message\""),
            "{errors:#?}"
        );
        assert_matches_schema(
            "report_channelback_error.json",
            &json!({"instance_push_id": "abc", "external_id": "slack:1", "description": "x"}),
        );
    }

    #[test]
    fn event_callbacks_validate_including_rules_beside_ref() {
        let created = event(
            "resources_created_from_external_ids",
            &json!({
                "request_id": "r1",
                "resource_events": [
                    {"type_id": "comment_on_new_ticket", "external_id": "slack:1",
                     "comment_id": 11, "ticket_id": 7},
                    {"type_id": "comment_on_follow_up_ticket", "external_id": "slack:2",
                     "comment_id": 12, "ticket_id": 7, "follow_up_ticket_id": 8}
                ]
            }),
        );
        assert_matches_schema(
            "event_callback_resources_created_from_external_ids.json",
            &created,
        );
        assert_matches_schema("event_callback_any.json", &created);

        // `required` on `data` sits beside the `$ref` to the base and must still apply.
        let bad = event("create_integration", &json!({}));
        let errors = schema_errors("event_callback_create_integration.json", &bad);
        assert!(
            has_error(&errors, "/data", "\"manifest_url\""),
            "{errors:#?}"
        );
        // And the base's own rules come through the cross-file `$ref`.
        let errors = schema_errors(
            "event_callback_create_integration.json",
            &json!({"type_id": "nope", "data": {"manifest_url": "https://x.example.com/m"}}),
        );
        assert!(has_error(&errors, "/type_id", ""), "{errors:#?}");
        assert!(has_error(&errors, "(root)", "\"subdomain\""), "{errors:#?}");

        let deactivate = event(
            "deactivate_integration_instance",
            &json!({"metadata": "{}", "deactivated_by": "error", "deactivating_error": "x"}),
        );
        assert_matches_schema(
            "event_callback_deactivate_integration_instance.json",
            &deactivate,
        );
    }

    #[test]
    fn failed_any_of_explains_each_branch() {
        let body = event(
            "channelback",
            &json!({"url": "http://insecure.example.com"}),
        );
        let errors = schema_errors("event_callback_any.json", &body);
        assert_eq!(errors.len(), 1, "{errors:#?}");
        let text = &errors[0];
        assert!(
            text.starts_with("(root): value is not valid under any"),
            "{text}"
        );
        assert!(text.contains("branch 9:"), "{text}");
        assert!(
            text.contains("/data/url: \"http://insecure.example.com\" is not a \"https-url\""),
            "{text}"
        );
    }

    #[test]
    fn external_id_format() {
        assert!(is_external_id("slack:T1:C1:1700000000.000100"));
        assert!(is_external_id("a b"));
        assert!(is_external_id(&"x".repeat(255)));
        assert!(!is_external_id(""));
        assert!(!is_external_id(&"x".repeat(256)));
        assert!(!is_external_id(" a"));
        assert!(!is_external_id("a\n"));
        assert!(!is_external_id("a\tb"));
        assert!(!is_external_id("café"));
    }

    #[test]
    fn https_url_format() {
        assert!(is_https_url("https://acme.zendesk.com/x?y=1#z"));
        assert!(is_https_url("HTTPS://example.com:8443"));
        assert!(is_https_url("https://127.0.0.1:8443/zendesk/pull"));
        assert!(!is_https_url("http://example.com/"));
        assert!(!is_https_url("/relative"));
        assert!(!is_https_url("example.com"));
        assert!(!is_https_url("https:example.com"));
        assert!(!is_https_url("https://"));
        assert!(!is_https_url("https://example.com/ä"));
        assert!(!is_https_url(""));
    }

    #[test]
    fn failed_assertion_lists_schema_and_every_error() {
        let body = json!({"external_resources": [{"message": ""}], "state": 5});
        let outcome =
            std::panic::catch_unwind(|| assert_matches_schema("pull_payload.json", &body));
        let Err(payload) = outcome else {
            panic!("an invalid body was accepted");
        };
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(message.contains("`pull_payload.json`"), "{message}");
        assert!(message.contains("/state: "), "{message}");
        assert!(message.contains("/external_resources/0: "), "{message}");
        assert!(
            message.contains("/external_resources/0/message: "),
            "{message}"
        );
    }

    #[test]
    #[should_panic(expected = "no Zendesk schema named `nope.json`")]
    fn unknown_schema_name_panics() {
        schema_errors("nope.json", &json!({}));
    }
}
