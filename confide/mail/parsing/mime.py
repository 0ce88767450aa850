"""Walking a mail's MIME tree over the raw bytes, within the part, depth and size limits.

Confide walks MIME itself instead of building an `email.message` tree: the stdlib parser
creates every part of a 10,000-part mail and re-feeds each line through every nesting level
before any limit could be checked. Here each part is counted (and the mail refused) the moment
its delimiter is found, nesting is refused at the first level too deep, and payloads are only
decoded for the parts Confide keeps, counting decoded bytes as it goes.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_to_bytes

from .limits import MailLimits, RejectedMail
from .rawheaders import HEADERS_TOO_LARGE, Headers, read_headers
from .text import b64decode_lenient, decode_bytes, decode_encoded_words

__all__ = ["Entity", "Walker", "parse_params"]

# Python's own recursion limit must never be what stops a deep mail.
_HARD_MAX_DEPTH = 100

_CONTENT_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
_PARAM_SEGMENT = re.compile(r'(?:[^;"]|"(?:[^"\\]|\\.)*"?)+', re.DOTALL)
_SECTION = re.compile(r"(.+)\*([0-9]{1,3})")
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


def parse_params(value: str) -> tuple[str, dict[str, str]]:
    """Split `type/subtype; name=value; ...` into the lowercased first item and its parameters.

    RFC 2231 continuations (`name*0*=`, `name*1*=`) and charset-tagged values are joined and
    decoded; RFC 2047 encoded words inside plain values (common in filenames) are decoded too.
    """
    segments = _PARAM_SEGMENT.findall(value)
    if not segments:
        return "", {}
    plain: dict[str, str] = {}
    extended: dict[str, list[tuple[int, bool, str]]] = {}
    for segment in segments[1:]:
        name, equals, raw_value = segment.partition("=")
        name = name.strip().lower()
        if not equals or not name:
            continue
        raw_value = raw_value.strip()
        if raw_value.startswith('"'):
            raw_value = _ESCAPE.sub(r"\1", raw_value[1:].removesuffix('"'))
        encoded = name.endswith("*")
        if encoded:
            name = name[:-1]
        section = _SECTION.fullmatch(name)
        if section is not None:
            extended.setdefault(section.group(1), []).append(
                (int(section.group(2)), encoded, raw_value)
            )
        elif encoded:
            extended.setdefault(name, []).append((0, True, raw_value))
        else:
            plain.setdefault(name, decode_encoded_words(raw_value))
    params = dict(plain)
    for name, pieces in extended.items():
        params[name] = _join_rfc2231(sorted(pieces, key=lambda piece: piece[0]))
    return segments[0].strip().lower(), params


def _join_rfc2231(pieces: list[tuple[int, bool, str]]) -> str:
    charset = "utf-8"
    data = bytearray()
    for index, (_, encoded, text) in enumerate(pieces):
        if encoded:
            if index == 0 and text.count("'") >= 2:
                charset, _, text = text.split("'", 2)
            data += unquote_to_bytes(text)
        else:
            data += text.encode("utf-8", "replace")
    return decode_bytes(bytes(data), charset or "utf-8")


@dataclass
class Entity:
    """One MIME entity: its declared type and where its body lies in the mail's buffer."""

    content_type: str
    params: dict[str, str]
    disposition: str  # "", "inline", "attachment"
    filename: str
    transfer_encoding: str
    content_id: str
    body_start: int
    body_end: int
    depth: int
    children: list[Entity] = field(default_factory=list)

    @property
    def maintype(self) -> str:
        return self.content_type.split("/", 1)[0]


def _field(headers: Headers, name: str) -> str:
    for key, value in headers:
        if key == name:
            return value
    return ""


