"""Email about new messages: delayed, batched, contentless; reminders; crisis alerts."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail

from confide.audit.models import AuditEvent
from confide.rooms.models import CrisisFlag, Presence, Room
from confide.rooms.services import crisis_clear, room_mark_read
from tests.conftest import run_tasks
from tests.personas import Personas
from tests.rooms.conftest import send

TUESDAY_10 = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)
SECRET = "my sister's wedding"


def mails_to(user: Any) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


@pytest.mark.django_db
def test_an_offline_member_gets_one_contentless_email_per_room_after_the_delay(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], f"About {SECRET}")
        send(people.client, rooms["individual"], "and one more thing")
        run_tasks()
        assert mails_to(people.therapist) == []  # not before the delay
        traveller.shift(datetime.timedelta(minutes=settings.NOTIFY_DELAY_MINUTES + 1))
        run_tasks()
    [email] = mails_to(people.therapist)
    assert SECRET not in email.body and "Cam Client" not in email.body
    assert "something new for you in a room" in email.body
    assert f"/rooms/{rooms['individual'].pk}/" in email.body
    assert "reply+" in email.reply_to[0]  # a reply to it goes into that room
    assert mails_to(people.client) == []  # the sender is not told about their own message


@pytest.mark.django_db
def test_nothing_is_sent_when_the_member_has_already_read_it(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        sent = send(people.client, rooms["individual"], "hello").message
        room_mark_read(actor=people.therapist, room=rooms["individual"], seq=sent.seq)
        traveller.shift(datetime.timedelta(minutes=settings.NOTIFY_DELAY_MINUTES + 1))
        run_tasks()
    assert mails_to(people.therapist) == []


@pytest.mark.django_db
def test_a_member_who_is_online_is_not_emailed(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], "hello")
        traveller.shift(datetime.timedelta(minutes=settings.NOTIFY_DELAY_MINUTES + 1))
        Presence.objects.create(user=people.therapist, channel_name="test!1")
        run_tasks()
        assert mails_to(people.therapist) == []
        Presence.objects.all().delete()
        traveller.shift(datetime.timedelta(minutes=settings.NOTIFY_DELAY_MINUTES + 1))
        run_tasks()
    assert len(mails_to(people.therapist)) == 1


@pytest.mark.django_db
def test_quiet_hours_and_the_off_switch_are_respected(
    people: Personas, rooms: dict[str, Room]
) -> None:
    therapist = people.therapist
    therapist.quiet_hours_start = datetime.time(9, 0)
    therapist.quiet_hours_end = datetime.time(12, 0)
    therapist.save()
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], "hello")
        traveller.shift(datetime.timedelta(minutes=15))
        run_tasks()
        assert mails_to(therapist) == []  # 10:15 London is inside 09:00-12:00
        traveller.shift(datetime.timedelta(hours=2))
        run_tasks()
        assert len(mails_to(therapist)) == 1
        people.partner_a.email_notifications = False
        people.partner_a.save()
        send(people.therapist, rooms["private_a"], "a note for you")
        traveller.shift(datetime.timedelta(hours=1))
        run_tasks()
    assert mails_to(people.partner_a) == []


@pytest.mark.django_db
def test_crisis_language_flags_the_room_and_alerts_the_therapist_at_once(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    result = send(people.client, rooms["individual"], f"After {SECRET} I want to end my life")
    assert result.crisis is not None and result.crisis.category == "suicide"
    room = Room.objects.get(pk=rooms["individual"].pk)
    assert room.crisis_open and result.message.crisis
    run_tasks()
    [alert] = [m for m in mails_to(people.therapist) if "Urgent" in m.subject]
    assert SECRET not in alert.body and "end my life" not in alert.body
    # The client's page shows the crisis lines prominently.
    page = as_user(people.client).get(f"/rooms/{room.pk}/?crisis=1")
    assert "You don&#x27;t have to wait for a reply" in page.content.decode() or (
        "have to wait for a reply" in page.content.decode()
    )
    assert "116 123" in page.content.decode()
    with pytest.raises(Exception):  # noqa: B017 - a client cannot clear it
        crisis_clear(actor=people.client, room=room, reason="I'm fine")
    assert crisis_clear(actor=people.therapist, room=room, reason="Called; safe, plan agreed") == 1
    room.refresh_from_db()
    assert not room.crisis_open
    flag = CrisisFlag.objects.get(room=room)
    assert flag.cleared_by == people.therapist and b"plan agreed" not in bytes(flag.clear_reason)
    assert AuditEvent.objects.filter(action="crisis.clear", actor=people.therapist).exists()


@pytest.mark.django_db
def test_negated_statements_do_not_raise_a_flag(people: Personas, rooms: dict[str, Room]) -> None:
    result = send(people.client, rooms["individual"], "I would never kill myself, don't worry")
    assert result.crisis is None
    assert not Room.objects.get(pk=rooms["individual"].pk).crisis_open


@pytest.mark.django_db
def test_an_overdue_reply_reminds_the_therapist_then_tells_the_admin(
    people: Personas, rooms: dict[str, Room]
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], "are you there?")
        due = Room.objects.get(pk=rooms["individual"].pk).reply_due_at
        assert due is not None
        traveller.move_to(due + datetime.timedelta(minutes=1))
        run_tasks()
        [reminder] = [m for m in mails_to(people.therapist) if "reply is due" in m.subject]
        assert "are you there" not in reminder.body
        assert mails_to(people.admin) == []
        traveller.move_to(due + datetime.timedelta(hours=24, minutes=2))
        run_tasks()
    [escalation] = mails_to(people.admin)
    assert "overdue" in escalation.subject and "are you there" not in escalation.body
    assert AuditEvent.objects.filter(action="reply.escalate").exists()


@pytest.mark.django_db
def test_a_reply_in_time_cancels_the_reminder(people: Personas, rooms: dict[str, Room]) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], "hello")
        due = Room.objects.get(pk=rooms["individual"].pk).reply_due_at
        assert due is not None
        traveller.shift(datetime.timedelta(hours=1))
        send(people.therapist, rooms["individual"], "hi!")
        traveller.move_to(due + datetime.timedelta(minutes=1))
        run_tasks()
    assert [m for m in mails_to(people.therapist) if "reply is due" in m.subject] == []
