"""A therapist's working time, as the response-window arithmetic needs it."""

from __future__ import annotations

import datetime
from functools import cache

import holidays
from django.db import connection

from confide import rawsql
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
    return _working_schedule(saved, therapist.time_zone, therapist.country, away)


def _working_schedule(
    saved: TherapistSchedule | None,
    time_zone: str,
    country: str,
    away: tuple[tuple[datetime.datetime, datetime.datetime], ...],
) -> WorkingSchedule:
    """The saved schedule, or Mon-Fri 09:00-17:00 in the therapist's own zone and country."""
    if saved is None:
        return WorkingSchedule(
            time_zone=time_zone,
            weekdays=frozenset(range(5)),
            start=datetime.time(9),
            end=datetime.time(17),
            holiday_country=country or None,
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


def _schedule_of_room_sql() -> str:
    """The room's (primary) therapist's zone and country, and their saved schedule if any."""
    return (
        'SELECT u."id", u."time_zone", u."country", '  # noqa: S608 - names, not values
        f"{rawsql.select_list(TherapistSchedule, 's')} "
        'FROM "rooms_room" r '
        'JOIN "care_carerelationship" c ON c."id" = r."relationship_id" '
        'JOIN "accounts_user" u ON u."id" = c."therapist_id" '
        'LEFT JOIN "care_therapistschedule" s ON s."therapist_id" = u."id" '
        'WHERE r."id" = %s'
    )


def _away_sql() -> str:
    """The therapist's time away that has not ended, in `OutOfOffice`'s own order."""
    return (
        f'SELECT {rawsql.select_list(OutOfOffice)} FROM "care_outofoffice" '  # noqa: S608
        'WHERE "therapist_id" = %s AND "ends_at" > %s ORDER BY "starts_at", "id"'
    )


def schedule_for_room(room: Room, *, now: datetime.datetime | None = None) -> WorkingSchedule:
    """Replies in a room are promised in the working time of its (primary) therapist.

    `schedule_for(room.relationship.therapist)` in two statements instead of four: it runs on
    every send that starts or ends a wait."""
    with connection.cursor() as cursor:
        cursor.execute(_schedule_of_room_sql(), [room.pk])
        row = cursor.fetchone()
        if row is None:
            raise Room.DoesNotExist(room.pk)
        therapist_id, time_zone, country, *saved_row = row
        away_from = (now or datetime.datetime.now(tz=datetime.UTC)) - datetime.timedelta(days=1)
        cursor.execute(_away_sql(), [therapist_id, rawsql.prep(OutOfOffice, "ends_at", away_from)])
        periods = [rawsql.instance(OutOfOffice, r) for r in cursor]
    away = tuple((p.starts_at, p.ends_at) for p in periods if p.ends_at > p.starts_at)
    saved = None if saved_row[0] is None else rawsql.instance(TherapistSchedule, saved_row)
    return _working_schedule(saved, time_zone, country, away)
