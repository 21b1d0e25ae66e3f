//! Hostile requests against every public endpoint.
//!
//! One table-driven corpus: forged, replayed and stale Slack signatures, oversized,
//! truncated and mistyped bodies, invalid UTF-8, deep JSON, huge arrays, SQL and HTML
//! injection in every field that names something, another account's metadata or API
//! key, forged and expired file links and OAuth states, open redirects. Every request
//! must get the expected 4xx (never a 5xx), the service must keep answering, no
//! redirect may leave for a host we don't know, and afterwards every row of every table
//! must be exactly as before. The suite prints how many hostile inputs it tried.
//!
//! The admin pages are checked separately: CSRF tokens, escaping, CSP, cookie flags and
//! framing.

use std::time::Duration;

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use slackdesk::config::Secret;
use slackdesk::domain::{SlackChannelId, SlackUserId};
use slackdesk::routing::settings::Hook;
use slackdesk::storage::{channel_links, outbox::ResourceKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::statuses::{AGENT, BIG, connect_account, new_key};
use crate::support::{
    Backend, Options, SIGNING_SECRET, SUBDOMAIN, TestApp, fake_slack, hidden_value, message_ref,
    snapshot, spawn_app_with, team,
};

/// Strings that try to break out of SQL, HTML, URLs, headers, templates or paths.
const INJECTIONS: [&str; 14] = [
    "' OR '1'='1",
    "'; DROP TABLE accounts; --",
    "1; SELECT pg_sleep(5)--",
    "\" OR \"\"=\"",
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "{{7*7}}${7*7}",
    "../../../../etc/passwd",
    "%00%0d%0aSet-Cookie: x=1",
    "\r\nX-Injected: 1",
    "javascript:alert(1)",
    "https://evil.example/phish",
    "\u{202e}\u{0}\u{ffff}😀",
    "sd1:00000000-0000-0000-0000-000000000000:AAAA",
];

/// One hostile request and the answers that are right for it.
struct Probe {
    name: String,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    expect: &'static [u16],
}

impl Probe {
    fn new(name: impl Into<String>, method: Method, path: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
            expect: &[400],
        }
    }

    fn get(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, Method::GET, path)
    }

    fn post(name: impl Into<String>, path: impl Into<String>) -> Self {
        Self::new(name, Method::POST, path)
    }

    fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = form_body(fields);
        self.header("content-type", "application/x-www-form-urlencoded")
            .raw(body.into_bytes())
    }

    fn json(self, body: &Value) -> Self {
        self.header("content-type", "application/json")
            .raw(body.to_string().into_bytes())
    }

    fn raw(mut self, body: Vec<u8>) -> Self {
        self.body = body;
        self
    }

    fn expect(mut self, statuses: &'static [u16]) -> Self {
        self.expect = statuses;
        self
    }

    /// Signs the body as Slack would, with the given timestamp.
    fn slack_signed(self, timestamp: i64) -> Self {
        let timestamp = timestamp.to_string();
        let signature = slackdesk::slack::signature::sign(
            &Secret::from(SIGNING_SECRET),
            &timestamp,
            &self.body,
        );
        self.header("x-slack-request-timestamp", timestamp)
            .header("x-slack-signature", signature)
    }
}

fn form_body(fields: &[(&str, &str)]) -> String {
    let mut serializer = form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        serializer.append_pair(k, v);
    }
    serializer.finish()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn nested_json(depth: usize) -> Vec<u8> {
    let mut body = "[".repeat(depth);
    body.push_str(&"]".repeat(depth));
    body.into_bytes()
}

/// What the corpus runs against: two integration accounts on one Zendesk, Slack
/// connected, queued work, a finished channelback, two status API keys of two Zendesk
/// accounts, a signed-in board session.
struct World {
    app: TestApp,
    /// Account A: push delivery, the test channel linked.
    a: String,
    /// Account B: pull delivery, another channel, one row waiting to be pulled.
    b: String,
    /// Account C: pull delivery, nothing queued.
    c: String,
    key_acme: String,
    key_other: String,
    board_cookie: String,
    board_csrf: String,
}

const OTHER_CHANNEL: &str = "C0OTHER";
const WEBHOOK_SECRET: &str = "whsec-security-test-9d2b";
const THREAD_A: &str = "slack:T0TEAM:C0CHAN:1700000000.000100";
const THREAD_B: &str = "slack:T0TEAM:C0OTHER:1700000000.000200";

