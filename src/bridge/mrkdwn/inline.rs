//! Pass 3 of [`super::render`]: one line lexed into text, atoms (code spans, links,
//! mentions, emoji) and style markers (`*`, `_`, `~`), then the markers paired on a
//! delimiter stack so the emitted tags always nest; a marker left unpaired stays text.

use super::Names;
use super::angle::{angle_body, angle_nodes, code_text, decode, entity, safe_url, strip_prefix_ci};
use super::emoji::{emoji, is_emoji_byte, is_skin_tone, skin_tone_suffix};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Style {
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

    pub(super) fn tag(self) -> &'static str {
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
pub(super) enum Node {
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
pub(super) fn inline(line: &str, names: &dyn Names, links: bool) -> Vec<Node> {
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
