"""The small, safe Markdown subset that therapy messages may use.

Supported: ``**bold**``/``__bold__``, ``*italic*``/``_italic_`` (never inside words such as
``snake_case_name``), bulleted lists (``- ``, ``* ``, ``+ ``), numbered lists (``1. ``, ``2) ``),
paragraphs separated by blank lines, single newlines as ``<br>``, ``[label](https://...)`` links
and bare ``http(s)://`` URLs.

Everything else (raw HTML, headings, code fences, images, tables, backslash escapes) is shown
literally. The renderer never builds HTML from unescaped input: every piece of user text goes
through :func:`django.utils.html.escape`, and tags are only emitted in matched pairs, so the output
is always well-formed. Markup that does not balance stays as the literal characters the person
typed.

Every pass is linear in the input: the regular expressions have no nested quantifiers that can
backtrack, each scan consumes what it looked at, and emphasis is matched with a stack whose
entries are popped at most once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import TypeAlias

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

__all__ = ["MAX_INPUT_CHARS", "MAX_URL_CHARS", "plain_text", "render_markdown"]

MAX_INPUT_CHARS = 20_000
MAX_URL_CHARS = 2_048

LINK_REL = "noopener noreferrer nofollow"

# --- Blocks ---------------------------------------------------------------------------------------

_BULLET_ITEM = re.compile(r"[ \t]*[-*+][ \t]+(?P<body>\S.*)")
_ORDERED_ITEM = re.compile(r"[ \t]*(?P<number>\d{1,9})[.)][ \t]+(?P<body>\S.*)")

# --- Inline ---------------------------------------------------------------------------------------

# Where something other than plain text may start. A bare URL must not follow a letter or digit
# ("xhttps://..." is a word, not a link).
_INLINE_START = re.compile(r"\[|\*+|_+|(?<![^\W_])https?://", re.IGNORECASE)
_INLINE_START_IN_LABEL = re.compile(r"\*+|_+")

# [label](url): no brackets or newlines in the label; the URL may hold one level of balanced
# parentheses (https://en.wikipedia.org/wiki/Foo_(bar)). Possessive quantifiers over character
# classes that exclude the next delimiter keep this linear.
_LINK = re.compile(
    r"\[(?P<label>[^\[\]\n]*+)\]\((?P<url>[^()\n]*+(?:\([^()\n]*+\)[^()\n]*+)?)\)",
)

# A bare URL runs until whitespace or a character that cannot be part of one.
_BARE_URL_RUN = re.compile(r"[^\s<>\"'`\\\[\]]*+")
# Trailing characters that end a sentence rather than a bare URL ("see https://x.org.").
_BARE_URL_TRAILING = frozenset(".,:;!?*_~")

# Only absolute http(s) URLs with a host. No whitespace, quotes, angle brackets, backslashes,
# control, format (bidi overrides, zero-width), private-use or unassigned characters.
_SAFE_URL_START = re.compile(r"https?://[^/?#\\]", re.IGNORECASE)
_FORBIDDEN_URL_CHARS = frozenset("<>\"'`\\")
_FORBIDDEN_URL_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "Zs", "Zl", "Zp"})

_EMPHASIS_TAGS: dict[int, tuple[str, ...]] = {1: ("em",), 2: ("strong",), 3: ("em", "strong")}


@dataclass(slots=True)
class _Text:
    text: str


@dataclass(slots=True)
class _Delimiter:
    """A run of ``*`` or ``_`` that may still open emphasis; literal text unless matched."""

    text: str


@dataclass(frozen=True, slots=True)
class _Tag:
    names: tuple[str, ...]
    closing: bool


@dataclass(frozen=True, slots=True)
class _Link:
    href: str  # what goes in href: the URL with its scheme in lower case
    typed: str  # the URL as typed
    label: list[_Node] | None  # None: a bare URL, shown as typed


_Node: TypeAlias = _Text | _Delimiter | _Tag | _Link


@dataclass(frozen=True, slots=True)
class _Paragraph:
    text: str


@dataclass(slots=True)
class _List:
    ordered: bool
    start: int
    items: list[str] = field(default_factory=list)


_Block: TypeAlias = _Paragraph | _List


# --- Public interface -----------------------------------------------------------------------------


def render_markdown(text: str) -> SafeString:
    """Render *text* as safe, well-formed HTML (only p, br, strong, em, ul, ol, li and a)."""
    if len(text) > MAX_INPUT_CHARS:
        # Too long to interpret: shown escaped, exactly as written.
        return _safe(f"<p>{escape(text)}</p>")
    html = "\n".join(_block_html(block) for block in _parse_blocks(text))
    return _safe(html)


def plain_text(text: str) -> str:
    """*text* with the supported markup removed, for email previews, search and PDFs.

    Emphasis markers disappear, links become ``label (url)``, lists become ``- item`` or
    ``1. item`` lines and paragraphs are separated by one blank line. Anything the renderer would
    show literally stays as written. The result is plain text, not HTML: escape it when needed.
    """
    if len(text) > MAX_INPUT_CHARS:
        return text
    return "\n\n".join(_block_plain(block) for block in _parse_blocks(text))


def _safe(html: str) -> SafeString:
    # Every piece of user text in *html* went through escape(); the only markup is the fixed tags
    # and attributes this module writes itself, always in matched pairs.
    return mark_safe(html)  # noqa: S308


# --- Blocks ---------------------------------------------------------------------------------------


def _parse_blocks(text: str) -> list[_Block]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "\ufffd")
    blocks: list[_Block] = []
    paragraph: list[str] = []
    current_list: _List | None = None

    def end_paragraph() -> None:
        if paragraph:
            blocks.append(_Paragraph("\n".join(paragraph)))
            paragraph.clear()

    for line in text.split("\n"):
        if not line.strip():
            end_paragraph()
            current_list = None
            continue
        bullet = _BULLET_ITEM.fullmatch(line)
        ordered = None if bullet else _ORDERED_ITEM.fullmatch(line)
        item = bullet or ordered
        if item is None:
            current_list = None
            paragraph.append(line.strip())
            continue
        end_paragraph()
        is_ordered = ordered is not None
        if current_list is None or current_list.ordered != is_ordered:
            start = int(ordered["number"]) if ordered is not None else 1
            current_list = _List(ordered=is_ordered, start=start)
            blocks.append(current_list)
        current_list.items.append(item["body"].strip())
    end_paragraph()
    return blocks


def _block_html(block: _Block) -> str:
    if isinstance(block, _Paragraph):
        return f"<p>{_html(_parse_inline(block.text))}</p>"
    items = "".join(f"<li>{_html(_parse_inline(item))}</li>" for item in block.items)
    if not block.ordered:
        return f"<ul>{items}</ul>"
    start = f' start="{block.start}"' if block.start != 1 else ""
    return f"<ol{start}>{items}</ol>"


def _block_plain(block: _Block) -> str:
    if isinstance(block, _Paragraph):
        return _plain(_parse_inline(block.text))
    return "\n".join(
        f"{block.start + index}. {_plain(_parse_inline(item))}"
        if block.ordered
        else f"- {_plain(_parse_inline(item))}"
        for index, item in enumerate(block.items)
    )


# --- Inline ---------------------------------------------------------------------------------------


def _parse_inline(text: str, *, links: bool = True) -> list[_Node]:
    """Split *text* into nodes whose emphasis tags are already matched and properly nested."""
    nodes: list[_Node] = []
    # Delimiter runs that may still open emphasis: (index into nodes, (char, length)).
    openers: list[tuple[int, tuple[str, int]]] = []
    waiting: dict[tuple[str, int], int] = {}
    pattern = _INLINE_START if links else _INLINE_START_IN_LABEL
    pos = 0
    while pos < len(text):
        match = pattern.search(text, pos)
        if match is None:
            _add_text(nodes, text[pos:])
            break
        start, end = match.span()
        _add_text(nodes, text[pos:start])
        found = match.group()
        if found == "[":
            pos = _take_link(text, start, nodes)
        elif found[0] in "*_":
            _take_delimiter(text, start, end, nodes, openers, waiting)
            pos = end
        else:
            pos = _take_bare_url(text, start, end, nodes)
    return nodes


def _add_text(nodes: list[_Node], text: str) -> None:
    if not text:
        return
    last = nodes[-1] if nodes else None
    if isinstance(last, _Text):
        last.text += text
    else:
        nodes.append(_Text(text))


def _take_delimiter(
    text: str,
    start: int,
    end: int,
    nodes: list[_Node],
    openers: list[tuple[int, tuple[str, int]]],
    waiting: dict[tuple[str, int], int],
) -> None:
    """Match a run of ``*`` or ``_`` against the nearest opener of the same character and length.

    Openers above the match are dropped (they stay literal), so tags can never cross; a run that
    closes nothing and cannot open stays literal too. Runs longer than three are always literal.
    """
    run = text[start:end]
    char, length = run[0], len(run)
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    left = not after.isspace() and (
        not _is_punctuation(after) or before.isspace() or _is_punctuation(before)
    )
    right = not before.isspace() and (
        not _is_punctuation(before) or after.isspace() or _is_punctuation(after)
    )
    if char == "*":
        can_open, can_close = left, right
    else:  # "_" only emphasises whole words: never inside snake_case_name.
        can_open = left and (not right or _is_punctuation(before))
        can_close = right and (not left or _is_punctuation(after))
    key = (char, length)
    if length > 3:
        _add_text(nodes, run)
    elif can_close and waiting.get(key):
        while True:
            index, opener_key = openers.pop()
            waiting[opener_key] -= 1
            if opener_key == key:
                break
        names = _EMPHASIS_TAGS[length]
        nodes[index] = _Tag(names, closing=False)
        nodes.append(_Tag(names, closing=True))
    elif can_open:
        openers.append((len(nodes), key))
        waiting[key] = waiting.get(key, 0) + 1
        nodes.append(_Delimiter(run))
    else:
        _add_text(nodes, run)


def _take_link(text: str, start: int, nodes: list[_Node]) -> int:
    match = _LINK.match(text, start)
    if match is None:
        _add_text(nodes, "[")
        return start + 1
    label, url = match["label"], match["url"]
    is_image = start > 0 and text[start - 1] == "!"
    if is_image or not label.strip() or not _is_safe_url(url):
        # Rejected links and images are shown exactly as typed, URL and all.
        _add_text(nodes, match.group())
    else:
        nodes.append(_Link(_href(url), url, _parse_inline(label, links=False)))
    return match.end()


def _take_bare_url(text: str, start: int, scheme_end: int, nodes: list[_Node]) -> int:
    run = _BARE_URL_RUN.match(text, scheme_end)
    run_end = run.end() if run is not None else scheme_end
    # Leave sentence punctuation and an unbalanced closing parenthesis outside the link.
    opening = text.count("(", start, run_end)
    closing = text.count(")", start, run_end)
    end = run_end
    while end > scheme_end:
        last = text[end - 1]
        if last in _BARE_URL_TRAILING:
            end -= 1
        elif last == ")" and closing > opening:
            closing -= 1
            end -= 1
        else:
            break
    url = text[start:end]
    if not _is_safe_url(url):
        # The whole run is consumed either way, which keeps the scan linear.
        _add_text(nodes, text[start:run_end])
        return run_end
    nodes.append(_Link(_href(url), url, None))
    return end


def _href(url: str) -> str:
    """*url* (already checked by _is_safe_url) with its scheme in lower case: HTTPS:// -> https://."""
    scheme, rest = url.split(":", 1)
    return f"{scheme.lower()}:{rest}"


