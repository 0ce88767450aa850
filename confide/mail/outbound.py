"""Composing Confide's emails: threading, a reply address per email, plain text and HTML.

Every email to a person about a room carries a fresh reply address for that person and room, the
same thread root (In-Reply-To/References) so a mail client shows one conversation per room, and a
List-Unsubscribe link that changes the delivery choice. No tracking pixels, no remote images.
Only email therapy carries what was written; every other email says only that there is something.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import smtplib
import threading
from collections.abc import Sequence
from email.utils import make_msgid

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.template.loader import render_to_string
from django.urls import reverse

from confide.accounts.models import User
from confide.mail.services import reply_address, reply_token_issue
from confide.rooms.models import Delivery, Room, RoomKind
from confide.rooms.selectors import active_members_of
from confide.safety.registry import resources_for

UNSUBSCRIBE_SALT = "confide.mail.delivery"


@dataclasses.dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


def thread_root(*, user_id: int, room_id: int) -> str:
    """The Message-ID every email to this person about this room refers to, without an id leak."""
    mac = hmac.new(
        settings.SECRET_KEY.encode(), f"thread:{user_id}:{room_id}".encode(), hashlib.sha256
    ).hexdigest()[:24]
    return f"<room.{mac}@{settings.MAIL_DOMAIN}>"


def unsubscribe_url(*, user_id: int, room_id: int, delivery: str) -> str:
    """A signed link that offers (GET) and makes (POST, RFC 8058 one-click) a quieter choice."""
    quieter = Delivery.NOTIFY if delivery == Delivery.EMAIL else Delivery.NONE
    value = signing.dumps({"u": user_id, "r": room_id, "d": str(quieter)}, salt=UNSUBSCRIBE_SALT)
    return settings.SITE_URL + reverse("mail_delivery_link", args=[value])


def unsubscribe_load(value: str) -> tuple[int, int, str]:
    """(user id, room id, delivery) from a link; signing.BadSignature when it is not ours."""
    data = signing.loads(
        value,
        salt=UNSUBSCRIBE_SALT,
        max_age=datetime.timedelta(days=settings.MAIL_REPLY_TOKEN_DAYS),
    )
    return int(data["u"]), int(data["r"]), str(data["d"])


def room_label(room: Room, viewer: User) -> str:
    """How the room is named in an email to `viewer`: by the people in it, never by content."""
    others = [
        # One line, whatever a name holds: it goes into a Subject header.
        " ".join(m.user.display_name.split())
        for m in active_members_of(room)
        if m.user_id != viewer.pk
    ]
    names = " and ".join(others) if others else "nobody else yet"
    if room.kind == RoomKind.COUPLE:
        return f"couples room with {names}"
    return f"room with {names}"


def room_email(
    *,
    user: User,
    room: Room,
    subject: str,
    template: str,
    context: dict[str, object],
    now: datetime.datetime,
    delivery: str,
    attachments: tuple[MailAttachment, ...] = (),
) -> EmailMultiAlternatives:
    """An email to `user` about `room` that they can answer by replying."""
    token = reply_token_issue(user=user, room_id=room.pk, now=now)
    room_url = settings.SITE_URL + reverse("room", args=[room.pk])
    unsubscribe = unsubscribe_url(user_id=user.pk, room_id=room.pk, delivery=delivery)
    crisis = resources_for(user.country or None)
    full = {
        **context,
        "user": user,
        "room_url": room_url,
        "unsubscribe_url": unsubscribe,
        "delivery": delivery,
        "crisis": crisis,
        "account_url": settings.SITE_URL + reverse("account"),
    }
    root = thread_root(user_id=user.pk, room_id=room.pk)
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"mail/{template}.txt", full),
        to=[user.email],
        reply_to=[reply_address(token)],
        headers={
            "Message-ID": make_msgid(domain=settings.MAIL_DOMAIN),
            "In-Reply-To": root,
            "References": root,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"mail/{template}.html", full), "text/html")
    for item in attachments:
        message.attach(item.filename, item.data, item.content_type)
    return message


def notice_email(
    *, to: str, subject: str, template: str, context: dict[str, object]
) -> EmailMultiAlternatives:
    """A short email that needs no reply: a confirmation or a returned mail. Never content."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"mail/{template}.txt", context),
        to=[to],
        headers={
            "Message-ID": make_msgid(domain=settings.MAIL_DOMAIN),
            # Marks it as automatic, so an out-of-office reply never answers it (RFC 3834).
            "Auto-Submitted": "auto-replied",
        },
    )
    message.attach_alternative(render_to_string(f"mail/{template}.html", context), "text/html")
    return message


_connection_lock = threading.Lock()
_connection: BaseEmailBackend | None = None
_connection_key: tuple[object, ...] = ()


def deliver(messages: Sequence[EmailMessage]) -> None:
    """Send over one SMTP connection that the process keeps open between tasks.

    A new connection per email cost more than everything else in posting a reply by email
    (bench/email_ingest.py). A connection the server has closed meanwhile is opened again once.
    """
    global _connection, _connection_key
    if not messages:
        return
    key = (
        settings.EMAIL_BACKEND,
        getattr(settings, "EMAIL_HOST", ""),
        getattr(settings, "EMAIL_PORT", 0),
    )
    with _connection_lock:
        if _connection is None or _connection_key != key:
            if _connection is not None:
                _connection.close()
            _connection = get_connection(fail_silently=False)
            _connection_key = key
        try:
            _connection.open()
            _connection.send_messages(list(messages))
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            _connection.close()
            _connection.open()
            _connection.send_messages(list(messages))
