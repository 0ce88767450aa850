"""How much one inbound mail may cost Confide, and the one error the parser raises."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_LIMITS", "MailLimits", "RejectedMail"]


@dataclass(frozen=True)
class MailLimits:
    """Caps on the work a single inbound mail may cause.

    Mail reaches the parser from the open internet before Confide knows whether the sender may
    post in the room, so every number here bounds the memory or CPU a stranger can make the
    gateway spend. Each limit is checked before the work it protects: the raw size first, then
    the header section, then MIME parts and nesting while walking the tree, then decoded bytes as
    each payload is decoded.
    """

    # A reply with a couple of phone photos fits; larger files belong in the web room.
    max_bytes: int = 10 * 1024 * 1024
    # Real replies have fewer than ten MIME parts; thousands only appear in attacks.
    max_parts: int = 50
    # mixed > alternative > related > part is depth 3; one forwarded message adds two levels.
    max_depth: int = 5
    # Decoding never grows base64 or quoted-printable, but nested messages are decoded again at
    # each level, so the total is bounded separately from the raw size.
    max_decoded_bytes: int = 25 * 1024 * 1024
    # The new text a person wrote, after quotes and signatures are stripped: a long letter.
    max_text_chars: int = 20_000
    # Header sections of real mail are a few kilobytes even after many relays.
    max_header_bytes: int = 64 * 1024
    # The decoded body text before quotes are stripped: a long thread quoted in full fits.
    # Stripping is linear, but a body of megabytes is not a reply and would cost real time.
    max_body_chars: int = 1_000_000
    # HTML is only converted when a mail has no plain-text version. Conversion costs Python
    # work per tag and per entity, so an HTML-only body over either limit is refused.
    max_html_chars: int = 1_000_000
    max_html_markup: int = 50_000


DEFAULT_LIMITS = MailLimits()


class RejectedMail(ValueError):
    """A mail Confide will not accept, with a reason its sender can read.

    `reason` is one plain sentence for an SMTP reply or a bounce email; it never contains the
    mail's content. `code` is the SMTP reply code: 550 for policy or content, 552 for a mail
    over a size or complexity limit, 554 for a malformed mail.
    """

    def __init__(self, reason: str, *, code: int = 550) -> None:
        if code not in (550, 552, 554):
            raise ValueError(f"unsupported SMTP code {code}")
        super().__init__(reason)
        self.reason = reason
        self.code = code

    def __repr__(self) -> str:
        return f"RejectedMail({self.reason!r}, code={self.code})"

    def __reduce__(self) -> tuple[type[RejectedMail], tuple[str], dict[str, object]]:
        # Keeps `code` when the error crosses a process boundary (a parsing worker).
        return (type(self), (self.reason,), {"code": self.code, "reason": self.reason})
