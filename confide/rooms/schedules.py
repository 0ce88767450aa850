"""A therapist's working time, as the response-window arithmetic needs it."""

from __future__ import annotations

import datetime
from functools import cache

import holidays

from confide.accounts.models import User
from confide.care.models import OutOfOffice, TherapistSchedule
from confide.rooms.models import Room
from confide.rooms.windows import WorkingSchedule


@cache
def _holiday_countries() -> frozenset[str]:
    return frozenset(holidays.list_supported_countries())


def _country(code: str | None) -> str | None:
    """A country the holidays package knows, or None (then no public holidays are skipped)."""
    value = (code or "").upper()
    return value if value in _holiday_countries() else None


def schedule_for(therapist: User, *, now: datetime.datetime | None = None) -> WorkingSchedule:
    """The therapist's schedule, or Mon-Fri 09:00-17:00 in their own zone and country."""
    saved = TherapistSchedule.objects.filter(therapist=therapist).first()
    away_from = (now or datetime.datetime.now(tz=datetime.UTC)) - datetime.timedelta(days=1)
    away = tuple(
        (period.starts_at, period.ends_at)
        for period in OutOfOffice.objects.filter(therapist=therapist, ends_at__gt=away_from)
        if period.ends_at > period.starts_at
    )
    if saved is None:
        return WorkingSchedule(
            time_zone=therapist.time_zone,
            weekdays=frozenset(range(5)),
            start=datetime.time(9),
            end=datetime.time(17),
            holiday_country=therapist.country or None,
            away=away,
        )
    return WorkingSchedule(
        time_zone=saved.time_zone,
        weekdays=frozenset(int(d) for d in saved.weekdays),
        start=saved.start,
        end=saved.end,
        holiday_country=saved.holiday_country or None,
        holiday_subdivision=saved.holiday_subdivision or None,
        away=away,
    )


def schedule_for_room(room: Room) -> WorkingSchedule:
    """Replies in a room are promised in the working time of its (primary) therapist."""
    return schedule_for(room.relationship.therapist)
