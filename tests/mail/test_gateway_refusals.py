"""Every mail the gateway will not take is refused with a clear SMTP answer, never dropped."""

from __future__ import annotations

import datetime
import logging
import smtplib
from typing import Any

import pytest
from django.utils import timezone

from confide.mail.models import InboundMail, ReplyToken
from confide.mail.services import reply_tokens_revoke
from confide.rooms.models import Message, RoomKind
from tests.conftest import run_tasks
from tests.mail.conftest import Gateway, Sink
from tests.mail.mails import address_for, reply
from tests.personas import Personas
from tests.rooms.conftest import room_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _domain(settings: Any) -> None:
    settings.MAIL_DOMAIN = "reply.confide.localhost"
    settings.MAIL_TRUSTED_AUTHSERV_IDS = ["mx.confide.localhost"]


def test_an_unknown_token_is_refused_at_rcpt(people: Personas, gateway: Gateway) -> None:
    to = "reply+" + "a" * 26 + "@reply.confide.localhost"
    code, text = gateway.refusal(reply(sender=people.client, to=to, text="Hello"), to=to)
    assert code == 550 and "not known to Confide" in text
    for wrong in (
        "reply+short@reply.confide.localhost",
        "someone@reply.confide.localhost",
        "reply+" + "a" * 26 + "@elsewhere.example",
    ):
        assert gateway.refusal(reply(sender=people.client, to=wrong, text="x"), to=wrong)[0] == 550
    assert not InboundMail.objects.exists()


def test_an_expired_or_revoked_token_is_refused(people: Personas, gateway: Gateway) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    expired = address_for(people.client, room)
    ReplyToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    code, text = gateway.refusal(reply(sender=people.client, to=expired, text="x"), to=expired)
    assert code == 550 and "expired or was withdrawn" in text

    revoked = address_for(people.client, room)
    reply_tokens_revoke(actor=people.client)
    code, text = gateway.refusal(reply(sender=people.client, to=revoked, text="x"), to=revoked)
    assert code == 550 and "expired or was withdrawn" in text


def test_a_spoofed_from_is_refused(people: Personas, gateway: Gateway) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    for pretender in (people.outsider, people.therapist):
        code, text = gateway.refusal(reply(sender=pretender, to=to, text="x"), to=to)
        assert code == 550 and "belongs to someone else" in text
    # Someone else's token used by the outsider, From set to the token's person: it still binds
    # to the token's own room, which the outsider's message cannot reach any other way.
    assert not Message.objects.filter(sender=people.outsider).exists()


def test_a_token_for_another_room_cannot_reach_this_one(people: Personas, gateway: Gateway) -> None:
    couple = room_of(people, RoomKind.COUPLE)
    private_b = room_of(people, RoomKind.PRIVATE, people.partner_b)
    to = address_for(people.partner_b, private_b)
    code, _ = gateway.refusal(reply(sender=people.partner_a, to=to, text="Reading B's room"), to=to)
    assert code == 550
    # Partner A's own address for the couples room posts only there.
    to_a = address_for(people.partner_a, couple)
    gateway.send(reply(sender=people.partner_a, to=to_a, text="For both of us."), to=to_a)
    run_tasks()
    assert Message.objects.filter(room=couple, sender=people.partner_a).count() == 1
    assert not Message.objects.filter(room=private_b, sender=people.partner_a).exists()


def test_a_removed_member_is_refused_at_rcpt(people: Personas, gateway: Gateway) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    room.members.filter(user=people.client).update(left_at=timezone.now())
    code, text = gateway.refusal(reply(sender=people.client, to=to, text="x"), to=to)
    assert code == 550 and "no longer part of" in text