async fn world(backend: Backend) -> World {
    let app = spawn_app_with(
        backend,
        Options {
            push_client_id: Some("slackdesk_push"),
            status_limits: Some((1_000_000, 100_000_000)),
            zendesk_oauth: true,
            ..Options::default()
        },
    )
    .await;
    fake_slack::accept_posts(&app.slack, "1700000099.000900").await;
    fake_slack::serve_permalink(&app.slack, "https://acme.slack.test/archives/C0CHAN/p1").await;
    let a = app.create_account(true).await;
    app.connect_slack(&a).await;
    app.enqueue(&a, "1700000000.000100", "1700000000.000100")
        .await;
    let b = app.create_account(false).await;
    let other = SlackChannelId::parse(OTHER_CHANNEL).unwrap();
    channel_links::link(&app.state.db, TestApp::account_id(&b), &team(), &other)
        .await
        .unwrap();
    let mut theirs = message_ref("1700000000.000200");
    theirs.channel = other;
    slackdesk::bridge::enqueue_message(
        &app.state,
        TestApp::account_id(&b),
        theirs,
        slackdesk::domain::SlackTs::parse("1700000000.000200").unwrap(),
        Some(SlackUserId::parse("U0BOB").unwrap()),
        ResourceKind::Message,
    )
    .await
    .unwrap();
    let c = app.create_account(false).await;
    // A finished channelback, so replays of it can be tried.
    let done = app
        .post_form(
            "/channel/channelback",
            &[
                ("metadata", &a),
                ("message", "first reply"),
                ("thread_id", THREAD_A),
                ("request_unique_identifier", "req-done"),
            ],
        )
        .await;
    assert_eq!(done.status(), 200);

    connect_account(&app, "acme", &[AGENT]).await;
    connect_account(&app, "other", &[BIG]).await;
    for hook in [Hook::Route, Hook::SameAgent] {
        slackdesk::storage::routing::set_webhook_secret(
            &app.state.db,
            &app.state.keys,
            &slackdesk::domain::Subdomain::parse("acme").unwrap(),
            hook,
            &Secret::from(WEBHOOK_SECRET),
            0,
        )
        .await
        .unwrap();
    }
    let key_acme = new_key(&app, "acme").await;
    let key_other = new_key(&app, "other").await;
    let seeded = app
        .http
        .post(app.url("/zendesk/user_statuses/create_many"))
        .header("X-API-Key", &key_acme)
        .json(&json!({"user_statuses": [{"user_id": AGENT, "status": "online"}], "notify_app": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(seeded.status(), 200);
    let signed_in = app
        .post_form("/zendesk/board/sign_in", &[("api_key", &key_acme)])
        .await;
    assert_eq!(signed_in.status(), 303);
    let board_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let board = app
        .http
        .get(app.url("/zendesk/board"))
        .header("Cookie", &board_cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let board_csrf = hidden_value(&board, "csrf").expect("csrf on the board");
    World {
        app,
        a,
        b,
        c,
        key_acme,
        key_other,
        board_cookie,
        board_csrf,
    }
}

/// A's metadata with B's secret, and B's with A's: each half is real, the pair is not.
fn crossed(a: &str, b: &str) -> (String, String) {
    let (a_id, a_secret) = split_metadata(a);
    let (b_id, b_secret) = split_metadata(b);
    (
        format!("sd1:{a_id}:{b_secret}"),
        format!("sd1:{b_id}:{a_secret}"),
    )
}

fn split_metadata(metadata: &str) -> (&str, &str) {
    let mut parts = metadata.splitn(3, ':');
    parts.next();
    (parts.next().unwrap(), parts.next().unwrap())
}

fn corpus(w: &World) -> Vec<Probe> {
    let mut probes = Vec::new();
    probes.extend(slack_event_probes());
    probes.extend(channel_probes(w));
    probes.extend(admin_probes(w));
    probes.extend(event_callback_probes(w));
    probes.extend(oauth_and_file_probes(w));
    probes.extend(status_api_probes(w));
    probes.extend(board_probes(w));
    probes.extend(routing_and_app_probes(w));
    probes.extend(misc_probes());
    probes
}

fn slack_event_probes() -> Vec<Probe> {
    let mut p = Vec::new();
    let event = crate::support::message_event("U0MALLORY", "1700000500.000100", None, "forged");
    let body = event.to_string().into_bytes();
    let path = "/slack/events";
    let unsigned = |name: &str| {
        Probe::post(format!("slack events: {name}"), path)
            .header("content-type", "application/json")
            .raw(body.clone())
            .expect(&[401])
    };
    p.push(unsigned("no signature headers"));
    p.push(
        unsigned("timestamp but no signature")
            .header("x-slack-request-timestamp", now().to_string()),
    );
    p.push(unsigned("signature but no timestamp").header(
        "x-slack-signature",
        slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), "0", &body),
    ));
    let wrong_secret = slackdesk::slack::signature::sign(
        &Secret::from("not-the-signing-secret"),
        &now().to_string(),
        &body,
    );
    p.push(
        unsigned("signed with another secret")
            .header("x-slack-request-timestamp", now().to_string())
            .header("x-slack-signature", wrong_secret),
    );
    let other_body =
        slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), &now().to_string(), b"{}");
    p.push(
        unsigned("signature of another body")
            .header("x-slack-request-timestamp", now().to_string())
            .header("x-slack-signature", other_body),
    );
    for (label, signature) in [
        ("empty", String::new()),
        ("v1 scheme", "v1=00".to_owned()),
        ("not hex", "v0=zzzz".to_owned()),
        ("truncated", "v0=abcdef".to_owned()),
        ("huge", format!("v0={}", "a".repeat(6000))),
        ("injection", format!("v0={}", INJECTIONS[1])),
    ] {
        p.push(
            unsigned(&format!("signature {label}"))
                .header("x-slack-request-timestamp", now().to_string())
                .header("x-slack-signature", signature),
        );
    }
    for (label, ts) in [
        ("stale by 6 minutes", now() - 360),
        ("stale by a day", now() - 86_400),
        ("future by 6 minutes", now() + 360),
        ("future by a year", now() + 31_536_000),
        ("zero", 0),
        ("negative", -1),
        ("i64 min", i64::MIN),
        ("i64 max", i64::MAX),
    ] {
        p.push(
            Probe::post(
                format!("slack events: correctly signed, timestamp {label}"),
                path,
            )
            .header("content-type", "application/json")
            .raw(body.clone())
            .slack_signed(ts)
            .expect(&[401]),
        );
    }
    for (label, ts) in [
        ("not a number", "yesterday"),
        ("overflow", "999999999999999999999999"),
        ("float", "1700000000.5"),
        ("injection", INJECTIONS[0]),
    ] {
        let signature = slackdesk::slack::signature::sign(&Secret::from(SIGNING_SECRET), ts, &body);
        p.push(
            unsigned(&format!("timestamp {label}"))
                .header("x-slack-request-timestamp", ts)
                .header("x-slack-signature", signature),
        );
    }
    // A signature is over the exact bytes: a resent body with a fresh timestamp but the
    // old signature is refused.
    let old_ts = now() - 10;
    let old_signature = slackdesk::slack::signature::sign(
        &Secret::from(SIGNING_SECRET),
        &old_ts.to_string(),
        &body,
    );
    p.push(
        unsigned("replayed signature with a new timestamp")
            .header("x-slack-request-timestamp", now().to_string())
            .header("x-slack-signature", old_signature),
    );
    // Correctly signed but malformed: refused before anything is stored.
    let signed = |name: &str, body: Vec<u8>, expect: &'static [u16]| {
        Probe::post(format!("slack events (signed): {name}"), path)
            .header("content-type", "application/json")
            .raw(body)
            .slack_signed(now())
            .expect(expect)
    };
    p.push(signed("empty body", Vec::new(), &[400]));
    p.push(signed(
        "truncated JSON",
        body[..body.len() / 2].to_vec(),
        &[400],
    ));
    p.push(signed(
        "invalid UTF-8",
        b"{\"type\":\"event_callback\",\"team_id\":\"T0\xff\xfe\"}".to_vec(),
        &[400],
    ));
    p.push(signed("deeply nested JSON", nested_json(100_000), &[400]));
    p.push(signed(
        "deeply nested event",
        format!(
            "{{\"type\":\"event_callback\",\"team_id\":\"T0TEAM\",\"event_id\":\"Ev9\",\"event\":{}}}",
            "{\"a\":".repeat(5_000) + "1" + &"}".repeat(5_000)
        )
        .into_bytes(),
        &[400],
    ));
    p.push(signed("JSON that is an array", b"[1,2,3]".to_vec(), &[400]));
    p.push(signed(
        "huge array with a forged team",
        json!({"type": "event_callback", "team_id": INJECTIONS[1], "event_id": "Ev1",
               "event": {"type": "message", "channel": "C0CHAN", "user": "U0X", "ts": "1.1",
                         "blocks": vec![json!({"type": "section"}); 20_000]}})
        .to_string()
        .into_bytes(),
        &[400],
    ));
    for injection in INJECTIONS {
        for field in ["team_id", "event_id"] {
            let mut event = event.clone();
            event[field] = json!(injection);
            p.push(signed(
                &format!("{field} = {injection:?}"),
                event.to_string().into_bytes(),
                &[400],
            ));
        }
    }
    p.push(signed(
        "event_id too long",
        {
            let mut e = event.clone();
            e["event_id"] = json!("E".repeat(65));
            e.to_string().into_bytes()
        },
        &[400],
    ));
    p.push(
        Probe::post("slack events: body over the size limit", path)
            .header("content-type", "application/json")
            .raw(vec![b' '; 1024 * 1024 + 1])
            .slack_signed(now())
            .expect(&[413]),
    );
    p.push(
        Probe::post("slack events: Content-Length declares 10 GB", path)
            .header("content-type", "application/json")
            .header("content-length", "10000000000")
            .expect(&[413]),
    );
    p
}

