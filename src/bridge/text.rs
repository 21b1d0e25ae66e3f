//! Text between Slack mrkdwn and Zendesk.
//!
//! Slack escapes `&`, `<` and `>` and writes links, mentions and channels as `<…>`.
//! Going to Zendesk those become readable text; going to Slack, Zendesk's text is escaped
//! so it cannot form a mention or a link Slack would expand.

/// Slack mrkdwn to plain text: `<url|label>` → `label (url)`, `<@U1>` → `@U1`,
/// `<#C1|general>` → `#general`, entities decoded.
pub fn slack_to_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&decode_entities(&rest[..start]));
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&decode_entities(&rest[start..]));
            return out;
        };
        out.push_str(&render_angle(&after[..end]));
        rest = &after[end + 1..];
    }
    out.push_str(&decode_entities(rest));
    out
}

fn render_angle(inner: &str) -> String {
    let (target, label) = match inner.split_once('|') {
        Some((t, l)) => (t, Some(decode_entities(l))),
        None => (inner, None),
    };
    match target.chars().next() {
        Some('@') => format!("@{}", label.unwrap_or_else(|| target[1..].to_owned())),
        Some('#') => format!("#{}", label.unwrap_or_else(|| target[1..].to_owned())),
        Some('!') => format!(
            "@{}",
            label.unwrap_or_else(|| target[1..].split('^').next().unwrap_or("").to_owned())
        ),
        _ => {
            let url = decode_entities(target);
            match label {
                Some(label) if label != url => format!("{label} ({url})"),
                _ => url,
            }
        }
    }
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Zendesk's plain text to Slack mrkdwn, with `&`, `<` and `>` escaped.
pub fn zendesk_to_slack(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_mentions_and_entities_become_readable() {
        assert_eq!(
            slack_to_plain(
                "see <https://x.test/a?b=1&amp;c=2|the doc> &lt;now&gt; <@U1> <#C2|general>"
            ),
            "see the doc (https://x.test/a?b=1&c=2) <now> @U1 #general"
        );
        assert_eq!(slack_to_plain("<https://x.test>"), "https://x.test");
        assert_eq!(slack_to_plain("a < b"), "a < b");
        assert_eq!(slack_to_plain("<!here> hi"), "@here hi");
    }

    #[test]
    fn zendesk_text_cannot_form_slack_markup() {
        assert_eq!(
            zendesk_to_slack("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
    }
}
