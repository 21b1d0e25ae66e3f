//! The HTML renderer: blocks to a Zendesk comment's `html_message`, using only `strong`,
//! `em`, `del`, `code`, `pre`, `blockquote`, `ul`, `ol`, `li`, `br` and `a` (for `http`,
//! `https` and `mailto` URLs only), with every piece of text escaped. Hand-written: the
//! output is a handful of fixed tags around escaped text, which a template would not make
//! safer.

use super::inline::Node;
use super::parse::{Block, List};
use super::text::{is_stripped, join_into};

pub(super) fn html_blocks(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Para(lines) => join_into(out, "<br>", lines, |line, out| html_nodes(line, out)),
            Block::List(list) => html_list(list, out),
            Block::Quote(inner) => {
                out.push_str("<blockquote>");
                html_blocks(inner, out);
                out.push_str("</blockquote>");
            }
            Block::Pre(code) => {
                out.push_str("<pre>");
                escape_into(out, code);
                out.push_str("</pre>");
            }
        }
    }
}

fn html_list(list: &List, out: &mut String) {
    let tag = if list.ordered { "ol" } else { "ul" };
    if list.ordered && list.start != 1 {
        out.push_str(&format!("<ol start=\"{}\">", list.start));
    } else {
        out.push_str(&format!("<{tag}>"));
    }
    for item in &list.items {
        out.push_str("<li>");
        html_nodes(&item.nodes, out);
        out.push_str("</li>");
    }
    out.push_str(&format!("</{tag}>"));
}

fn html_nodes(nodes: &[Node], out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(text) => escape_into(out, text),
            Node::Open(style) => {
                out.push('<');
                out.push_str(style.tag());
                out.push('>');
            }
            Node::Close(style) => {
                out.push_str("</");
                out.push_str(style.tag());
                out.push('>');
            }
            Node::Code(code) => {
                out.push_str("<code>");
                escape_into(out, code);
                out.push_str("</code>");
            }
            Node::Link { url, label } => {
                out.push_str("<a href=\"");
                escape_into(out, url);
                out.push_str("\" rel=\"noopener noreferrer\">");
                if label.is_empty() {
                    escape_into(out, url);
                } else {
                    html_nodes(label, out);
                }
                out.push_str("</a>");
            }
        }
    }
}

/// HTML-escapes text (also for attribute values) and drops control characters.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_stripped(c) => {}
            c => out.push(c),
        }
    }
}
