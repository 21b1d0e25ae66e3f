//! The fuzz targets: each takes arbitrary bytes, feeds them to a parser that faces
//! untrusted input, and checks what must hold for every input, not only that nothing
//! panics. Shared by the libFuzzer binaries (`fuzz/fuzz_targets/`, `cargo fuzz run`) and
//! the stable replay in the test suite (`tests/api/fuzz_targets.rs`), which includes this
//! file.

use std::sync::OnceLock;

use slackdesk::config::Secret;
use slackdesk::crypto::KeyRing;
use slackdesk::fuzzing::{self, ExternalId, Metadata, Names, signature};

/// A target: its name (the corpus folder), the function, and tokens worth combining.
pub type Target = (&'static str, fn(&[u8]), &'static [&'static str]);

pub const TARGETS: [Target; 7] = [
    (
        "slack_signature",
        slack_signature,
        &["v0=", "\n", "1700000000", "{", "}", ":", "=", "\u{0}"],
    ),
    (
        "metadata",
        metadata,
        &[
            "sd1:",
            ":",
            "00000000-0000-0000-0000-000000000000",
            "-",
            "A",
            " ",
            "\n",
            "\u{ff}",
        ],
    ),
    (
        "external_id",
        external_id,
        &[
            "slack:",
            "T0TEAM",
            ":C0CHAN",
            ":1700000000.000100",
            ":",
            ".",
            "/",
            " ",
            "%",
        ],
    ),
    (
        "slack_state",
        slack_state,
        &[".", "fz.", ":", "-", "\n", "=", "AAAA", "0123456789abcdef"],
    ),
    (
        "form",
        form,
        &[
            "&",
            "=",
            "file_urls[]=",
            "file_urls%5B%5D=",
            "https://a.zendesk.com/x",
            "%FF",
            "%",
            "+",
            "metadata=",
        ],
    ),
    (
        "pull_state",
        pull_state,
        &[
            "{",
            "}",
            "\"ack\"",
            ":",
            "[",
            "]",
            ",",
            "1",
            "-",
            "9223372036854775807",
            "1e3",
            "null",
        ],
    ),
    (
        "mrkdwn",
        mrkdwn,
        &[
            "*",
            "_",
            "~",
            "`",
            "```",
            "&gt;",
            "&lt;",
            "&amp;",
            "\n",
            "<https://x.test|x>",
            "<@U1>",
            "<#C1|c>",
            "<!here>",
            "<javascript:alert(1)|x>",
            "<mailto:a@b.c>",
            ":smile:",
            "• ",
            "1. ",
            "<!date^1^{date}|d>",
        ],
    ),
];

const NOW: i64 = 1_700_000_000;

/// The Slack request signature: any header values and body are checked without panic; a
/// signature we make passes for its body and fails for any other.
pub fn slack_signature(data: &[u8]) {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (head, body) = (&data[..split], data.get(split + 1..).unwrap_or_default());
    let head = String::from_utf8_lossy(head);
    let mut parts = head.splitn(3, '\n');
    let (timestamp, given, secret) = (parts.next(), parts.next(), parts.next());
    let secret = Secret::from(secret.unwrap_or("fuzz-secret"));
    let _ = signature::verify(&secret, timestamp, given, body, NOW);
    let good = signature::sign(&secret, "1700000000", body);
    assert_eq!(
        signature::verify(&secret, Some("1700000000"), Some(&good), body, NOW),
        Ok(())
    );
    let mut other = body.to_vec();
    other.push(b'x');
    assert!(signature::verify(&secret, Some("1700000000"), Some(&good), &other, NOW).is_err());
    assert!(signature::verify(&secret, Some("1699999000"), Some(&good), body, NOW).is_err());
    if given.is_some_and(|g| g != good) && timestamp == Some("1700000000") {
        assert!(signature::verify(&secret, timestamp, given, body, NOW).is_err());
    }
}

/// `sd1:{account}:{secret}`: whatever parses re-encodes to itself and stays short.
pub fn metadata(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Some(parsed) = Metadata::parse(&text) {
        let encoded = parsed.encode();
        assert!(encoded.len() <= 200, "metadata grew to {}", encoded.len());
        let again = Metadata::parse(&encoded).map(|m| m.encode());
        assert_eq!(again.as_deref(), Some(encoded.as_str()));
        assert_eq!(parsed.secret_hash().len(), 64);
    }
}

/// External ids (clickthrough, channelback threads): what parses is short, ASCII, without
/// edge whitespace, and round-trips.
pub fn external_id(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = ExternalId::parse(&text) {
        let raw = id.as_str();
        assert!(
            !raw.is_empty() && raw.len() <= 255 && raw.is_ascii(),
            "{raw:?}"
        );
        assert_eq!(raw.trim(), raw);
        assert!(!raw.bytes().any(|b| b.is_ascii_control()), "{raw:?}");
        // A message it names is made of valid Slack ids only (clickthrough builds its
        // redirect from them).
        if let Some(message) = id.slack_message() {
            assert!(raw.contains(message.channel.as_str()), "{raw:?}");
        }
        assert_eq!(
            ExternalId::parse(raw)
                .map(|i| i.as_str().to_owned())
                .ok()
                .as_deref(),
            Some(raw)
        );
    }
}

fn keys() -> &'static KeyRing {
    static KEYS: OnceLock<KeyRing> = OnceLock::new();
    KEYS.get_or_init(|| {
        KeyRing::parse("fz:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=").expect("fuzz key")
    })
}

/// The Slack OAuth `state`: arbitrary states never verify (they would need our key); a
/// state we sign verifies only for its browser and only until it expires.
pub fn slack_state(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (raw, nonce) = text.split_once('\n').unwrap_or((&text, ""));
    assert_eq!(
        fuzzing::verify_slack_state(keys(), raw, nonce, NOW),
        None,
        "{raw:?}"
    );
    let session = (data.len() >= 32).then(|| hex::encode(&data[..32]));
    let signed = fuzzing::sign_slack_state(keys(), NOW + 60, session.as_deref(), nonce);
    assert_eq!(
        fuzzing::verify_slack_state(keys(), &signed, nonce, NOW),
        Some(session.clone())
    );
    assert_eq!(
        fuzzing::verify_slack_state(keys(), &signed, &format!("{nonce}x"), NOW),
        None
    );
    assert_eq!(
        fuzzing::verify_slack_state(keys(), &signed, nonce, NOW + 61),
        None
    );
    let mut tampered = signed.into_bytes();
    let at = data.first().map_or(0, |b| *b as usize) % tampered.len();
    // (Hex is case-insensitive, so change the value, not only the case.)
    tampered[at] = if tampered[at] == b'0' { b'1' } else { b'0' };
    if let Ok(tampered) = String::from_utf8(tampered) {
        assert_eq!(
            fuzzing::verify_slack_state(keys(), &tampered, nonce, NOW),
            None
        );
    }
}

/// Form bodies, with repeated `file_urls[]`: no panic; a parsed form has no more values
/// than the body has fields; accepted attachment URLs are absolute http(s), at most 64.
pub fn form(data: &[u8]) {
    if let Ok(form) = fuzzing::form(data) {
        let fields = data.split(|b| *b == b'&').count();
        assert!(form.all("file_urls[]").len() <= fields);
        let _ = form.optional("metadata");
    }
    if let Ok(urls) = fuzzing::channelback_file_urls(data) {
        assert!(urls.len() <= 64);
        for url in urls {
            let parsed = url::Url::parse(&url).expect("an accepted URL parses");
            assert!(matches!(parsed.scheme(), "http" | "https"), "{url}");
            assert!(parsed.host().is_some(), "{url}");
        }
    }
}

/// A pull's `state`: at most one pull (200 rows) is acknowledged, whatever the input.
pub fn pull_state(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(rows) = fuzzing::pull_state(&text) {
        assert!(rows.len() <= 200);
    }
}

/// Names that try to inject markup: they must come out escaped.
struct HostileNames;

impl Names for HostileNames {
    fn user(&self, id: &str) -> Option<String> {
        id.len()
            .is_multiple_of(2)
            .then(|| format!("<b>{id}</b>\"'&"))
    }
    fn channel(&self, id: &str) -> Option<String> {
        (!id.len().is_multiple_of(2)).then(|| format!("<script>{id}</script>"))
    }
}

const TAGS: [&str; 11] = [
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "br",
    "a",
];

/// Slack mrkdwn to Zendesk text and HTML, and Zendesk text to Slack: the HTML holds only
/// the allowed tags, links only to http(s)/mailto, and text sent to Slack cannot form
/// markup.
pub fn mrkdwn(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let rendered = fuzzing::render_mrkdwn(&text, &HostileNames);
    let html = rendered.html.as_str();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let end = after
            .find('>')
            .unwrap_or_else(|| panic!("unclosed tag in {html:?}"));
        let tag = &after[..end];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or_default();
        assert!(TAGS.contains(&name), "tag <{tag}> in {html:?}");
        assert!(!tag.contains('<'), "{html:?}");
        if let Some(href) = tag.strip_prefix("a href=\"") {
            let href = &href[..href.find('"').unwrap_or_else(|| panic!("{html:?}"))];
            // Schemes are case-insensitive (`MAILTO:` is `mailto:`).
            let lower = href.to_ascii_lowercase();
            assert!(
                ["http://", "https://", "mailto:"]
                    .iter()
                    .any(|s| lower.starts_with(s)),
                "href {href:?}"
            );
        } else if name == "a" && !tag.starts_with('/') {
            panic!("a link without href first: <{tag}>");
        }
        rest = &after[end + 1..];
    }
    let _ = fuzzing::mentioned_ids(&text);
    let to_slack = fuzzing::zendesk_to_slack(&text);
    assert!(!to_slack.contains(['<', '>']), "{to_slack:?}");
}
