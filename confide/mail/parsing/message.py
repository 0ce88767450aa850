"""parse_mail: from the raw bytes of an inbound mail to the reply Confide posts in a room."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .headers import check_raw_size, header_info
from .html import html_to_text
from .limits import DEFAULT_LIMITS, MailLimits, RejectedMail
from .mime import Entity, Walker
from .quotes import strip_quoted
from .rawheaders import normalise_newlines, read_headers
from .text import clean_line, clean_text, decode_bytes, unflow

__all__ = ["ParsedAttachment", "ParsedMail", "parse_mail"]

_BODY_TYPES = ("text/plain", "text/html")
_BODY_TOO_LONG = (
    "The text of your email is too long to read; please reply without quoting the whole "
    "earlier conversation."
)
_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.I
)


@dataclass(frozen=True)
class ParsedAttachment:
    """A file from an inbound mail. `filename` is as declared (decoded), not made safe for disk."""

    filename: str
    content_type: str  # as declared, lowercased, without parameters
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    """An inbound mail reduced to what a room message needs."""

    from_address: str  # the single From addr-spec, lowercased
    from_name: str  # decoded display name, "" if none
    to_addresses: tuple[str, ...]  # lowercased addr-specs from To and Cc
    subject: str
    message_id: str  # with angle brackets, "" if absent
    in_reply_to: str
    references: tuple[str, ...]
    text: str  # the new reply text only; may be "" when there are attachments
    attachments: tuple[ParsedAttachment, ...]
    auto_submitted: bool  # sent by a program: never answer it
    authentication_results: tuple[str, ...] = ()  # raw values, for dmarc_verdict


def parse_mail(
    raw: bytes, *, limits: MailLimits = DEFAULT_LIMITS, envelope_sender: str | None = None
) -> ParsedMail:
    """Parse an inbound mail completely; any input either parses or raises RejectedMail.

    Limits are enforced before the work they protect, in this order: raw size, header section
    size, then parts and nesting depth while the MIME tree is walked, decoded bytes while
    payloads are decoded, HTML size before conversion, and finally the length of the new text.
    A mail with neither new text nor attachments is refused, so an empty reply is answered with
    a bounce instead of an empty room message. `envelope_sender` is as for parse_headers.
    """
    raw = bytes(raw)
    check_raw_size(raw, limits)
    buf = normalise_newlines(raw)
    headers, body_start = read_headers(buf, 0, len(buf), budget=limits.max_header_bytes)
    info = header_info(headers, envelope_sender=envelope_sender)
    walker = Walker(buf, limits)
    root = walker.walk(headers, body_start)

    pieces = [_leaf_text(walker, leaf, limits) for leaf in _body_leaves(walker, root)]
    body = "\n\n".join(piece for piece in pieces if piece.strip())
    if len(body) > limits.max_body_chars:
        raise RejectedMail(_BODY_TOO_LONG, code=552)
    text = strip_quoted(body)
    attachments = tuple(_attachments(walker, root))
    if len(text) > limits.max_text_chars:
        raise RejectedMail(
            f"Your reply is too long: the limit is {limits.max_text_chars:,} characters.",
            code=552,
        )
    if not text and not attachments:
        raise RejectedMail("Your email contained no new text above the quoted message.")
    return ParsedMail(
        from_address=info.from_address,
        from_name=info.from_name,
        to_addresses=info.to_addresses,
        subject=info.subject,
        message_id=info.message_id,
        in_reply_to=info.in_reply_to,
        references=info.references,
        text=text,
        attachments=attachments,
        auto_submitted=info.auto_submitted,
        authentication_results=info.authentication_results,
    )


def _is_body_leaf(entity: Entity) -> bool:
    return (
        not entity.children
        and entity.disposition != "attachment"
        and entity.content_type in _BODY_TYPES
    )


def _body_leaves(walker: Walker, entity: Entity) -> list[Entity]:
    """The text/plain or text/html leaves that make up the message a person wrote.

    In multipart/alternative the plain-text version wins when it has any text, HTML is only
    used without one; multipart/related contributes its root; a forwarded message/rfc822 is
    not part of the reply; in other multiparts (mixed) every inline text part counts, in order.
    """
    if not entity.children:
        return [entity] if _is_body_leaf(entity) else []
    if entity.maintype == "message":
        return []
    if entity.content_type == "multipart/alternative":
        options = [_body_leaves(walker, child) for child in entity.children]
        for option in options:
            plain = bool(option) and all(leaf.content_type == "text/plain" for leaf in option)
            if plain and any(
                walker.buf[leaf.body_start : leaf.body_end].strip() for leaf in option
            ):
                return option
        with_html = (o for o in options if any(leaf.content_type == "text/html" for leaf in o))
        return next(with_html, next((option for option in options if option), []))
    if entity.content_type == "multipart/related":
        start = entity.params.get("start", "")
        root = next((c for c in entity.children if start and c.content_id == start), None)
        return _body_leaves(walker, root or entity.children[0])
    if entity.content_type in ("multipart/signed", "multipart/report"):
        return _body_leaves(walker, entity.children[0])
    leaves: list[Entity] = []
    for child in entity.children:
        leaves.extend(_body_leaves(walker, child))
    return leaves


def _leaf_text(walker: Walker, leaf: Entity, limits: MailLimits) -> str:
    data = walker.payload(leaf)
    charset = leaf.params.get("charset")
    if leaf.content_type == "text/html":
        # Counting "<" and "&" bounds the tags and entities the converter will handle.
        markup = data.count(b"<") + data.count(b"&")
        if len(data) > limits.max_html_chars or markup > limits.max_html_markup:
            raise RejectedMail(
                "The HTML of your email is too large to read; please send it as plain text.",
                code=552,
            )
        if not charset:
            meta = _META_CHARSET.search(data, 0, 4096)
            charset = meta.group(1).decode("ascii") if meta else None
        return html_to_text(clean_text(decode_bytes(data, charset)))
    if len(data) > 4 * limits.max_body_chars:  # no charset has more than 4 bytes a character
        raise RejectedMail(_BODY_TOO_LONG, code=552)
    text = clean_text(decode_bytes(data, charset))
    if len(text) > limits.max_body_chars:
        raise RejectedMail(_BODY_TOO_LONG, code=552)
    if leaf.params.get("format", "").lower() == "flowed":
        text = unflow(text, delsp=leaf.params.get("delsp", "").lower() == "yes")
    return text


def _attachments(walker: Walker, entity: Entity) -> list[ParsedAttachment]:
    """Parts a person attached: declared attachments (of any type, forwarded mails included),
    and inline non-text parts that carry a filename (pasted images, PDFs, voice memos).
    Nothing inside an attached or forwarded message is listed separately.
    """
    found: list[ParsedAttachment] = []
    stack = [entity]
    while stack:
        current = stack.pop()
        inline_file = current.maintype not in ("multipart", "message", "text") and bool(
            current.filename
        )
        if current.maintype != "multipart" and (current.disposition == "attachment" or inline_file):
            found.append(
                ParsedAttachment(
                    filename=clean_line(current.filename),
                    content_type=current.content_type,
                    data=walker.payload(current),
                )
            )
        elif current.maintype == "multipart":
            stack.extend(reversed(current.children))
    return found
