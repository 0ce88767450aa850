"""Reading header sections straight from bytes, within a byte budget.

Confide reads headers itself rather than through `email.parser`: the budget is checked line by
line before anything is decoded, a 5 MB line costs one `find`, and the result is plain
(name, value) pairs with no policy objects to surprise a caller.
"""

from __future__ import annotations

import re

from .limits import RejectedMail

__all__ = ["HEADERS_TOO_LARGE", "Headers", "normalise_newlines", "read_headers"]

HEADERS_TOO_LARGE = "The header section of your email is too large."

_FIELD_NAME = re.compile(rb"[!-9;-~]+")

Headers = list[tuple[str, str]]


def normalise_newlines(raw: bytes) -> bytes:
    """CRLF and bare CR become LF, so every later search looks for one kind of line end."""
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def read_headers(buf: bytes, start: int, end: int, *, budget: int) -> tuple[Headers, int]:
    """Parse the header section of the entity at `buf[start:end]`.

    Returns the (lowercased name, unfolded value) pairs and the offset where the body starts.
    The section ends at the first empty line or at the first line that is neither a field nor
    a continuation (that line then starts the body, as in every mail reader). `buf` must have
    LF newlines. Raises RejectedMail (552) once the section passes `budget` bytes.
    """
    headers: list[tuple[str, list[bytes]]] = []
    pos = start
    while pos < end:
        newline = buf.find(b"\n", pos, end)
        line_end = end if newline == -1 else newline
        if line_end + 1 - start > budget:
            raise RejectedMail(HEADERS_TOO_LARGE, code=552)
        if line_end == pos:
            return _finish(headers), line_end + 1
        first = buf[pos]
        if first in b" \t":
            if headers:
                headers[-1][1].append(buf[pos:line_end])
            # A continuation before any field is a defect; it is skipped.
        else:
            colon = buf.find(b":", pos, line_end)
            name = buf[pos:colon].rstrip(b" \t") if colon > pos else b""
            if not name or _FIELD_NAME.fullmatch(name) is None:
                if pos == start and buf.startswith(b"From ", pos):
                    pass  # an mbox envelope line, not a header
                else:
                    return _finish(headers), pos
            else:
                headers.append((name.decode("ascii").lower(), [buf[colon + 1 : line_end]]))
        pos = line_end + 1
    return _finish(headers), end


def _finish(headers: list[tuple[str, list[bytes]]]) -> Headers:
    # Unfolding removes only the line breaks (RFC 5322 2.2.3); 8-bit header bytes are read as
    # UTF-8, which is what clients that send them mean.
    return [(name, b"".join(parts).decode("utf-8", "replace").strip()) for name, parts in headers]
