"""Turning bytes and header values into clean text: charsets, RFC 2047 and format=flowed."""

from __future__ import annotations

import binascii
import codecs
import re

__all__ = [
    "b64decode_lenient",
    "clean_line",
    "clean_text",
    "decode_bytes",
    "decode_encoded_words",
    "unflow",
]

# Control characters other than tab and newline (C0, DEL and C1). They have no place in a
# message shown in a room and some of them confuse terminals and log viewers.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")

# Labels that mail clients use for "whatever bytes the user typed": decode those as UTF-8,
# which is what almost every client sends today. ISO-8859-1 is read as windows-1252, as web
# browsers do, because Windows clients label cp1252 text (curly quotes, euro sign) that way.
_CHARSET_ALIASES = {
    "": "utf-8",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "x-user-defined": "utf-8",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
}
# Python codecs that are not mail charsets: slow pure-Python transforms, or ones that refuse
# to decode with error replacement.
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "mbcs", "oem"}
)

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NON_B64 = bytes(b for b in range(256) if b not in _B64_ALPHABET)


def _codec_name(charset: str | None) -> str:
    name = (charset or "").strip().strip("\"'").lower()
    if name in _CHARSET_ALIASES:
        return _CHARSET_ALIASES[name]
    if len(name) > 40:
        return "utf-8"
    try:
        found = codecs.lookup(name).name
    except (LookupError, ValueError):
        return "utf-8"
    return "utf-8" if found in _NOT_CHARSETS else found


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode `data` in the declared charset; unknown or unusable charsets fall back to UTF-8.

    Undecodable bytes become U+FFFD: a reply with one broken byte is still worth delivering.
    """
    codec = _codec_name(charset)
    try:
        return data.decode(codec, "replace")
    except (LookupError, UnicodeError):
        # A codec that is not a text encoding (rot13, zlib...) or rejects "replace".
        return data.decode("utf-8", "replace")


def b64decode_lenient(data: bytes) -> bytes:
    """Decode base64 the way mail clients do: ignore stray characters and missing padding."""
    clean = data.translate(None, _NON_B64)
    extra = len(clean) % 4
    if extra == 1:
        clean = clean[:-1]
    elif extra:
        clean += b"=" * (4 - extra)
    return binascii.a2b_base64(clean)


_ENCODED_WORD = re.compile(r"=\?([^?\s]{1,75})\?([qQbB])\?([^?\s]*)\?=")


def _word_bytes(encoding: str, payload: str) -> bytes:
    raw = payload.encode("utf-8", "replace")
    if encoding in "bB":
        return b64decode_lenient(raw)
    return binascii.a2b_qp(raw, header=True)


def decode_encoded_words(value: str) -> str:
    """Decode RFC 2047 encoded words (`=?utf-8?q?...?=`) anywhere in a header value.

    Adjacent words in one charset are joined before decoding because clients split a
    multi-byte character across two words. Linear in the length of `value`, so a header made
    of thousands of encoded words costs no more than its size.
    """
    if "=?" not in value:
        return value
    out: list[str] = []
    pending = bytearray()
    pending_charset: str | None = None
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset = match.group(1).split("*", 1)[0]
        data = _word_bytes(match.group(2), match.group(3))
        adjacent = pending_charset is not None and not gap.strip()
        if adjacent and charset.lower() == pending_charset:
            pending += data
        else:
            if pending_charset is not None:
                out.append(decode_bytes(bytes(pending), pending_charset))
            if not adjacent:
                out.append(gap)
            pending = bytearray(data)
            pending_charset = charset.lower()
        pos = match.end()
    if pending_charset is not None:
        out.append(decode_bytes(bytes(pending), pending_charset))
    out.append(value[pos:])
    return "".join(out)


def clean_text(text: str) -> str:
    """Normalise newlines to "\\n" and drop control characters other than newline and tab."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n\n").replace("\ufeff", "")
    return _CONTROL.sub("", text)


def clean_line(value: str) -> str:
    """A header value for display: one line, no control characters, single spaces."""
    value = _ANY_CONTROL.sub(" ", value)
    return _SPACES.sub(" ", value).strip()


_SPACE_STUFFED = re.compile(r"^ ", re.MULTILINE)
# A flowed line ends in a space; it joins the next line unless either is quoted or it is the
# signature separator "-- ". Quoted lines are never joined to unquoted ones, so stripping
# quotes later cannot take the person's own words with it.
_SOFT_BREAK = re.compile(r"^(?!>)(?!-- \n)([^\n]*) \n(?![>\n])", re.MULTILINE)


def unflow(text: str, *, delsp: bool) -> str:
    """Undo RFC 3676 format=flowed wrapping so paragraphs arrive as single lines."""
    text = _SPACE_STUFFED.sub("", text)
    return _SOFT_BREAK.sub(r"\1" if delsp else r"\1 ", text)
