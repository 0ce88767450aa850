"""Reading RFC 5322 address lists strictly and in linear time.

The From address decides whose reply this is, so an address Confide cannot read with
certainty is reported as unreadable rather than guessed at: a lenient parser that reads
`"cam@example.org" <x@example.com>`-style tricks differently from the upstream MTA's DMARC check
would let a stranger pass as a room member.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import clean_line, decode_encoded_words

__all__ = ["AddressList", "parse_address_list"]

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-\u00a0-\U0010ffff"
_LOCAL = rf'(?:[{_ATEXT}]+(?:\.[{_ATEXT}]+)*|"(?:[^"\\\n]|\\.){{1,64}}")'
_LABEL_CHAR = r"A-Za-z0-9\u00a0-\U0010ffff"
_LABEL = rf"[{_LABEL_CHAR}](?:[{_LABEL_CHAR}\-]{{0,61}}[{_LABEL_CHAR}])?"
_ADDR_SPEC = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})*")

_WORD = re.compile(r'[^\s()<>",;:]+')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"?', re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True)
class AddressList:
    """Mailboxes read from one or more address headers, and how many entries were unreadable."""

    mailboxes: tuple[tuple[str, str], ...]  # (display name, lowercased addr-spec)
    unreadable: int


@dataclass
class _Token:
    kind: str  # "word", "quoted", "angle", "comment", or a special: "," ";" ":"
    value: str
    spaced: bool  # whitespace or a comment came before it


def _comment_end(value: str, pos: int) -> int:
    """Index after the comment opening at `pos` (nested parentheses, backslash escapes).

    -1 when the comment is never closed.
    """
    depth = 0
    length = len(value)
    while pos < length:
        char = value[pos]
        if char == "\\":
            pos += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return pos + 1
        pos += 1
    return -1


def _tokens(value: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    spaced = False
    length = len(value)
    while pos < length:
        char = value[pos]
        if char.isspace():
            spaced = True
            pos += 1
            continue
        if char == "(":
            end = _comment_end(value, pos)
            if end == -1:  # an unclosed comment makes the mailbox unreadable
                tokens.append(_Token("bad", value[pos:], spaced))
                break
            tokens.append(_Token("comment", value[pos + 1 : end - 1], spaced))
            spaced = True
            pos = end
            continue
        if char == '"':
            quoted = _QUOTED.match(value, pos)
            if quoted is None:  # unreachable: the pattern matches any text opening with a quote
                raise RuntimeError("quoted-string pattern did not match")
            tokens.append(_Token("quoted", _ESCAPE.sub(r"\1", quoted.group(1)), spaced))
            pos = quoted.end()
        elif char == "<":
            close = value.find(">", pos)
            end = length if close == -1 else close
            # An unclosed angle bracket makes the whole mailbox unreadable.
            tokens.append(_Token("angle" if close != -1 else "bad", value[pos + 1 : end], spaced))
            pos = end + 1
        elif char in ",;:":
            tokens.append(_Token(char, char, spaced))
            pos += 1
        else:
            word = _WORD.match(value, pos)
            if word is None:  # a stray ")" or ">"
                tokens.append(_Token("bad", char, spaced))
                pos += 1
            else:
                tokens.append(_Token("word", word.group(), spaced))
                pos = word.end()
        spaced = False
    return tokens


def _valid_addr(addr: str) -> bool:
    return len(addr) <= 254 and _ADDR_SPEC.fullmatch(addr) is not None


def _mailbox(tokens: list[_Token]) -> tuple[str, str] | None:
    """(name, addr) for one mailbox's tokens; ("", "") when there is nothing; None if unreadable."""
    if any(t.kind == "bad" for t in tokens):
        return None
    angles = [t for t in tokens if t.kind == "angle"]
    comments = [t.value for t in tokens if t.kind == "comment"]
    if len(angles) > 1:
        return None
    if angles:
        before = []
        for token in tokens:
            if token.kind == "angle":
                break
            if token.kind in ("word", "quoted"):
                before.append(token.value)
        addr = angles[0].value.strip()
        if addr.startswith("@") and ":" in addr:  # an obsolete source route
            addr = addr.split(":", 1)[1]
        if not addr:
            return ("", "")
        name = " ".join(before) or " ".join(comments)
    else:
        parts = [t for t in tokens if t.kind in ("word", "quoted")]
        if not parts:
            return ("", "")
        # Words separated by spaces are a display name without an address: unreadable.
        if any(t.spaced for t in parts[1:]):
            return None
        addr = "".join(f'"{t.value}"' if t.kind == "quoted" else t.value for t in parts)
        name = " ".join(comments)
    if not _valid_addr(addr):
        return None
    return (clean_line(decode_encoded_words(name)), addr.lower())


def parse_address_list(values: list[str]) -> AddressList:
    """Read every mailbox from the given header values (groups are flattened)."""
    found: list[tuple[str, str]] = []
    unreadable = 0
    for value in values:
        current: list[_Token] = []
        for token in [*_tokens(value), _Token(",", ",", False)]:
            if token.kind == ":":
                current = []  # a group's display name
                continue
            if token.kind in (",", ";"):
                box = _mailbox(current)
                if box is None:
                    unreadable += 1
                elif box[1]:
                    found.append(box)
                current = []
                continue
            current.append(token)
    return AddressList(tuple(found), unreadable)
