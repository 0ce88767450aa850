"""Email therapy end to end: real SMTP into the gateway, real SMTP out to a sink."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest

from confide.mail.models import DeliveryChoice, InboundMail, InboundStatus
from confide.mail.services import delivery_choose
from confide.rooms.models import CrisisFlag, Delivery, Message, MessageKind, Room, RoomKind
from confide.rooms.payloads import message_text
from tests.conftest import run_tasks
from tests.mail.conftest import Gateway, Sink
from tests.mail.mails import address_for, reply
from tests.personas import Personas
from tests.rooms.conftest import room_of, send

# Replies are counted in the room: no out-of-hours notice may join them, whatever the hour.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("at_work")]

REPLY_TO = re.compile(r"reply\+([a-z2-7]{26})@reply\.confide\.localhost")


@pytest.fixture(autouse=True)
def _no_delay(settings: Any) -> None:
    settings.MAIL_DELAY_SECONDS = 0
    settings.MAIL_DOMAIN = "reply.confide.localhost"


def _text_part(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _html_part(mail: EmailMessage) -> str:
    part = mail.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _reply_to(mail: EmailMessage) -> str:
    match = REPLY_TO.search(str(mail["Reply-To"]))
    assert match, mail["Reply-To"]
    return match.group(0)


def _last(room: Room) -> Message:
    return Message.objects.filter(room=room).order_by("-seq").first()  # type: ignore[return-value]


def test_a_client_and_therapist_hold_email_therapy_by_replying(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    delivery_choose(actor=people.client, room=room, delivery=Delivery.EMAIL)
    delivery_choose(actor=people.therapist, room=room, delivery=Delivery.EMAIL)

    send(people.therapist, room, "How did the **breathing exercise** go this week?")
    run_tasks()
    [first] = sink.wait_for(1)
    assert first["To"] == people.client.email
    assert "Robin Therapist wrote" in _text_part(first)
    assert "How did the **breathing exercise** go this week?" in _text_part(first)
    assert "<strong>breathing exercise</strong>" in _html_part(first)
    assert "<img" not in _html_part(first)  # no tracking pixels, no remote images
    root = str(first["References"])
    assert root == str(first["In-Reply-To"]) and root.endswith("@reply.confide.localhost>")
    assert str(first["List-Unsubscribe"]).strip().startswith("<http")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    sink.clear()
    gateway.send(
        reply(
            sender=people.client,
            to=_reply_to(first),
            text="It went better than I expected.\nI did it twice.",
            quoted="How did the breathing exercise go this week?",
            in_reply_to=str(first["Message-ID"]),
        ),
        to=_reply_to(first),
    )
    run_tasks()
    posted = _last(room)
    assert posted.sender_id == people.client.pk and posted.kind == MessageKind.TEXT
    assert message_text(posted) == "It went better than I expected.\nI did it twice."
    # The client reads a confirmation; the therapist, who chose email too, gets the message.
    mails = sink.wait_for(2)
    confirmation = next(m for m in mails if m["To"] == people.client.email)
    assert "is now in your Confide room" in _text_part(confirmation)
    assert "It went better" not in _text_part(confirmation)
    to_therapist = next(m for m in mails if m["To"] == people.therapist.email)
    assert "It went better than I expected." in _text_part(to_therapist)

    # The therapist answers from their mail client; the client's next email is in the same thread.
    sink.clear()
    gateway.send(
        reply(sender=people.therapist, to=_reply_to(to_therapist), text="That is real progress."),
        to=_reply_to(to_therapist),
    )
    run_tasks()
    assert message_text(_last(room)) == "That is real progress."
    mails = sink.wait_for(2)
    second = next(m for m in mails if m["To"] == people.client.email)
    assert str(second["References"]) == root
    assert second["Message-ID"] != first["Message-ID"]
    assert _reply_to(second) != _reply_to(first)  # each email has its own reply address


def test_a_reply_goes_through_the_same_service_as_the_web(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    gateway.send(reply(sender=people.client, to=to, text="I want to end my life."), to=to)
    run_tasks()
    room.refresh_from_db()
    assert room.crisis_open
    assert CrisisFlag.objects.filter(room=room).exists()
    assert room.reply_due_at is not None  # the reply window started, as for a web message
    assert message_text(_last(room)) == "I want to end my life."


def test_the_same_mail_delivered_twice_is_posted_once(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    mail = reply(sender=people.client, to=to, text="Sent once, delivered twice.")
    gateway.send(mail, to=to)
    gateway.send(mail, to=to)
    run_tasks()
    texts = [message_text(m) for m in Message.objects.filter(room=room, sender=people.client)]
    assert texts == ["Sent once, delivered twice."]
    assert InboundMail.objects.filter(status=InboundStatus.POSTED).count() == 2
    assert all(m.raw == b"" for m in InboundMail.objects.all())  # erased once posted


def test_html_only_mail_and_attachments_arrive_as_clean_messages(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    mail = reply(
        sender=people.client,
        to=to,
        text="",
        html="<html><body><p>Here is my <b>thought record</b>.</p>"
        "<blockquote>An earlier message.</blockquote></body></html>",
    )
    mail.add_attachment(
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n",
        maintype="application",
        subtype="pdf",
        filename="thought-record.pdf",
    )
    mail.add_attachment(
        b"MZ\x90\x00 not a document",
        maintype="application",
        subtype="octet-stream",
        filename="tool.exe",
    )
    gateway.send(mail, to=to)
    run_tasks()
    texts = list(Message.objects.filter(room=room, sender=people.client).order_by("seq"))
    assert [m.kind for m in texts] == [MessageKind.TEXT, MessageKind.FILE]
    assert message_text(texts[0]) == "Here is my thought record."
    confirmation = sink.wait_for(1)[0]
    assert "tool.exe" in _text_part(confirmation)  # what was not kept, and why
    assert "2 messages" in _text_part(confirmation)


def test_a_mail_with_nothing_new_in_it_is_returned_with_the_reason(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    gateway.send(reply(sender=people.client, to=to, text=""), to=to)
    run_tasks()
    assert not Message.objects.filter(room=room, sender=people.client).exists()
    [returned] = sink.wait_for(1)
    assert returned["To"] == people.client.email
    assert returned["Subject"] == "Your email could not be posted on Confide"
    assert "no new text" in _text_part(returned)
    assert InboundMail.objects.get().status == InboundStatus.BOUNCED


def test_a_member_removed_after_the_mail_was_accepted_is_told_it_was_not_posted(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    gateway.send(reply(sender=people.client, to=to, text="Are you there?"), to=to)
    room.members.filter(user=people.client).update(left_at=room.created_at)
    run_tasks()
    assert not Message.objects.filter(room=room, sender=people.client).exists()
    assert "no longer part of this room" in _text_part(sink.wait_for(1)[0])


def test_notification_emails_carry_no_content_and_take_replies(
    people: Personas, gateway: Gateway, sink: Sink, settings: Any
) -> None:
    settings.NOTIFY_DELAY_MINUTES = 0
    room = room_of(people, RoomKind.COUPLE)
    send(people.therapist, room, "Please both fill in the weekly check-in.")
    run_tasks()
    mails = sink.wait_for(2)
    assert {str(m["To"]) for m in mails} == {people.partner_a.email, people.partner_b.email}
    for mail in mails:
        assert "weekly check-in" not in _text_part(mail) + _html_part(mail)
        assert mail["Subject"] == "Something new in your Confide room"
    to_a = next(m for m in mails if m["To"] == people.partner_a.email)
    gateway.send(
        reply(sender=people.partner_a, to=_reply_to(to_a), text="Done."), to=_reply_to(to_a)
    )
    run_tasks()
    assert message_text(_last(room)) == "Done."


def test_the_link_in_each_email_changes_the_choice_in_one_click(
    people: Personas, gateway: Gateway, sink: Sink, client: Any
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    delivery_choose(actor=people.client, room=room, delivery=Delivery.EMAIL)
    send(people.therapist, room, "A message for email.")
    run_tasks()
    link = str(sink.wait_for(1)[0]["List-Unsubscribe"]).strip().strip("<>")
    path = link.split("127.0.0.1:8000", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and b"Stop receiving messages by email?" in page.content
    done = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    member = room.members.get(user=people.client)
    assert member.delivery == Delivery.NOTIFY
    assert list(
        DeliveryChoice.objects.filter(user=people.client).values_list("delivery", "via")
    ) == [("email", "web"), ("notify", "link")]
    assert client.get(path[:-3] + "xx/").status_code == 404  # a tampered link


def test_a_room_email_that_cannot_be_sent_is_sent_later_not_lost(
    people: Personas, sink: Sink, settings: Any
) -> None:
    import datetime

    import time_machine
    from django.utils import timezone

    from tests.conftest import free_port

    room = room_of(people, RoomKind.INDIVIDUAL)
    delivery_choose(actor=people.client, room=room, delivery=Delivery.EMAIL)
    people.therapist.display_name = "Robin\nBcc: someone@example.org"
    people.therapist.save(update_fields=["display_name"])
    working_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there: the mail server is down
    send(people.therapist, room, "Are you free on Thursday?")
    run_tasks()
    member = room.members.get(user=people.client)
    assert member.emailed_seq < room.messages.order_by("-seq").first().seq  # type: ignore[union-attr]
    assert sink.mails == []

    settings.EMAIL_PORT = working_port
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=6), tick=False):
        run_tasks()
    [mail] = sink.wait_for(1)
    assert "Are you free on Thursday?" in _text_part(mail)
    assert "\n" not in str(mail["Subject"]) and mail["Bcc"] is None


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("gmail_reply.eml", "GMAIL_TEXT"),
        ("outlook_desktop.eml", "OUTLOOK_TEXT"),
        ("outlook_web_html_only.eml", "OWA_TEXT"),
        ("apple_mail.eml", "APPLE_TEXT"),
        ("thunderbird_inline.eml", "THUNDERBIRD_TEXT"),
        ("mobile_iphone.eml", "IPHONE_TEXT"),
    ],
)
def test_replies_from_the_common_mail_clients_arrive_as_their_new_text_only(
    people: Personas, gateway: Gateway, sink: Sink, name: str, text: str
) -> None:
    from tests.mail import test_parsing

    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    raw = test_parsing.sample(name)
    head, _, body = raw.partition(b"\r\n\r\n") if b"\r\n\r\n" in raw else raw.partition(b"\n\n")
    head = re.sub(rb"(?m)^From: .*$", f"From: Cam Client <{people.client.email}>".encode(), head)
    head = re.sub(rb"(?m)^To: .*$", f"To: <{to}>".encode(), head)
    wire = (head + b"\n\n" + body).replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    gateway.send(wire, to=to, sender=people.client.email)
    run_tasks()
    assert message_text(_last(room)) == getattr(test_parsing, text)
    assert _last(room).sender_id == people.client.pk


def test_no_email_means_no_email_and_a_stuck_mail_is_queued_again(
    people: Personas, gateway: Gateway, sink: Sink, settings: Any
) -> None:
    import datetime

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from confide.mail.ingest import inbound_requeue_stale

    settings.NOTIFY_DELAY_MINUTES = 0
    room = room_of(people, RoomKind.COUPLE)
    delivery_choose(actor=people.partner_b, room=room, delivery=Delivery.NONE)
    send(people.therapist, room, "A note for you both.")
    run_tasks()
    assert [str(m["To"]) for m in sink.wait_for(1)] == [people.partner_a.email]

    # A mail accepted just before a crash: its task never ran.
    to = address_for(people.partner_a, room)
    gateway.send(reply(sender=people.partner_a, to=to, text="Thank you."), to=to)
    DBTaskResult.objects.all().delete()
    later = timezone.now() + datetime.timedelta(minutes=10)
    assert inbound_requeue_stale(now=later) == 1
    run_tasks()
    assert message_text(_last(room)) == "Thank you."
    assert inbound_requeue_stale(now=later) == 0  # posted: nothing left to queue
