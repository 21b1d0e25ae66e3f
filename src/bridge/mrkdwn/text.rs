//! The plain renderer: blocks to the readable text of a Zendesk comment's `message`
//! (styles dropped, links as `label (url)`, quotes as `> `, control characters removed).

use super::angle::strip_prefix_ci;
use super::inline::Node;
use super::parse::Block;

pub(super) fn plain_blocks(blocks: &[Block]) -> String {
    let mut out = String::new();
    join_into(&mut out, "\n", blocks, plain_block);
    out
}

fn plain_block(block: &Block, out: &mut String) {
    match block {
        Block::Para(lines) => join_into(out, "\n", lines, |line, out| plain_nodes(line, out)),
        Block::List(list) => join_into(out, "\n", &list.items, |item, out| {
            push_clean(out, &item.marker);
            plain_nodes(&item.nodes, out);
        }),
        Block::Quote(inner) => {
            join_into(out, "\n", plain_blocks(inner).split('\n'), |line, out| {
                out.push('>');
                if !line.is_empty() {
                    out.push(' ');
                    out.push_str(line);
                }
            })
        }
        Block::Pre(code) => push_clean(out, code),
    }
}

/// Writes each item with `write`, with `separator` between two items (lines of a
/// paragraph, items of a list); both renderers join this way.
pub(super) fn join_into<T>(
    out: &mut String,
    separator: &str,
    items: impl IntoIterator<Item = T>,
    mut write: impl FnMut(T, &mut String),
) {
    for (at, item) in items.into_iter().enumerate() {
        if at > 0 {
            out.push_str(separator);
        }
        write(item, out);
    }
}

pub(super) fn plain_inline(nodes: &[Node]) -> String {
    let mut out = String::new();
    plain_nodes(nodes, &mut out);
    out
}

fn plain_nodes(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(text) | Node::Code(text) => push_clean(out, text),
            Node::Open(_) | Node::Close(_) => {}
            Node::Link { url, label } => push_clean(out, &link_plain(&plain_inline(label), url)),
        }
    }
}

/// Text without control characters other than tabs and line breaks.
fn push_clean(out: &mut String, text: &str) {
    out.extend(text.chars().filter(|&c| !is_stripped(c)));
}

pub(super) fn is_stripped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `label (url)`; just the URL when there is no label or it is the URL; just the label
/// when it is the URL without its scheme (what Slack showed).
pub(super) fn link_plain(label: &str, url: &str) -> String {
    let bare = ["https://", "http://", "mailto:"]
        .into_iter()
        .find_map(|scheme| strip_prefix_ci(url, scheme));
    if label.is_empty() || label == url {
        url.to_owned()
    } else if bare == Some(label) {
        label.to_owned()
    } else {
        format!("{label} ({url})")
    }
}
