"""Email therapy: the delivery choice, reply tokens, and accepting mail at the gateway.

A reply address is reply+<token>@MAIL_DOMAIN. The token is 128 random bits bound to one person and
one room; only its SHA-256 is stored. The gateway refuses at RCPT time what it can (unknown,
expired, revoked token; a person no longer in the room; too many mails), and at DATA time what
needs the headers (a From that is not the token's person, a DMARC fail from the trusted MTA, an
automatic reply). A mail it accepts is stored encrypted before it answers 250 and posted by a task
(`confide.mail.ingest`), so nothing accepted is lost when a process stops.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import logging
import re
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from confide import crypto, rawsql
from confide.accounts.models import User
from confide.accounts.selectors import token_digest
from confide.audit.services import audit_record
from confide.errors import InvalidInput, NotFound
from confide.mail.models import DeliveryChoice, InboundMail, ReplyToken
from confide.rooms.models import Delivery, Room, RoomMember

if TYPE_CHECKING:
    from confide.mail.parsing import HeaderInfo

log = logging.getLogger("confide.mail")

# Raise it when the explanation shown beside the choice changes: the record says which was read.
EXPLANATION_VERSION = 1

_TOKEN_RE = re.compile(r"[a-z2-7]{26}")


class MailRefused(Exception):
    """The gateway's answer to a mail it will not take: an SMTP reply a person can understand."""

    def __init__(self, code: int, enhanced: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.enhanced = enhanced
        self.text = text

    @property
    def smtp(self) -> str:
        return f"{self.code} {self.enhanced} {self.text}"


@dataclasses.dataclass(frozen=True)
class Recipient:
    """What RCPT TO resolved to: the token's person and room."""

    token_id: int
    user_id: int
    room_id: int
    email: str


def inbound_raw_context(inbound_id: int) -> bytes:
    return f"mail:inbound:{inbound_id}:raw".encode()


# --- Delivery choice --------------------------------------------------------------------------


def delivery_choose(
    *,
    actor: User,
    room: Room,
    delivery: str,
    via: str = "web",
    now: datetime.datetime | None = None,
) -> RoomMember:
    """Set how `actor` hears of new messages in `room` by email, and record the choice.

    Choosing email therapy starts from the next message: earlier ones are not mailed out.
    """
    if delivery not in Delivery.values:
        raise InvalidInput(
            "Choose how you would like to hear from this room.",
            field_errors={"delivery": ["Choose one of the options."]},
        )
    moment = now or timezone.now()
    with transaction.atomic():
        member = (
            RoomMember.objects.select_for_update()
            .select_related("room")
            .filter(room_id=room.pk, user=actor, left_at__isnull=True)
            .first()
        )
        if member is None or not actor.is_active:
            raise NotFound("No such room.")
        if member.delivery == delivery:
            return member
        member.delivery = delivery
        member.emailed_seq = max(member.emailed_seq, member.room.last_seq)
        member.save(update_fields=["delivery", "emailed_seq"])
        DeliveryChoice.objects.create(
            user=actor,
            room_id=room.pk,
            delivery=delivery,
            explanation_version=EXPLANATION_VERSION,
            chosen_at=moment,
            via=via,
        )
        audit_record(
            actor=actor,
            action="mail.delivery_chosen",
            object_type="room",
            object_id=room.pk,
            detail={"delivery": delivery, "via": via, "explanation": EXPLANATION_VERSION},
        )
    return member


# --- Reply tokens -----------------------------------------------------------------------------


def reply_token_issue(*, user: User | int, room_id: int, now: datetime.datetime) -> str:
    """A new reply token for one person in one room; returns the token (only the email has it)."""
    raw = base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=").lower()
    ReplyToken.objects.create(
        user_id=user if isinstance(user, int) else user.pk,
        room_id=room_id,
        digest=token_digest(raw),
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.MAIL_REPLY_TOKEN_DAYS),
    )
    return raw


def reply_address(token: str) -> str:
    return f"reply+{token}@{settings.MAIL_DOMAIN}"


def reply_tokens_revoke(*, actor: User, now: datetime.datetime | None = None) -> int:
    """Revoke every reply address `actor` has been sent; later emails carry new ones."""
    moment = now or timezone.now()
    with transaction.atomic():
        count = ReplyToken.objects.filter(user=actor, revoked_at__isnull=True).update(
            revoked_at=moment
        )
        audit_record(
            actor=actor,
            action="mail.reply_addresses_revoked",
            object_type="user",
            object_id=actor.pk,
            detail={"count": count},
        )
    return count


