//! Pass 1 and 2 of [`super::render`]: ```` ``` ```` fences split the text into prose and
//! preformatted segments, and prose lines become paragraphs, block quotes (`&gt;`,
//! `&gt;&gt;&gt;`) and lists. Each line's inline content comes from [`super::inline`].

use super::Names;
use super::angle::code_text;
use super::inline::{Node, inline};

/// A block of the rendered message.
#[derive(Debug)]
pub(super) enum Block {
    /// Consecutive ordinary lines.
    Para(Vec<Vec<Node>>),
    /// Consecutive list lines of one kind.
    List(List),
    /// Quoted lines, parsed again for paragraphs and lists (Slack does not nest quotes).
    Quote(Vec<Block>),
    /// A ```` ``` ```` block, its text already decoded.
    Pre(String),
}

#[derive(Debug)]
pub(super) struct List {
    pub(super) ordered: bool,
    pub(super) start: u32,
    pub(super) items: Vec<Item>,
}

/// A list line: its marker as written (with indentation) and its rendered content.
#[derive(Debug)]
pub(super) struct Item {
    pub(super) marker: String,
    pub(super) nodes: Vec<Node>,
}

/// A run of the message outside or inside ```` ``` ```` fences.
enum Segment<'a> {
    Prose(&'a str),
    Pre(&'a str),
}

const FENCE: &str = "```";

pub(super) fn parse(text: &str, names: &dyn Names) -> Vec<Block> {
    let mut blocks = Vec::new();
    for segment in split_fences(text) {
        match segment {
            Segment::Prose(prose) => {
                let lines: Vec<&str> = prose
                    .split('\n')
                    .map(|line| line.strip_suffix('\r').unwrap_or(line))
                    .collect();
                parse_lines(&lines, names, true, &mut blocks);
            }
            Segment::Pre(body) => blocks.push(Block::Pre(code_text(body, names))),
        }
    }
    blocks
}

/// Splits at matched fences; an unmatched or empty fence stays in the prose as text.
fn split_fences(text: &str) -> Vec<Segment<'_>> {
    let mut segments = Vec::new();
    let mut prose_start = 0;
    let mut search = 0;
    while let Some(open) = text[search..].find(FENCE).map(|at| at + search) {
        let body_start = open + FENCE.len();
        let Some(close) = text[body_start..].find(FENCE).map(|at| at + body_start) else {
            break;
        };
        search = close + FENCE.len();
        let body = &text[body_start..close];
        if body.trim().is_empty() {
            continue;
        }
        push_prose(&mut segments, &text[prose_start..open], true);
        segments.push(Segment::Pre(trim_pre(body)));
        prose_start = search;
    }
    push_prose(&mut segments, &text[prose_start..], false);
    segments
}

/// Drops the line break that separates prose from an adjacent fence.
fn push_prose<'a>(segments: &mut Vec<Segment<'a>>, prose: &'a str, before_pre: bool) {
    let mut prose = prose;
    if matches!(segments.last(), Some(Segment::Pre(_))) {
        prose = prose.trim_start_matches([' ', '\t']);
        prose = prose.strip_prefix('\n').unwrap_or(prose);
    }
    if before_pre {
        prose = prose.trim_end_matches([' ', '\t', '\r']);
        prose = prose.strip_suffix('\n').unwrap_or(prose);
    }
    if !prose.is_empty() {
        segments.push(Segment::Prose(prose));
    }
}

/// A fenced body without the line breaks right inside its fences.
fn trim_pre(body: &str) -> &str {
    let body = body.strip_prefix("\r\n").unwrap_or(body);
    let body = body.strip_prefix('\n').unwrap_or(body);
    let body = body.strip_suffix('\n').unwrap_or(body);
    body.strip_suffix('\r').unwrap_or(body)
}

fn parse_lines(lines: &[&str], names: &dyn Names, quotes: bool, out: &mut Vec<Block>) {
    let mut at = 0;
    while let Some(&line) = lines.get(at) {
        if quotes {
            if let Some(first) = strip_quote(line, 3) {
                // `>>>` quotes everything that follows it.
                let mut inner = vec![first];
                inner.extend_from_slice(&lines[at + 1..]);
                if inner.len() > 1 && first.is_empty() {
                    inner.remove(0);
                }
                out.push(quote_block(&inner, names));
                return;
            }
            let quoted: Vec<&str> = lines[at..]
                .iter()
                .map_while(|line| strip_quote(line, 1))
                .collect();
            if !quoted.is_empty() {
                at += quoted.len();
                out.push(quote_block(&quoted, names));
                continue;
            }
        }
        match list_item(line) {
            Some(item) => push_item(out, item, names),
            None => push_line(out, inline(line, names, true)),
        }
        at += 1;
    }
}

fn quote_block(lines: &[&str], names: &dyn Names) -> Block {
    let mut inner = Vec::new();
    parse_lines(lines, names, false, &mut inner);
    Block::Quote(inner)
}

/// The rest of a line that starts with `count` quote markers (`&gt;` as Slack sends it,
/// or a bare `>`), without one following space.
fn strip_quote(line: &str, count: usize) -> Option<&str> {
    let mut rest = line;
    for _ in 0..count {
        rest = rest
            .strip_prefix("&gt;")
            .or_else(|| rest.strip_prefix('>'))?;
    }
    Some(rest.strip_prefix(' ').unwrap_or(rest))
}

/// A list line as written: `•`, `◦`, `▪`, `-` or `*` and a space, or `1.`/`1)` and a
/// space, after optional indentation.
struct ListLine<'a> {
    ordered: bool,
    number: u32,
    marker: &'a str,
    body: &'a str,
}

fn list_item(line: &str) -> Option<ListLine<'_>> {
    let trimmed = line.trim_start_matches([' ', '\t', '\u{a0}']);
    let indent = line.len() - trimmed.len();
    let (ordered, number, marker_len) = list_marker(trimmed)?;
    let body = &trimmed[marker_len..];
    if body.trim().is_empty() {
        return None;
    }
    Some(ListLine {
        ordered,
        number,
        marker: &line[..indent + marker_len],
        body,
    })
}

/// (ordered, number, length of the marker with its space).
fn list_marker(text: &str) -> Option<(bool, u32, usize)> {
    for bullet in ["\u{2022} ", "\u{25e6} ", "\u{25aa} ", "- ", "* "] {
        if text.starts_with(bullet) {
            return Some((false, 1, bullet.len()));
        }
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if !(1..=3).contains(&digits) {
        return None;
    }
    let after = &text[digits..];
    if !(after.starts_with(". ") || after.starts_with(") ")) {
        return None;
    }
    let number = text[..digits].parse().unwrap_or(1);
    Some((true, number, digits + 2))
}

fn push_item(out: &mut Vec<Block>, line: ListLine<'_>, names: &dyn Names) {
    let item = Item {
        marker: line.marker.to_owned(),
        nodes: inline(line.body, names, true),
    };
    if let Some(Block::List(list)) = out.last_mut()
        && list.ordered == line.ordered
    {
        list.items.push(item);
        return;
    }
    out.push(Block::List(List {
        ordered: line.ordered,
        start: line.number,
        items: vec![item],
    }));
}

fn push_line(out: &mut Vec<Block>, nodes: Vec<Node>) {
    if let Some(Block::Para(lines)) = out.last_mut() {
        lines.push(nodes);
    } else {
        out.push(Block::Para(vec![nodes]));
    }
}
