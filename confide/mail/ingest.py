"""Posting an accepted mail into its room, through the same service as the web.

Runs in a task. Each part becomes a message with an idempotent client id derived from the mail's
Message-ID, so a mail that is delivered twice, or a task that runs again after a crash, posts
nothing twice. The sender always hears back: a short confirmation, or a returned-mail notice with
the reason. Neither carries anything they wrote.
"""

from __future__ import annotations

import datetime
import logging
import uuid

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from confide import crypto
from confide.audit.services import audit_record
from confide.errors import DomainError, InvalidInput, NotFound
from confide.mail.models import InboundMail, InboundStatus
from confide.mail.outbound import deliver, notice_email
from confide.mail.parsing import MailLimits, ParsedMail, RejectedMail
from confide.mail.sandbox import parse_within
from confide.mail.services import inbound_raw_context
from confide.rooms.models import Room
from confide.rooms.services import Upload, message_send

log = logging.getLogger("confide.mail")

# Client ids of posted mail parts live in their own namespace, apart from browsers' uuid4s.
_NAMESPACE = uuid.UUID("6c1b3c9e-3f57-4c55-9a54-2b0f8f1d7a10")


def mail_limits() -> MailLimits:
    return MailLimits(max_bytes=settings.MAIL_MAX_BYTES)


def _client_id(inbound: InboundMail, parsed: ParsedMail, part: str) -> uuid.UUID:
    source = parsed.message_id or f"inbound-{inbound.pk}"
    return uuid.uuid5(_NAMESPACE, f"{inbound.user_id}:{inbound.room_id}:{source}:{part}")


def inbound_post(*, inbound_id: int, now: datetime.datetime | None = None) -> InboundMail | None:
    """Post a queued mail into its room, or return it to the sender with the reason.

    The messages, the mail's new status, the audit row and the confirmation commit together.
    """
    moment = now or timezone.now()
    inbound = InboundMail.objects.select_related("user").filter(pk=inbound_id).first()
    if inbound is None or inbound.status != InboundStatus.QUEUED:
        return inbound
    raw = crypto.decrypt(inbound.raw, context=inbound_raw_context(inbound.pk))
    try:
        parsed = parse_within(raw, limits=mail_limits(), seconds=settings.MAIL_PARSE_SECONDS)
    except RejectedMail as exc:
        return _bounce(inbound, str(exc), moment)
    user = inbound.user
    if parsed.from_address != user.email.lower():
        return _bounce(inbound, "Your email came from an address Confide did not write to.", moment)
    try:
        with transaction.atomic():
            posted, not_kept = _post(inbound, parsed)
            _posted(inbound, posted, not_kept, moment)
    except NotFound:
        # message_send checks membership (and an active account) itself.
        return _bounce(
            inbound, "You are no longer part of this room, so your email was not posted.", moment
        )
    except _NothingKept as nothing:
        return _bounce(inbound, nothing.reason, moment)
    except DomainError as exc:
        return _bounce(inbound, exc.message, moment)
    log.info("mail posted: inbound %s, %d message(s)", inbound.pk, len(posted))
    inbound.status = InboundStatus.POSTED
    return inbound


class _NothingKept(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _post(inbound: InboundMail, parsed: ParsedMail) -> tuple[list[int], list[str]]:
    """Send the text and each attachment; (sequence numbers posted, attachments not kept)."""
    room = Room(pk=inbound.room_id)
    posted: list[int] = []
    not_kept: list[str] = []
    if parsed.text:
        result = message_send(
            actor=inbound.user,
            room=room,
            body=parsed.text,
            client_id=_client_id(inbound, parsed, "text"),
        )
        posted.append(result.message.seq)
    for index, attachment in enumerate(parsed.attachments):
        name = attachment.filename or f"attachment {index + 1}"
        try:
            result = message_send(
                actor=inbound.user,
                room=room,
                body="",
                client_id=_client_id(inbound, parsed, f"attachment-{index}"),
                upload=Upload(data=attachment.data, name=attachment.filename),
            )
        except InvalidInput as exc:
            not_kept.append(f"{name}: {exc.message}")
            continue
        posted.append(result.message.seq)
    if not posted:
        reason = "Confide found no text in your email to post."
        if not_kept:
            reason = "None of your email's attachments could be kept: " + "; ".join(not_kept)
        raise _NothingKept(reason)
    return posted, not_kept


def _posted(
    inbound: InboundMail, posted: list[int], not_kept: list[str], now: datetime.datetime
) -> None:
    """Inside the posting transaction: mark the mail posted, erase it, confirm to the sender."""
    user = inbound.user
    InboundMail.objects.filter(pk=inbound.pk).update(
        status=InboundStatus.POSTED, raw=b"", processed_at=now, first_seq=min(posted)
    )
    audit_record(
        actor=user,
        action="mail.posted",
        object_type="room",
        object_id=inbound.room_id,
        detail={"inbound": inbound.pk, "messages": len(posted), "not_kept": len(not_kept)},
    )
    email = notice_email(
        to=user.email,
        subject="Your email is in your Confide room",
        template="posted",
        context={
            "user": user,
            "room_url": settings.SITE_URL + reverse("room", args=[inbound.room_id]),
            "posted": len(posted),
            "not_kept": not_kept,
        },
    )
    transaction.on_commit(lambda: deliver([email]))


def _bounce(inbound: InboundMail, reason: str, now: datetime.datetime) -> InboundMail:
    """Return the mail: record why, erase it, and tell the person (at their account address)."""
    with transaction.atomic():
        InboundMail.objects.filter(pk=inbound.pk).update(
            status=InboundStatus.BOUNCED, raw=b"", processed_at=now, reason=reason[:300]
        )
        audit_record(
            actor=inbound.user,
            action="mail.returned",
            object_type="room",
            object_id=inbound.room_id,
            detail={"inbound": inbound.pk},
        )
        email = notice_email(
            to=inbound.user.email,
            subject="Your email could not be posted on Confide",
            template="returned",
            context={
                "user": inbound.user,
                "reason": reason,
                "room_url": settings.SITE_URL + reverse("room", args=[inbound.room_id]),
            },
        )
        transaction.on_commit(lambda: deliver([email]))
    log.info("mail returned: inbound %s", inbound.pk)
    inbound.status = InboundStatus.BOUNCED
    inbound.reason = reason
    return inbound


def inbound_requeue_stale(*, now: datetime.datetime, older_than_seconds: int = 300) -> int:
    """Queue again the mails still waiting after a crash; posting is idempotent."""
    from confide.mail.tasks import ingest

    stale = list(
        InboundMail.objects.filter(
            status=InboundStatus.QUEUED,
            received_at__lt=now - datetime.timedelta(seconds=older_than_seconds),
        ).values_list("pk", flat=True)
    )
    for inbound_id in stale:
        ingest.enqueue(inbound_id=inbound_id)
    return len(stale)