# One statement for RCPT TO: the token, whether it is live, its person's address, whether they
# are still an active member of the room, and how many mails they sent in the last hour (counted
# up to the limit only). Written by hand: it runs for every recipient of every mail.
_RESOLVE = (
    'SELECT t."id", t."user_id", t."room_id", '
    'CASE WHEN t."revoked_at" IS NULL AND t."expires_at" > %s THEN 1 ELSE 0 END, u."email", '
    'CASE WHEN u."is_active" AND EXISTS (SELECT 1 FROM "rooms_roommember" m '
    'WHERE m."room_id" = t."room_id" AND m."user_id" = t."user_id" AND m."left_at" IS NULL) '
    "THEN 1 ELSE 0 END, "
    '(SELECT COUNT(*) FROM (SELECT 1 FROM "mail_inboundmail" i WHERE i."user_id" = t."user_id" '
    'AND i."received_at" >= %s LIMIT %s) recent) '
    'FROM "mail_replytoken" t JOIN "accounts_user" u ON u."id" = t."user_id" '
    'WHERE t."digest" = %s'
)


def recipient_resolve(*, address: str, now: datetime.datetime) -> Recipient:
    """Who RCPT TO names, or MailRefused saying plainly why the address takes no mail."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    prefix, _, token = local.lower().partition("+")
    if domain.lower() != settings.MAIL_DOMAIN or prefix != "reply":
        raise MailRefused(550, "5.1.1", "This address does not take mail.")
    unknown = MailRefused(
        550,
        "5.1.1",
        "This reply address is not known to Confide. Please reply to a recent email from "
        "Confide, or write in your room.",
    )
    if not _TOKEN_RE.fullmatch(token):
        raise unknown
    since = now - datetime.timedelta(hours=1)
    with connection.cursor() as cursor:
        cursor.execute(
            _RESOLVE,
            [
                rawsql.prep(ReplyToken, "expires_at", now),
                rawsql.prep(InboundMail, "received_at", since),
                settings.MAIL_PER_SENDER_PER_HOUR,
                token_digest(token),
            ],
        )
        row = cursor.fetchone()
    if row is None:
        raise unknown
    token_id, user_id, room_id, live, email, member, recent = row
    if not live:
        raise MailRefused(
            550,
            "5.1.1",
            "This reply address has expired or was withdrawn. Please reply to a recent email "
            "from Confide, or write in your room.",
        )
    if not member:
        raise MailRefused(
            550, "5.7.1", "This reply address belongs to a room you are no longer part of."
        )
    if recent >= settings.MAIL_PER_SENDER_PER_HOUR:
        raise MailRefused(
            450,
            "4.7.1",
            "Too many emails in the last hour; your mail server will try again later.",
        )
    return Recipient(token_id=token_id, user_id=user_id, room_id=room_id, email=email.lower())


# --- Accepting a mail -------------------------------------------------------------------------


def inbound_accept(
    *, recipient: Recipient, raw: bytes, header: HeaderInfo, now: datetime.datetime
) -> InboundMail:
    """Check what the headers say, then store the mail and queue its posting, in one transaction.

    Raises MailRefused; once this returns, the gateway may answer 250: the mail is committed.
    """
    if header.from_address != recipient.email:
        raise MailRefused(
            550,
            "5.7.1",
            "This reply address belongs to someone else. Please reply from the email address "
            "that Confide wrote to.",
        )
    from confide.mail.parsing import dmarc_verdict

    verdict = dmarc_verdict(
        header.authentication_results, trusted_authserv_ids=settings.MAIL_TRUSTED_AUTHSERV_IDS
    )
    if verdict == "fail":
        raise MailRefused(
            550,
            "5.7.1",
            "Your email failed the sender checks (DMARC) of its domain, so Confide cannot be "
            "sure it is from you.",
        )
    if header.auto_submitted:
        raise MailRefused(550, "5.7.1", "Confide does not post automatic replies into rooms.")
    from confide.mail.tasks import ingest  # the task module imports this one

    with transaction.atomic():
        inbound = InboundMail.objects.create(
            user_id=recipient.user_id,
            room_id=recipient.room_id,
            token_id=recipient.token_id,
            received_at=now,
            size=len(raw),
            raw=b"",
        )
        inbound.raw = crypto.encrypt(raw, context=inbound_raw_context(inbound.pk))
        inbound.save(update_fields=["raw"])
        ReplyToken.objects.filter(pk=recipient.token_id).update(last_used_at=now)
        ingest.enqueue(inbound_id=inbound.pk)
    log.info(
        "mail accepted: inbound %s for room %s (%d bytes)", inbound.pk, inbound.room_id, len(raw)
    )
    return inbound
