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

/// `conversations.replies` for a whole thread (backfill): every message in order.
pub async fn serve_thread(slack: &MockServer, thread_ts: &str, messages: &[(&str, &str, &str)]) {
    let messages: Vec<_> = messages
        .iter()
        .map(|(ts, user, text)| json!({"type": "message", "ts": ts, "thread_ts": thread_ts, "user": user, "text": text}))
        .collect();
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "messages": messages, "has_more": false})),
        )
        .mount(slack)
        .await;
}

pub async fn serve_conversations(slack: &MockServer, channels: &[(&str, &str)]) {
    let channels: Vec<_> = channels
        .iter()
        .map(|(id, name)| json!({"id": id, "name": name, "is_private": false, "is_member": true}))
        .collect();
    Mock::given(method("POST"))
        .and(path("/api/conversations.list"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": true, "channels": channels, "response_metadata": {"next_cursor": ""}}),
        ))
        .mount(slack)
        .await;
}

pub async fn serve_auth_test(slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/auth.test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "url": "https://acme.slack.test/", "team": "Acme", "user": "slackdesk",
            "team_id": super::TEAM, "user_id": "U0BOT", "bot_id": "B0BOT"
        })))
        .mount(slack)
        .await;
}

pub async fn serve_oauth_access(slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/oauth.v2.access"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "access_token": super::BOT_TOKEN, "token_type": "bot", "scope": "chat:write",
            "bot_user_id": "U0BOT", "app_id": "A0APP", "team": {"id": super::TEAM, "name": "Acme"},
            "enterprise": null, "authed_user": {"id": "U0ADMIN"}
        })))
        .mount(slack)
        .await;
}

pub async fn accept_reactions(slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/reactions.add"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(slack)
        .await;
}

/// `files.info` and the private download of one file.
pub async fn serve_file(slack: &MockServer, file_id: &str, name: &str, bytes: &'static [u8]) {
    let download = format!("{}/files-pri/{file_id}/{name}", slack.uri());
    Mock::given(method("POST"))
        .and(path("/api/files.info"))
        .and(body_string_contains(format!("file={file_id}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "ok": true, "file": {"id": file_id, "name": name, "mimetype": "text/plain", "size": bytes.len(),
                                  "url_private_download": download}
        })))
        .mount(slack)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/files-pri/{file_id}/{name}")))
        .and(header(
            "authorization",
            format!("Bearer {BOT_TOKEN}").as_str(),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_raw(bytes, "text/plain"))
        .mount(slack)
        .await;
}

/// Slack's external upload flow: an upload URL on this fake, the upload, the completion.
pub async fn accept_uploads(slack: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/api/files.getUploadURLExternal"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "upload_url": format!("{}/upload/F0UP", slack.uri()), "file_id": "F0UP"})))
        .mount(slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/upload/F0UP"))
        .respond_with(ResponseTemplate::new(200).set_body_string("OK - 13"))
        .mount(slack)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/files.completeUploadExternal"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "files": [{"id": "F0UP"}]})),
        )
        .mount(slack)
        .await;
}

/// `conversations.replies` answering with whatever message the request asks for (its
/// `oldest`), for tests with many messages.
pub async fn echo_messages(slack: &MockServer) {
    struct Echo;
    impl wiremock::Respond for Echo {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let form: Vec<(String, String)> =
                form_urlencoded::parse(&request.body).into_owned().collect();
            let ts = field(&form, "oldest").unwrap_or("1.000000").to_owned();
            let thread = field(&form, "ts").unwrap_or("1.000000").to_owned();
            ResponseTemplate::new(200).set_body_json(json!({"ok": true, "messages": [
                {"type": "message", "ts": ts, "thread_ts": thread, "user": "U0ALICE", "text": format!("message {ts}")}]}))
        }
    }
    Mock::given(method("POST"))
        .and(path("/api/conversations.replies"))
        .respond_with(Echo)
        .mount(slack)
        .await;
}
