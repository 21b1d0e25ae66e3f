//! Slack mrkdwn to a Zendesk comment: a readable plain `message` and a safe `html_message`.
//!
//! This module owns the translation of one Slack message's `text`, exactly as it arrives in
//! API payloads (`&`, `<` and `>` escaped as entities, `<…>` control sequences for links,
//! mentions, broadcasts and dates), into the two bodies of a Channel Framework comment.
//! Names for mentioned users and channels come from the caller through [`Names`]
//! ([`mentioned_ids`] says which to look up); nothing is stored or fetched here.
//!
//! It works in three passes, each linear in the input:
//!
//! 1. ```` ``` ```` fences split the text into prose and preformatted segments;
//! 2. prose lines become paragraphs, block quotes (`&gt;`, `&gt;&gt;&gt;`) and lists;
//! 3. each line is lexed into text, atoms (code spans, links, mentions, emoji) and style
//!    markers (`*`, `_`, `~`), and the markers are paired on a delimiter stack, so the
//!    emitted tags always nest; a marker left unpaired is kept as literal text.
//!
//! The HTML uses only `strong`, `em`, `del`, `code`, `pre`, `blockquote`, `ul`, `ol`,
//! `li`, `br` and `a` (for `http`, `https` and `mailto` URLs only); every piece of text
//! is escaped.

use std::collections::HashSet;

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
    let blocks = parse(text.trim_matches(['\n', '\r']).trim_end(), names);
    let mut html = String::with_capacity(text.len() + text.len() / 4);
    html_blocks(&blocks, &mut html);
    Rendered {
        plain: plain_blocks(&blocks),
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
// Blocks
// ---------------------------------------------------------------------------------------

/// A block of the rendered message.
#[derive(Debug)]
enum Block {
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
struct List {
    ordered: bool,
    start: u32,
    items: Vec<Item>,
}

/// A list line: its marker as written (with indentation) and its rendered content.
#[derive(Debug)]
struct Item {
    marker: String,
    nodes: Vec<Node>,
}

/// A run of the message outside or inside ```` ``` ```` fences.
enum Segment<'a> {
    Prose(&'a str),
    Pre(&'a str),
}

const FENCE: &str = "```";

fn parse(text: &str, names: &dyn Names) -> Vec<Block> {
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

// ---------------------------------------------------------------------------------------
// Inline content
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Bold,
    Italic,
    Strike,
}

impl Style {
    fn of_marker(marker: char) -> Option<Self> {
        match marker {
            '*' => Some(Self::Bold),
            '_' => Some(Self::Italic),
            '~' => Some(Self::Strike),
            _ => None,
        }
    }

    fn tag(self) -> &'static str {
        match self {
            Self::Bold => "strong",
            Self::Italic => "em",
            Self::Strike => "del",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Bold => 0,
            Self::Italic => 1,
            Self::Strike => 2,
        }
    }
}

/// Rendered inline content. `Open`/`Close` always come in nested pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    /// Decoded text.
    Text(String),
    Open(Style),
    Close(Style),
    /// A code span's decoded text.
    Code(String),
    /// A link to an `http`, `https` or `mailto` URL (decoded); `label` may be empty.
    Link {
        url: String,
        label: Vec<Node>,
    },
}

/// A lexed piece of a line: finished content, or a style marker still to be paired.
enum Piece {
    Node(Node),
    Marker {
        style: Style,
        marker: char,
        open: bool,
        close: bool,
    },
}

/// One line's inline content. `links` is false inside a link's label.
fn inline(line: &str, names: &dyn Names, links: bool) -> Vec<Node> {
    let lexer = Lexer {
        src: line,
        names,
        links,
        pos: 0,
        text: String::new(),
        pieces: Vec::new(),
    };
    resolve(lexer.run())
}

struct Lexer<'a> {
    src: &'a str,
    names: &'a dyn Names,
    links: bool,
    pos: usize,
    text: String,
    pieces: Vec<Piece>,
}

