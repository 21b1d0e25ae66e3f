//! The plain renderer: blocks to the readable text of a Zendesk comment's `message`
//! (styles dropped, links as `label (url)`, quotes as `> `, control characters removed).

use super::angle::strip_prefix_ci;
use super::inline::Node;
use super::parse::Block;

pub(super) fn plain_blocks(blocks: &[Block]) -> String {
    let mut out = String::new();
    for (at, block) in blocks.iter().enumerate() {
        if at > 0 {
            out.push('\n');
        }
        plain_block(block, &mut out);
    }
    out
}

fn plain_block(block: &Block, out: &mut String) {
    match block {
        Block::Para(lines) => {
            for (at, line) in lines.iter().enumerate() {
                if at > 0 {
                    out.push('\n');
                }
                plain_nodes(line, out);
            }
        }
        Block::List(list) => {
            for (at, item) in list.items.iter().enumerate() {
                if at > 0 {
                    out.push('\n');
                }
                push_clean(out, &item.marker);
                plain_nodes(&item.nodes, out);
            }
        }
        Block::Quote(inner) => {
            for (at, line) in plain_blocks(inner).split('\n').enumerate() {
                if at > 0 {
                    out.push('\n');
                }
                out.push('>');
                if !line.is_empty() {
                    out.push(' ');
                    out.push_str(line);
                }
            }
        }
        Block::Pre(code) => push_clean(out, code),
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
