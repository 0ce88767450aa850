"""Gentle reminders by email for due questionnaires (measures) and due exercises.

A reminder says only "Something is waiting for you in Confide" and links to the home page: no
instrument, no exercise title, no names. The rules, per person (clients only):

- at most one reminder email a day (the person's own calendar day), sent between
  SUPPORT_REMINDER_HOUR and SUPPORT_REMINDER_UNTIL_HOUR in their time zone and never inside
  their quiet hours (a later sweep sends it once they end);
- nothing for someone who turned email notifications off in their account, and nothing about a
  room whose delivery choice (RoomMember.delivery) is "none": that choice means "no email about
  this room", which a reminder is;
- a questionnaire is reminded once per time it falls due, when it has waited
  SUPPORT_MEASURE_REMINDER_AFTER_HOURS (the first one is due the moment it is assigned, often
  in the therapist's presence, so not straight away); never once its schedule is stopped;
- an exercise is reminded once per person, from its due day (the person's own calendar day),
  while it is open and that person has not submitted a response. `for_user` null means every
  client of the room.

How it runs: one periodic sweep (`reminders_sweep`) that queues its own next run every
SUPPORT_REMINDER_SWEEP_MINUTES. `reminders_ensure_scheduled` queues a sweep when none is
waiting; the measures service calls it when a schedule is created, and anything else that
creates something to remind about (an exercise with a due day) should call it too. Each email
is recorded as an audit row (`support.reminder`, ids only); that row is also how the next sweep
knows whom it reminded of what.
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from confide.accounts.models import Role, User
from confide.audit.models import AuditEvent
from confide.audit.services import audit_record
from confide.mail.outbound import deliver
from confide.rooms.models import Delivery, MemberRole, RoomMember

# Private to confide.rooms.tasks, imported on purpose: one definition of quiet hours.
from confide.rooms.tasks import quiet_hours_until
from confide.safety.registry import resources_for
from confide.support.models import (
    Exercise,
    ExerciseResponse,
    MeasureSchedule,
    ResponseState,
)

REMINDER_ACTION = "support.reminder"
SUBJECT = "Something is waiting for you in Confide"


def _next_sweep(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(minutes=settings.SUPPORT_REMINDER_SWEEP_MINUTES)


def _sweep_waiting() -> bool:
    """Whether a sweep is queued and not yet started (database task backend only)."""
    if "django_tasks_db" not in settings.TASKS["default"]["BACKEND"]:
        return False
    from django_tasks_db.models import DBTaskResult

    return bool(
        DBTaskResult.objects.filter(task_path=reminders_sweep.module_path, status="READY").exists()
    )


def reminders_ensure_scheduled(*, now: datetime.datetime | None = None) -> None:
    """Queue a reminder sweep for the next interval unless one is waiting already.

    May be called inside a transaction: the task row commits with it."""
    if not _sweep_waiting():
        reminders_sweep.using(run_after=_next_sweep(now or timezone.now())).enqueue()


@task()
def reminders_sweep() -> str:
    """Send the reminders that are due now, then queue the next sweep."""
    now = timezone.now()
    sent = send_due_reminders(now=now)
    reminders_ensure_scheduled(now=now)
    return f"sent {sent}"


@dataclasses.dataclass
class _Owed:
    """What one person could be reminded of: schedule ids and exercise ids, with their rooms."""

    measures: dict[int, int] = dataclasses.field(default_factory=dict)  # schedule -> room
    exercises: dict[int, int] = dataclasses.field(default_factory=dict)  # exercise -> room
    exercises_since: datetime.datetime | None = None


def _local_today(user: User, now: datetime.datetime) -> datetime.date:
    return now.astimezone(zoneinfo.ZoneInfo(user.time_zone)).date()


def _local_midnight(user: User, now: datetime.datetime) -> datetime.datetime:
    zone = zoneinfo.ZoneInfo(user.time_zone)
    return datetime.datetime.combine(_local_today(user, now), datetime.time(0), tzinfo=zone)


def _in_sending_hours(user: User, now: datetime.datetime) -> bool:
    hour = now.astimezone(zoneinfo.ZoneInfo(user.time_zone)).hour
    return settings.SUPPORT_REMINDER_HOUR <= hour < settings.SUPPORT_REMINDER_UNTIL_HOUR


def _measures_owed(now: datetime.datetime, owed: dict[int, _Owed]) -> None:
    waited = now - datetime.timedelta(hours=settings.SUPPORT_MEASURE_REMINDER_AFTER_HOURS)
    rows = MeasureSchedule.objects.filter(
        ended_at__isnull=True, next_due_at__lte=waited
    ).values_list("pk", "respondent_id", "room_id", "next_due_at", "reminded_at")
    for pk, user_id, room_id, due_at, reminded_at in rows:
        if reminded_at is None or reminded_at < due_at:  # not yet reminded of this due time
            owed.setdefault(user_id, _Owed()).measures[pk] = room_id


def _exercises_owed(now: datetime.datetime, owed: dict[int, _Owed]) -> dict[int, datetime.date]:
    """Adds open exercises to the people who owe a response; returns {exercise id: due day}
    (whether the day has come is decided per person, in their own time zone)."""
    # The latest calendar day anywhere on Earth (UTC+14): a prefilter, refined per person.
    latest_today = (now + datetime.timedelta(hours=14)).date()
    exercises = list(
        Exercise.objects.filter(closed_at__isnull=True, due_on__lte=latest_today).values_list(
            "pk", "room_id", "for_user_id", "due_on", "assigned_at"
        )
    )
    if not exercises:
        return {}
    ids = [row[0] for row in exercises]
    submitted = set(
        ExerciseResponse.objects.filter(
            exercise_id__in=ids, state=ResponseState.SUBMITTED
        ).values_list("exercise_id", "user_id")
    )
    clients: dict[int, list[int]] = {}
    for room_id, user_id in RoomMember.objects.filter(
        room_id__in={row[1] for row in exercises},
        left_at__isnull=True,
        role=MemberRole.CLIENT,
    ).values_list("room_id", "user_id"):
        clients.setdefault(room_id, []).append(user_id)
    due_days: dict[int, datetime.date] = {}
    for pk, room_id, for_user_id, due_on, assigned_at in exercises:
        if due_on is None:  # pragma: no cover - filtered by the query
            continue
        people = [for_user_id] if for_user_id is not None else clients.get(room_id, [])
        for user_id in people:
            if (pk, user_id) in submitted:
                continue
            entry = owed.setdefault(user_id, _Owed())
            entry.exercises[pk] = room_id
            if entry.exercises_since is None or assigned_at < entry.exercises_since:
                entry.exercises_since = assigned_at
        due_days[pk] = due_on
    return due_days


def _reminded_exercises(user_id: int, since: datetime.datetime) -> set[int]:
    """The exercises this person was reminded of since `since` (from their reminder rows)."""
    reminded: set[int] = set()
    for detail in AuditEvent.objects.filter(
        action=REMINDER_ACTION, object_type="user", object_id=str(user_id), at__gte=since
    ).values_list("detail", flat=True):
        reminded.update(int(pk) for pk in (detail or {}).get("exercises", []))
    return reminded


def _reminded_today(user: User, now: datetime.datetime) -> bool:
    return AuditEvent.objects.filter(
        action=REMINDER_ACTION,
        object_type="user",
        object_id=str(user.pk),
        at__gte=_local_midnight(user, now),
    ).exists()


def send_due_reminders(*, now: datetime.datetime) -> int:
    """One reminder email to each person who is owed one now; returns how many were sent."""
    owed: dict[int, _Owed] = {}
    _measures_owed(now, owed)
    due_days = _exercises_owed(now, owed)
    if not owed:
        return 0
    people = {
        u.pk: u
        for u in User.objects.filter(pk__in=owed, is_active=True, role=Role.CLIENT).only(
            "pk",
            "email",
            "time_zone",
            "country",
            "email_notifications",
            "quiet_hours_start",
            "quiet_hours_end",
            "is_active",
            "role",
        )
    }
    silent_rooms: dict[int, set[int]] = {}  # user -> rooms they left or chose no email for
    member_rooms: dict[int, set[int]] = {}
    for user_id, room_id, delivery, left_at in RoomMember.objects.filter(
        user_id__in=people
    ).values_list("user_id", "room_id", "delivery", "left_at"):
        if left_at is None and delivery != Delivery.NONE:
            member_rooms.setdefault(user_id, set()).add(room_id)
        else:
            silent_rooms.setdefault(user_id, set()).add(room_id)
    sent = 0
    for user_id, items in sorted(owed.items()):
        user = people.get(user_id)
        if user is None or not user.email_notifications:
            continue
        rooms = member_rooms.get(user_id, set())
        measures = sorted(pk for pk, room_id in items.measures.items() if room_id in rooms)
        today = _local_today(user, now)
        exercises = sorted(
            pk
            for pk, room_id in items.exercises.items()
            if room_id in rooms and due_days[pk] <= today
        )
        if exercises and items.exercises_since is not None:
            done = _reminded_exercises(user_id, items.exercises_since)
            exercises = [pk for pk in exercises if pk not in done]
        if not measures and not exercises:
            continue
        if not _in_sending_hours(user, now) or quiet_hours_until(user, now) is not None:
            continue  # a later sweep sends it
        if _reminded_today(user, now):
            continue
        _remind(user=user, measures=measures, exercises=exercises, now=now)
        sent += 1
    return sent


def _remind(
    *, user: User, measures: list[int], exercises: list[int], now: datetime.datetime
) -> None:
    with transaction.atomic():
        MeasureSchedule.objects.filter(pk__in=measures).update(reminded_at=now)
        Exercise.objects.filter(pk__in=exercises).update(reminded_at=now)
        audit_record(
            actor=None,
            action=REMINDER_ACTION,
            object_type="user",
            object_id=user.pk,
            practice=None,
            detail={"measures": measures, "exercises": exercises},
        )
        email = reminder_email(user)
        transaction.on_commit(lambda: deliver([email]))


def reminder_email(user: User) -> EmailMultiAlternatives:
    """The reminder: no content, no names, a link home, the not-for-emergencies line."""
    context = {
        "home_url": settings.SITE_URL + reverse("home"),
        "account_url": settings.SITE_URL + reverse("account"),
        "crisis": resources_for(user.country or None),
    }
    message = EmailMultiAlternatives(
        subject=SUBJECT,
        body=render_to_string("support/measures/reminder_email.txt", context),
        to=[user.email],
        headers={
            "Message-ID": make_msgid(domain=settings.MAIL_DOMAIN),
            # Automatic, so an out-of-office reply never answers it (RFC 3834).
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string("support/measures/reminder_email.html", context), "text/html"
    )
    return message
