"""Writes for a therapist's scheduling set-up: weekly hours, exceptions, session types, the
cancellation policy and the private calendar feed. Only the therapist changes their own."""

from __future__ import annotations

import datetime
import itertools
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from confide.accounts.models import User
from confide.accounts.selectors import token_digest
from confide.audit.services import audit_record
from confide.care.models import LIVE_SESSION_MINUTES
from confide.errors import InvalidInput, NotFound, PermissionDenied
from confide.live.models import LiveMode
from confide.scheduling.models import (
    SLOT_STEPS,
    AvailabilityException,
    ExceptionKind,
    SchedulingPolicy,
    SessionType,
    WeeklyHours,
)

FEED_PREFIX = "cal_"


def _therapist(actor: User) -> None:
    if not actor.is_therapist or not actor.is_active:
        raise PermissionDenied("Only therapists set up their bookings.")


def _audit(actor: User, action: str, **detail: object) -> None:
    audit_record(
        actor=actor, action=action, object_type="user", object_id=actor.pk, detail=detail or None
    )


def weekly_hours_set(
    *, actor: User, hours: list[tuple[int, datetime.time, datetime.time]]
) -> list[WeeklyHours]:
    """Replace the weekly bookable hours (wall-clock times in the therapist's zone)."""
    _therapist(actor)
    errors: list[str] = []
    by_day: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, start, end in hours:
        if weekday not in range(7):
            errors.append("Choose a day of the week.")
        elif end <= start:
            errors.append(f"On {_DAY_NAMES[weekday]} the hours must end after they start.")
        else:
            by_day.setdefault(weekday, []).append((start, end))
    for weekday, periods in by_day.items():
        periods.sort()
        for (_, end), (start, _) in itertools.pairwise(periods):
            if start < end:
                errors.append(f"On {_DAY_NAMES[weekday]} two periods overlap.")
    if errors:
        raise InvalidInput(errors[0], field_errors={"hours": errors})
    with transaction.atomic():
        WeeklyHours.objects.filter(therapist=actor).delete()
        rows = WeeklyHours.objects.bulk_create(
            [
                WeeklyHours(therapist=actor, weekday=day, start=start, end=end)
                for day, periods in sorted(by_day.items())
                for start, end in periods
            ]
        )
        _audit(actor, "scheduling.hours", periods=len(rows))
    return rows


_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def exception_add(
    *,
    actor: User,
    day: datetime.date,
    kind: str,
    start: datetime.time | None = None,
    end: datetime.time | None = None,
) -> AvailabilityException:
    """A day off (all day, or some hours) or extra hours on one date of the therapist's zone."""
    _therapist(actor)
    if kind not in ExceptionKind.values:
        raise InvalidInput("Choose a day off or extra hours.", field_errors={"kind": ["Choose."]})
    if (start is None) != (end is None):
        raise InvalidInput(
            "Give both times, or neither for the whole day.",
            field_errors={"end": ["Give both times, or neither for the whole day."]},
        )
    if kind == ExceptionKind.EXTRA and start is None:
        raise InvalidInput(
            "Extra hours need a start and an end.",
            field_errors={"start": ["Extra hours need a start and an end time."]},
        )
    if start is not None and end is not None and end <= start:
        raise InvalidInput(
            "The hours must end after they start.",
            field_errors={"end": ["The hours must end after they start."]},
        )
    with transaction.atomic():
        row = AvailabilityException.objects.create(
            therapist=actor, day=day, kind=kind, start=start, end=end
        )
        _audit(actor, "scheduling.exception_add", kind=kind)
    return row


def exception_remove(*, actor: User, exception_id: int) -> None:
    deleted, _ = AvailabilityException.objects.filter(pk=exception_id, therapist=actor).delete()
    if not deleted:
        raise NotFound("No such exception.")
    _audit(actor, "scheduling.exception_remove")


def session_type_save(
    *,
    actor: User,
    mode: str,
    minutes: int,
    buffer_minutes: int,
    min_notice_hours: int,
    horizon_days: int,
    session_type_id: int | None = None,
) -> SessionType:
    """Create a session type, or change one (existing bookings keep what they were booked as)."""
    _therapist(actor)
    errors: dict[str, list[str]] = {}
    if mode not in LiveMode.values:
        errors["mode"] = ["Choose video, voice or live chat."]
    if minutes not in LIVE_SESSION_MINUTES:
        choices = ", ".join(str(m) for m in LIVE_SESSION_MINUTES)
        errors["minutes"] = [f"A session lasts {choices} minutes."]
    if session_type_id is not None:
        found = SessionType.objects.filter(pk=session_type_id, therapist=actor).first()
        if found is None:
            raise NotFound("No such session type.")
        session_type = found
    else:
        session_type = SessionType(therapist=actor)
    session_type.mode, session_type.minutes = mode, minutes
    session_type.buffer_minutes, session_type.min_notice_hours = buffer_minutes, min_notice_hours
    session_type.horizon_days, session_type.active = horizon_days, True
    try:
        session_type.full_clean(exclude=["therapist", *errors])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise InvalidInput("The session type is not valid.", field_errors=errors)
    with transaction.atomic():
        session_type.save()
        _audit(actor, "scheduling.session_type", session_type=session_type.pk)
    return session_type


def session_type_retire(*, actor: User, session_type_id: int) -> None:
    """Stop offering a session type (its bookings stay as they are)."""
    changed = SessionType.objects.filter(pk=session_type_id, therapist=actor).update(active=False)
    if not changed:
        raise NotFound("No such session type.")
    _audit(actor, "scheduling.session_type_retire", session_type=session_type_id)


def policy_update(
    *, actor: User, free_cancel_hours: int, slot_step_minutes: int
) -> SchedulingPolicy:
    _therapist(actor)
    errors: dict[str, list[str]] = {}
    if not 0 <= free_cancel_hours <= 24 * 14:
        errors["free_cancel_hours"] = ["Between 0 and 336 hours."]
    if slot_step_minutes not in SLOT_STEPS:
        errors["slot_step_minutes"] = ["Choose 15, 30 or 60 minutes."]
    if errors:
        raise InvalidInput("The booking rules are not valid.", field_errors=errors)
    with transaction.atomic():
        policy, _ = SchedulingPolicy.objects.update_or_create(
            therapist=actor,
            defaults={
                "free_cancel_hours": free_cancel_hours,
                "slot_step_minutes": slot_step_minutes,
            },
        )
        _audit(actor, "scheduling.policy")
    return policy


def feed_token_create(*, actor: User, now: datetime.datetime | None = None) -> str:
    """A new private calendar-feed token (any earlier one stops working). Returned once; only
    its SHA-256 is stored."""
    _therapist(actor)
    raw = FEED_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        SchedulingPolicy.objects.update_or_create(
            therapist=actor,
            defaults={
                "feed_token_hash": token_digest(raw),
                "feed_created_at": now or timezone.now(),
            },
        )
        _audit(actor, "scheduling.feed_create")
    return raw


def feed_token_revoke(*, actor: User) -> None:
    _therapist(actor)
    with transaction.atomic():
        SchedulingPolicy.objects.filter(therapist=actor).update(
            feed_token_hash=None, feed_created_at=None
        )
        _audit(actor, "scheduling.feed_revoke")