fn channel_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let (a_with_b_secret, b_with_a_secret) = crossed(&w.a, &w.b);
    let bad_metadata: Vec<(String, String)> = [
        (
            "missing secret".to_owned(),
            format!("sd1:{}", split_metadata(&w.a).0),
        ),
        ("A's account with B's secret".to_owned(), a_with_b_secret),
        ("B's account with A's secret".to_owned(), b_with_a_secret),
        ("wrong version".to_owned(), w.a.replacen("sd1", "sd2", 1)),
        (
            "secret too long".to_owned(),
            format!("{}{}", w.a, "A".repeat(200)),
        ),
        ("secret with one bit flipped".to_owned(), flip_last(&w.a)),
        ("unknown account".to_owned(), INJECTIONS[13].to_owned()),
        ("5 MB of metadata".to_owned(), "x".repeat(900_000)),
    ]
    .into_iter()
    .chain(
        INJECTIONS
            .iter()
            .map(|i| (format!("{i:?}"), (*i).to_owned())),
    )
    .collect();

    for (label, metadata) in &bad_metadata {
        p.push(
            Probe::post(format!("pull: metadata {label}"), "/channel/pull")
                .form(&[("metadata", metadata), ("state", "")])
                .expect(&[401]),
        );
        p.push(
            Probe::post(
                format!("channelback: metadata {label}"),
                "/channel/channelback",
            )
            .form(&[
                ("metadata", metadata),
                ("message", INJECTIONS[4]),
                ("thread_id", THREAD_A),
                ("request_unique_identifier", "req-forged"),
            ])
            .expect(&[401]),
        );
    }
    // Injection in every other field of a pull and a channelback that carry A's real
    // metadata.
    for injection in INJECTIONS {
        p.push(
            Probe::post(format!("pull: state = {injection:?}"), "/channel/pull")
                .form(&[("metadata", &w.a), ("state", injection)]),
        );
        for field in ["thread_id", "parent_id"] {
            let mut fields = vec![
                ("metadata", w.a.as_str()),
                ("message", "hello"),
                ("request_unique_identifier", "req-inj"),
            ];
            fields.push((field, injection));
            p.push(
                Probe::post(
                    format!("channelback: {field} = {injection:?}"),
                    "/channel/channelback",
                )
                .form(&fields),
            );
        }
        if injection.starts_with("https://") {
            // A valid URL: the reply is posted and the file refused later, see
            // `file_urls_off_the_accounts_zendesk_are_never_fetched`.
            continue;
        }
        p.push(
            Probe::post(
                format!("channelback: file_urls[] = {injection:?}"),
                "/channel/channelback",
            )
            .form(&[
                ("metadata", &w.a),
                ("message", "hello"),
                ("thread_id", THREAD_A),
                ("request_unique_identifier", "req-file"),
                ("file_urls[]", injection),
            ])
            .expect(&[400]),
        );
    }
    // Non-printable request ids are refused before anything is claimed.
    for id in ["\u{7}bell", "tab\there", "é", &"r".repeat(256)] {
        p.push(
            Probe::post(
                format!("channelback: request id {id:.20?}"),
                "/channel/channelback",
            )
            .form(&[
                ("metadata", &w.a),
                ("message", "hello"),
                ("thread_id", THREAD_A),
                ("request_unique_identifier", id),
            ]),
        );
    }
    // The replay of a finished channelback answers the first external id and posts nothing.
    p.push(
        Probe::post(
            "channelback: replay of a finished request",
            "/channel/channelback",
        )
        .form(&[
            ("metadata", &w.a),
            ("message", "first reply"),
            ("thread_id", THREAD_A),
            ("request_unique_identifier", "req-done"),
        ])
        .expect(&[200]),
    );
    // A's metadata on B's thread: B's channel is not linked to A.
    p.push(
        Probe::post(
            "channelback: A's metadata on B's thread",
            "/channel/channelback",
        )
        .form(&[
            ("metadata", &w.a),
            ("message", "hello"),
            ("thread_id", THREAD_B),
        ])
        .expect(&[422]),
    );
    // B's metadata on A's thread.
    p.push(
        Probe::post(
            "channelback: B's metadata on A's thread",
            "/channel/channelback",
        )
        .form(&[
            ("metadata", &w.b),
            ("message", "hello"),
            ("thread_id", THREAD_A),
        ])
        .expect(&[422]),
    );
    // A pull by C that acknowledges B's queue positions: B's row must stay pending.
    for ack in ["[1,2,3,4,5,6,7,8,9,10]", "[-1,0,9223372036854775807]"] {
        p.push(
            Probe::post(format!("pull: C acknowledges {ack}"), "/channel/pull")
                .form(&[("metadata", &w.c), ("state", &format!("{{\"ack\":{ack}}}"))])
                .expect(&[200]),
        );
    }
    p.push(
        Probe::post("pull: state acks more than a pull", "/channel/pull").form(&[
            ("metadata", &w.b),
            (
                "state",
                &json!({"ack": (0..10_000).collect::<Vec<i64>>()}).to_string(),
            ),
        ]),
    );
    p.push(
        Probe::post("pull: state nested deeply", "/channel/pull").form(&[
            ("metadata", &w.b),
            ("state", &String::from_utf8(nested_json(10_000)).unwrap()),
        ]),
    );
    p.push(
        Probe::post("pull: state with a float", "/channel/pull")
            .form(&[("metadata", &w.b), ("state", "{\"ack\":[1.5]}")]),
    );
    // Framing: content types, encodings, repeated fields, sizes.
    for path in [
        "/channel/pull",
        "/channel/channelback",
        "/channel/admin",
        "/channel/admin/save",
        "/channel/admin/deliveries",
    ] {
        let fields = form_body(&[
            ("metadata", &w.b),
            ("state", ""),
            ("message", "x"),
            ("thread_id", THREAD_B),
        ]);
        p.push(
            Probe::post(format!("{path}: JSON instead of a form"), path)
                .json(&json!({"metadata": w.b, "state": ""}))
                .expect(&[415]),
        );
        p.push(
            Probe::post(
                format!("{path}: text/plain form (cross-site simple request)"),
                path,
            )
            .header("content-type", "text/plain")
            .raw(fields.clone().into_bytes())
            .expect(&[415]),
        );
        p.push(
            Probe::post(format!("{path}: no content type"), path)
                .raw(fields.clone().into_bytes())
                .expect(&[415]),
        );
        p.push(
            Probe::post(format!("{path}: multipart"), path)
                .header("content-type", "multipart/form-data; boundary=x")
                .raw(b"--x\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\nm\r\n--x--\r\n".to_vec())
                .expect(&[415]),
        );
        p.push(
            Probe::post(format!("{path}: invalid UTF-8 in a value"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(format!("{fields}&metadata=%FF%FE").into_bytes()),
        );
        p.push(
            Probe::post(format!("{path}: invalid UTF-8 in a name"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(format!("%C3%28=1&{fields}").into_bytes()),
        );
        p.push(
            Probe::post(format!("{path}: raw invalid UTF-8 bytes"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(b"metadata=\xff\xfe\xfd&state=".to_vec()),
        );
        p.push(
            Probe::post(format!("{path}: metadata twice"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(format!("{fields}&metadata=sd1%3Ax%3Ay").into_bytes()),
        );
        p.push(
            Probe::post(format!("{path}: empty body"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .expect(&[400, 401]),
        );
        p.push(
            Probe::post(format!("{path}: body over the limit"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .raw(format!("{fields}&pad={}", "a".repeat(1024 * 1024)).into_bytes())
                .expect(&[413]),
        );
        p.push(
            Probe::post(format!("{path}: Content-Length over the limit"), path)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("content-length", "2000000")
                .expect(&[413]),
        );
        p.push(Probe::get(format!("{path}: GET"), path).expect(&[404, 405]));
    }
    p.push(
        Probe::post("channelback: 100,000 file_urls[]", "/channel/channelback")
            .header("content-type", "application/x-www-form-urlencoded")
            .raw(
                format!(
                    "{}{}",
                    form_body(&[
                        ("metadata", &w.a),
                        ("message", "x"),
                        ("thread_id", THREAD_A)
                    ]),
                    "&file_urls%5B%5D=https%3A%2F%2Fa".repeat(20_000)
                )
                .into_bytes(),
            ),
    );
    p.push(
        Probe::post("channelback: message over 64 KiB", "/channel/channelback").form(&[
            ("metadata", &w.a),
            ("message", &"m".repeat(70_000)),
            ("thread_id", THREAD_A),
        ]),
    );
    // Clickthrough: never a redirect to anything but the Slack message.
    for id in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "slack:T0TEAM:C0CHAN:../../evil",
        "slack:T0TEAM:C0CHAN:1700000000.000100\r\nLocation: https://evil.example",
        "slack:T0TEAM:C0CHAN:1700000000.000100@evil.example",
        "slack:T0EVIL:C0EVIL:1700000000.000100",
        "javascript:alert(1)",
        "",
    ]
    .into_iter()
    .chain(INJECTIONS)
    {
        let query = form_body(&[("external_id", id)]);
        p.push(
            Probe::get(
                format!("clickthrough: external_id = {id:.40?}"),
                format!("/channel/clickthrough?{query}"),
            )
            .expect(&[404]),
        );
    }
    p.push(Probe::get("clickthrough: no external_id", "/channel/clickthrough").expect(&[404]));
    p.push(
        Probe::get(
            "clickthrough: invalid percent-encoding",
            "/channel/clickthrough?external_id=%ff%fe",
        )
        .expect(&[404]),
    );
    p
}

fn flip_last(metadata: &str) -> String {
    let mut bytes = metadata.as_bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

fn admin_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let base = w.app.zendesk_base();
    let good_return = w.app.return_url();
    let open = |name: String, fields: Vec<(&str, String)>, expect: &'static [u16]| {
        let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Probe::post(format!("admin: {name}"), "/channel/admin")
            .form(&borrowed)
            .expect(expect)
    };
    let fields = |return_url: &str, subdomain: &str, metadata: &str| {
        vec![
            ("name", "x".to_owned()),
            ("metadata", metadata.to_owned()),
            ("state", String::new()),
            ("return_url", return_url.to_owned()),
            ("subdomain", subdomain.to_owned()),
            ("locale", "en-US".to_owned()),
        ]
    };
    // Metadata exfiltration: the return URL must be the account's own Zendesk.
    for return_url in [
        "https://evil.example/collect".to_owned(),
        "http://acme.zendesk.com.evil.example/".to_owned(),
        format!("{}.evil.example/z/acme/", w.app.zendesk.uri()),
        base.replace("127.0.0.1", "localhost"),
        format!("http://127.0.0.1:1/z/{SUBDOMAIN}/return"),
        base.replace("http://", "https://"),
        "javascript:alert(document.domain)".to_owned(),
        "data:text/html,<script>alert(1)</script>".to_owned(),
        "//evil.example".to_owned(),
        format!("{}@evil.example/", w.app.zendesk.uri()),
        "/relative/path".to_owned(),
        String::new(),
    ] {
        p.push(open(
            format!("return_url = {return_url:.60?}"),
            fields(&return_url, SUBDOMAIN, ""),
            &[400],
        ));
    }
    for injection in INJECTIONS {
        p.push(open(
            format!("subdomain = {injection:?}"),
            fields(&good_return, injection, ""),
            &[400],
        ));
        p.push(open(
            format!("return_url = {injection:?}"),
            fields(injection, SUBDOMAIN, ""),
            &[400],
        ));
        let mut with_locale = fields(&good_return, SUBDOMAIN, "");
        with_locale[5].1 = injection.to_owned();
        p.push(open(format!("locale = {injection:?}"), with_locale, &[400]));
        p.push(open(
            format!("metadata = {injection:?}"),
            fields(&good_return, SUBDOMAIN, injection),
            &[401],
        ));
    }
    let (a_with_b_secret, _) = crossed(&w.a, &w.b);
    p.push(open(
        "another account's secret".into(),
        fields(&good_return, SUBDOMAIN, &a_with_b_secret),
        &[401],
    ));
    p.push(open(
        "a name over 255 characters".into(),
        {
            let mut f = fields(&good_return, SUBDOMAIN, "");
            f[0].1 = "n".repeat(300);
            f
        },
        &[400],
    ));
    // Saving without a valid set-up session (the CSRF token) changes nothing.
    for session in ["", "0", INJECTIONS[0], INJECTIONS[4], &"a".repeat(5000)] {
        p.push(
            Probe::post(
                format!("admin save: session = {session:.40?}"),
                "/channel/admin/save",
            )
            .form(&[
                ("session", session),
                ("name", "Hijacked"),
                ("link", "T0TEAM:C0CHAN"),
            ])
            .expect(&[400, 401]),
        );
    }
    // Retry and Discard of deliveries: the set-up session is the CSRF token.
    for session in ["", "0", INJECTIONS[0], INJECTIONS[4], &"a".repeat(5000)] {
        for action in ["retry", "discard"] {
            p.push(
                Probe::post(
                    format!("deliveries {action}: session = {session:.40?}"),
                    "/channel/admin/deliveries",
                )
                .form(&[("session", session), ("seq", "1"), ("action", action)])
                .expect(&[400, 401]),
            );
        }
    }
    p.push(
        Probe::post("deliveries: no session at all", "/channel/admin/deliveries")
            .form(&[("seq", "1"), ("action", "discard")])
            .expect(&[400]),
    );
    p.push(
        Probe::post("admin save: no session at all", "/channel/admin/save")
            .form(&[("name", "Hijacked"), ("delivery", "pull")])
            .expect(&[400]),
    );
    p
}

fn event_callback_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let (a_with_b_secret, _) = crossed(&w.a, &w.b);
    let event = |type_id: &str, subdomain: &str, data: Value| {
        json!({"type_id": type_id, "timestamp": "2026-01-01T00:00:00Z", "subdomain": subdomain,
               "integration_name": "x", "integration_id": "y", "data": data})
    };
    let destructive = [
        "destroy_integration_instance",
        "deactivate_integration_instance",
    ];
    for type_id in destructive {
        for (label, metadata) in [
            ("no metadata", Value::Null),
            ("A's id with B's secret", json!(a_with_b_secret)),
            ("B's metadata on A's subdomain name", json!(w.b)),
            ("a number", json!(42)),
        ] {
            let subdomain = if label.starts_with("B's") {
                "other"
            } else {
                SUBDOMAIN
            };
            p.push(
                Probe::post(format!("events: {type_id} with {label}"), "/channel/events")
                    .json(&json!({"events": [event(type_id, subdomain, json!({"metadata": metadata}))]}))
                    .expect(&[200]),
            );
        }
        for injection in INJECTIONS {
            p.push(
                Probe::post(
                    format!("events: {type_id} subdomain {injection:?}"),
                    "/channel/events",
                )
                .json(&json!({"events": [event(type_id, injection, json!({"metadata": w.a}))]}))
                .expect(&[200]),
            );
        }
    }
    // Ticket ids for external ids that belong to B, claimed for A's subdomain... B is on
    // the same subdomain, so claim them for another one.
    p.push(
        Probe::post("events: tickets for B's external id on another subdomain", "/channel/events")
            .json(&json!({"events": [event("resources_created_from_external_ids", "other", json!({
                "resource_events": [{"type_id": "comment_on_new_ticket", "external_id": THREAD_B, "ticket_id": 666, "comment_id": 667}]}))]}))
            .expect(&[200]),
    );
    p.push(
        Probe::post(
            "events: forget an author of another subdomain",
            "/channel/events",
        )
        .json(
            &json!({"events": [event("destroy_user_identity", "other", json!({
                "author": {"external_id": "slack:T0TEAM:U0BOB"}}))]}),
        )
        .expect(&[200]),
    );
    p.push(
        Probe::post(
            "events: forget an author with forged metadata",
            "/channel/events",
        )
        .json(
            &json!({"events": [event("destroy_user_identity", SUBDOMAIN, json!({
                "metadata": a_with_b_secret, "author": {"external_id": "slack:T0TEAM:U0BOB"}}))]}),
        )
        .expect(&[200]),
    );
    p.push(
        Probe::post("events: 1001 events", "/channel/events")
            .json(&json!({"events": vec![json!({"type_id": "pull_request"}); 1001]})),
    );
    p.push(
        Probe::post("events: 100,000-element array inside one event", "/channel/events")
            .json(&json!({"events": [event("destroy_integration_instance", SUBDOMAIN, json!({"metadata": vec![0; 100_000]}))]}))
            .expect(&[200]),
    );
    p.push(
        Probe::post("events: nested 100,000 deep", "/channel/events")
            .header("content-type", "application/json")
            .raw(
                format!(
                    "{{\"events\":{}}}",
                    String::from_utf8(nested_json(100_000)).unwrap()
                )
                .into_bytes(),
            ),
    );
    p.push(Probe::post("events: not an object", "/channel/events").json(&json!([1, 2])));
    p.push(
        Probe::post("events: events not a list", "/channel/events").json(&json!({"events": "all"})),
    );
    p.push(
        Probe::post("events: invalid UTF-8", "/channel/events")
            .header("content-type", "application/json")
            .raw(b"{\"events\":[\"\xff\"]}".to_vec()),
    );
    p.push(
        Probe::post("events: truncated", "/channel/events")
            .header("content-type", "application/json")
            .raw(b"{\"events\":[{\"type_id\":\"destroy_integration_instance\"".to_vec()),
    );
    p.push(
        Probe::post("events: form instead of JSON", "/channel/events")
            .form(&[("events", "[]")])
            .expect(&[415]),
    );
    p.push(
        Probe::post("events: over the size limit", "/channel/events")
            .header("content-type", "application/json")
            .raw(vec![b' '; 1024 * 1024 + 1])
            .expect(&[413]),
    );
    p
}

fn oauth_and_file_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let keys = &w.app.state.keys;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s.as_bytes());
    let slack_state = |payload: &str| {
        let encoded = b64(payload);
        format!("{encoded}.{}", keys.sign("slack-oauth-state", &encoded))
    };
    let nonce = "browser-nonce";
    let cookie = format!("slackdesk_oauth={nonce}");
    let callback = |name: &str, state: &str, with_cookie: bool| {
        let query = form_body(&[("code", "stolen-code"), ("state", state)]);
        let probe = Probe::get(
            format!("slack oauth callback: {name}"),
            format!("/slack/oauth/callback?{query}"),
        )
        .expect(&[400]);
        if with_cookie {
            probe.header("cookie", cookie.clone())
        } else {
            probe
        }
    };
    let future = now() + 300;
    p.push(callback("no state", "", true));
    p.push(callback(
        "forged signature",
        &format!(
            "{}.test1.{}",
            b64(&format!("{future}:-:{nonce}")),
            "0".repeat(64)
        ),
        true,
    ));
    p.push(callback(
        "expired state",
        &slack_state(&format!("{}:-:{nonce}", now() - 1)),
        true,
    ));
    p.push(callback(
        "valid state from another browser",
        &slack_state(&format!("{future}:-:{nonce}")),
        false,
    ));
    p.push(callback(
        "state for a malformed session",
        &slack_state(&format!("{future}:../../x:{nonce}")),
        true,
    ));
    p.push(callback(
        "state signed for another purpose",
        &{
            let encoded = b64(&format!("{future}:-:{nonce}"));
            format!("{encoded}.{}", keys.sign("slack-file", &encoded))
        },
        true,
    ));
    for injection in INJECTIONS {
        p.push(callback(&format!("state = {injection:?}"), injection, true));
        p.push(
            Probe::get(
                format!("slack install: session = {injection:?}"),
                format!("/slack/install?{}", form_body(&[("session", injection)])),
            )
            .expect(&[401]),
        );
    }
    // Zendesk OAuth: the state is single use and random; everything else is refused.
    for state in ["", "forged", INJECTIONS[0], INJECTIONS[11]] {
        p.push(
            Probe::get(
                format!("zendesk connect callback: state = {state:?}"),
                format!(
                    "/zendesk/connect/callback?{}",
                    form_body(&[
                        ("code", "c"),
                        ("state", state),
                        ("redirect_uri", INJECTIONS[11])
                    ])
                ),
            )
            .expect(&[400]),
        );
    }
    let long = "a".repeat(100);
    for subdomain in
        INJECTIONS
            .iter()
            .copied()
            .chain(["evil.example/x", "acme.evil", "", long.as_str()])
    {
        p.push(
            Probe::get(
                format!("zendesk connect: subdomain = {subdomain:.40?}"),
                format!(
                    "/zendesk/connect?{}",
                    form_body(&[("subdomain", subdomain)])
                ),
            )
            .expect(&[400]),
        );
    }
    // File links: forged, expired, moved to another team or file, traversal.
    let file_link = |team: &str, file: &str, expires: i64| {
        let signature = keys.sign("slack-file", &format!("{team}:{file}:{expires}"));
        format!("/slack/files/{team}/{file}/{expires}/{signature}")
    };
    let expired = file_link("T0TEAM", "F0FILE", now() - 1);
    p.push(Probe::get("file: expired link", expired).expect(&[403]));
    let valid = file_link("T0TEAM", "F0FILE", now() + 3600);
    let other_team = valid.replacen("/T0TEAM/", "/T0EVIL/", 1);
    p.push(Probe::get("file: signature moved to another team", other_team).expect(&[403]));
    let other_file = valid.replacen("/F0FILE/", "/F0SECRET/", 1);
    p.push(Probe::get("file: signature moved to another file", other_file).expect(&[403]));
    let later = file_link("T0TEAM", "F0FILE", now() + 3600);
    let (head, _) = later.rsplit_once('/').unwrap();
    let extended = format!(
        "{}/{}/{}",
        head.rsplit_once('/').unwrap().0,
        now() + 999_999,
        later.rsplit_once('/').unwrap().1
    );
    p.push(Probe::get("file: expiry pushed back", extended).expect(&[403]));
    p.push(
        Probe::get(
            "file: no signature key id",
            format!("/slack/files/T0TEAM/F0FILE/{}/abc", now() + 60),
        )
        .expect(&[403]),
    );
    p.push(
        Probe::get(
            "file: unknown key id",
            format!(
                "/slack/files/T0TEAM/F0FILE/{}/test9.{}",
                now() + 60,
                "0".repeat(64)
            ),
        )
        .expect(&[403]),
    );
    p.push(
        Probe::get(
            "file: expiry not a number",
            "/slack/files/T0TEAM/F0FILE/tomorrow/x",
        )
        .expect(&[400, 404]),
    );
    p.push(
        Probe::get("file: traversal", "/slack/files/..%2F..%2Fetc/passwd/1/x")
            .expect(&[400, 403, 404]),
    );
    p.push(
        Probe::get(
            "file: expiry overflow",
            "/slack/files/T0TEAM/F0FILE/99999999999999999999999/x",
        )
        .expect(&[400, 404]),
    );
    p
}

fn status_api_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let create = "/zendesk/user_statuses/create_many";
    let with_key = |probe: Probe, key: &str| probe.header("X-API-Key", key.to_owned());
    for key in [
        None,
        Some(""),
        Some("sdk_wrong"),
        Some(INJECTIONS[0]),
        Some(&w.key_acme[..w.key_acme.len() - 1]),
    ] {
        let probe = Probe::post(format!("statuses: create_many with key {key:?}"), create)
            .json(&json!({"user_statuses": [{"user_id": AGENT, "status": "away"}]}))
            .expect(&[401]);
        p.push(match key {
            Some(key) => with_key(probe, key),
            None => probe,
        });
        let probe = Probe::get(
            format!("statuses: current with key {key:?}"),
            "/zendesk/user_statuses/current",
        )
        .expect(&[401]);
        p.push(match key {
            Some(key) => with_key(probe, key),
            None => probe,
        });
    }
    // Another Zendesk account's key sees and changes nothing of acme.
    p.push(
        with_key(
            Probe::get(
                "statuses: other's key reads acme's agent",
                format!("/zendesk/users/{AGENT}/statuses/current"),
            ),
            &w.key_other,
        )
        .expect(&[404]),
    );
    p.push(
        with_key(
            Probe::post("statuses: other's key changes acme's agent", create)
                .json(&json!({"user_statuses": [{"user_id": AGENT, "status": "offline"}]})),
            &w.key_other,
        )
        .expect(&[400, 404, 422]),
    );
    p.push(
        with_key(
            Probe::post(
                "statuses: other's key sets heartbeat of acme's agent",
                format!("/zendesk/users/{AGENT}/heartbeat"),
            ),
            &w.key_other,
        )
        .expect(&[400, 404, 422]),
    );
    let bad_bodies: Vec<(String, Value)> = vec![
        (
            "101 statuses".into(),
            json!({"user_statuses": vec![json!({"user_id": AGENT, "status": "away"}); 101]}),
        ),
        (
            "100,000 statuses".into(),
            json!({"user_statuses": vec![json!({"user_id": AGENT, "status": "away"}); 100_000]}),
        ),
        (
            "user id as a string".into(),
            json!({"user_statuses": [{"user_id": "12345", "status": "away"}]}),
        ),
        (
            "user id as a float".into(),
            json!({"user_statuses": [{"user_id": 12345.5, "status": "away"}]}),
        ),
        (
            "user id over 2^64".into(),
            serde_json::from_str(
                r#"{"user_statuses":[{"user_id":99999999999999999999999,"status":"away"}]}"#,
            )
            .unwrap(),
        ),
        (
            "negative user id".into(),
            json!({"user_statuses": [{"user_id": -1, "status": "away"}]}),
        ),
        (
            "valid then an unknown status".into(),
            json!({"user_statuses": [{"user_id": AGENT, "status": "away"}, {"user_id": AGENT, "status": "busy"}]}),
        ),
        (
            "notify_app as a string".into(),
            json!({"user_statuses": [{"user_id": AGENT, "status": "away"}], "notify_app": "yes"}),
        ),
        ("empty list".into(), json!({"user_statuses": []})),
        ("no list".into(), json!({})),
    ];
    let bad_bodies = bad_bodies.into_iter().chain(INJECTIONS.iter().map(|i| {
        (
            format!("status = {i:?}"),
            json!({"user_statuses": [{"user_id": AGENT, "status": i}]}),
        )
    }));
    for (label, body) in bad_bodies {
        p.push(with_key(
            Probe::post(format!("statuses: create_many {label}"), create)
                .json(&body)
                .expect(&[400, 413, 422]),
            &w.key_acme,
        ));
    }
    for (label, body, content_type) in [
        (
            "nested 100,000 deep",
            nested_json(100_000),
            "application/json",
        ),
        (
            "invalid UTF-8",
            b"{\"user_statuses\":[{\"user_id\":12345,\"status\":\"\xff\"}]}".to_vec(),
            "application/json",
        ),
        (
            "truncated",
            b"{\"user_statuses\":[{\"user_id\":12345,".to_vec(),
            "application/json",
        ),
        (
            "form body",
            b"user_statuses=online".to_vec(),
            "application/x-www-form-urlencoded",
        ),
        (
            "text/plain JSON",
            json!({"user_statuses": [{"user_id": AGENT, "status": "away"}]})
                .to_string()
                .into_bytes(),
            "text/plain",
        ),
    ] {
        p.push(with_key(
            Probe::post(format!("statuses: create_many {label}"), create)
                .header("content-type", content_type)
                .raw(body)
                .expect(&[400, 415]),
            &w.key_acme,
        ));
    }
    for injection in INJECTIONS {
        let encoded = form_body(&[("x", injection)]);
        let encoded = encoded.trim_start_matches("x=");
        p.push(
            with_key(
                Probe::get(
                    format!("statuses: user id {injection:?}"),
                    format!("/zendesk/users/{encoded}/statuses/current"),
                ),
                &w.key_acme,
            )
            .expect(&[400, 404]),
        );
        p.push(
            with_key(
                Probe::get(
                    format!("statuses: start_time {injection:?}"),
                    format!("/zendesk/user_statuses/incremental?start_time={encoded}"),
                ),
                &w.key_acme,
            )
            .expect(&[400]),
        );
    }
    p.push(
        with_key(
            Probe::new("statuses: DELETE create_many", Method::DELETE, create),
            &w.key_acme,
        )
        .expect(&[405]),
    );
    p
}

fn board_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let change = "/zendesk/board/change";
    let fields = |csrf: &str| {
        vec![
            ("csrf", csrf.to_owned()),
            ("status", "offline".to_owned()),
            ("user_id", AGENT.to_string()),
        ]
    };
    // Cross-site request forgery: the session cookie alone is not enough.
    for csrf in [
        "",
        "0",
        &w.board_csrf[..w.board_csrf.len() - 1],
        INJECTIONS[0],
    ] {
        p.push(
            Probe::post(format!("board change: csrf = {csrf:?}"), change)
                .header("cookie", w.board_cookie.clone())
                .form(&form(&fields(csrf)))
                .expect(&[400, 403]),
        );
    }
    p.push(
        Probe::post("board change: no csrf field", change)
            .header("cookie", w.board_cookie.clone())
            .form(&[("status", "offline"), ("user_id", &AGENT.to_string())])
            .expect(&[400, 403]),
    );
    p.push(
        Probe::post("board change: right csrf, no cookie", change)
            .form(&form(&fields(&w.board_csrf)))
            .expect(&[401]),
    );
    p.push(
        Probe::post("board change: forged cookie", change)
            .header("cookie", "sd_board=forged")
            .form(&form(&fields(&w.board_csrf)))
            .expect(&[401]),
    );
    for injection in INJECTIONS {
        let mut f = fields(&w.board_csrf);
        f[1].1 = injection.to_owned();
        p.push(
            Probe::post(format!("board change: status {injection:?}"), change)
                .header("cookie", w.board_cookie.clone())
                .form(&form(&f))
                .expect(&[400]),
        );
        let mut f = fields(&w.board_csrf);
        f[2].1 = injection.to_owned();
        p.push(
            Probe::post(format!("board change: user id {injection:?}"), change)
                .header("cookie", w.board_cookie.clone())
                .form(&form(&f))
                .expect(&[400]),
        );
        p.push(
            Probe::post(
                format!("board sign-in: key {injection:?}"),
                "/zendesk/board/sign_in",
            )
            .form(&[("api_key", injection)])
            .expect(&[401]),
        );
    }
    p.push(
        Probe::post(
            "board sign-in: another purpose's JSON",
            "/zendesk/board/sign_in",
        )
        .json(&json!({"api_key": w.key_acme}))
        .expect(&[415]),
    );
    p
}

/// Routing's webhooks, JSON API and admin pages, and the agents' app API.
fn routing_and_app_probes(w: &World) -> Vec<Probe> {
    let mut p = Vec::new();
    let body = json!({"ticket_id": 4242, "queue_id": 1})
        .to_string()
        .into_bytes();
    let signed = |body: &[u8], secret: &str, timestamp: String| {
        let signature = slackdesk::routing::webhook::sign(&Secret::from(secret), &timestamp, body);
        (signature, timestamp)
    };
    let now_rfc = || chrono::Utc::now().to_rfc3339();
    for path in ["/zendesk/webhooks/route", "/zendesk/webhooks/same_agent"] {
        let hook = |name: &str,
                    query: &str,
                    body: Vec<u8>,
                    signature: Option<(String, String)>,
                    expect: &'static [u16]| {
            let mut probe =
                Probe::post(format!("webhook {path}: {name}"), format!("{path}{query}"))
                    .header("content-type", "application/json")
                    .raw(body)
                    .expect(expect);
            if let Some((signature, timestamp)) = signature {
                probe = probe
                    .header("X-Zendesk-Webhook-Signature", signature)
                    .header("X-Zendesk-Webhook-Signature-Timestamp", timestamp);
            }
            probe
        };
        let acme = "?account=acme";
        p.push(hook("no signature", acme, body.clone(), None, &[401]));
        p.push(hook(
            "signed with another secret",
            acme,
            body.clone(),
            Some(signed(&body, "not-the-secret", now_rfc())),
            &[401],
        ));
        p.push(hook(
            "signature of another body",
            acme,
            body.clone(),
            Some(signed(b"{}", WEBHOOK_SECRET, now_rfc())),
            &[401],
        ));
        p.push(hook(
            "stale by 10 minutes",
            acme,
            body.clone(),
            Some(signed(
                &body,
                WEBHOOK_SECRET,
                (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339(),
            )),
            &[401],
        ));
        p.push(hook(
            "future by 10 minutes",
            acme,
            body.clone(),
            Some(signed(
                &body,
                WEBHOOK_SECRET,
                (chrono::Utc::now() + chrono::Duration::minutes(10)).to_rfc3339(),
            )),
            &[401],
        ));
        p.push(hook(
            "timestamp not a time",
            acme,
            body.clone(),
            Some(signed(&body, WEBHOOK_SECRET, "yesterday".into())),
            &[401],
        ));
        p.push(hook(
            "account without a secret",
            "?account=other",
            body.clone(),
            Some(signed(&body, WEBHOOK_SECRET, now_rfc())),
            &[401],
        ));
        p.push(hook(
            "no account",
            "",
            body.clone(),
            Some(signed(&body, WEBHOOK_SECRET, now_rfc())),
            &[400],
        ));
        for injection in INJECTIONS {
            let query = format!("?{}", form_body(&[("account", injection)]));
            p.push(hook(
                &format!("account {injection:?}"),
                &query,
                body.clone(),
                Some(signed(&body, WEBHOOK_SECRET, now_rfc())),
                &[400],
            ));
            let bad = json!({"ticket_id": injection}).to_string().into_bytes();
            p.push(hook(
                &format!("signed, ticket_id {injection:?}"),
                acme,
                bad.clone(),
                Some(signed(&bad, WEBHOOK_SECRET, now_rfc())),
                &[400],
            ));
        }
        for (name, bad) in [
            (
                "signed, ticket_id 0",
                json!({"ticket_id": 0}).to_string().into_bytes(),
            ),
            (
                "signed, ticket_id negative",
                json!({"ticket_id": -5}).to_string().into_bytes(),
            ),
            (
                "signed, ticket_id over 2^63",
                br#"{"ticket_id":99999999999999999999}"#.to_vec(),
            ),
            (
                "signed, queue_id a word",
                json!({"ticket_id": 1, "queue_id": "all"})
                    .to_string()
                    .into_bytes(),
            ),
            ("signed, truncated", br#"{"ticket_id": 12"#.to_vec()),
            (
                "signed, invalid UTF-8",
                b"{\"ticket_id\": \"\xff\"}".to_vec(),
            ),
            ("signed, nested 100,000 deep", nested_json(100_000)),
            (
                "signed, huge array",
                json!({"ticket_id": vec![1; 100_000]})
                    .to_string()
                    .into_bytes(),
            ),
        ] {
            p.push(hook(
                name,
                acme,
                bad.clone(),
                Some(signed(&bad, WEBHOOK_SECRET, now_rfc())),
                &[400],
            ));
        }
        p.push(hook(
            "over the size limit",
            acme,
            vec![b' '; 1024 * 1024 + 1],
            None,
            &[413],
        ));
    }
    // Routing's JSON API and pages: a key or a session is needed, and only its own account.
    for (method, path) in [
        (Method::GET, "/zendesk/routing/api/queues"),
        (Method::POST, "/zendesk/routing/api/queues"),
        (Method::GET, "/zendesk/routing/api/queues/1"),
        (Method::PUT, "/zendesk/routing/api/queues/1"),
        (Method::DELETE, "/zendesk/routing/api/queues/1"),
        (Method::POST, "/zendesk/routing/api/queues/1/dry_run"),
        (Method::GET, "/zendesk/routing/api/settings"),
        (Method::PUT, "/zendesk/routing/api/settings"),
        (Method::GET, "/zendesk/routing/api/agents/limits"),
        (Method::PUT, "/zendesk/routing/api/agents/12345/limits"),
        (Method::GET, "/zendesk/routing/api/assignments"),
        (Method::POST, "/zendesk/routing/api/skills/resync"),
        (Method::GET, "/zendesk/routing/api/hooks"),
        (Method::POST, "/zendesk/routing/api/hooks/same_agent"),
        (Method::POST, "/zendesk/routing/api/hooks/route"),
    ] {
        let body = json!({"name": INJECTIONS[4], "view_id": 1})
            .to_string()
            .into_bytes();
        p.push(
            Probe::new(
                format!("routing API {method} {path}: no key"),
                method.clone(),
                path,
            )
            .header("content-type", "application/json")
            .raw(body.clone())
            .expect(&[401]),
        );
        p.push(
            Probe::new(
                format!("routing API {method} {path}: wrong key"),
                method.clone(),
                path,
            )
            .header("X-API-Key", "sdk_wrong")
            .header("content-type", "application/json")
            .raw(body)
            .expect(&[401]),
        );
    }
    for path in [
        "/zendesk/routing/api/queues/1",
        "/zendesk/routing/api/queues/1/dry_run",
    ] {
        p.push(
            Probe::new(
                format!("routing API: other's key deletes or runs {path}"),
                if path.ends_with("dry_run") {
                    Method::POST
                } else {
                    Method::DELETE
                },
                path,
            )
            .header("X-API-Key", w.key_other.clone())
            .expect(&[400, 404, 422]),
        );
    }
    p.push(
        Probe::new(
            "routing API: settings with a nested body",
            Method::PUT,
            "/zendesk/routing/api/settings",
        )
        .header("X-API-Key", w.key_acme.clone())
        .header("content-type", "application/json")
        .raw(nested_json(100_000))
        .expect(&[400]),
    );
    for injection in INJECTIONS {
        let raw = form_body(&[("x", injection)]);
        let part = raw.trim_start_matches("x=");
        for path in [
            format!("/zendesk/routing/api/dedicated/{part}/77"),
            format!("/zendesk/routing/api/dedicated/organization/{part}"),
        ] {
            p.push(
                Probe::new(
                    format!("routing API: dedicated {path:?}"),
                    Method::DELETE,
                    path,
                )
                .header("X-API-Key", w.key_acme.clone())
                .expect(&[400, 404]),
            );
        }
    }
    for injection in INJECTIONS {
        p.push(
            Probe::new(
                format!("routing API: queue id {injection:?}"),
                Method::GET,
                format!(
                    "/zendesk/routing/api/queues/{}",
                    form_body(&[("x", injection)]).trim_start_matches("x=")
                ),
            )
            .header("X-API-Key", w.key_acme.clone())
            .expect(&[400, 404]),
        );
        p.push(
            Probe::new(
                format!("routing API: webhook name {injection:?}"),
                Method::POST,
                format!(
                    "/zendesk/routing/api/hooks/{}",
                    form_body(&[("x", injection)]).trim_start_matches("x=")
                ),
            )
            .header("X-API-Key", w.key_acme.clone())
            .expect(&[404, 405]),
        );
    }
    for path in [
        "/zendesk/routing/queues",
        "/zendesk/routing/settings",
        "/zendesk/routing/agents",
        "/zendesk/routing/dedicated",
        "/zendesk/routing/dedicated/remove",
        "/zendesk/routing/skills/resync",
        "/zendesk/routing/hooks/route",
        "/zendesk/routing/hooks/same_agent",
        "/zendesk/keys",
        "/zendesk/keys/revoke",
        "/zendesk/board/rules",
        "/zendesk/board/schedules",
    ] {
        p.push(
            Probe::post(format!("routing page {path}: no session"), path)
                .form(&[("name", "x"), ("csrf", &w.board_csrf)])
                .expect(&[401, 403]),
        );
        p.push(
            Probe::post(format!("routing page {path}: session, no CSRF token"), path)
                .header("cookie", w.board_cookie.clone())
                .form(&[("name", "x")])
                .expect(&[400, 403]),
        );
        p.push(
            Probe::post(
                format!("routing page {path}: session, wrong CSRF token"),
                path,
            )
            .header("cookie", w.board_cookie.clone())
            .form(&[("name", "x"), ("csrf", "0")])
            .expect(&[400, 403]),
        );
    }
    // The agents' app API: a token from the app's sign-in is needed.
    for (method, path) in [
        (Method::GET, "/app/v1/me?user_id=12345"),
        (Method::POST, "/app/v1/status"),
        (Method::POST, "/app/v1/heartbeat"),
    ] {
        let body = json!({"user_id": AGENT, "status": "offline"})
            .to_string()
            .into_bytes();
        for (label, auth) in [
            ("no token", None),
            ("forged bearer", Some("Bearer forged")),
            ("another scheme", Some("Basic YTpi")),
            ("injection", Some("Bearer ' OR '1'='1")),
            ("status API key as bearer", Some(w.key_acme.as_str())),
        ] {
            let mut probe = Probe::new(
                format!("agent app {method} {path}: {label}"),
                method.clone(),
                path,
            )
            .header("content-type", "application/json")
            .raw(body.clone())
            .expect(&[400, 401, 403]);
            if let Some(auth) = auth {
                let value = if auth.starts_with("sdk_") {
                    format!("Bearer {auth}")
                } else {
                    auth.to_owned()
                };
                probe = probe.header("authorization", value);
            }
            p.push(probe);
        }
    }
    // The app's locations: Zendesk posts a signed ZAF token; anything else is refused
    // before a key is fetched or a session stored.
    let long_token = "A".repeat(9000);
    for location in ["top_bar", "nav_bar", "../settings", "nope"] {
        for token in [
            "",
            "a.b.c",
            "eyJhbGciOiJub25lIn0.eyJpc3MiOiJhY21lIn0.",
            "not a jwt",
            INJECTIONS[0],
            INJECTIONS[4],
            long_token.as_str(),
        ] {
            p.push(
                Probe::post(
                    format!("agent app location {location}: token {token:.30?}"),
                    format!(
                        "/zendesk/app/location/{location}?origin=https%3A%2F%2Facme.zendesk.com&app_guid=x"
                    ),
                )
                .form(&[("token", token)])
                .expect(&[400, 401, 404]),
            );
        }
    }
    for name in ["..%2F..%2FCargo.toml", "%2e%2e", "app.js%00.css", "APP.JS"] {
        p.push(
            Probe::get(
                format!("agent app asset {name}"),
                format!("/zendesk/app/assets/{name}"),
            )
            .expect(&[400, 404]),
        );
    }
    for path in [
        "/zendesk/app/open",
        "/zendesk/app/authorize",
        "/zendesk/app/callback",
    ] {
        for injection in ["", INJECTIONS[0], INJECTIONS[11], "//evil.example"] {
            let query = form_body(&[
                ("subdomain", injection),
                ("state", injection),
                ("code", "x"),
                ("return_to", injection),
                ("redirect_uri", injection),
            ]);
            p.push(
                Probe::get(
                    format!("agent app {path}: {injection:?}"),
                    format!("{path}?{query}"),
                )
                .expect(&[400, 401, 403, 404, 422]),
            );
        }
    }
    p
}

fn form<'a>(fields: &'a [(&'a str, String)]) -> Vec<(&'a str, &'a str)> {
    fields.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn misc_probes() -> Vec<Probe> {
    let mut p = Vec::new();
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/manifest.json",
        "/openapi.json",
        "/channel/healthcheck",
        "/channel/about",
        "/",
        "/setup/zendesk-app.zip",
    ] {
        p.push(
            Probe::post(format!("{path}: POST"), path)
                .raw(b"x".to_vec())
                .expect(&[404, 405]),
        );
        p.push(Probe::new(format!("{path}: DELETE"), Method::DELETE, path).expect(&[404, 405]));
    }
    for path in [
        "/channel/pull/../admin",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/static/..%2f..%2fCargo.toml",
        "/static/%00",
        "/slack/events%00",
        "/nope",
    ] {
        p.push(Probe::get(format!("path {path}"), path).expect(&[400, 404, 405]));
    }
    p.push(
        Probe::get(
            "a 16 KiB query string",
            format!(
                "/channel/clickthrough?external_id={}",
                "a".repeat(16 * 1024)
            ),
        )
        .expect(&[400, 404, 414, 431]),
    );
    p.push(
        Probe::get("a 64 KiB header", "/healthz")
            .header("x-junk", "a".repeat(64 * 1024))
            .expect(&[200, 400, 431]),
    );
    p
}

async fn send(
    app: &TestApp,
    probe: &Probe,
) -> Result<(u16, reqwest::header::HeaderMap, String), String> {
    let mut request = app.http.request(probe.method.clone(), app.url(&probe.path));
    for (name, value) in &probe.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    if !probe.body.is_empty() || probe.headers.iter().all(|(n, _)| n != "content-length") {
        request = request.body(probe.body.clone());
    }
    let response = request
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Ok((status, headers, body))
}

/// A request with a real API key counts against its limits even when its body is
/// refused (as a rate limit must); that counter is the only row such a request touches.
const USAGE_COUNTERS: &[(&str, &str)] = &[
    ("api_keys", "last_used_at"),
    ("api_keys", "usage_day"),
    ("api_keys", "usage_count"),
    // `/readyz` proves the database takes writes by touching this one row.
    ("health_probe", "written_at"),
];

/// A redirect may only go to the fake Slack, the fake Zendesk, or this service.
fn allowed_location(app: &TestApp, location: &str) -> bool {
    location.starts_with(&app.slack.uri())
        || location.starts_with(&app.zendesk.uri())
        || location.starts_with("https://acme.slack.test/")
        || location.starts_with(crate::support::PUBLIC_URL)
        || (location.starts_with('/') && !location.starts_with("//"))
}

async fn hostile_requests_get_a_4xx_and_change_nothing(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let probes = corpus(&w);
    let posts_before = fake_slack::received(&app.slack, "chat.postMessage")
        .await
        .len();
    let zendesk_before = app
        .zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .len();
    let before = snapshot::take_except(&app.state.db, USAGE_COUNTERS).await;

    let mut failures = Vec::new();
    for probe in &probes {
        match send(app, probe).await {
            Err(error) => failures.push(format!("{}: no answer ({error})", probe.name)),
            Ok((status, headers, body)) => {
                if status >= 500 {
                    failures.push(format!(
                        "{}: server error {status}: {body:.300}",
                        probe.name
                    ));
                } else if !probe.expect.contains(&status) {
                    failures.push(format!(
                        "{}: {status}, expected {:?}: {body:.300}",
                        probe.name, probe.expect
                    ));
                }
                if let Some(location) = headers.get("location").and_then(|l| l.to_str().ok())
                    && !allowed_location(app, location)
                {
                    failures.push(format!("{}: redirects to {location}", probe.name));
                }
                let html = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("text/html"));
                if html && (body.contains("<script>alert") || body.contains("<img src=x")) {
                    failures.push(format!("{}: reflected markup in the page", probe.name));
                }
            }
        }
    }
    let raw = raw_probes(app).await;
    failures.extend(raw.1);
    let alive = app.get("/readyz").await;
    assert_eq!(alive.status(), 200, "the service still answers");
    let after = snapshot::take_except(&app.state.db, USAGE_COUNTERS).await;
    let posts_after = fake_slack::received(&app.slack, "chat.postMessage")
        .await
        .len();

    assert!(
        failures.is_empty(),
        "{} of {} hostile requests were mishandled:\n{}",
        failures.len(),
        probes.len(),
        failures.join("\n")
    );
    assert_eq!(
        snapshot::diff(&before, &after),
        Vec::<String>::new(),
        "hostile requests changed the database"
    );
    assert_eq!(posts_after, posts_before, "nothing was posted to Slack");
    let zendesk_calls: Vec<String> = app
        .zendesk
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .skip(zendesk_before)
        .map(|r| r.url.path().to_owned())
        .collect();
    assert!(
        zendesk_calls.is_empty(),
        "no call reached Zendesk: {zendesk_calls:?}"
    );
    println!(
        "security corpus ({backend:?}): {} hostile inputs tried ({} HTTP requests, {} raw connections), 0 server errors, 0 unexpected statuses, {} rows across {} tables unchanged",
        probes.len() + raw.0,
        probes.len(),
        raw.0,
        snapshot::rows(&after),
        after.len()
    );
}

/// Requests a normal client would never send: cut-off bodies, garbage request lines.
/// Returns how many were tried and what went wrong.
async fn raw_probes(app: &TestApp) -> (usize, Vec<String>) {
    let address = app.address.trim_start_matches("http://").to_owned();
    let requests: Vec<(&str, Vec<u8>)> = vec![
        (
            "truncated form body, connection half-closed",
            b"POST /channel/pull HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\nmetadata=sd1%3A".to_vec(),
        ),
        (
            "truncated Slack event",
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9000\r\n\r\n{\"type\":\"event_callback\"".to_vec(),
        ),
        (
            "truncated chunked body",
            b"POST /channel/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"events\":[".to_vec(),
        ),
        ("garbage request line", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 hello\r\n\r\n".to_vec()),
        ("HTTP/0.9", b"GET /healthz\r\n\r\n".to_vec()),
        (
            "both Content-Length and chunked (request smuggling)",
            b"POST /channel/pull HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n0\r\n\r\nPOST /channel/events HTTP/1.1\r\n\r\n".to_vec(),
        ),
        (
            "two Content-Lengths",
            b"POST /channel/pull HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd".to_vec(),
        ),
        (
            "negative Content-Length",
            b"POST /channel/pull HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n".to_vec(),
        ),
        (
            "header with NUL and bare CR",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\rc\r\n\r\n".to_vec(),
        ),
    ];
    let mut failures = Vec::new();
    for (name, bytes) in &requests {
        let Ok(mut stream) = tokio::net::TcpStream::connect(&address).await else {
            failures.push(format!("raw {name}: cannot connect"));
            continue;
        };
        let _ = stream.write_all(bytes).await;
        let _ = stream.shutdown().await;
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(15), stream.read_to_end(&mut answer)).await;
        if read.is_err() {
            failures.push(format!("raw {name}: the connection hung"));
            continue;
        }
        let head = String::from_utf8_lossy(&answer[..answer.len().min(40)]).to_string();
        // A closed connection or a 4xx; never a 5xx or a success.
        if let Some(code) = head.strip_prefix("HTTP/1.1 ").and_then(|r| r.get(..3))
            && !code.starts_with('4')
        {
            failures.push(format!("raw {name}: answered {head:?}"));
        }
    }
    (requests.len(), failures)
}

/// A channelback's attachments are fetched only from the account's own Zendesk, so a
/// forged `file_urls[]` never receives the push token.
async fn file_urls_off_the_accounts_zendesk_are_never_fetched(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let evil = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_string("stolen"))
        .mount(&evil)
        .await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path(
            "/z/acme/api/v2/any_channel/channelback/report_error",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&app.zendesk)
        .await;
    let forged = [
        format!("{}/attachments/token/t/?name=a.txt", evil.uri()),
        format!("{}/z/acme/attachments/x", evil.uri()),
        format!(
            "{}/z/acme/attachments/token/t/",
            evil.uri().replace("127.0.0.1", "localhost")
        ),
        format!(
            "{}@{}/z/acme/a",
            app.zendesk.uri(),
            evil.uri().trim_start_matches("http://")
        ),
    ];
    let zendesk_before = app.zendesk.received_requests().await.unwrap().len();
    let mut body = form_body(&[
        ("metadata", &w.a),
        ("message", "see attached"),
        ("thread_id", THREAD_A),
        ("request_unique_identifier", "req-evil-files"),
    ]);
    for url in &forged {
        body.push_str(&format!("&{}", form_body(&[("file_urls[]", url)])));
    }

    let response = app
        .http
        .post(app.url("/channel/channelback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200, "the reply itself is posted");
    slackdesk::bridge::run_attachment_jobs_once(&app.state)
        .await
        .unwrap();
    assert!(
        evil.received_requests().await.unwrap().is_empty(),
        "a forged attachment URL was fetched"
    );
    let fetched: Vec<_> = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .skip(zendesk_before)
        .filter(|r| r.method == wiremock::http::Method::GET)
        .map(|r| r.url.to_string())
        .collect();
    assert!(
        fetched.is_empty(),
        "a forged attachment URL was fetched: {fetched:?}"
    );
    let reported: Vec<Value> = app
        .zendesk
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.path().ends_with("report_error"))
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        reported.len(),
        1,
        "the refused files are reported to Zendesk, once"
    );
    let description = reported[0]["description"].as_str().unwrap();
    assert!(
        description.starts_with(&format!("{} attachment(s)", forged.len())),
        "every refused file is counted: {description}"
    );
}

/// Markup sent by Zendesk or typed into a form comes back escaped, and every admin
/// page says who may frame it and what it may load.
async fn admin_pages_escape_input_set_csp_and_limit_framing(backend: Backend) {
    let w = world(backend).await;
    let app = &w.app;
    let evil_name = "\"><script>alert(1)</script><img src=x onerror=alert(2)>";

    let opened = app.open_admin(evil_name, "", true).await;
    assert_eq!(opened.status(), 200);
    assert_framed_by_zendesk_only(opened.headers(), "admin UI");
    let page = opened.text().await.unwrap();
    assert!(
        !page.contains("<script>alert"),
        "the name is escaped in the form"
    );
    assert!(
        !page.contains("<img src=x"),
        "the name is escaped in the form"
    );
    let session = hidden_value(&page, "session").unwrap();
    assert!(
        session.len() >= 32,
        "the CSRF/session token is long and random"
    );

    let saved = app
        .post_form(
            "/channel/admin/save",
            &[
                ("session", &session),
                ("name", evil_name),
                ("ticket_tags", "slack"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 200);
    assert_framed_by_zendesk_only(saved.headers(), "admin done page");
    let csp = saved.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains(&format!(
            "form-action 'self' https://*.zendesk.com {}",
            app.zendesk.uri()
        )),
        "the return form may only post to Zendesk: {csp}"
    );
    let done = saved.text().await.unwrap();
    assert!(
        !done.contains("<script>alert"),
        "the name is escaped in the return form"
    );
    assert_eq!(
        hidden_value(&done, "name").as_deref(),
        Some(evil_name),
        "and still sent to Zendesk as typed"
    );
    assert!(
        !done.contains("<script>")
            || done.contains("<script src=\"/static/autosubmit.js\"></script>")
    );

    // The same session cannot be used twice to overwrite the account.
    let again = app
        .post_form(
            "/channel/admin/save",
            &[("session", &session), ("name", "second")],
        )
        .await;
    assert!(
        again.status().is_client_error(),
        "a used set-up session is refused ({})",
        again.status()
    );

    let error = app
        .post_form("/channel/admin", &[("subdomain", "acme")])
        .await;
    assert_eq!(error.status(), 400);
    assert_framed_by_zendesk_only(error.headers(), "admin error page");

    // The status board: cookie flags, CSRF token on the form, CSP and framing.
    let signed_in = app
        .post_form("/zendesk/board/sign_in", &[("api_key", &w.key_acme)])
        .await;
    let set_cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/zendesk"] {
        assert!(
            set_cookie.contains(flag),
            "board cookie lacks {flag}: {set_cookie}"
        );
    }
    for path in [
        "/zendesk/board",
        "/zendesk/board/rows",
        "/zendesk/keys",
        "/zendesk/board/rules",
        "/zendesk/board/schedules",
    ] {
        let response = app
            .http
            .get(app.url(path))
            .header("Cookie", &w.board_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_framed_by_zendesk_only(response.headers(), path);
    }
    for path in [
        "/zendesk/routing",
        "/zendesk/routing/settings",
        "/zendesk/routing/dedicated",
    ] {
        let response = app
            .http
            .get(app.url(path))
            .header("Cookie", &w.board_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_framed_by_zendesk_only(response.headers(), path);
        let page = response.text().await.unwrap();
        assert_eq!(
            page.matches("<form").count(),
            page.matches("name=\"csrf\"").count(),
            "every form of {path} carries the CSRF token"
        );
    }
    let anonymous = app.get("/zendesk/board").await;
    assert_framed_by_zendesk_only(anonymous.headers(), "board sign-in page");
    let board = app
        .http
        .get(app.url("/zendesk/board"))
        .header("Cookie", &w.board_cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        board.matches("<form").count(),
        board.matches("name=\"csrf\"").count(),
        "every board form carries the CSRF token"
    );

    // Slack install: the browser-binding cookie.
    let install = app.get("/slack/install").await;
    assert_eq!(install.status(), 302);
    let cookie = install.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(
            cookie.contains(flag),
            "install cookie lacks {flag}: {cookie}"
        );
    }
    let location = install.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&app.slack.uri()),
        "install goes to Slack only: {location}"
    );

    for path in [
        "/healthz",
        "/static/slackdesk.css",
        "/channel/about",
        "/",
        "/setup/zendesk-app.zip",
        "/nope",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        assert_eq!(
            response.headers()["referrer-policy"],
            "no-referrer",
            "{path}"
        );
    }
}

fn assert_framed_by_zendesk_only(headers: &reqwest::header::HeaderMap, what: &str) {
    let csp = headers
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| d.starts_with(name))
            .unwrap_or_else(|| panic!("{what}: CSP has no {name}: {csp}"))
            .to_owned()
    };
    let ancestors = directive("frame-ancestors");
    let sources: Vec<&str> = ancestors.split_whitespace().skip(1).collect();
    assert!(
        sources.contains(&"https://*.zendesk.com"),
        "{what}: Zendesk may frame it: {csp}"
    );
    assert!(
        sources
            .iter()
            .all(|s| *s == "https://*.zendesk.com" || *s == "'self'"),
        "{what}: only Zendesk may frame it: {csp}"
    );
    assert_eq!(
        directive("default-src"),
        "default-src 'none'",
        "{what}: {csp}"
    );
    // No script-src means default-src 'none' applies: no script at all.
    let scripts = csp
        .split(';')
        .map(str::trim)
        .find(|d| d.starts_with("script-src"))
        .unwrap_or("");
    assert!(
        !scripts.contains("unsafe"),
        "{what}: no inline or eval scripts: {csp}"
    );
    assert!(csp.contains("base-uri 'none'"), "{what}: {csp}");
    assert_eq!(
        headers.get("x-frame-options"),
        None,
        "{what}: X-Frame-Options would block Zendesk"
    );
}

on_both_databases!(
    hostile_requests_get_a_4xx_and_change_nothing,
    file_urls_off_the_accounts_zendesk_are_never_fetched,
    admin_pages_escape_input_set_csp_and_limit_framing
);