impl Lexer<'_> {
    fn run(mut self) -> Vec<Piece> {
        while let Some(c) = self
            .src
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            let consumed = match c {
                '<' if self.links => self.angle(),
                '`' => self.code(),
                ':' => self.emoji(),
                '&' => self.entity(),
                'h' | 'H' if self.links => self.bare_url(),
                _ => match Style::of_marker(c) {
                    Some(style) => self.marker(style, c),
                    None => false,
                },
            };
            if !consumed {
                self.text.push(c);
                self.pos += c.len_utf8();
            }
        }
        self.flush();
        self.pieces
    }

    fn rest(&self) -> &str {
        self.src.get(self.pos..).unwrap_or_default()
    }

    fn prev_char(&self) -> Option<char> {
        self.src.get(..self.pos)?.chars().next_back()
    }

    fn flush(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            self.pieces.push(Piece::Node(Node::Text(text)));
        }
    }

    fn push(&mut self, node: Node) {
        self.flush();
        self.pieces.push(Piece::Node(node));
    }

    /// `<…>`: a link, mention, broadcast or date.
    fn angle(&mut self) -> bool {
        let Some(body) = angle_body(&self.rest()[1..]) else {
            return false;
        };
        let len = body.len() + 2;
        let Some(nodes) = angle_nodes(body, self.names) else {
            return false;
        };
        self.flush();
        self.pieces.extend(nodes.into_iter().map(Piece::Node));
        self.pos += len;
        true
    }

    /// `` `code` ``: verbatim up to the next backtick.
    fn code(&mut self) -> bool {
        let rest = &self.rest()[1..];
        let Some(end) = rest.find('`') else {
            return false;
        };
        if end == 0 {
            self.text.push_str("``");
            self.pos += 2;
            return true;
        }
        let code = code_text(&rest[..end], self.names);
        self.push(Node::Code(code));
        self.pos += end + 2;
        true
    }

    /// `:name:` for a known emoji, with an optional `::skin-tone-N:`; a lone skin tone is
    /// dropped and an unknown name stays as written.
    fn emoji(&mut self) -> bool {
        let rest = &self.rest()[1..];
        let len = rest.bytes().take(64).take_while(is_emoji_byte).count();
        if len == 0 || rest.as_bytes().get(len) != Some(&b':') {
            return false;
        }
        let name = &rest[..len];
        let found = if is_skin_tone(name) {
            Some("")
        } else {
            emoji(name)
        };
        let Some(found) = found else {
            return false;
        };
        let mut used = len + 2;
        if let Some(tone) = skin_tone_suffix(&rest[len..]) {
            used += tone;
        }
        if !found.is_empty() {
            self.push(Node::Text(found.to_owned()));
        }
        self.pos += used;
        true
    }

    fn entity(&mut self) -> bool {
        let (decoded, used) = entity(self.rest());
        self.text.push(decoded);
        self.pos += used;
        true
    }

    /// A URL Slack left unwrapped: linked up to whitespace, without trailing punctuation.
    fn bare_url(&mut self) -> bool {
        if self.prev_char().is_some_and(char::is_alphanumeric) {
            return false;
        }
        let rest = self.rest();
        let Some(scheme) = ["http://", "https://"]
            .into_iter()
            .find(|scheme| strip_prefix_ci(rest, scheme).is_some())
        else {
            return false;
        };
        let url = trim_url_tail(&rest[..url_extent(rest)]);
        if url.len() <= scheme.len() {
            return false;
        }
        let used = url.len();
        let url = decode(url);
        if !safe_url(&url) {
            return false;
        }
        self.push(Node::Link {
            label: vec![Node::Text(url.clone())],
            url,
        });
        self.pos += used;
        true
    }

    /// `*`, `_` or `~`: may open when it follows the start, a space or punctuation and
    /// comes before a non-space; may close when it follows a non-space and comes before
    /// the end, a space or punctuation.
    fn marker(&mut self, style: Style, marker: char) -> bool {
        let prev = self.prev_char();
        let next = self.rest()[marker.len_utf8()..].chars().next();
        let open =
            prev.is_none_or(|c| !c.is_alphanumeric()) && next.is_some_and(|c| !c.is_whitespace());
        let close =
            prev.is_some_and(|c| !c.is_whitespace()) && next.is_none_or(|c| !c.is_alphanumeric());
        self.flush();
        self.pieces.push(Piece::Marker {
            style,
            marker,
            open,
            close,
        });
        self.pos += marker.len_utf8();
        true
    }
}

/// The body of a control sequence, given the text right after its `<`: present when a
/// `>` comes before any other `<` or a line break. Scanning stops at the next `<`, so
/// repeated calls over a text stay linear.
fn angle_body(after: &str) -> Option<&str> {
    let end = after.find(['<', '>', '\n'])?;
    if end > 0 && after.as_bytes().get(end) == Some(&b'>') {
        Some(&after[..end])
    } else {
        None
    }
}

fn is_emoji_byte(b: &u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'+' | b'-' | b'\'')
}

fn is_skin_tone(name: &str) -> bool {
    matches!(
        name.strip_prefix("skin-tone-"),
        Some("2" | "3" | "4" | "5" | "6")
    )
}

/// Length of a `:skin-tone-N:` right after an emoji's closing colon (`rest` starts at that
/// colon), not counting it.
fn skin_tone_suffix(rest: &str) -> Option<usize> {
    let after = rest.strip_prefix("::")?;
    let tone = after.get(..11)?;
    (is_skin_tone(tone) && after[11..].starts_with(':')).then_some(13)
}

/// How far a bare URL may extend: to whitespace, a control character, a backtick or an
/// angle bracket (raw or escaped).
fn url_extent(rest: &str) -> usize {
    for (at, c) in rest.char_indices() {
        let stop = match c {
            '<' | '>' | '`' => true,
            '&' => rest[at..].starts_with("&lt;") || rest[at..].starts_with("&gt;"),
            _ => c.is_whitespace() || c.is_control(),
        };
        if stop {
            return at;
        }
    }
    rest.len()
}

fn trim_url_tail(url: &str) -> &str {
    let parens = url.contains('(');
    url.trim_end_matches(|c| {
        matches!(
            c,
            '.' | ',' | ':' | '!' | '?' | '\'' | '"' | '*' | '_' | '~'
        ) || (c == ')' && !parens)
    })
}

// ---------------------------------------------------------------------------------------
// Pairing style markers
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Literal,
    Open,
    Close,
}

/// Pairs markers and turns the pieces into nodes; unpaired markers become text.
fn resolve(pieces: Vec<Piece>) -> Vec<Node> {
    let roles = pair_markers(&pieces);
    let mut nodes: Vec<Node> = Vec::with_capacity(pieces.len());
    for (piece, role) in pieces.into_iter().zip(roles) {
        let node = match (piece, role) {
            (Piece::Node(node), _) => node,
            (Piece::Marker { style, .. }, Role::Open) => Node::Open(style),
            (Piece::Marker { style, .. }, Role::Close) => Node::Close(style),
            (Piece::Marker { marker, .. }, Role::Literal) => Node::Text(marker.to_string()),
        };
        match (nodes.last_mut(), node) {
            (Some(Node::Text(last)), Node::Text(text)) => last.push_str(&text),
            (_, node) => nodes.push(node),
        }
    }
    nodes
}

