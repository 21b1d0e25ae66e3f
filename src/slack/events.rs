//! Events API payloads, and what each event means to the bridge.
//!
//! Only ids and a few flags leave this module: text is looked at in memory (to tell an
//! edit from a link preview) and dropped.

use serde::Deserialize;
use serde_json::Value;

use crate::domain::{SlackChannelId, SlackTs, SlackUserId};

/// The outer envelope Slack posts to the request URL.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventEnvelope {
    UrlVerification {
        challenge: String,
    },
    EventCallback {
        team_id: String,
        event_id: String,
        /// When the event happened (Unix seconds); a retry keeps the original time.
        #[serde(default)]
        event_time: i64,
        #[serde(default)]
        event: Value,
    },
    AppRateLimited {
        team_id: String,
    },
    #[serde(other)]
    Other,
}

/// A message, by ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageEvent {
    pub channel: SlackChannelId,
    pub ts: SlackTs,
    /// The thread root; `None` or equal to `ts` for a top-level message.
    pub thread_ts: Option<SlackTs>,
    pub user: Option<SlackUserId>,
    pub bot_id: Option<String>,
}

impl MessageEvent {
    pub fn is_top_level(&self) -> bool {
        self.thread_ts.as_ref().is_none_or(|t| t == &self.ts)
    }

    /// The Slack thread the message sits in.
    pub fn slack_thread(&self) -> &SlackTs {
        self.thread_ts.as_ref().unwrap_or(&self.ts)
    }
}

/// What an inner event means to the bridge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlackEvent {
    /// A new message (top level, thread reply, broadcast reply, file share, bot message).
    Message(MessageEvent),
    /// A message's text was edited (not a link preview or reply-count update).
    Edited {
        message: MessageEvent,
        edit_ts: SlackTs,
    },
    /// A message was deleted.
    Deleted(MessageEvent),
    /// Someone reacted to a message.
    Reaction {
        channel: SlackChannelId,
        ts: SlackTs,
        reaction: String,
        /// Who reacted (our own bot's reactions never start tickets).
        user: Option<SlackUserId>,
    },
    /// The app was removed from the workspace.
    Uninstalled,
    /// Tokens were revoked.
    TokensRevoked,
    /// Nothing for the bridge to do; the reason is for logs.
    Ignored(&'static str),
}

#[derive(Deserialize, Default)]
struct RawEvent {
    #[serde(rename = "type", default)]
    kind: String,
    subtype: Option<String>,
    channel: Option<String>,
    ts: Option<String>,
    thread_ts: Option<String>,
    user: Option<String>,
    bot_id: Option<String>,
    message: Option<RawMessage>,
    previous_message: Option<RawMessage>,
    deleted_ts: Option<String>,
    reaction: Option<String>,
    item: Option<RawItem>,
    tokens: Option<RawTokens>,
}

#[derive(Deserialize, Default)]
struct RawTokens {
    #[serde(default)]
    bot: Vec<String>,
}

#[derive(Deserialize, Default)]
struct RawMessage {
    subtype: Option<String>,
    ts: Option<String>,
    thread_ts: Option<String>,
    user: Option<String>,
    bot_id: Option<String>,
    text: Option<String>,
    edited: Option<RawEdited>,
}

#[derive(Deserialize)]
struct RawEdited {
    ts: String,
}

#[derive(Deserialize)]
struct RawItem {
    #[serde(rename = "type")]
    kind: String,
    channel: Option<String>,
    ts: Option<String>,
}

/// Subtypes that are ordinary messages for the bridge.
const MESSAGE_SUBTYPES: [&str; 5] = [
    "thread_broadcast",
    "file_share",
    "bot_message",
    "me_message",
    "reply_broadcast",
];

/// Reads an inner event; anything malformed or irrelevant is `Ignored`.
pub fn classify(event: &Value) -> SlackEvent {
    let Ok(raw) = RawEvent::deserialize(event) else {
        return SlackEvent::Ignored("malformed event");
    };
    match raw.kind.as_str() {
        "message" => classify_message(raw),
        "reaction_added" => classify_reaction(raw),
        "app_uninstalled" => SlackEvent::Uninstalled,
        "tokens_revoked" if raw.tokens.is_some_and(|t| !t.bot.is_empty()) => {
            SlackEvent::TokensRevoked
        }
        "tokens_revoked" => SlackEvent::Ignored("only user tokens were revoked"),
        _ => SlackEvent::Ignored("event type not used"),
    }
}

