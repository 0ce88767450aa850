"""The inbound SMTP gateway: aiosmtpd, answering each mail with a clear SMTP reply.

RCPT TO is checked against the reply tokens (unknown, expired, revoked, no longer a member, too
many mails: refused there, before any content is sent). DATA is checked by its headers (From,
DMARC, automatic replies) and then stored and queued; only then does the gateway answer 250.
Nothing logged carries a mail's content or a full address.
"""

from __future__ import annotations

import asyncio
import datetime
import logging

from aiosmtpd.smtp import SMTP, Envelope, Session
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from confide.mail.ingest import mail_limits
from confide.mail.models import InboundMail
from confide.mail.parsing import RejectedMail, parse_headers
from confide.mail.services import MailRefused, Recipient, inbound_accept, recipient_resolve

log = logging.getLogger("confide.mail")

# RFC 3463 status codes for the parser's refusals: too big, malformed, policy.
_ENHANCED = {552: "5.3.4", 554: "5.6.0", 550: "5.7.1"}


def _read_and_accept(recipient: Recipient, raw: bytes, now: datetime.datetime) -> InboundMail:
    """Off the event loop: reading up to MAIL_MAX_BYTES of headers is CPU work."""
    header = parse_headers(raw, limits=mail_limits())
    return inbound_accept(recipient=recipient, raw=raw, header=header, now=now)


_resolve = database_sync_to_async(recipient_resolve)
_accept = database_sync_to_async(_read_and_accept)


def masked(address: str) -> str:
    """An address as logs may show it: the domain only."""
    return "…@" + address.rpartition("@")[2][:100] if "@" in address else "…"


class Gateway:
    """aiosmtpd handler. One Confide recipient per mail: a reply goes into exactly one room."""

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if envelope.rcpt_tos:
            return "452 4.5.3 One Confide reply address per email, please."
        try:
            recipient: Recipient = await _resolve(address=address, now=timezone.now())
        except MailRefused as refusal:
            log.info("mail refused at RCPT (%s): %s", refusal.enhanced, masked(address))
            return refusal.smtp
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        envelope.confide_recipient = recipient  # type: ignore[attr-defined]
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        recipient: Recipient | None = getattr(envelope, "confide_recipient", None)
        raw = envelope.original_content or b""
        if recipient is None:  # pragma: no cover - aiosmtpd answers DATA without RCPT itself
            return "503 5.5.1 Name a recipient first."
        if isinstance(raw, str):  # pragma: no cover - the server runs with decode_data=False
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            inbound = await _accept(recipient, raw, timezone.now())
        except RejectedMail as exc:
            log.info("mail refused at DATA: unreadable (%s)", exc.code)
            return f"{exc.code} {_ENHANCED.get(exc.code, '5.6.0')} {exc}"
        except MailRefused as refusal:
            log.info("mail refused at DATA (%s)", refusal.enhanced)
            return refusal.smtp
        return f"250 2.0.0 Accepted as {inbound.pk}: it will appear in your Confide room shortly."


def smtp_factory(hostname: str | None = None) -> SMTP:
    return SMTP(
        Gateway(),
        data_size_limit=settings.MAIL_MAX_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
        hostname=hostname or settings.MAIL_DOMAIN,
        ident="Confide mail gateway",
        timeout=60,
    )


async def serve(host: str, port: int, *, ready: asyncio.Event | None = None) -> None:
    """Run the gateway until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(smtp_factory, host=host, port=port)
    log.info("mail gateway listening on %s:%s", host, port)
    if ready is not None:
        ready.set()
    try:
        await server.serve_forever()
    finally:
        server.close()
        await server.wait_closed()