/// Slack's rule: a span's content never contains its own marker. So a closer pairs only
/// with the latest marker of its style, when that one is a still-open opener with something
/// between the two (`**` is not an empty bold). Openers of other styles between them are
/// abandoned, so pairs never cross. Each opener is pushed and popped once: linear.
fn pair_markers(pieces: &[Piece]) -> Vec<Role> {
    let mut roles = vec![Role::Literal; pieces.len()];
    let mut open_now = vec![false; pieces.len()];
    let mut stack: Vec<usize> = Vec::new();
    let mut latest: [Option<usize>; 3] = [None; 3];
    for (at, piece) in pieces.iter().enumerate() {
        let Piece::Marker {
            style, open, close, ..
        } = *piece
        else {
            continue;
        };
        if !open && !close {
            continue; // inside a word, like the `_` of `snake_case`: just a character
        }
        let candidate = latest[style.index()].filter(|&opener| opener + 1 < at && open_now[opener]);
        latest[style.index()] = Some(at);
        if let (true, Some(opener)) = (close, candidate) {
            while let Some(top) = stack.pop() {
                open_now[top] = false;
                if top == opener {
                    break;
                }
            }
            roles[opener] = Role::Open;
            roles[at] = Role::Close;
        } else if open {
            stack.push(at);
            open_now[at] = true;
        }
    }
    roles
}

// ---------------------------------------------------------------------------------------
// Control sequences
// ---------------------------------------------------------------------------------------

/// What a `<…>` stands for.
enum Angle<'a> {
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