fn classify_message(raw: RawEvent) -> SlackEvent {
    let Some(channel) = raw
        .channel
        .as_deref()
        .and_then(|c| SlackChannelId::parse(c).ok())
    else {
        return SlackEvent::Ignored("message without a channel");
    };
    match raw.subtype.as_deref() {
        None => message_event(channel, raw.ts, raw.thread_ts, raw.user, raw.bot_id).map_or(
            SlackEvent::Ignored("message without ids"),
            SlackEvent::Message,
        ),
        Some(subtype) if MESSAGE_SUBTYPES.contains(&subtype) => {
            message_event(channel, raw.ts, raw.thread_ts, raw.user, raw.bot_id).map_or(
                SlackEvent::Ignored("message without ids"),
                SlackEvent::Message,
            )
        }
        Some("message_changed") => classify_edit(channel, raw.message, raw.previous_message),
        Some("message_deleted") => {
            let previous = raw.previous_message.unwrap_or_default();
            message_event(
                channel,
                raw.deleted_ts,
                previous.thread_ts,
                previous.user,
                previous.bot_id,
            )
            .map_or(
                SlackEvent::Ignored("deletion without ids"),
                SlackEvent::Deleted,
            )
        }
        Some(_) => SlackEvent::Ignored("message subtype not used"),
    }
}

fn classify_edit(
    channel: SlackChannelId,
    message: Option<RawMessage>,
    previous: Option<RawMessage>,
) -> SlackEvent {
    let Some(message) = message else {
        return SlackEvent::Ignored("edit without a message");
    };
    // Deleting a thread's first message while it has replies leaves a tombstone.
    if message.subtype.as_deref() == Some("tombstone") {
        let thread_ts = message.thread_ts.clone();
        return message_event(channel, message.ts, thread_ts, None, None).map_or(
            SlackEvent::Ignored("tombstone without ids"),
            SlackEvent::Deleted,
        );
    }
    let Some(edit_ts) = message
        .edited
        .as_ref()
        .and_then(|e| SlackTs::parse(&e.ts).ok())
    else {
        return SlackEvent::Ignored("change that is not an edit");
    };
    let unchanged = previous.as_ref().is_some_and(|p| p.text == message.text);
    if unchanged {
        return SlackEvent::Ignored("edit that did not change the text");
    }
    match message_event(
        channel,
        message.ts,
        message.thread_ts,
        message.user,
        message.bot_id,
    ) {
        Some(message) => SlackEvent::Edited { message, edit_ts },
        None => SlackEvent::Ignored("edit without ids"),
    }
}

fn classify_reaction(raw: RawEvent) -> SlackEvent {
    let Some(item) = raw.item.filter(|i| i.kind == "message") else {
        return SlackEvent::Ignored("reaction to something else than a message");
    };
    let channel = item
        .channel
        .as_deref()
        .and_then(|c| SlackChannelId::parse(c).ok());
    let ts = item.ts.as_deref().and_then(|t| SlackTs::parse(t).ok());
    match (channel, ts, raw.reaction) {
        (Some(channel), Some(ts), Some(reaction)) if is_emoji_name(&reaction) => {
            SlackEvent::Reaction {
                channel,
                ts,
                reaction,
                user: raw.user.as_deref().and_then(|u| SlackUserId::parse(u).ok()),
            }
        }
        _ => SlackEvent::Ignored("reaction without ids"),
    }
}

fn message_event(
    channel: SlackChannelId,
    ts: Option<String>,
    thread_ts: Option<String>,
    user: Option<String>,
    bot_id: Option<String>,
) -> Option<MessageEvent> {
    Some(MessageEvent {
        channel,
        ts: SlackTs::parse(ts.as_deref()?).ok()?,
        thread_ts: thread_ts.as_deref().and_then(|t| SlackTs::parse(t).ok()),
        user: user.as_deref().and_then(|u| SlackUserId::parse(u).ok()),
        bot_id: bot_id.filter(|b| b.len() <= 32 && b.bytes().all(|c| c.is_ascii_alphanumeric())),
    })
}

/// The content a message event carries (a new message, or the new text of an edit), to
/// hold in memory until the resource is built. `None` for anything else.
pub fn message_content(event: &Value) -> Option<super::SlackMessage> {
    let inner = match event.get("subtype").and_then(Value::as_str) {
        Some("message_changed") => event.get("message")?,
        Some(subtype) if !MESSAGE_SUBTYPES.contains(&subtype) => return None,
        _ => event,
    };
    if event.get("type").and_then(Value::as_str) != Some("message") {
        return None;
    }
    super::SlackMessage::deserialize(inner).ok()
}

