"""HTML mail to plain text, with the quoted earlier messages left out.

Confide tokenises HTML itself instead of using `html.parser`: on Python 3.11 that parser takes
quadratic time on inputs such as a long run of `</` or `<![CDATA[`, which anyone can mail us.
This tokenizer only moves forward: every `find` result is reused until the position passes it,
so the work is linear in the length of the HTML. It reads HTML well enough to extract text,
not to render it.
"""

from __future__ import annotations

import html as html_lib
import re

__all__ = ["html_to_text"]

_TAG_OPEN = re.compile(r"<[a-zA-Z/!?]")
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9:-]*")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s>]+))?""")
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANK_RUNS = re.compile(r"\n{3,}")

# Content that is never text a person wrote in this reply.
_RAW_TEXT = frozenset({"script", "style", "title", "textarea", "xmp", "noscript", "template"})
_SKIPPED_TAGS = frozenset({"head", "blockquote", "svg", "math", "object"})
# Quote and signature containers of Gmail, Thunderbird, Yahoo and others.
_SKIPPED_CLASSES = (
    "gmail_quote",
    "gmail_signature",
    "gmail_signature_prefix",
    "moz-cite-prefix",
    "moz-signature",
    "yahoo_quoted",
    "protonmail_quote",
    "zmail_extra",
)
# Outlook puts the quoted message after (not inside) these; everything from them on is quote.
_STOP_IDS = frozenset({"divrplyfwdmsg", "mail-editor-reference-message-container", "appendonsend"})
_STOP_CLASSES = frozenset({"outlookmessageheader"})
_VOID = frozenset(
    {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"}
)
_BLOCK = frozenset(
    {
        "address", "article", "aside", "body", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "header", "html", "main", "nav", "section",
        "table", "tbody", "thead", "tfoot", "tr", "caption",
    }
)  # fmt: skip
_PARAGRAPH = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "ul", "ol"})


class _Find:
    """`text.find(needle, pos)` for ever-increasing `pos`, each search done at most once."""

    def __init__(self, text: str, needle: str) -> None:
        self.text = text
        self.needle = needle
        self.found = -2  # not searched yet

    def __call__(self, pos: int) -> int:
        if self.found == -1 or self.found >= pos:
            return self.found
        self.found = self.text.find(self.needle, pos)
        return self.found


