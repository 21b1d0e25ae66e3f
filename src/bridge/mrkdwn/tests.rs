//! Tests of [`super::render`] and [`super::mentioned_ids`] as a whole: both renderers, on
//! every construct, on pathological and on random inputs.

use super::angle::safe_url;
use super::{Names, Rendered, mentioned_ids, render};

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
    let out = r("Steps:\n\u{2022} one\n\u{2022} *two*\n1. first\n2. second\n- dash\n* star\nend");
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
