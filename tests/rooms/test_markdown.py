"""The safe Markdown subset for therapy messages: confide.rooms.markdown."""

from __future__ import annotations

import time
from html.parser import HTMLParser

import pytest
from django.utils.html import escape
from django.utils.safestring import SafeString
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from confide.rooms.markdown import MAX_INPUT_CHARS, plain_text, render_markdown

REL = "noopener noreferrer nofollow"
ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
VOID_TAGS = {"br"}


def anchor(href: str, label: str | None = None) -> str:
    """The exact HTML of a link; *href* and *label* are given already escaped."""
    return f'<a href="{href}" rel="{REL}" target="_blank">{href if label is None else label}</a>'


def literal(source: str) -> str:
    """How a one-line source that must not be interpreted at all is rendered."""
    return f"<p>{escape(source)}</p>"


class StructureChecker(HTMLParser):
    """Records every problem that would make the output unsafe or ill-formed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open_tags: list[str] = []
        self.problems: list[str] = []
        self.anchors: list[dict[str, str | None]] = []
        self.tags_seen: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags_seen.append(tag)
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}> is not allowed")
        if tag == "a":
            attributes = dict(attrs)
            self.anchors.append(attributes)
            href = attributes.get("href") or ""
            if not href.startswith(("http://", "https://")):
                self.problems.append(f"<a> with href {href!r}")
            if attributes.get("rel") != REL:
                self.problems.append(f"<a> with rel {attributes.get('rel')!r}")
            if set(attributes) != {"href", "rel", "target"}:
                self.problems.append(f"<a> with attributes {sorted(attributes)}")
            if "a" in self.open_tags:
                self.problems.append("nested <a>")
        elif tag == "ol":
            if any(name != "start" for name, _ in attrs):
                self.problems.append(f"<ol> with attributes {attrs}")
        elif attrs:
            self.problems.append(f"<{tag}> with attributes {attrs}")
        if tag not in VOID_TAGS:
            self.open_tags.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.problems.append(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.open_tags or self.open_tags[-1] != tag:
            self.problems.append(f"</{tag}> while open: {self.open_tags}")
        else:
            self.open_tags.pop()

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"comment {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"declaration {decl!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"processing instruction {data!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"unknown declaration {data!r}")


def check_structure(html: str) -> StructureChecker:
    checker = StructureChecker()
    checker.feed(html)
    checker.close()
    assert checker.problems == []
    assert checker.open_tags == [], f"never closed: {checker.open_tags}"
    return checker


def render(text: str) -> str:
    html = render_markdown(text)
    check_structure(html)
    return str(html)


# --- Emphasis ------------------------------------------------------------------------------------


def test_it_returns_a_safe_string() -> None:
    assert isinstance(render_markdown("hello"), SafeString)
    assert isinstance(render_markdown(""), SafeString)


def test_it_renders_plain_text_as_one_paragraph() -> None:
    assert render("How are you today?") == "<p>How are you today?</p>"


def test_it_renders_nothing_for_empty_or_blank_input() -> None:
    assert render("") == ""
    assert render("  \n\n \t \n") == ""


def test_it_renders_bold_with_asterisks_and_underscores() -> None:
    assert render("I **really** mean it") == "<p>I <strong>really</strong> mean it</p>"
    assert render("I __really__ mean it") == "<p>I <strong>really</strong> mean it</p>"


def test_it_renders_italic_with_asterisks_and_underscores() -> None:
    assert render("a *gentle* reminder") == "<p>a <em>gentle</em> reminder</p>"
    assert render("a _gentle_ reminder") == "<p>a <em>gentle</em> reminder</p>"


def test_it_renders_bold_italic_with_three_markers() -> None:
    assert render("***both***") == "<p><em><strong>both</strong></em></p>"


def test_it_nests_italic_inside_bold() -> None:
    assert render("**very *much* so**") == "<p><strong>very <em>much</em> so</strong></p>"


def test_it_renders_emphasis_around_punctuation() -> None:
    assert render("**Note:** rest") == "<p><strong>Note:</strong> rest</p>"
    assert render("(*aside*)") == "<p>(<em>aside</em>)</p>"


def test_it_leaves_underscores_inside_words_alone() -> None:
    assert render("call snake_case_name now") == "<p>call snake_case_name now</p>"
    assert render("a_b and c_d") == "<p>a_b and c_d</p>"
    assert render("_snake_case_") == "<p><em>snake_case</em></p>"


def test_it_leaves_spaced_asterisks_alone() -> None:
    assert render("2 * 3 * 4 = 24") == "<p>2 * 3 * 4 = 24</p>"


def test_it_leaves_long_marker_runs_literal() -> None:
    assert render("****four****") == "<p>****four****</p>"


def test_it_does_not_let_emphasis_span_list_items() -> None:
    assert render("- *a\n- b*") == "<ul><li>*a</li><li>b*</li></ul>"


def test_it_lets_emphasis_span_a_line_break() -> None:
    assert render("**a\nb**") == "<p><strong>a<br>\nb</strong></p>"


# --- Blocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["-", "*", "+"])
def test_it_renders_unordered_lists_with_each_marker(marker: str) -> None:
    source = f"{marker} sleep\n{marker} water\n{marker} a *walk*"
    assert render(source) == "<ul><li>sleep</li><li>water</li><li>a <em>walk</em></li></ul>"


@pytest.mark.parametrize("separator", [".", ")"])
def test_it_renders_ordered_lists_with_each_separator(separator: str) -> None:
    source = f"1{separator} breathe\n2{separator} notice"
    assert render(source) == "<ol><li>breathe</li><li>notice</li></ol>"


def test_it_keeps_the_first_number_of_an_ordered_list() -> None:
    assert render("3. three\n4. four") == '<ol start="3"><li>three</li><li>four</li></ol>'


def test_it_numbers_an_ordered_list_from_its_first_item_only() -> None:
    assert render("1. a\n1. b\n7. c") == "<ol><li>a</li><li>b</li><li>c</li></ol>"


def test_it_starts_a_new_list_when_the_kind_changes() -> None:
    assert render("- a\n1. b") == "<ul><li>a</li></ul>\n<ol><li>b</li></ol>"


def test_it_accepts_indented_list_items_as_one_flat_list() -> None:
    assert render("- a\n  - b") == "<ul><li>a</li><li>b</li></ul>"


@pytest.mark.parametrize(
    "source",
    ["-not a list", "1.5 litres of water", "**bold** start", "*italic* start", "#1 priority"],
)
def test_it_does_not_mistake_text_for_list_items(source: str) -> None:
    assert not render(source).startswith(("<ul>", "<ol"))


def test_it_separates_paragraphs_by_blank_lines() -> None:
    assert render("one\n\ntwo\n\n\n\nthree") == "<p>one</p>\n<p>two</p>\n<p>three</p>"


def test_it_turns_single_newlines_into_line_breaks() -> None:
    assert render("Dear Sam,\nthank you.") == "<p>Dear Sam,<br>\nthank you.</p>"


def test_it_normalises_windows_and_old_mac_line_endings() -> None:
    assert render("a\r\nb\r\rc") == "<p>a<br>\nb</p>\n<p>c</p>"


def test_it_mixes_lists_and_paragraphs() -> None:
    source = "This week:\n- sleep\n- *walk*\nThen we talk.\n\n1. first\n2. second\n\nBye"
    assert render(source) == (
        "<p>This week:</p>\n"
        "<ul><li>sleep</li><li><em>walk</em></li></ul>\n"
        "<p>Then we talk.</p>\n"
        "<ol><li>first</li><li>second</li></ol>\n"
        "<p>Bye</p>"
    )


def test_it_ends_a_list_at_a_blank_line() -> None:
    assert render("- a\n\n- b") == "<ul><li>a</li></ul>\n<ul><li>b</li></ul>"


# --- Links ---------------------------------------------------------------------------------------


def test_it_renders_a_link() -> None:
    assert render("[our guide](https://example.org/path)") == (
        f"<p>{anchor('https://example.org/path', 'our guide')}</p>"
    )


def test_it_renders_an_http_link() -> None:
    assert render("[a](http://example.org)") == f"<p>{anchor('http://example.org', 'a')}</p>"


def test_it_accepts_any_scheme_case_and_writes_it_in_lower_case() -> None:
    assert render("[a](HTTPS://Example.org)") == f"<p>{anchor('https://Example.org', 'a')}</p>"
    assert render("HtTp://Example.org") == (
        f"<p>{anchor('http://Example.org', 'HtTp://Example.org')}</p>"
    )
    assert plain_text("HtTp://Example.org") == "HtTp://Example.org"


def test_it_escapes_the_href_and_the_label() -> None:
    html = render("[Q&A <b>](https://example.org/?a=1&b=2)")
    assert html == f"<p>{anchor('https://example.org/?a=1&amp;b=2', 'Q&amp;A &lt;b&gt;')}</p>"
    assert check_structure(html).anchors[0]["href"] == "https://example.org/?a=1&b=2"


def test_it_allows_one_level_of_parentheses_in_a_link() -> None:
    url = "https://en.wikipedia.org/wiki/Grief_(emotion)"
    assert render(f"[grief]({url})") == f"<p>{anchor(url, 'grief')}</p>"


def test_it_renders_emphasis_inside_a_link_label() -> None:
    assert render("[**read** this](https://example.org)") == (
        f"<p>{anchor('https://example.org', '<strong>read</strong> this')}</p>"
    )


def test_it_renders_emphasis_around_a_link() -> None:
    assert render("**[x](https://example.org)**") == (
        f"<p><strong>{anchor('https://example.org', 'x')}</strong></p>"
    )


def test_it_does_not_autolink_inside_a_link_label() -> None:
    html = render("[https://a.example](https://b.example)")
    assert html == f"<p>{anchor('https://b.example', 'https://a.example')}</p>"


def test_it_autolinks_bare_urls() -> None:
    assert render("see https://example.org/a/b?c=d#e now") == (
        f"<p>see {anchor('https://example.org/a/b?c=d#e')} now</p>"
    )
    assert render("http://example.org") == f"<p>{anchor('http://example.org')}</p>"


def test_it_leaves_trailing_punctuation_out_of_bare_urls() -> None:
    assert render("Look at https://example.org/x.") == (
        f"<p>Look at {anchor('https://example.org/x')}.</p>"
    )
    assert render("(see https://example.org)") == f"<p>(see {anchor('https://example.org')})</p>"
    assert render("**https://example.org**") == (
        f"<p><strong>{anchor('https://example.org')}</strong></p>"
    )


def test_it_keeps_balanced_parentheses_and_underscores_in_bare_urls() -> None:
    url = "https://en.wikipedia.org/wiki/Grief_(emotion)"
    assert render(f"{url}, really") == f"<p>{anchor(url)}, really</p>"
    assert render("https://x.example/snake_case_path") == (
        f"<p>{anchor('https://x.example/snake_case_path')}</p>"
    )


def test_it_stops_bare_urls_at_quotes_and_angle_brackets() -> None:
    assert render('"https://example.org"') == f"<p>&quot;{anchor('https://example.org')}&quot;</p>"
    assert render("<https://example.org>") == f"<p>&lt;{anchor('https://example.org')}&gt;</p>"


def test_it_does_not_autolink_inside_words_or_without_a_host() -> None:
    assert render("xhttps://example.org") == "<p>xhttps://example.org</p>"
    assert render("https:// and https:///x") == "<p>https:// and https:///x</p>"
    assert render("ftp://example.org") == "<p>ftp://example.org</p>"


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x]( javascript:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](&#x6A;avascript:alert(1))",
        "[x](javascript&colon;alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](mailto:someone@example.org)",
        "[x](ftp://example.org)",
        "[x](/relative/path)",
        "[x](relative/path)",
        "[x](#fragment)",
        "[x](//evil.example/path)",
        "[x](https:evil.example)",
        "[x](https:/evil.example)",
        "[x](https:///evil.example)",
        "[x](https://)",
        "[x](https:\\\\evil.example)",
        "[x](https://example.org/a b)",
        '[x](https://example.org/" onmouseover="alert(1))',
        "[x](https://example.org/'onmouseover='alert(1))",
        "[x](https://example.org/<script>)",
        "[x](https://example.org/>)",
        "[x](https://example.org/\u202egpj.exe)",
        "[x](https://exa\u200bmple.org)",
        "[x](https://example.org/\u2028)",
        "[x](https://example.org/\x07)",
        "[x](https://example.org/`x`)",
        "[](https://example.org)",
        "[ ](https://example.org)",
        "![alt](https://example.org/image.png)",
        "![](https://example.org/image.png)",
        "[x](https://example.org/" + "a" * 2100 + ")",
    ],
)
def test_it_renders_rejected_links_as_literal_text(source: str) -> None:
    html = render(source)
    assert html == literal(source)
    assert "<a" not in html


def test_it_rejects_a_link_title() -> None:
    source = '[x](https://example.org "title")'
    assert render(source) == literal(source)


def test_it_rejects_bare_urls_with_invisible_or_control_characters() -> None:
    for source in [
        "https://example.org/\u202egpj.exe",
        "https://exa\u200bmple.org",
        "https://a\x01b",
    ]:
        assert render(source) == literal(source)


def test_it_does_not_link_a_bracket_that_is_not_followed_by_a_url() -> None:
    assert render("[1] and [x] (https://example.org)") == (
        f"<p>[1] and [x] ({anchor('https://example.org')})</p>"
    )


# --- Hostile input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '"><script>alert(1)</script>',
        "'><svg onload=alert(1)>",
        '<a href="javascript:alert(1)">click</a>',
        "<!-- comment --> <![CDATA[x]]> <?php ?>",
        "</p></li></ul><p>",
        "&lt;script&gt; &#60;script&#62; &amp;",
        "<style>body{display:none}</style>",
    ],
)
def test_it_escapes_raw_html(source: str) -> None:
    html = render(source)
    assert html == literal(source)
    checker = check_structure(html)
    assert checker.tags_seen == ["p"]


def test_it_escapes_html_inside_emphasis_and_lists() -> None:
    assert render("**<script>x</script>**") == (
        "<p><strong>&lt;script&gt;x&lt;/script&gt;</strong></p>"
    )
    assert render("- <img src=x onerror=alert(1)>") == (
        "<ul><li>&lt;img src=x onerror=alert(1)&gt;</li></ul>"
    )


def test_it_never_links_a_bare_javascript_url() -> None:
    assert render("javascript:alert(1)") == "<p>javascript:alert(1)</p>"


def test_it_cannot_break_out_of_an_href() -> None:
    html = render('https://example.org/"><script>alert(1)</script>')
    assert html == (
        f"<p>{anchor('https://example.org/')}&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    )
    html = render("[x](https://example.org/&quot;onmouseover=alert(1))")
    checker = check_structure(html)
    assert checker.anchors == [
        {
            "href": "https://example.org/&quot;onmouseover=alert(1)",
            "rel": REL,
            "target": "_blank",
        }
    ]


def test_it_does_not_decode_entities_into_a_scheme() -> None:
    source = "[x](&#104;ttps://example.org)"
    assert render(source) == literal(source)


def test_it_escapes_ampersands_so_entities_stay_literal() -> None:
    assert render("&#106;avascript:alert(1)") == "<p>&amp;#106;avascript:alert(1)</p>"


@pytest.mark.parametrize(
    "source",
    [
        "# Heading",
        "## Heading",
        "```\nprint('hi')\n```",
        "    indented code",
        "`code`",
        "> quote",
        "| a | b |\n|---|---|\n| 1 | 2 |",
        "---",
        "~~struck~~",
    ],
)
def test_it_shows_unsupported_markdown_literally(source: str) -> None:
    html = render(source)
    assert check_structure(html).tags_seen in (["p"], ["p", "br"], ["p", "br", "br"])
    assert plain_text(source) == "\n".join(line.strip() for line in source.split("\n"))


def test_it_keeps_the_backslashes_of_markdown_escapes() -> None:
    # Backslash escapes are not part of the subset: what was typed is shown.
    assert render("\\*a\\*") == "<p>\\<em>a\\</em></p>"


# --- Malformed markup ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("**bold", "<p>**bold</p>"),
        ("bold**", "<p>bold**</p>"),
        ("*italic", "<p>*italic</p>"),
        ("__a_", "<p>__a_</p>"),
        ("*a **b* c**", "<p><em>a **b</em> c**</p>"),
        ("**a *b** c*", "<p><strong>a *b</strong> c*</p>"),
        ("*a _b* c_", "<p><em>a _b</em> c_</p>"),
        ("**a*", "<p>**a*</p>"),
        ("[x](", "<p>[x](</p>"),
        ("[x]", "<p>[x]</p>"),
        ("[x](https://example.org", "<p>[x](" + anchor("https://example.org") + "</p>"),
        ("[[x]]", "<p>[[x]]</p>"),
        ("](https://example.org)[", "<p>](" + anchor("https://example.org") + ")[</p>"),
    ],
)
def test_it_degrades_malformed_markup_to_literal_text(source: str, expected: str) -> None:
    assert render(source) == expected


def test_it_never_nests_links() -> None:
    html = render("[a [b](https://inner.example)](https://outer.example)")
    checker = check_structure(html)
    assert [a["href"] for a in checker.anchors] == [
        "https://inner.example",
        "https://outer.example",
    ]
    assert html.startswith("<p>[a <a ")


def test_it_closes_every_tag_in_a_messy_message() -> None:
    source = "**a _b [c*](https://x.example) d** e_ *\n- **f\n1) g__\n\n*h"
    html = render(source)
    assert html.count("<strong>") == html.count("</strong>")
    assert html.count("<em>") == html.count("</em>")


# --- Limits and performance ----------------------------------------------------------------------


def test_it_renders_input_at_the_limit_normally() -> None:
    source = "**a**" + "b" * (MAX_INPUT_CHARS - 5)
    assert render(source).startswith("<p><strong>a</strong>bbb")


def test_it_renders_over_long_input_escaped_in_one_paragraph() -> None:
    source = "**a** <b>\n\n- x " + "y" * MAX_INPUT_CHARS
    html = render(source)
    assert html == f"<p>{escape(source)}</p>"
    assert "<strong>" not in html
    assert plain_text(source) == source


@pytest.mark.parametrize(
    "source",
    [
        "*" * 20_000,
        "_" * 20_000,
        "_a" * 10_000,
        "a_" * 10_000,
        "*a" * 10_000,
        "*a " * 6_666,
        "*a *" * 5_000,
        "**a*" * 5_000,
        "_a _" * 5_000,
        "*_" * 5_000 + "_*" * 5_000,
        "[" * 10_000,
        "[" * 20_000,
        "]" * 20_000,
        "[a](" * 5_000,
        "[](" * 6_666,
        "[a](b(" * 3_333,
        "[" + "a" * 19_999,
        "[a](" + "b" * 19_990,
        "https://" * 2_500,
        "https://a " * 2_000,
        "https://a" + ")" * 19_990,
        "https://a" + "." * 19_990,
        "(" * 20_000,
        "- " * 10_000,
        "1. " * 6_666,
        "\n" * 20_000,
        "a\n" * 10_000,
        "- a\n" * 5_000,
        "![](" * 5_000,
        "\u202e" * 20_000,
    ],
    ids=lambda source: f"{source[:12]!r}x{len(source)}",
)
def test_it_renders_pathological_input_quickly(source: str) -> None:
    assert len(source) <= MAX_INPUT_CHARS
    started = time.perf_counter()
    html = render_markdown(source)
    text = plain_text(source)
    elapsed = time.perf_counter() - started
    # Generous bound: this catches catastrophic backtracking (seconds to hours), not jitter.
    assert elapsed < 2.0, f"took {elapsed:.3f}s"
    check_structure(html)
    assert isinstance(text, str)


# --- Plain text ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", ""),
        ("I **really** _mean_ it", "I really mean it"),
        ("***both***", "both"),
        ("snake_case_name", "snake_case_name"),
        ("**unclosed", "**unclosed"),
        ("*a **b* c**", "a **b c**"),
        ("[our guide](https://example.org)", "our guide (https://example.org)"),
        ("[https://example.org](https://example.org)", "https://example.org"),
        ("see https://example.org.", "see https://example.org."),
        ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
        ("![alt](https://example.org/a.png)", "![alt](https://example.org/a.png)"),
        ("<script>alert(1)</script>", "<script>alert(1)</script>"),
        ("a &amp; b", "a &amp; b"),
        ("one\ntwo\n\n\nthree", "one\ntwo\n\nthree"),
        ("a\r\nb", "a\nb"),
        ("* x\n+ *y*", "- x\n- y"),
        ("3) c\n3) d", "3. c\n4. d"),
        ("Intro:\n- a\nOutro", "Intro:\n\n- a\n\nOutro"),
        ("  padded  \n\n", "padded"),
    ],
)
def test_it_strips_markup_for_plain_text(source: str, expected: str) -> None:
    assert plain_text(source) == expected


# --- Properties ----------------------------------------------------------------------------------

MARKDOWN_PIECES = [
    "*",
    "**",
    "***",
    "_",
    "__",
    "[",
    "]",
    "(",
    ")",
    "](",
    "!",
    "https://",
    "http://",
    "https://example.org",
    "HTTPS://x.example/a_(b)",
    "javascript:",
    "//",
    "&#106;",
    "&",
    "<",
    ">",
    '"',
    "'",
    "<script>",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "2) ",
    "#",
    "`",
    "\\",
    "\n",
    "\n\n",
    "\r",
    " ",
    "\t",
    "a",
    "word",
    "snake_case",
    ".",
    ",",
    "\u202e",
    "\u200b",
    "\x00",
    "é",
]

markdownish = st.lists(st.sampled_from(MARKDOWN_PIECES), max_size=60).map("".join)


@given(text=st.one_of(st.text(max_size=300), markdownish))
@hypothesis_settings(max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_always_renders_well_formed_safe_html(text: str) -> None:
    html = render_markdown(text)
    check_structure(html)  # only allowed tags, all closed in order, safe <a> attributes
    plain = plain_text(text)
    assert isinstance(plain, str)


@given(text=st.text(alphabet=st.characters(blacklist_characters="*_[]()<>&\"'`\\!:"), max_size=200))
@hypothesis_settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_it_keeps_text_without_markup_characters_intact(text: str) -> None:
    html = render_markdown(text)
    assert "<strong>" not in html
    assert "<em>" not in html
    assert "<a " not in html
