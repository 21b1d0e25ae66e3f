//! Property test: whatever Slack sends (huge and odd Unicode names, long texts, many
//! files, ids that are not ids), every resource slackdesk hands Zendesk passes Zendesk's
//! JSON Schemas. Random cases from a seed (`SLACKDESK_PROPERTY_SEED` replays one).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

use crate::support::schemas::{assert_matches_schema, schema_errors};
use crate::support::{Backend, TestApp, spawn_app};

const CASES: usize = 40;

/// Characters that tend to break length and boundary handling.
const ODD: [&str; 14] = [
    "a",
    "é",
    "e\u{301}",
    "👩‍👩‍👧‍👦",
    "🇸🇪",
    "\u{200B}",
    "\u{202E}",
    "漢",
    "ﷺ",
    "\u{FEFF}",
    " ",
    "\n",
    "<",
    "&",
];

fn odd_text(rng: &mut StdRng, max_chars: usize) -> String {
    let length = match rng.random_range(0..4) {
        0 => rng.random_range(0..10),
        1 => rng.random_range(200..300),
        _ => rng.random_range(0..max_chars),
    };
    (0..length)
        .map(|_| ODD[rng.random_range(0..ODD.len())])
        .collect()
}

fn files(rng: &mut StdRng) -> Vec<Value> {
    let count = match rng.random_range(0..3) {
        0 => 0,
        1 => rng.random_range(1..10),
        _ => rng.random_range(10..30),
    };
    (0..count)
        .map(|i| {
            let id = if rng.random_range(0..8) == 0 {
                "not a file id".to_owned()
            } else {
                format!("F0{i:08}")
            };
            json!({"id": id, "name": odd_text(rng, 400), "mode": "hosted"})
        })
        .collect()
}

async fn serve_case(app: &TestApp, rng: &mut StdRng, n: usize) -> String {
    let ts = format!("17000{n:05}.000100");
    let user = format!("U0P{n:05}");
    let message = json!({
        "type": "message", "ts": ts, "thread_ts": ts, "user": user,
        "text": odd_text(rng, 150_000), "files": files(rng)
    });
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .and(body_string_contains(format!("oldest={ts}")))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "messages": [message], "has_more": false})),
        )
        .mount(&app.slack)
        .await;
    let name = odd_text(rng, 100_000);
    Mock::given(method("POST"))
        .and(path("/api/users.info"))
        .and(body_string_contains(format!("user={user}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "user": {"id": user, "name": "handle", "real_name": name,
                     "profile": {"display_name": name, "real_name": name,
                                 "image_72": format!("https://avatars.slack-edge.test/{}.png", "x".repeat(rng.random_range(1..700)))}}
        })))
        .mount(&app.slack)
        .await;
    ts
}

async fn random_slack_messages_always_fit_zendesk_schemas(backend: Backend) {
    let seed: u64 = std::env::var("SLACKDESK_PROPERTY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    let mut rng = StdRng::seed_from_u64(seed);
    let app = spawn_app(backend).await;
    let metadata = app.create_account(false).await;
    app.connect_slack(&metadata).await;
    Mock::given(method("POST"))
        .and(path("/api/chat.getPermalink"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "permalink": "https://acme.slack.com/archives/C0CHAN/p1700000000000100"}),
        ))
        .mount(&app.slack)
        .await;
    for n in 0..CASES {
        let ts = serve_case(&app, &mut rng, n).await;
        app.enqueue(&metadata, &ts, &ts).await;
    }

    let mut state = String::new();
    let mut seen = 0;
    for _ in 0..10 {
        let body: Value = app
            .post_form(
                "/channel/pull",
                &[("metadata", &metadata), ("state", &state)],
            )
            .await
            .json()
            .await
            .unwrap();
        let resources = body["external_resources"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for resource in &resources {
            let errors = schema_errors("external_resource.json", resource);
            assert!(
                errors.is_empty(),
                "seed {seed}: resource {} breaks Zendesk's schema: {errors:?}",
                resource["external_id"]
            );
            let files = resource["file_urls"].as_array().map_or(0, Vec::len);
            assert!(files <= 10, "seed {seed}: {files} file URLs");
        }
        assert_matches_schema("pull_payload.json", &body);
        seen += resources.len();
        state = body["state"].as_str().unwrap_or("").to_owned();
        if resources.is_empty() {
            break;
        }
    }
    assert_eq!(seen, CASES, "seed {seed}: every message reached Zendesk");
}

on_both_databases!(random_slack_messages_always_fit_zendesk_schemas);