def _is_safe_url(url: str) -> bool:
    return (
        len(url) <= MAX_URL_CHARS
        and _SAFE_URL_START.match(url) is not None
        and not any(_is_forbidden_url_char(char) for char in url)
    )


def _is_forbidden_url_char(char: str) -> bool:
    return (
        char in _FORBIDDEN_URL_CHARS
        or char.isspace()
        or unicodedata.category(char) in _FORBIDDEN_URL_CATEGORIES
    )


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


# --- Output ---------------------------------------------------------------------------------------


def _html(nodes: list[_Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, _Text):
            parts.append(escape(node.text).replace("\n", "<br>\n"))
        elif isinstance(node, _Delimiter):
            parts.append(escape(node.text))
        elif isinstance(node, _Tag):
            if node.closing:
                parts.append("".join(f"</{name}>" for name in reversed(node.names)))
            else:
                parts.append("".join(f"<{name}>" for name in node.names))
        else:
            label = escape(node.typed) if node.label is None else _html(node.label)
            parts.append(
                f'<a href="{escape(node.href)}" rel="{LINK_REL}" target="_blank">{label}</a>'
            )
    return "".join(parts)


def _plain(nodes: list[_Node]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, _Text | _Delimiter):
            parts.append(node.text)
        elif isinstance(node, _Link):
            label = node.typed if node.label is None else _plain(node.label)
            parts.append(label if label == node.typed else f"{label} ({node.href})")
    return "".join(parts)
