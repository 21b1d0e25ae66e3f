//! Slack control sequences (`<…>`: links, mentions, broadcasts, subteams, dates), the
//! three entities Slack escapes (`&amp;`, `&lt;`, `&gt;`), and code text, where control
//! sequences are made readable but never links.

use super::dates::date;
use super::inline::{Node, inline};
use super::text::{link_plain, plain_inline};
use super::{Names, valid_id};

/// The body of a control sequence, given the text right after its `<`: present when a
/// `>` comes before any other `<` or a line break. Scanning stops at the next `<`, so
/// repeated calls over a text stay linear.
pub(super) fn angle_body(after: &str) -> Option<&str> {
    let end = after.find(['<', '>', '\n'])?;
    if end > 0 && after.as_bytes().get(end) == Some(&b'>') {
        Some(&after[..end])
    } else {
        None
    }
}

/// What a `<…>` stands for.
pub(super) enum Angle<'a> {
    /// A mention, broadcast or date, as display text.
    Text(String),
    /// A link target (decoded) and its label (still mrkdwn).
    Link { url: String, label: Option<&'a str> },
}

/// `None` when the body is neither a mention, a broadcast nor a `scheme:` target: such
/// brackets are plain text (`a <b> c`).
fn classify<'a>(body: &'a str, names: &dyn Names) -> Option<Angle<'a>> {
    let (target, label) = match body.split_once('|') {
        Some((target, label)) => (target, Some(label).filter(|l| !l.trim().is_empty())),
        None => (body, None),
    };
    if let Some(id) = target.strip_prefix('@') {
        let name = display_name(id, label, '@', |id| names.user(id));
        return Some(Angle::Text(name));
    }
    if let Some(id) = target.strip_prefix('#') {
        let name = display_name(id, label, '#', |id| names.channel(id));
        return Some(Angle::Text(name));
    }
    if let Some(command) = target.strip_prefix('!') {
        return Some(special(command, label));
    }
    has_scheme(target).then(|| Angle::Link {
        url: decode(target),
        label,
    })
}

/// Starts like a URL: a letter, then letters, digits, `+`, `-` or `.`, then `:`.
fn has_scheme(target: &str) -> bool {
    let Some((scheme, _)) = target.split_once(':') else {
        return false;
    };
    scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// `@name`/`#name`: the resolver's name, else the label, else the id.
fn display_name(
    id: &str,
    label: Option<&str>,
    sigil: char,
    lookup: impl Fn(&str) -> Option<String>,
) -> String {
    let trim = |name: String| {
        let name = name.trim();
        name.strip_prefix(sigil).unwrap_or(name).to_owned()
    };
    let name = valid_id(id)
        .then(|| lookup(id))
        .flatten()
        .map(trim)
        .filter(|name| !name.is_empty())
        .or_else(|| label.map(|label| trim(decode(label))))
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| decode(id));
    format!("{sigil}{name}")
}

/// `<!here>`, `<!channel>`, `<!everyone>`, `<!subteam^ID|@handle>`, `<!date^…|fallback>`.
fn special<'a>(command: &'a str, label: Option<&'a str>) -> Angle<'a> {
    let mut parts = command.split('^');
    let head = parts.next().unwrap_or_default();
    match head {
        "here" | "channel" | "everyone" => Angle::Text(format!("@{head}")),
        "date" => date(parts.next(), parts.nth(1), label),
        _ => {
            let fallback = if head == "subteam" {
                parts.next().unwrap_or_default()
            } else {
                head
            };
            let name = decode(label.unwrap_or(fallback));
            let name = name.strip_prefix('@').unwrap_or(&name);
            Angle::Text(format!("@{name}"))
        }
    }
}

/// The nodes for a control sequence in running text.
pub(super) fn angle_nodes(body: &str, names: &dyn Names) -> Option<Vec<Node>> {
    let nodes = match classify(body, names)? {
        Angle::Text(text) => vec![Node::Text(text)],
        Angle::Link { url, label } => {
            let label = label.map_or_else(Vec::new, |label| inline(label, names, false));
            if safe_url(&url) {
                vec![Node::Link { url, label }]
            } else {
                // Never a link: shown as text, target included.
                vec![Node::Text(link_plain(&plain_inline(&label), &url))]
            }
        }
    };
    Some(nodes)
}

/// A control sequence inside code: readable text, never a link.
fn angle_text(body: &str, names: &dyn Names) -> Option<String> {
    let text = match classify(body, names)? {
        Angle::Text(text) => text,
        Angle::Link { url, label } => link_plain(&label.map(decode).unwrap_or_default(), &url),
    };
    Some(text)
}

/// Only these schemes become links; the URL must not hide whitespace or control
/// characters.
pub(super) fn safe_url(url: &str) -> bool {
    let has_scheme = ["http://", "https://", "mailto:"]
        .into_iter()
        .any(|scheme| strip_prefix_ci(url, scheme).is_some_and(|rest| !rest.is_empty()));
    has_scheme && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub(super) fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------
// Entities and code
// ---------------------------------------------------------------------------------------

/// The character an entity at the start of `text` (which starts with `&`) stands for and
/// its length; Slack escapes only these three.
pub(super) fn entity(text: &str) -> (char, usize) {
    for (name, decoded) in [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')] {
        if text.starts_with(name) {
            return (decoded, name.len());
        }
    }
    ('&', 1)
}

/// Slack's escaping undone, in one pass (`&amp;lt;` stays `&lt;`).
pub(super) fn decode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (decoded, used) = entity(&rest[at..]);
        out.push(decoded);
        rest = &rest[at + used..];
    }
    out.push_str(rest);
    out
}

/// Code text: entities decoded and control sequences made readable, nothing else.
pub(super) fn code_text(raw: &str, names: &dyn Names) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let used = if tail.starts_with('&') {
            let (decoded, used) = entity(tail);
            out.push(decoded);
            used
        } else {
            code_angle(&tail[1..], names, &mut out)
        };
        rest = &tail[used..];
    }
    out.push_str(rest);
    out
}

/// Writes the control sequence after a `<` in code as readable text, or the `<` itself;
/// returns the bytes used, counting the `<`.
fn code_angle(after: &str, names: &dyn Names, out: &mut String) -> usize {
    if let Some(body) = angle_body(after)
        && let Some(text) = angle_text(body, names)
    {
        out.push_str(&text);
        return body.len() + 2;
    }
    out.push('<');
    1
}