class _Converter:
    def __init__(self, source: str) -> None:
        self.source = source
        self.lower = source.lower()
        self.out: list[str] = []
        self.line_start = True
        self.after_bullet = False
        self.newlines = 2
        self.pre = 0
        self.lists = 0
        self.links: list[tuple[str, int]] = []
        self.skip_tag = ""
        self.skip_depth = 0
        self.stopped = False
        self.finders: dict[str, _Find] = {}

    def find(self, needle: str, pos: int) -> int:
        finder = self.finders.get(needle)
        if finder is None:
            finder = self.finders[needle] = _Find(self.lower, needle)
        return finder(pos)

    # -- output ---------------------------------------------------------------------------
    def text(self, raw: str) -> None:
        if self.skip_depth or self.stopped:
            return
        data = html_lib.unescape(raw)
        # A paragraph holding only a no-break space is how Outlook writes an empty line.
        kept_blank = "\xa0" in data and not data.strip()
        data = data.replace("\xa0", " ")
        if self.pre:
            for index, line in enumerate(data.split("\n")):
                if index:
                    self.newline()
                if line:
                    self.emit(line)
            return
        data = _WHITESPACE.sub(" ", data)
        if self.line_start or self.after_bullet:
            data = data.lstrip(" ")
        if data or kept_blank:
            self.emit(data or " ")

    def emit(self, data: str) -> None:
        self.out.append(data)
        self.line_start = False
        self.after_bullet = False
        self.newlines = 0

    def newline(self) -> None:
        self.out.append("\n")
        self.line_start = True
        self.after_bullet = False
        self.newlines += 1

    def block(self) -> None:
        if not self.line_start:
            self.newline()

    def paragraph(self) -> None:
        self.block()
        if self.newlines < 2:
            self.newline()

    # -- tags -----------------------------------------------------------------------------
    def start(self, name: str, attributes: str) -> None:
        if self.stopped:
            return
        if name == "body" and self.skip_tag == "head":
            self.skip_depth = 0  # browsers end an unclosed head at <body>
        if self.skip_depth:
            if name == self.skip_tag:
                self.skip_depth += 1
            return
        attrs = _attributes(attributes) if name in ("div", "span", "a", "p", "table") else {}
        classes = attrs.get("class", "").lower().split()
        if attrs.get("id", "").lower() in _STOP_IDS or _STOP_CLASSES.intersection(classes):
            self.stopped = True
            return
        if name in _SKIPPED_TAGS or any(c.startswith(_SKIPPED_CLASSES) for c in classes):
            if name not in _VOID:
                self.skip_tag = name
                self.skip_depth = 1
            return
        if name == "br":
            self.newline()
        elif name == "li":
            self.block()
            # Indentation is capped: a thousand nested lists must not cost a million spaces.
            self.emit("  " * min(max(self.lists - 1, 0), 4) + "- ")
            self.after_bullet = True
        elif name == "p" and "msonormal" in classes:
            self.block()  # Outlook writes every line as its own MsoNormal paragraph
        elif name in _PARAGRAPH:
            self.paragraph()
        elif name in _BLOCK or name == "hr":
            self.block()
        elif name in ("td", "th") and not self.line_start:
            self.emit(" ")
        if name in ("ul", "ol"):
            self.lists += 1
        elif name == "pre":
            self.pre += 1
        elif name == "a":
            self.close_link()
            self.links.append((attrs.get("href", "").strip(), len(self.out)))

    def end(self, name: str) -> None:
        if self.stopped:
            return
        if self.skip_depth:
            if name == self.skip_tag:
                self.skip_depth -= 1
            return
        if name == "a":
            self.close_link()
        elif name in ("ul", "ol"):
            self.lists = max(self.lists - 1, 0)
            self.paragraph()
        elif name == "pre":
            self.pre = max(self.pre - 1, 0)
            self.paragraph()
        elif name == "p" or name in _BLOCK or name == "li":
            self.block()
        elif name in _PARAGRAPH:
            self.paragraph()

    def close_link(self) -> None:
        if not self.links:
            return
        href, start = self.links.pop()
        label = "".join(self.out[start:]).strip()
        if not label or not href.lower().startswith(("http://", "https://", "mailto:")):
            return
        shown = href[7:] if href.lower().startswith("mailto:") else href
        if shown.rstrip("/") != label.rstrip("/"):
            self.emit(f" ({href})")

    # -- tokenizer ------------------------------------------------------------------------
    def run(self) -> str:
        source = self.source
        length = len(source)
        pos = 0
        while pos < length and not self.stopped:
            opening = _TAG_OPEN.search(source, pos)
            if opening is None:
                self.text(source[pos:])
                break
            lt = opening.start()
            if lt > pos:
                self.text(source[pos:lt])
            pos = self.tag(lt, length)
        return self.result()

    def tag(self, lt: int, length: int) -> int:
        """Handle the markup that starts at `lt`; return where the text after it starts."""
        source = self.source
        if source.startswith("<!--", lt):
            close = self.find("-->", lt + 4)
            return length if close == -1 else close + 3
        if source[lt + 1] in "!?":
            close = self.find(">", lt)
            return length if close == -1 else close + 1
        closing = source[lt + 1] == "/"
        name_match = _TAG_NAME.match(source, lt + 2 if closing else lt + 1)
        close = self.find(">", lt)
        after = length if close == -1 else close + 1
        if name_match is None:
            # "</ x>" and the like are bogus comments to browsers: dropped.
            return after
        name = name_match.group().lower()
        if closing:
            self.end(name)
            return after
        if close == -1:
            return length  # an unterminated tag at the end is dropped
        self.start(name, source[name_match.end() : close])
        if name in _RAW_TEXT and source[close - 1] != "/":
            end_tag = self.find("</" + name, after)
            if end_tag == -1:
                return length
            end_close = self.find(">", end_tag)
            return length if end_close == -1 else end_close + 1
        return after

    def result(self) -> str:
        text = "".join(self.out)
        text = _TRAILING_SPACE.sub("", text)
        return _BLANK_RUNS.sub("\n\n", text).strip("\n")


def _attributes(raw: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(raw):
        value = match.group(2) or ""
        if value[:1] in ("'", '"'):
            value = value[1:-1]
        found.setdefault(match.group(1).lower(), html_lib.unescape(value))
    return found


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML mail body, without quoted replies.

    Keeps paragraphs and line breaks, writes list items as "- ", shows a link as
    "text (url)" when the text is not already the address, and unescapes entities. Drops
    script, style and head; every <blockquote> (the quote in Apple Mail, Thunderbird and most
    others); Gmail's div.gmail_quote; Thunderbird's div.moz-cite-prefix; and everything from
    Outlook's #divRplyFwdMsg reply header on. Outlook desktop's "From: … Sent: …" block stays
    as text for strip_quoted to remove. Runs in time linear in len(html).
    """
    return _Converter(html).run()
