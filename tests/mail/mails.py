"""Building the mails the tests send: replies as a person's mail client would write them."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from confide.accounts.models import User
from confide.mail.services import reply_address, reply_token_issue
from confide.rooms.models import Room


def address_for(user: User, room: Room) -> str:
    """A fresh reply address, as the next email to `user` about `room` would carry."""
    from django.utils import timezone

    return reply_address(reply_token_issue(user=user, room_id=room.pk, now=timezone.now()))


def reply(
    *,
    sender: User,
    to: str,
    text: str,
    quoted: str = "An earlier message.",
    subject: str = "Re: Confide: your room",
    in_reply_to: str = "",
    html: str | None = None,
    from_address: str | None = None,
) -> EmailMessage:
    """A reply in the style of a common mail client: new text, an attribution, the quote."""
    message = EmailMessage()
    message["From"] = f"{sender.display_name} <{from_address or sender.email}>"
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    attribution = "On Thu, 3 Dec 2026 at 10:00, Confide <no-reply@confide.invalid> wrote:"
    body = f"{text}\n\n{attribution}\n{quote}\n"
    if html is None:
        message.set_content(body)
    else:
        message.set_content(html, subtype="html")
    return message
