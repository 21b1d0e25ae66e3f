//! A fake Slack Web API on wiremock: the methods the bridge calls, in Slack's wire format
//! (HTTP 200 with `ok: false` for errors, 429 with `Retry-After`).

use serde_json::json;
use wiremock::matchers::{body_string_contains, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::BOT_TOKEN;

/// Serves one message through `conversations.replies` (matched by its ts).
pub async fn serve_message(slack: &MockServer, ts: &str, thread_ts: &str, user: &str, text: &str) {
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .and(header("authorization", format!("Bearer {BOT_TOKEN}").as_str()))
        .and(body_string_contains(format!("oldest={ts}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "messages": [{"type": "message", "ts": ts, "thread_ts": thread_ts, "user": user, "text": text}],
            "has_more": false
        })))
        .mount(slack)
        .await;
}

pub async fn serve_user(slack: &MockServer, user: &str, display_name: &str) {
    Mock::given(method("POST"))
        .and(path("/api/users.info"))
        .and(body_string_contains(format!("user={user}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true,
            "user": {"id": user, "name": "handle", "real_name": display_name,
                      "profile": {"display_name": display_name, "real_name": display_name,
                                  "image_72": "https://avatars.slack-edge.test/u.png"}}
        })))
        .mount(slack)
        .await;
}

/// `chat.postMessage` answering with `ts`.
pub async fn accept_posts(slack: &MockServer, ts: &str) {
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": super::CHANNEL, "ts": ts})),
        )
        .mount(slack)
        .await;
}

/// `chat.postMessage` failing with Slack's `ok: false` and `error`.
pub async fn refuse_posts(slack: &MockServer, error: &str) {
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": error})),
        )
        .mount(slack)
        .await;
}

pub async fn rate_limit_posts(slack: &MockServer, retry_after: u64) {
    Mock::given(method("POST"))
        .and(path("/api/chat.postMessage"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", retry_after.to_string().as_str()),
        )
        .mount(slack)
        .await;
}

pub async fn serve_permalink(slack: &MockServer, link: &str) {
    Mock::given(method("POST"))
        .and(path("/api/chat.getPermalink"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "channel": super::CHANNEL, "permalink": link})),
        )
        .mount(slack)
        .await;
}

/// The form bodies Slack received for a method.
pub async fn received(slack: &MockServer, api_method: &str) -> Vec<Vec<(String, String)>> {
    slack
        .received_requests()
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|r| r.url.path() == format!("/api/{api_method}"))
        .map(|r| form_urlencoded::parse(&r.body).into_owned().collect())
        .collect()
}

pub fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