/// Emoji names as Slack writes them: lower-case letters, digits, `_ + - '`.
pub fn is_emoji_name(name: &str) -> bool {
    (1..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_+-'".contains(&b))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ts(raw: &str) -> SlackTs {
        SlackTs::parse(raw).unwrap()
    }

    #[test]
    fn top_level_messages_and_replies_are_told_apart() {
        let top = classify(
            &json!({"type": "message", "channel": "C1", "user": "U1", "ts": "1.000001", "text": "hi"}),
        );
        let SlackEvent::Message(top) = top else {
            panic!("{top:?}")
        };
        assert!(top.is_top_level());
        let reply = classify(
            &json!({"type": "message", "channel": "C1", "user": "U1", "ts": "2.000001", "thread_ts": "1.000001"}),
        );
        let SlackEvent::Message(reply) = reply else {
            panic!("{reply:?}")
        };
        assert!(!reply.is_top_level());
        assert_eq!(reply.slack_thread(), &ts("1.000001"));
    }

    #[test]
    fn joins_and_unknown_subtypes_are_ignored() {
        for subtype in [
            "channel_join",
            "channel_leave",
            "channel_topic",
            "message_replied",
        ] {
            let event = classify(
                &json!({"type": "message", "subtype": subtype, "channel": "C1", "ts": "1.000001"}),
            );
            assert!(matches!(event, SlackEvent::Ignored(_)), "{subtype}");
        }
        assert!(matches!(
            classify(&json!({"type": "team_join"})),
            SlackEvent::Ignored(_)
        ));
        assert!(matches!(
            classify(&json!("nonsense")),
            SlackEvent::Ignored(_)
        ));
    }

    #[test]
    fn a_link_preview_is_not_an_edit_but_a_text_change_is() {
        let preview = classify(
            &json!({"type": "message", "subtype": "message_changed", "channel": "C1",
            "message": {"ts": "1.000001", "user": "U1", "text": "same"},
            "previous_message": {"ts": "1.000001", "user": "U1", "text": "same"}}),
        );
        assert!(matches!(preview, SlackEvent::Ignored(_)));
        let edit = classify(
            &json!({"type": "message", "subtype": "message_changed", "channel": "C1",
            "message": {"ts": "1.000001", "user": "U1", "text": "new", "edited": {"user": "U1", "ts": "5.000001"}},
            "previous_message": {"ts": "1.000001", "user": "U1", "text": "old"}}),
        );
        assert!(
            matches!(edit, SlackEvent::Edited { ref edit_ts, .. } if edit_ts == &ts("5.000001"))
        );
    }

    #[test]
    fn a_deleted_thread_root_leaves_a_tombstone_that_counts_as_a_deletion() {
        let tombstone = classify(
            &json!({"type": "message", "subtype": "message_changed", "channel": "C1",
            "message": {"type": "message", "subtype": "tombstone", "ts": "1.000001", "thread_ts": "1.000001", "text": "This message was deleted."},
            "previous_message": {"ts": "1.000001", "user": "U1", "text": "question"}}),
        );
        assert!(matches!(tombstone, SlackEvent::Deleted(ref m) if m.ts == ts("1.000001")));
    }

    #[test]
    fn deletions_keep_their_thread() {
        let deleted = classify(
            &json!({"type": "message", "subtype": "message_deleted", "channel": "C1",
            "deleted_ts": "2.000001", "previous_message": {"ts": "2.000001", "thread_ts": "1.000001", "user": "U1"}}),
        );
        let SlackEvent::Deleted(message) = deleted else {
            panic!("{deleted:?}")
        };
        assert_eq!(
            (message.ts, message.thread_ts),
            (ts("2.000001"), Some(ts("1.000001")))
        );
    }

    #[test]
    fn reactions_name_their_message() {
        let reaction = classify(
            &json!({"type": "reaction_added", "user": "U1", "reaction": "ticket",
            "item": {"type": "message", "channel": "C1", "ts": "1.000001"}}),
        );
        assert_eq!(
            reaction,
            SlackEvent::Reaction {
                channel: SlackChannelId::parse("C1").unwrap(),
                ts: ts("1.000001"),
                reaction: "ticket".into(),
                user: SlackUserId::parse("U1").ok()
            }
        );
        let file = classify(
            &json!({"type": "reaction_added", "reaction": "x", "item": {"type": "file", "file": "F1"}}),
        );
        assert!(matches!(file, SlackEvent::Ignored(_)));
    }

    #[test]
    fn only_revoked_bot_tokens_disconnect_the_workspace() {
        let bot =
            classify(&json!({"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}));
        assert_eq!(bot, SlackEvent::TokensRevoked);
        let user = classify(
            &json!({"type": "tokens_revoked", "tokens": {"oauth": ["U0ADMIN"], "bot": []}}),
        );
        assert!(matches!(user, SlackEvent::Ignored(_)));
    }

    #[test]
    fn envelopes_parse_by_type() {
        let verification: EventEnvelope = serde_json::from_value(
            json!({"type": "url_verification", "challenge": "abc", "token": "x"}),
        )
        .unwrap();
        assert!(
            matches!(verification, EventEnvelope::UrlVerification { challenge } if challenge == "abc")
        );
        let other: EventEnvelope =
            serde_json::from_value(json!({"type": "something_new"})).unwrap();
        assert!(matches!(other, EventEnvelope::Other));
    }
}
