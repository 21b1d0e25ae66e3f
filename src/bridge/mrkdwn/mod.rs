//! Slack mrkdwn to a Zendesk comment: a readable plain `message` and a safe `html_message`.
//!
//! This module owns the translation of one Slack message's `text`, exactly as it arrives in
//! API payloads (`&`, `<` and `>` escaped as entities, `<…>` control sequences for links,
//! mentions, broadcasts and dates), into the two bodies of a Channel Framework comment.
//! Names for mentioned users and channels come from the caller through [`Names`]
//! ([`mentioned_ids`] says which to look up); nothing is stored or fetched here.
//!
//! It works in three passes, each linear in the input, then renders twice:
//!
//! ```text
//!  text ─▶ parse (fences, lines: paragraphs, quotes, lists) ─▶ Block[]
//!             └─ inline (lexer + marker pairing) ─▶ Node[] per line
//!                  ├─ angle: <…> links, mentions, broadcasts; entities; code text
//!                  │    └─ dates: <!date^…>
//!                  └─ emoji: :shortcode:
//!  Block[] ─▶ text (plain `message`)   Block[] ─▶ html (`html_message`)
//! ```
//!
//! Hand-written rather than a Markdown crate: mrkdwn is not Markdown (single `*` is bold,
//! `<…>` are control sequences, no nesting of quotes), so a CommonMark parser would get it
//! wrong.

mod angle;
mod dates;
mod emoji;
mod html;
mod inline;
mod parse;
mod text;

use std::collections::HashSet;

use angle::angle_body;

/// Names for ids, looked up by the caller at build time (never stored).
pub trait Names {
    /// A user id (`U…`/`W…`) to its display name.
    fn user(&self, id: &str) -> Option<String>;
    /// A channel id (`C…`/`G…`) to its name, without `#`.
    fn channel(&self, id: &str) -> Option<String>;
}

/// One Slack message rendered for Zendesk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Readable text for the comment's `message`.
    pub plain: String,
    /// Limited, escaped HTML for the comment's `html_message`.
    pub html: String,
}

/// Renders a Slack message's mrkdwn `text` as plain text and as HTML.
pub fn render(text: &str, names: &dyn Names) -> Rendered {
    let blocks = parse::parse(text.trim_matches(['\n', '\r']).trim_end(), names);
    let mut html = String::with_capacity(text.len() + text.len() / 4);
    html::html_blocks(&blocks, &mut html);
    Rendered {
        plain: text::plain_blocks(&blocks),
        html,
    }
}

/// Ids mentioned in the text, so the caller can look names up first: (user ids, channel
/// ids), deduplicated, in order.
pub fn mentioned_ids(text: &str) -> (Vec<String>, Vec<String>) {
    let mut users = Ids::default();
    let mut channels = Ids::default();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        let after = &rest[at + 1..];
        let Some(body) = angle_body(after) else {
            rest = after;
            continue;
        };
        let target = body.split('|').next().unwrap_or_default();
        if let Some(id) = target.strip_prefix('@') {
            users.add(id);
        } else if let Some(id) = target.strip_prefix('#') {
            channels.add(id);
        }
        rest = &after[body.len() + 1..];
    }
    (users.list, channels.list)
}

/// Distinct valid ids in first-seen order.
#[derive(Default)]
struct Ids {
    list: Vec<String>,
    seen: HashSet<String>,
}

impl Ids {
    fn add(&mut self, id: &str) {
        if valid_id(id) && self.seen.insert(id.to_owned()) {
            self.list.push(id.to_owned());
        }
    }
}

/// Slack ids are short runs of ASCII letters and digits; anything else is not looked up.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

// ---------------------------------------------------------------------------------------

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