/// A date shows its fallback text (linked when the sequence carries a safe link); without
/// one, the timestamp in UTC.
fn date<'a>(stamp: Option<&str>, link: Option<&str>, label: Option<&'a str>) -> Angle<'a> {
    match (label, link.map(decode)) {
        (Some(label), Some(url)) if safe_url(&url) => Angle::Link {
            url,
            label: Some(label),
        },
        (Some(label), _) => Angle::Text(decode(label)),
        (None, _) => {
            let stamp = stamp.unwrap_or_default();
            Angle::Text(utc_minute(stamp).unwrap_or_else(|| decode(stamp)))
        }
    }
}

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`.
fn utc_minute(stamp: &str) -> Option<String> {
    let seconds: i64 = stamp.parse().ok()?;
    if seconds.unsigned_abs() > 1 << 40 {
        return None;
    }
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_date(days);
    let (hour, minute) = (second_of_day / 3600, second_of_day % 3600 / 60);
    Some(format!(
        "{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC"
    ))
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day), counting in
/// 400-year eras that start on 1 March so leap days fall at the end of a year.
fn civil_date(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153; // 0 = March
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The nodes for a control sequence in running text.
fn angle_nodes(body: &str, names: &dyn Names) -> Option<Vec<Node>> {
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
fn safe_url(url: &str) -> bool {
    let has_scheme = ["http://", "https://", "mailto:"]
        .into_iter()
        .any(|scheme| strip_prefix_ci(url, scheme).is_some_and(|rest| !rest.is_empty()));
    has_scheme && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn strip_prefix_ci<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        text.get(prefix.len()..)
    } else {
        None
    }
}

/// `label (url)`; just the URL when there is no label or it is the URL; just the label
/// when it is the URL without its scheme (what Slack showed).
fn link_plain(label: &str, url: &str) -> String {
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

// ---------------------------------------------------------------------------------------
// Entities and code
// ---------------------------------------------------------------------------------------

/// The character an entity at the start of `text` (which starts with `&`) stands for and
/// its length; Slack escapes only these three.
fn entity(text: &str) -> (char, usize) {
    for (name, decoded) in [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')] {
        if text.starts_with(name) {
            return (decoded, name.len());
        }
    }
    ('&', 1)
}

/// Slack's escaping undone, in one pass (`&amp;lt;` stays `&lt;`).
fn decode(text: &str) -> String {
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
fn code_text(raw: &str, names: &dyn Names) -> String {
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

// ---------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------

fn plain_blocks(blocks: &[Block]) -> String {
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

fn plain_inline(nodes: &[Node]) -> String {
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

fn is_stripped(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

fn html_blocks(blocks: &[Block], out: &mut String) {
    for block in blocks {
        match block {
            Block::Para(lines) => {
                for (at, line) in lines.iter().enumerate() {
                    if at > 0 {
                        out.push_str("<br>");
                    }
                    html_nodes(line, out);
                }
            }
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

// ---------------------------------------------------------------------------------------
// Emoji
// ---------------------------------------------------------------------------------------

/// The emoji for a shortcode, when it is one of the common ones in [`EMOJI`].
fn emoji(name: &str) -> Option<&'static str> {
    EMOJI
        .binary_search_by(|&(key, _)| key.cmp(name))
        .ok()
        .and_then(|at| EMOJI.get(at))
        .map(|&(_, emoji)| emoji)
}

/// Common Slack shortcodes (with their usual aliases), sorted by name for binary search.
const EMOJI: &[(&str, &str)] = &[
    ("+1", "\u{1F44D}"),
    ("-1", "\u{1F44E}"),
    ("100", "\u{1F4AF}"),
    ("admission_tickets", "\u{1F39F}\u{FE0F}"),
    ("alarm_clock", "\u{23F0}"),
    ("angry", "\u{1F620}"),
    ("arrow_down", "\u{2B07}\u{FE0F}"),
    ("arrow_left", "\u{2B05}\u{FE0F}"),
    ("arrow_right", "\u{27A1}\u{FE0F}"),
    ("arrow_up", "\u{2B06}\u{FE0F}"),
    ("arrows_counterclockwise", "\u{1F504}"),
    ("astonished", "\u{1F632}"),
    ("ballot_box_with_check", "\u{2611}\u{FE0F}"),
    ("bangbang", "\u{203C}\u{FE0F}"),
    ("bar_chart", "\u{1F4CA}"),
    ("beer", "\u{1F37A}"),
    ("beers", "\u{1F37B}"),
    ("beetle", "\u{1F41E}"),
    ("bell", "\u{1F514}"),
    ("birthday", "\u{1F382}"),
    ("black_circle", "\u{26AB}"),
    ("blue_heart", "\u{1F499}"),
    ("blush", "\u{1F60A}"),
    ("boom", "\u{1F4A5}"),
    ("brain", "\u{1F9E0}"),
    ("broken_heart", "\u{1F494}"),
    ("bug", "\u{1F41B}"),
    ("bulb", "\u{1F4A1}"),
    ("calendar", "\u{1F4C6}"),
    ("cat", "\u{1F431}"),
    ("chart_with_downwards_trend", "\u{1F4C9}"),
    ("chart_with_upwards_trend", "\u{1F4C8}"),
    ("checkered_flag", "\u{1F3C1}"),
    ("clap", "\u{1F44F}"),
    ("clipboard", "\u{1F4CB}"),
    ("cloud", "\u{2601}\u{FE0F}"),
    ("clown_face", "\u{1F921}"),
    ("coffee", "\u{2615}"),
    ("collision", "\u{1F4A5}"),
    ("computer", "\u{1F4BB}"),
    ("confetti_ball", "\u{1F38A}"),
    ("confounded", "\u{1F616}"),
    ("confused", "\u{1F615}"),
    ("construction", "\u{1F6A7}"),
    ("cool", "\u{1F192}"),
    ("crossed_fingers", "\u{1F91E}"),
    ("cry", "\u{1F622}"),
    ("dart", "\u{1F3AF}"),
    ("date", "\u{1F4C5}"),
    ("disappointed", "\u{1F61E}"),
    ("dog", "\u{1F436}"),
    ("dollar", "\u{1F4B5}"),
    ("e-mail", "\u{1F4E7}"),
    ("earth_americas", "\u{1F30E}"),
    ("email", "\u{1F4E7}"),
    ("envelope", "\u{2709}\u{FE0F}"),
    ("exclamation", "\u{2757}"),
    ("exploding_head", "\u{1F92F}"),
    ("expressionless", "\u{1F611}"),
    ("eyes", "\u{1F440}"),
    ("face_palm", "\u{1F926}"),
    ("face_with_monocle", "\u{1F9D0}"),
    ("face_with_raised_eyebrow", "\u{1F928}"),
    ("face_with_rolling_eyes", "\u{1F644}"),
    ("face_with_thermometer", "\u{1F912}"),
    ("facepalm", "\u{1F926}"),
    ("facepunch", "\u{1F44A}"),
    ("fire", "\u{1F525}"),
    ("flushed", "\u{1F633}"),
    ("gear", "\u{2699}\u{FE0F}"),
    ("ghost", "\u{1F47B}"),
    ("gift", "\u{1F381}"),
    ("globe_with_meridians", "\u{1F310}"),
    ("green_heart", "\u{1F49A}"),
    ("grey_exclamation", "\u{2755}"),
    ("grey_question", "\u{2754}"),
    ("grimacing", "\u{1F62C}"),
    ("grin", "\u{1F601}"),
    ("grinning", "\u{1F600}"),
    ("hammer", "\u{1F528}"),
    ("hammer_and_wrench", "\u{1F6E0}\u{FE0F}"),
    ("hand", "\u{270B}"),
    ("handshake", "\u{1F91D}"),
    ("hankey", "\u{1F4A9}"),
    ("heart", "\u{2764}\u{FE0F}"),
    ("heart_eyes", "\u{1F60D}"),
    ("heavy_check_mark", "\u{2714}\u{FE0F}"),
    ("heavy_exclamation_mark", "\u{2757}"),
    ("heavy_minus_sign", "\u{2796}"),
    ("heavy_multiplication_x", "\u{2716}\u{FE0F}"),
    ("heavy_plus_sign", "\u{2795}"),
    ("hourglass", "\u{231B}"),
    ("hourglass_flowing_sand", "\u{23F3}"),
    ("hugging_face", "\u{1F917}"),
    ("hugs", "\u{1F917}"),
    ("hushed", "\u{1F62F}"),
    ("information_source", "\u{2139}\u{FE0F}"),
    ("innocent", "\u{1F607}"),
    ("iphone", "\u{1F4F1}"),
    ("joy", "\u{1F602}"),
    ("key", "\u{1F511}"),
    ("kissing_heart", "\u{1F618}"),
    ("large_blue_circle", "\u{1F535}"),
    ("large_green_circle", "\u{1F7E2}"),
    ("large_yellow_circle", "\u{1F7E1}"),
    ("laughing", "\u{1F606}"),
    ("link", "\u{1F517}"),
    ("lock", "\u{1F512}"),
    ("loudspeaker", "\u{1F4E2}"),
    ("mag", "\u{1F50D}"),
    ("mask", "\u{1F637}"),
    ("medal", "\u{1F3C5}"),
    ("mega", "\u{1F4E3}"),
    ("memo", "\u{1F4DD}"),
    ("money_mouth_face", "\u{1F911}"),
    ("moneybag", "\u{1F4B0}"),
    ("muscle", "\u{1F4AA}"),
    ("nauseated_face", "\u{1F922}"),
    ("negative_squared_cross_mark", "\u{274E}"),
    ("nerd_face", "\u{1F913}"),
    ("neutral_face", "\u{1F610}"),
    ("new", "\u{1F195}"),
    ("no_bell", "\u{1F515}"),
    ("no_entry", "\u{26D4}"),
    ("no_entry_sign", "\u{1F6AB}"),
    ("no_mouth", "\u{1F636}"),
    ("octagonal_sign", "\u{1F6D1}"),
    ("ok", "\u{1F197}"),
    ("ok_hand", "\u{1F44C}"),
    ("open_mouth", "\u{1F62E}"),
    ("orange_heart", "\u{1F9E1}"),
    ("package", "\u{1F4E6}"),
    ("page_facing_up", "\u{1F4C4}"),
    ("paperclip", "\u{1F4CE}"),
    ("partying_face", "\u{1F973}"),
    ("pencil", "\u{1F4DD}"),
    ("pencil2", "\u{270F}\u{FE0F}"),
    ("pensive", "\u{1F614}"),
    ("persevere", "\u{1F623}"),
    ("phone", "\u{260E}\u{FE0F}"),
    ("pizza", "\u{1F355}"),
    ("pleading_face", "\u{1F97A}"),
    ("point_down", "\u{1F447}"),
    ("point_left", "\u{1F448}"),
    ("point_right", "\u{1F449}"),
    ("point_up", "\u{261D}\u{FE0F}"),
    ("poop", "\u{1F4A9}"),
    ("pray", "\u{1F64F}"),
    ("punch", "\u{1F44A}"),
    ("purple_heart", "\u{1F49C}"),
    ("pushpin", "\u{1F4CC}"),
    ("question", "\u{2753}"),
    ("rage", "\u{1F621}"),
    ("rainbow", "\u{1F308}"),
    ("raised_hand", "\u{270B}"),
    ("raised_hands", "\u{1F64C}"),
    ("raising_hand", "\u{1F64B}"),
    ("red_circle", "\u{1F534}"),
    ("relieved", "\u{1F60C}"),
    ("repeat", "\u{1F501}"),
    ("robot_face", "\u{1F916}"),
    ("rocket", "\u{1F680}"),
    ("rofl", "\u{1F923}"),
    ("roll_eyes", "\u{1F644}"),
    ("rolling_on_the_floor_laughing", "\u{1F923}"),
    ("rotating_light", "\u{1F6A8}"),
    ("satisfied", "\u{1F606}"),
    ("scream", "\u{1F631}"),
    ("see_no_evil", "\u{1F648}"),
    ("shrug", "\u{1F937}"),
    ("shushing_face", "\u{1F92B}"),
    ("skull", "\u{1F480}"),
    ("sleeping", "\u{1F634}"),
    ("sleepy", "\u{1F62A}"),
    ("slightly_frowning_face", "\u{1F641}"),
    ("slightly_smiling_face", "\u{1F642}"),
    ("smile", "\u{1F604}"),
    ("smiley", "\u{1F603}"),
    ("smiling_face_with_3_hearts", "\u{1F970}"),
    ("smirk", "\u{1F60F}"),
    ("snowflake", "\u{2744}\u{FE0F}"),
    ("sob", "\u{1F62D}"),
    ("sos", "\u{1F198}"),
    ("sparkles", "\u{2728}"),
    ("sparkling_heart", "\u{1F496}"),
    ("speech_balloon", "\u{1F4AC}"),
    ("spiral_calendar_pad", "\u{1F5D3}\u{FE0F}"),
    ("sports_medal", "\u{1F3C5}"),
    ("star", "\u{2B50}"),
    ("star-struck", "\u{1F929}"),
    ("star2", "\u{1F31F}"),
    ("stopwatch", "\u{23F1}\u{FE0F}"),
    ("stuck_out_tongue", "\u{1F61B}"),
    ("stuck_out_tongue_winking_eye", "\u{1F61C}"),
    ("sunglasses", "\u{1F60E}"),
    ("sunny", "\u{2600}\u{FE0F}"),
    ("sweat", "\u{1F613}"),
    ("sweat_smile", "\u{1F605}"),
    ("tada", "\u{1F389}"),
    ("telephone", "\u{260E}\u{FE0F}"),
    ("thinking", "\u{1F914}"),
    ("thinking_face", "\u{1F914}"),
    ("thought_balloon", "\u{1F4AD}"),
    ("thumbsdown", "\u{1F44E}"),
    ("thumbsup", "\u{1F44D}"),
    ("ticket", "\u{1F3AB}"),
    ("tired_face", "\u{1F62B}"),
    ("triangular_flag_on_post", "\u{1F6A9}"),
    ("triumph", "\u{1F624}"),
    ("trophy", "\u{1F3C6}"),
    ("umbrella", "\u{2614}"),
    ("unamused", "\u{1F612}"),
    ("unicorn_face", "\u{1F984}"),
    ("unlock", "\u{1F513}"),
    ("upside_down_face", "\u{1F643}"),
    ("v", "\u{270C}\u{FE0F}"),
    ("warning", "\u{26A0}\u{FE0F}"),
    ("wave", "\u{1F44B}"),
    ("weary", "\u{1F629}"),
    ("white_check_mark", "\u{2705}"),
    ("white_circle", "\u{26AA}"),
    ("white_frowning_face", "\u{2639}\u{FE0F}"),
    ("wink", "\u{1F609}"),
    ("worried", "\u{1F61F}"),
    ("wrench", "\u{1F527}"),
    ("writing_hand", "\u{270D}\u{FE0F}"),
    ("x", "\u{274C}"),
    ("yellow_heart", "\u{1F49B}"),
    ("yum", "\u{1F60B}"),
    ("zap", "\u{26A1}"),
    ("zipper_mouth_face", "\u{1F910}"),
];

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// U1 is Alice and C1 is general; nothing else is known.
    struct Directory;

    impl Names for Directory {
        fn user(&self, id: &str) -> Option<String> {
            (id == "U1").then(|| "Alice".to_owned())
        }
        fn channel(&self, id: &str) -> Option<String> {
            (id == "C1").then(|| "general".to_owned())
        }
    }

    fn r(text: &str) -> Rendered {
        let rendered = render(text, &Directory);
        assert_well_formed(&rendered.html);
        rendered
    }

    fn html(text: &str) -> String {
        r(text).html
    }

    fn plain(text: &str) -> String {
        r(text).plain
    }

    const ALLOWED: [&str; 12] = [
        "strong",
        "em",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "br",
        "p",
    ];

    /// Every `<` starts one of our tags, tags nest, and links only go to safe schemes.
    fn assert_well_formed(full: &str) {
        let html = full;
        let full: String = full.chars().take(300).collect();
        assert!(!html.to_ascii_lowercase().contains("<script"), "{full}");
        let mut open: Vec<&str> = Vec::new();
        let mut counts = std::collections::HashMap::<&str, (usize, usize)>::new();
        let mut rest = html;
        while let Some(at) = rest.find(['<', '>']) {
            assert_eq!(&rest[at..=at], "<", "stray '>' in {full:?}");
            let after = &rest[at + 1..];
            let end = after.find('>').expect("unterminated tag");
            let tag = &after[..end];
            assert!(!tag.contains('<'), "{full:?}");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop(), Some(name), "misnested in {full:?}");
                counts.entry(name).or_default().1 += 1;
            } else {
                let name = tag.split(' ').next().unwrap();
                assert!(ALLOWED.contains(&name), "tag {name} in {full:?}");
                if name == "a" {
                    let href = tag.strip_prefix("a href=\"").unwrap();
                    let href = &href[..href.find('"').unwrap()];
                    assert!(safe_url(href), "href {href:?}");
                    assert!(tag.ends_with("\" rel=\"noopener noreferrer\""), "{tag:?}");
                }
                if name != "br" {
                    open.push(name);
                    counts.entry(name).or_default().0 += 1;
                }
            }
            rest = &after[end + 1..];
        }
        assert!(open.is_empty(), "unclosed {open:?} in {full:?}");
        for (name, (opens, closes)) in counts {
            assert_eq!(opens, closes, "{name} in {full:?}");
        }
    }

    #[test]
    fn basic_styles() {
        let out = r("*bold* _italic_ ~strike~ `code`");
        assert_eq!(
            out.html,
            "<strong>bold</strong> <em>italic</em> <del>strike</del> <code>code</code>"
        );
        assert_eq!(out.plain, "bold italic strike code");
    }

    #[test]
    fn styles_nest_and_sit_next_to_punctuation() {
        assert_eq!(
            html("*bold _both_*, (~gone~)."),
            "<strong>bold <em>both</em></strong>, (<del>gone</del>)."
        );
        assert_eq!(
            html("_*bold italic*_"),
            "<em><strong>bold italic</strong></em>"
        );
        assert_eq!(
            html("*two words* and *more than two words*"),
            "<strong>two words</strong> and <strong>more than two words</strong>"
        );
    }

    #[test]
    fn markers_only_count_at_word_boundaries() {
        assert_eq!(html("snake_case_name"), "snake_case_name");
        assert_eq!(html("2*3*4 = 24"), "2*3*4 = 24");
        assert_eq!(html("a * b * c"), "a * b * c");
        assert_eq!(html("*not closed"), "*not closed");
        assert_eq!(html("not opened*"), "not opened*");
        assert_eq!(html("**"), "**");
        assert_eq!(html("~ ~"), "~ ~");
        assert_eq!(html("_snake_case_"), "<em>snake_case</em>");
        assert_eq!(plain("snake_case_name *x"), "snake_case_name *x");
    }

    #[test]
    fn a_span_never_contains_its_own_marker() {
        assert_eq!(html("*a *b* c*"), "*a <strong>b</strong> c*");
        assert_eq!(html("**bold**"), "*<strong>bold</strong>*");
        assert_eq!(html("***"), "***");
        assert_eq!(html("*a*b*"), "<strong>a*b</strong>");
    }

    #[test]
    fn crossing_markers_stay_well_formed() {
        assert_eq!(html("*a _b* c_"), "<strong>a _b</strong> c_");
        let out = r("_a *b_ c* ~d");
        assert_eq!(out.html, "<em>a *b</em> c* ~d");
        assert_eq!(out.plain, "a *b c* ~d");
    }

    #[test]
    fn markers_are_inert_inside_urls_and_code() {
        assert_eq!(
            html("<https://x.test/_a_/*b*|*label*>"),
            "<a href=\"https://x.test/_a_/*b*\" rel=\"noopener noreferrer\">\
             <strong>label</strong></a>"
        );
        assert_eq!(
            html("see https://x.test/_a_/~b~/c. now"),
            "see <a href=\"https://x.test/_a_/~b~/c\" rel=\"noopener noreferrer\">\
             https://x.test/_a_/~b~/c</a>. now"
        );
        assert_eq!(
            html("*see https://x.test/a*"),
            "<strong>see <a href=\"https://x.test/a\" rel=\"noopener noreferrer\">\
             https://x.test/a</a></strong>"
        );
        let out = r("`*not bold* _no_ :smile: &lt;b&gt; <@U1>` *yes*");
        assert_eq!(
            out.html,
            "<code>*not bold* _no_ :smile: &lt;b&gt; @Alice</code> <strong>yes</strong>"
        );
        assert_eq!(out.plain, "*not bold* _no_ :smile: <b> @Alice yes");
    }

    #[test]
    fn preformatted_blocks_are_verbatim() {
        let out = r("Try:\n```\nfn x() { a &lt; b &amp;&amp; *c* }\n:smile: _y_\n```\nthanks");
        assert_eq!(
            out.html,
            "Try:<pre>fn x() { a &lt; b &amp;&amp; *c* }\n:smile: _y_</pre>thanks"
        );
        assert_eq!(
            out.plain,
            "Try:\nfn x() { a < b && *c* }\n:smile: _y_\nthanks"
        );
        let inline = r("before ```code here``` after");
        assert_eq!(inline.html, "before<pre>code here</pre>after");
        assert_eq!(inline.plain, "before\ncode here\nafter");
    }

    #[test]
    fn unmatched_fences_and_ticks_are_text() {
        assert_eq!(html("``` open only"), "``` open only");
        assert_eq!(html("a ` b"), "a ` b");
        assert_eq!(html("``````"), "``````");
        assert_eq!(plain("``"), "``");
    }

    #[test]
    fn links() {
        let out = r("<https://example.com/a?b=1&amp;c=2|the doc>");
        assert_eq!(out.plain, "the doc (https://example.com/a?b=1&c=2)");
        assert_eq!(
            out.html,
            "<a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"noopener noreferrer\">the doc</a>"
        );
        let bare = r("<https://example.com>");
        assert_eq!(bare.plain, "https://example.com");
        assert_eq!(
            bare.html,
            "<a href=\"https://example.com\" rel=\"noopener noreferrer\">https://example.com</a>"
        );
        assert_eq!(
            plain("<https://example.com|https://example.com>"),
            "https://example.com"
        );
        assert_eq!(plain("<http://example.com|example.com>"), "example.com");
        let mail = r("<mailto:a@b.test|a@b.test>");
        assert_eq!(mail.plain, "a@b.test");
        assert_eq!(
            mail.html,
            "<a href=\"mailto:a@b.test\" rel=\"noopener noreferrer\">a@b.test</a>"
        );
    }

    #[test]
    fn unsafe_links_are_text() {
        let out = r("<javascript:alert(1)|click me>");
        assert_eq!(out.plain, "click me (javascript:alert(1))");
        assert_eq!(out.html, "click me (javascript:alert(1))");
        assert!(!out.html.contains("<a"));
        assert_eq!(html("<JavaScript:alert(1)>"), "JavaScript:alert(1)");
        assert_eq!(html("<data:text/html,x|y>"), "y (data:text/html,x)");
        assert!(!html("<https://x.test/a b|c>").contains("<a"));
        let sneaky = html("<https://x.test/\"onmouseover=\"alert(1)|x>");
        assert!(sneaky.contains("href=\"https://x.test/&quot;onmouseover=&quot;alert(1)\""));
    }

    #[test]
    fn escaped_markup_stays_escaped() {
        let out = r("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 'q' \"d\"");
        assert_eq!(out.plain, "<script>alert(1)</script> & 'q' \"d\"");
        assert_eq!(
            out.html,
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#39;q&#39; &quot;d&quot;"
        );
        // Decoded once: a user who typed `&lt;` sees `&lt;`.
        assert_eq!(plain("a &amp;lt; b"), "a &lt; b");
        assert_eq!(html("a &amp;lt; b"), "a &amp;lt; b");
        // Raw angle brackets that are not control sequences.
        assert_eq!(r("a < b > c").plain, "a < b > c");
        assert_eq!(html("1 <<>> 2"), "1 &lt;&lt;&gt;&gt; 2");
        assert_eq!(
            html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(plain("x <b> *y* </b>"), "x <b> y </b>");
    }

    #[test]
    fn mentions_resolved_and_unresolved() {
        let out = r("<@U1> <@U2> <@U3|carol> <@U1|old> <#C1> <#C2|random> <#C3> <@W9|@dan>");
        assert_eq!(
            out.plain,
            "@Alice @U2 @carol @Alice #general #random #C3 @dan"
        );
        assert_eq!(out.html, out.plain);
        struct Hostile;
        impl Names for Hostile {
            fn user(&self, _: &str) -> Option<String> {
                Some("<b>Eve</b> *x*".to_owned())
            }
            fn channel(&self, _: &str) -> Option<String> {
                None
            }
        }
        let out = render("<@U1>", &Hostile);
        assert_eq!(out.html, "@&lt;b&gt;Eve&lt;/b&gt; *x*");
        assert_eq!(out.plain, "@<b>Eve</b> *x*");
    }

    #[test]
    fn broadcasts_groups_and_dates() {
        assert_eq!(
            plain("<!here> <!channel> <!everyone> <!here|here>"),
            "@here @channel @everyone @here"
        );
        assert_eq!(
            plain("<!subteam^S1|@support> <!subteam^S2>"),
            "@support @S2"
        );
        assert_eq!(
            plain("<!date^1392734382^{date_short} at {time}|Feb 18, 2014 at 6:39 AM>"),
            "Feb 18, 2014 at 6:39 AM"
        );
        assert_eq!(
            plain("<!date^1392734382^{date_short}>"),
            "2014-02-18 14:39 UTC"
        );
        assert_eq!(plain("<!date^-1^{date}>"), "1969-12-31 23:59 UTC");
        assert_eq!(plain("<!date^x^{date}>"), "x");
        assert_eq!(
            html("<!date^1392734382^{date}^https://x.test/e|Feb 18>"),
            "<a href=\"https://x.test/e\" rel=\"noopener noreferrer\">Feb 18</a>"
        );
        assert_eq!(html("<!date^1^{date}^javascript:x|Jan 1>"), "Jan 1");
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(11_016), (2000, 2, 29));
        assert_eq!(civil_date(19_782), (2024, 2, 29));
        assert_eq!(civil_date(-719_468), (0, 3, 1));
    }

    #[test]
    fn emoji_shortcodes() {
        let out = r(":white_check_mark: done :+1::skin-tone-2: :tada: :not_an_emoji: 10:30:45");
        assert_eq!(
            out.plain,
            "\u{2705} done \u{1F44D} \u{1F389} :not_an_emoji: 10:30:45"
        );
        assert_eq!(out.html, out.plain);
        assert_eq!(plain(":heart:"), "\u{2764}\u{FE0F}");
        assert_eq!(plain(":thumbsup: :-1: :x:"), "\u{1F44D} \u{1F44E} \u{274C}");
        assert_eq!(plain("a :skin-tone-3: b"), "a  b");
        assert_eq!(plain(":custom::skin-tone-4:"), ":custom:");
        assert_eq!(plain("::smile::"), ":\u{1F604}:");
    }

    #[test]
    fn emoji_table_is_sorted_and_large_enough() {
        assert!(EMOJI.len() >= 80);
        assert!(EMOJI.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for name in [
            "smile",
            "+1",
            "thumbsup",
            "-1",
            "heart",
            "tada",
            "fire",
            "eyes",
            "ok_hand",
            "pray",
            "wave",
            "rocket",
            "warning",
            "x",
            "white_check_mark",
            "heavy_check_mark",
            "bug",
            "ticket",
            "question",
            "exclamation",
            "sob",
            "joy",
            "thinking_face",
            "slightly_smiling_face",
        ] {
            assert!(emoji(name).is_some(), "{name}");
        }
    }

    #[test]
    fn quotes_arrive_escaped() {
        let out = r("&gt; quoted *text*\n&gt; second\nafter");
        assert_eq!(
            out.html,
            "<blockquote>quoted <strong>text</strong><br>second</blockquote>after"
        );
        assert_eq!(out.plain, "> quoted text\n> second\nafter");
        let raw = r(">raw quote\n&gt;&gt; nested");
        assert_eq!(
            raw.html,
            "<blockquote>raw quote<br>&gt; nested</blockquote>"
        );
        assert_eq!(raw.plain, "> raw quote\n> > nested");
        let rest = r("intro\n&gt;&gt;&gt; all\nof\n\nthis");
        assert_eq!(
            rest.html,
            "intro<blockquote>all<br>of<br><br>this</blockquote>"
        );
        assert_eq!(rest.plain, "intro\n> all\n> of\n>\n> this");
        assert_eq!(html("a &gt; b"), "a &gt; b");
    }

    #[test]
    fn lists() {
        let out =
            r("Steps:\n\u{2022} one\n\u{2022} *two*\n1. first\n2. second\n- dash\n* star\nend");
        assert_eq!(
            out.html,
            "Steps:<ul><li>one</li><li><strong>two</strong></li></ul>\
             <ol><li>first</li><li>second</li></ol>\
             <ul><li>dash</li><li>star</li></ul>end"
        );
        assert_eq!(
            out.plain,
            "Steps:\n\u{2022} one\n\u{2022} two\n1. first\n2. second\n- dash\n* star\nend"
        );
        assert_eq!(
            html("3. three\n4. four"),
            "<ol start=\"3\"><li>three</li><li>four</li></ol>"
        );
        assert_eq!(
            html("&gt; - in a quote"),
            "<blockquote><ul><li>in a quote</li></ul></blockquote>"
        );
        assert_eq!(html("*bold* line"), "<strong>bold</strong> line");
        assert_eq!(html("2024. A year"), "2024. A year");
        assert_eq!(html("- \nx"), "- <br>x");
    }

    #[test]
    fn line_breaks() {
        let out = r("a\nb\n\nc\r\nd\n");
        assert_eq!(out.html, "a<br>b<br><br>c<br>d");
        assert_eq!(out.plain, "a\nb\n\nc\nd");
        assert_eq!(r("").html, "");
        assert_eq!(r("\n\n").plain, "");
    }

    #[test]
    fn control_characters_are_dropped() {
        let out = r("a\u{0}b\u{7}c\td");
        assert_eq!(out.plain, "abc\td");
        assert_eq!(out.html, "abc\td");
    }

    #[test]
    fn mentioned_ids_in_order_deduplicated() {
        let (users, channels) = mentioned_ids(
            "<@U2> hi <@U1|a> <#C9|x> <@U2> `<@W3>` <#C1> <@bad id> <!here> <https://x> \
             ```<#C9>``` <@U1",
        );
        assert_eq!(users, ["U2", "U1", "W3"]);
        assert_eq!(channels, ["C9", "C1"]);
        assert_eq!(mentioned_ids("<<@U5>>").0, ["U5"]);
    }

    #[test]
    fn pathological_inputs_terminate() {
        let n = 200_000;
        let inputs = [
            "*".repeat(n),
            "<".repeat(n),
            ">".repeat(n),
            "`".repeat(n),
            "_a ".repeat(n / 3) + &"b_ ".repeat(n / 3),
            "*a _b ~c ".repeat(n / 9) + &"x".repeat(10) + &"*".repeat(n / 10),
            "&gt;".repeat(n / 4),
            ":a".repeat(n / 2),
            "<@".repeat(n / 2),
            "http://&lt;".repeat(n / 11),
            "https://x.test/".repeat(n / 15),
            "\n&gt; - ".repeat(n / 8),
            "```a".repeat(n / 4),
            "<!date^".repeat(n / 7),
            ":smile::skin-tone-2:".repeat(n / 20),
        ];
        for input in &inputs {
            let out = render(input, &Directory);
            assert!(out.html.len() >= out.plain.len() / 2);
            assert_well_formed(&out.html);
            let _ = mentioned_ids(input);
        }
    }

    /// xorshift64: enough randomness to shake the parser, no crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    const PARTS: &[&str] = &[
        "*",
        "_",
        "~",
        "`",
        "```",
        "<",
        ">",
        "|",
        "@",
        "#",
        "!",
        "^",
        ":",
        "&",
        "&amp;",
        "&lt;",
        "&gt;",
        "\n",
        " ",
        " ",
        "a",
        "b",
        "U1",
        "C1",
        "http://",
        "https://x.test",
        "javascript:",
        "mailto:",
        "here",
        "subteam^S1",
        "date^1^x",
        "smile",
        "+1",
        "::skin-tone-2:",
        "\u{2022} ",
        "- ",
        "1. ",
        "<script>",
        "&lt;script&gt;",
        "\u{e9}",
        "\u{1F600}",
        "\u{0}",
        "\u{202e}",
        "\u{a0}",
        "\r",
        "\"",
        "'",
        "(",
        ")",
        ".",
    ];

    fn random_text(rng: &mut Rng) -> String {
        let mut text = String::new();
        for _ in 0..rng.below(60) {
            if rng.below(8) == 0 {
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?');
                text.push(c);
            } else {
                text.push_str(PARTS[rng.below(PARTS.len())]);
            }
        }
        text
    }

    #[test]
    fn random_inputs_never_panic_and_stay_well_formed() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..5000 {
            let text = random_text(&mut rng);
            let out = render(&text, &Directory);
            assert_well_formed(&out.html);
            assert!(!out.plain.contains('\u{0}'));
            assert_eq!(render(&text, &Directory), out);
            let _ = mentioned_ids(&text);
        }
    }
}
