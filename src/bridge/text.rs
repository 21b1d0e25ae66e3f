//! Zendesk's text on its way to Slack: escaped so it cannot form a mention or a link
//! Slack would expand. (Slack to Zendesk is [`super::mrkdwn`].)

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
    fn zendesk_text_cannot_form_slack_markup() {
        assert_eq!(
            zendesk_to_slack("<!channel> & <@U1>"),
            "&lt;!channel&gt; &amp; &lt;@U1&gt;"
        );
    }
}
