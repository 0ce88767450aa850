"""Gentle reminders of due questionnaires and exercises: one email with no content, at most one a
day per person, never in quiet hours, never for a stopped schedule, a submitted exercise or a
room whose delivery choice is "none"; and the sweep that sends them keeps itself queued."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import TestCase
from django.utils import timezone

from confide.accounts.models import User
from confide.rooms.models import Delivery, Room, RoomMember
from confide.support import measures, tasks
from confide.support.models import (
    Exercise,
    ExerciseResponse,
    ExerciseTemplate,
    MeasureSchedule,
    ResponseState,
)
from tests.conftest import run_tasks
from tests.personas import Personas
from tests.support.test_measures import assign, couple_room, individual_room

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
# London is on UTC in January: 08:00 here is 08:00 for every persona.
ASSIGNED = datetime.datetime(2027, 1, 5, 8, 0, tzinfo=UTC)
NEXT_MORNING = datetime.datetime(2027, 1, 6, 10, 0, tzinfo=UTC)  # 26 hours later


def mails_to(user: User) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


def sweep(at: datetime.datetime) -> int:
    """One sweep at `at`, with what it defers to after commit (sending) run as well."""
    with (
        time_machine.travel(at, tick=False),
        TestCase.captureOnCommitCallbacks(execute=True),
    ):
        return tasks.send_due_reminders(now=timezone.now())


def assigned_phq9(people: Personas) -> MeasureSchedule:
    with time_machine.travel(ASSIGNED, tick=False):
        return assign(people, individual_room(people), people.client)


def exercise(
    people: Personas,
    room: Room,
    *,
    due_on: datetime.date,
    for_user: User | None = None,
    title: str = "Thought record",
) -> Exercise:
    # Built as rows: the exercises service belongs to another part of the work.
    template = ExerciseTemplate.objects.create(title=title, fields=[])
    return Exercise.objects.create(
        room=room,
        relationship=room.relationship,
        template=template,
        title=title,
        fields=[],
        for_user=for_user,
        assigned_by=people.therapist,
        assigned_at=ASSIGNED,
        due_on=due_on,
    )


def test_a_due_questionnaire_gets_one_email_with_no_content(people: Personas) -> None:
    schedule = assigned_phq9(people)
    assert sweep(ASSIGNED + datetime.timedelta(hours=2)) == 0  # just assigned: not yet
    assert sweep(NEXT_MORNING) == 1
    [email] = mail.outbox
    assert isinstance(email, EmailMultiAlternatives)
    assert email.to == [people.client.email]
    assert email.subject == "Something is waiting for you in Confide"
    html = str(email.alternatives[0][0])
    for text in (email.subject, email.body, html):
        for secret in ("PHQ", "mood", "questionnaire", "Robin", "Cam", "Therapist"):
            assert secret not in text
    assert "http://127.0.0.1:8000/" in email.body and "999" in email.body
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    schedule.refresh_from_db()
    assert schedule.reminded_at == NEXT_MORNING
    # Reminded of this due time: not again, even days later.
    assert sweep(NEXT_MORNING + datetime.timedelta(days=2)) == 0


def test_at_most_one_reminder_a_day(people: Personas) -> None:
    assigned_phq9(people)
    assert sweep(NEXT_MORNING) == 1
    # Something else falls due the same day: it waits for tomorrow.
    exercise(people, individual_room(people), due_on=NEXT_MORNING.date())
    assert sweep(NEXT_MORNING + datetime.timedelta(hours=3)) == 0
    assert sweep(NEXT_MORNING + datetime.timedelta(days=1)) == 1
    assert len(mails_to(people.client)) == 2
    assert sweep(NEXT_MORNING + datetime.timedelta(days=2)) == 0


def test_never_in_quiet_hours_or_at_night(people: Personas) -> None:
    assigned_phq9(people)
    people.client.quiet_hours_start = datetime.time(9, 30)
    people.client.quiet_hours_end = datetime.time(12, 0)
    people.client.save()
    assert sweep(NEXT_MORNING) == 0  # 10:00 in London: quiet
    assert sweep(NEXT_MORNING.replace(hour=6)) == 0  # before SUPPORT_REMINDER_HOUR
    assert sweep(NEXT_MORNING.replace(hour=21)) == 0  # after SUPPORT_REMINDER_UNTIL_HOUR
    assert sweep(NEXT_MORNING.replace(hour=12, minute=5)) == 1


def test_the_hours_are_the_persons_own(people: Personas) -> None:
    assigned_phq9(people)
    people.client.time_zone = "America/Los_Angeles"  # 10:00 UTC is 02:00 there
    people.client.save()
    assert sweep(NEXT_MORNING) == 0
    assert sweep(NEXT_MORNING.replace(hour=18)) == 1  # 10:00 in Los Angeles


def test_no_reminder_for_a_stopped_schedule(people: Personas) -> None:
    schedule = assigned_phq9(people)
    measures.measure_schedule_stop(
        actor=people.therapist, room=individual_room(people), schedule_id=schedule.pk
    )
    assert sweep(NEXT_MORNING) == 0 and not mail.outbox


def test_no_reminder_when_the_room_is_set_to_no_email(people: Personas) -> None:
    assigned_phq9(people)
    RoomMember.objects.filter(room=individual_room(people), user=people.client).update(
        delivery=Delivery.NONE
    )
    assert sweep(NEXT_MORNING) == 0


def test_no_reminder_when_email_notifications_are_off(people: Personas) -> None:
    assigned_phq9(people)
    people.client.email_notifications = False
    people.client.save()
    assert sweep(NEXT_MORNING) == 0


def test_answering_in_time_means_no_reminder(people: Personas) -> None:
    schedule = assigned_phq9(people)
    with time_machine.travel(ASSIGNED + datetime.timedelta(hours=1), tick=False):
        measures.measure_complete(
            actor=people.client,
            room=individual_room(people),
            schedule_id=schedule.pk,
            answers=[0] * 9,
        )
    assert sweep(NEXT_MORNING) == 0
    # Fourteen days later the next one is due; a day after that, one reminder.
    assert sweep(NEXT_MORNING + datetime.timedelta(days=14)) == 1


def test_a_shared_exercise_reminds_each_partner_until_they_submit(people: Personas) -> None:
    room = couple_room(people)
    task = exercise(people, room, due_on=NEXT_MORNING.date(), title="Weekly check-in")
    ExerciseResponse.objects.create(
        exercise=task,
        user=people.partner_a,
        answers=b"",
        state=ResponseState.SUBMITTED,
        submitted_at=ASSIGNED,
    )
    assert sweep(NEXT_MORNING - datetime.timedelta(days=1)) == 0  # not due yet
    assert sweep(NEXT_MORNING) == 1
    assert not mails_to(people.partner_a) and len(mails_to(people.partner_b)) == 1
    assert "Weekly check-in" not in mail.outbox[0].body
    task.refresh_from_db()
    assert task.reminded_at == NEXT_MORNING
    assert sweep(NEXT_MORNING + datetime.timedelta(days=1)) == 0  # once per exercise


def test_partners_in_different_quiet_hours_are_each_reminded_once(people: Personas) -> None:
    exercise(people, couple_room(people), due_on=NEXT_MORNING.date())
    people.partner_b.quiet_hours_start = datetime.time(8, 0)
    people.partner_b.quiet_hours_end = datetime.time(13, 0)
    people.partner_b.save()
    assert sweep(NEXT_MORNING) == 1
    assert len(mails_to(people.partner_a)) == 1 and not mails_to(people.partner_b)
    assert sweep(NEXT_MORNING.replace(hour=14)) == 1
    assert len(mails_to(people.partner_a)) == 1 and len(mails_to(people.partner_b)) == 1


def test_an_exercise_for_one_partner_or_closed_reminds_nobody_else(people: Personas) -> None:
    room = couple_room(people)
    exercise(people, room, due_on=NEXT_MORNING.date(), for_user=people.partner_a)
    closed = exercise(people, room, due_on=NEXT_MORNING.date())
    closed.closed_at = ASSIGNED
    closed.save()
    assert sweep(NEXT_MORNING) == 1
    assert len(mails_to(people.partner_a)) == 1 and not mails_to(people.partner_b)


def test_the_sweep_is_queued_once_and_requeues_itself(people: Personas) -> None:
    from django_tasks_db.models import DBTaskResult

    def waiting() -> int:
        return int(
            DBTaskResult.objects.filter(
                task_path=tasks.reminders_sweep.module_path, status="READY"
            ).count()
        )

    assigned_phq9(people)  # assigning queues the sweep
    with time_machine.travel(ASSIGNED, tick=False):
        tasks.reminders_ensure_scheduled()
    assert waiting() == 1
    with time_machine.travel(NEXT_MORNING, tick=False):
        run_tasks()  # the worker runs it (and the personas' invitations): the next sweep queued
    assert len(mails_to(people.client)) == 1
    assert mails_to(people.client)[0].subject == tasks.SUBJECT
    assert waiting() == 1
    [queued] = DBTaskResult.objects.filter(status="READY")
    assert queued.run_after == NEXT_MORNING + datetime.timedelta(minutes=60)
