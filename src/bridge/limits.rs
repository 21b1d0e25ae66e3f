//! Zendesk's limits on an external resource (`external_resource.json` in Zendesk's JSON
//! Schemas, and the Channel Framework docs for `file_urls`), applied to every resource
//! whatever Slack sent: lengths cut on character boundaries, ids that cannot be cut
//! replaced by a stable hash, counts capped. One place, after the resource is built.

use crate::zendesk::ExternalResource;

/// `message` and `html_message`: at most 65,535 characters.
pub const MESSAGE_MAX_CHARS: usize = 65_535;
/// `external_id`, `thread_id`, `parent_id`, `author.external_id`, `author.name`,
/// `field_value.id`: at most 255 characters.
pub const ID_MAX_CHARS: usize = 255;
/// `author.image_url` and each of `file_urls`: at most 511 characters.
pub const URL_MAX_CHARS: usize = 511;
/// `file_urls`: Zendesk attaches at most 10 files per resource.
pub const MAX_FILES: usize = 10;
/// `fields`: at most 64.
pub const MAX_FIELDS: usize = 64;

/// Cuts `text` to `max` characters (on a character boundary), ending with "…" when cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// An id as Zendesk takes it: ASCII, 1 to 255 characters. One that is not is replaced by
/// a stable hash of itself (an id cut short could name another thing).
pub fn fit_id(id: &str) -> String {
    if !id.is_empty() && id.len() <= ID_MAX_CHARS && id.is_ascii() && !id.contains(char::is_control)
    {
        return id.to_owned();
    }
    let digest = crate::crypto::tokens::hash_secret(id);
    format!("slackdesk:h:{}", &digest[..digest.len().min(64)])
}

/// Brings a built resource within Zendesk's limits. `files_left_out` says how many of the
/// message's files did not fit, and `link` where the message is in Slack: the message then
/// says so.
pub fn fit(resource: &mut ExternalResource, files_left_out: usize, link: Option<&str>) {
    resource.external_id = fit_id(&resource.external_id);
    resource.thread_id = fit_id(&resource.thread_id);
    resource.author.external_id = fit_id(&resource.author.external_id);
    let name = resource.author.name.trim();
    resource.author.name = if name.is_empty() {
        "Slack user".into()
    } else {
        cut(name, ID_MAX_CHARS)
    };
    if resource
        .author
        .image_url
        .as_ref()
        .is_some_and(|url| url.chars().count() > URL_MAX_CHARS)
    {
        resource.author.image_url = None;
    }
    let mut left_out = files_left_out;
    let before = resource.file_urls.len();
    resource
        .file_urls
        .retain(|url| url.chars().count() <= URL_MAX_CHARS);
    left_out += before - resource.file_urls.len();
    if resource.file_urls.len() > MAX_FILES {
        left_out += resource.file_urls.len() - MAX_FILES;
        resource.file_urls.truncate(MAX_FILES);
    }
    resource.fields.truncate(MAX_FIELDS);
    for field in &mut resource.fields {
        field.id = cut(&field.id, ID_MAX_CHARS);
    }
    let note = (left_out > 0).then(|| files_note(left_out, link));
    let mut message = resource.message.clone();
    if let Some(note) = &note {
        message = format!(
            "{}\n\n{note}",
            cut(&message, MESSAGE_MAX_CHARS - note.chars().count() - 2)
        );
    }
    resource.message = cut(&message, MESSAGE_MAX_CHARS);
    if resource.message.trim().is_empty() {
        resource.message = "(a Slack message without text)".into();
    }
    // HTML cut midway would be broken markup: past the limit, the plain text stands alone.
    let html_fits = resource
        .html_message
        .as_ref()
        .is_some_and(|html| html.chars().count() <= MESSAGE_MAX_CHARS && note.is_none());
    if !html_fits {
        resource.html_message = None;
    }
}

fn files_note(left_out: usize, link: Option<&str>) -> String {
    let files = if left_out == 1 { "file" } else { "files" };
    match link {
        Some(link) => format!(
            "({left_out} more {files} of this message could not be attached here; they are in Slack: {link})"
        ),
        None => format!(
            "({left_out} more {files} of this message could not be attached here; they are in the Slack message)"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zendesk::{Author, FieldValue};

    fn resource() -> ExternalResource {
        ExternalResource {
            external_id: "slack:T1:C1:1.000100".into(),
            message: "hello".into(),
            html_message: Some("<p>hello</p>".into()),
            internal_note: false,
            thread_id: "slack:T1:C1:1.000100".into(),
            created_at: "2026-12-03T10:00:00.000Z".into(),
            author: Author {
                external_id: "slack:T1:U1".into(),
                name: "Ada".into(),
                image_url: None,
                locale: None,
            },
            allow_channelback: true,
            fields: vec![FieldValue {
                id: "subject".into(),
                value: serde_json::json!("hello"),
            }],
            file_urls: Vec::new(),
        }
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let mut r = resource();
        r.author.name = "é".repeat(100_000);
        fit(&mut r, 0, None);
        assert_eq!(r.author.name.chars().count(), 255);
        assert!(r.author.name.ends_with('…'));
        let mut blank = resource();
        blank.author.name = "   ".into();
        fit(&mut blank, 0, None);
        assert_eq!(blank.author.name, "Slack user");
    }

    #[test]
    fn long_messages_lose_their_html_and_files_beyond_ten_are_named() {
        let mut r = resource();
        r.message = "x".repeat(200_000);
        r.html_message = Some("<p>".repeat(30_000));
        r.file_urls = (0..14).map(|i| format!("https://s.test/f/{i}")).collect();
        fit(&mut r, 1, Some("https://team.slack.com/archives/C1/p1"));
        assert!(r.message.chars().count() <= MESSAGE_MAX_CHARS);
        assert!(r.html_message.is_none());
        assert_eq!(r.file_urls.len(), 10);
        assert!(
            r.message
                .ends_with("they are in Slack: https://team.slack.com/archives/C1/p1)"),
            "{}",
            &r.message[r.message.len() - 120..]
        );
        assert!(r.message.contains("(5 more files"));
    }

    #[test]
    fn ids_that_do_not_fit_become_a_stable_hash() {
        let long = format!("slack:T1:{}", "B".repeat(400));
        let fitted = fit_id(&long);
        assert!(fitted.len() <= ID_MAX_CHARS && fitted.is_ascii());
        assert_eq!(fitted, fit_id(&long));
        assert_ne!(fitted, fit_id(&format!("{long}x")));
        assert_eq!(fit_id("slack:T1:U1"), "slack:T1:U1");
        assert!(fit_id("slack:T1:Ü").starts_with("slackdesk:h:"));
    }
}