class Walker:
    """Builds the entity tree of one mail and keeps its budgets.

    `buf` must have LF newlines. One Walker serves one mail: its counters are the mail's totals.
    """

    def __init__(self, buf: bytes, limits: MailLimits) -> None:
        self.buf = buf
        self.limits = limits
        self.parts = 0
        self.decoded = 0
        self.part_header_budget = limits.max_header_bytes
        self.max_depth = min(limits.max_depth, _HARD_MAX_DEPTH)

    def walk(self, headers: Headers, body_start: int) -> Entity:
        """The tree of the whole mail, given its already-read top-level header section."""
        return self._entity(headers, body_start, len(self.buf), 0, "")

    def _count_part(self, depth: int) -> None:
        self.parts += 1
        if self.parts > self.limits.max_parts:
            raise RejectedMail(
                "Your email has too many parts or attachments: "
                f"the limit is {self.limits.max_parts}.",
                code=552,
            )
        if depth > self.max_depth:
            raise RejectedMail(
                "Your email is nested too deeply, for example forwarded messages inside "
                "forwarded messages; please send your reply on its own.",
                code=552,
            )

    def _child(self, start: int, end: int, depth: int, parent_type: str) -> Entity:
        self._count_part(depth)
        budget = self.part_header_budget
        headers, body_start = read_headers(self.buf, start, end, budget=budget)
        used = body_start - start
        self.part_header_budget -= used
        if self.part_header_budget < 0:
            raise RejectedMail(HEADERS_TOO_LARGE, code=552)
        return self._entity(headers, body_start, end, depth, parent_type)

    def _entity(
        self, headers: Headers, body_start: int, end: int, depth: int, parent_type: str
    ) -> Entity:
        if depth == 0:
            self._count_part(0)
        declared, params = parse_params(_field(headers, "content-type"))
        if _CONTENT_TYPE.fullmatch(declared) is None:
            # RFC 2046 defaults; a part of a digest is a message unless it says otherwise.
            declared = "message/rfc822" if parent_type == "multipart/digest" else "text/plain"
            params = {k: v for k, v in params.items() if k == "charset"}
        disposition, disposition_params = parse_params(_field(headers, "content-disposition"))
        if disposition and disposition != "inline":
            disposition = "attachment"  # RFC 2183: unknown dispositions are attachments
        boundary = params.get("boundary", "")
        if declared.startswith("multipart/") and not (0 < len(boundary) <= 200):
            declared = "text/plain"  # a multipart without a usable boundary is read as text
        filename = disposition_params.get("filename") or params.get("name", "")
        entity = Entity(
            content_type=declared,
            params=params,
            disposition=disposition,
            filename=filename,
            transfer_encoding=_field(headers, "content-transfer-encoding").strip().lower(),
            content_id=_field(headers, "content-id").strip(),
            body_start=min(body_start, end),
            body_end=end,
            depth=depth,
        )
        if declared.startswith("multipart/"):
            for start, part_end in self._delimited(entity.body_start, end, boundary):
                entity.children.append(self._child(start, part_end, depth + 1, declared))
        elif declared in ("message/rfc822", "message/global") and entity.transfer_encoding in (
            "",
            "7bit",
            "8bit",
            "binary",
        ):
            entity.children.append(self._child(entity.body_start, end, depth + 1, declared))
        return entity

    def _delimited(self, start: int, end: int, boundary: str) -> Iterator[tuple[int, int]]:
        """(start, end) of each body part between `--boundary` lines, found lazily.

        The newline before a delimiter belongs to it (RFC 2046 5.1.1). A body region always
        follows a newline, so searching from one byte earlier also finds a delimiter that opens
        the body. Without a closing delimiter the last part runs to the end, as mail readers do.
        """
        token = boundary.encode("utf-8", "replace")
        delimiter = re.compile(b"\n--" + re.escape(token) + rb"(--)?[ \t]*(?=\n|\Z)")
        part_start = -1
        for match in delimiter.finditer(self.buf, max(start - 1, 0), end):
            if part_start >= 0:
                yield part_start, match.start()
            if match.group(1):
                return
            part_start = min(match.end() + 1, end)
        if 0 <= part_start < end:
            yield part_start, end

    def payload(self, entity: Entity) -> bytes:
        """The decoded body of a leaf entity, counted against the decoded-size budget."""
        body = self.buf[entity.body_start : entity.body_end]
        encoding = entity.transfer_encoding
        if encoding == "base64":
            data = b64decode_lenient(body)
        elif encoding == "quoted-printable":
            try:
                data = binascii.a2b_qp(body)
            except binascii.Error:
                raise RejectedMail("A part of your email could not be decoded.", code=554) from None
        else:
            data = body
        self.decoded += len(data)
        if self.decoded > self.limits.max_decoded_bytes:
            raise RejectedMail("The attachments in your email are too large in total.", code=552)
        return data