def test_a_dmarc_fail_from_the_trusted_mta_is_refused(people: Personas, gateway: Gateway) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    failing = reply(sender=people.client, to=to, text="x")
    failing["Authentication-Results"] = (
        "mx.confide.localhost; spf=fail smtp.mailfrom=example.org; "
        "dmarc=fail header.from=test.example"
    )
    code, text = gateway.refusal(failing, to=to)
    assert code == 550 and "DMARC" in text
    # The same verdict written by anyone else counts for nothing.
    forged = reply(sender=people.client, to=to, text="Still me.")
    forged["Authentication-Results"] = "mx.attacker.example; dmarc=fail header.from=test.example"
    gateway.send(forged, to=to)
    assert InboundMail.objects.count() == 1


def test_automatic_replies_too_many_recipients_and_oversized_mail_are_refused(
    people: Personas, gateway: Gateway, settings: Any
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    away = reply(sender=people.client, to=to, text="I am out of the office.")
    away["Auto-Submitted"] = "auto-replied"
    code, text = gateway.refusal(away, to=to)
    assert code == 550 and "automatic replies" in text

    other = address_for(people.client, room)
    with smtplib.SMTP("127.0.0.1", gateway.port, timeout=30) as smtp:
        smtp.ehlo()
        smtp.mail(people.client.email)
        assert smtp.rcpt(to)[0] == 250
        code_two, text_two = smtp.rcpt(other)
        assert code_two == 452 and b"One Confide reply address" in text_two

    settings.MAIL_MAX_BYTES = 2048
    big = reply(sender=people.client, to=to, text="x" * 5000)
    code, _ = gateway.refusal(big, to=to)
    assert code == 552
    assert not InboundMail.objects.exists()


def test_a_sender_over_the_hourly_limit_is_asked_to_try_later(
    people: Personas, gateway: Gateway, settings: Any
) -> None:
    settings.MAIL_PER_SENDER_PER_HOUR = 2
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    for n in range(2):
        gateway.send(reply(sender=people.client, to=to, text=f"Mail {n}"), to=to)
    code, text = gateway.refusal(reply(sender=people.client, to=to, text="Mail 3"), to=to)
    assert code == 450 and "try again later" in text


def test_a_mime_bomb_and_deep_nesting_are_returned_not_posted(
    people: Personas, gateway: Gateway, sink: Sink
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    head = (
        f"From: Cam Client <{people.client.email}>\r\nTo: {to}\r\nSubject: parts\r\n"
        "MIME-Version: 1.0\r\n"
    ).encode()
    many = head + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    many += b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(10_000))
    many += b"--b--\r\n"
    deep = head
    for level in range(200):
        deep += f'Content-Type: multipart/mixed; boundary="l{level}"\r\n\r\n--l{level}\r\n'.encode()
    deep += b"Content-Type: text/plain\r\n\r\nhidden\r\n"
    accepted = 0
    for mail in (many, deep):
        try:
            gateway.send(mail, to=to, sender=people.client.email)
            accepted += 1
        except smtplib.SMTPDataError as exc:  # refused at DATA is as clear as a returned mail
            assert exc.smtp_code >= 500
    run_tasks()
    assert not Message.objects.filter(room=room, sender=people.client).exists()
    returned = sink.wait_for(accepted) if accepted else []
    assert len(returned) == accepted
    for notice in returned:
        assert notice["Subject"] == "Your email could not be posted on Confide"


def test_logs_carry_no_content_and_no_full_address(
    people: Personas, gateway: Gateway, sink: Sink, caplog: pytest.LogCaptureFixture
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    to = address_for(people.client, room)
    secret = "a sentence only the room may read"
    with caplog.at_level(logging.INFO), caplog.at_level(logging.DEBUG, logger="confide"):
        gateway.send(reply(sender=people.client, to=to, text=secret), to=to)
        gateway.refusal(reply(sender=people.outsider, to=to, text=secret), to=to)
        run_tasks()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "mail accepted" in logged and "mail posted" in logged
    assert secret not in logged
    assert people.client.email not in logged and people.outsider.email not in logged
    assert to.split("@")[0] not in logged
