"""Reads for scheduling: a therapist's availability, open slots, and who may see which booking.

Access follows care relationships: a client sees the bookings of relationships they are in (a
couple's partners both see the couple's), a therapist sees their own; anyone else gets NotFound.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import zoneinfo

import holidays
from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from confide.accounts.models import Role, User
from confide.care.models import CareRelationship, OutOfOffice, TherapistSchedule
from confide.errors import NotFound
from confide.rooms.models import Room, RoomKind
from confide.scheduling import slots
from confide.scheduling.models import (
    LONGEST_BOOKING,
    AvailabilityException,
    Booking,
    BookingKind,
    BookingStatus,
    ExceptionKind,
    Proposal,
    ProposalStatus,
    SchedulingPolicy,
    SessionType,
    WeeklyHours,
)

UTC = datetime.UTC


def join_minutes_before() -> int:
    """The "Join" button appears this many minutes before a session starts."""
    return int(settings.SCHEDULING_JOIN_MINUTES_BEFORE)


def policy_for(therapist: User) -> SchedulingPolicy:
    """The therapist's policy, or the defaults (unsaved) when they never changed it."""
    return SchedulingPolicy.objects.filter(therapist=therapist).first() or SchedulingPolicy(
        therapist=therapist
    )


def therapist_zone(therapist: User) -> str:
    """Where the therapist's wall clock is: their working-hours zone, else their account's."""
    zone = (
        TherapistSchedule.objects.filter(therapist=therapist)
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or therapist.time_zone


def weekly_hours_of(therapist: User) -> list[tuple[int, datetime.time, datetime.time]]:
    """The weekly bookable hours; until the therapist sets them, their working hours."""
    rows = [
        (w.weekday, w.start, w.end)
        for w in WeeklyHours.objects.filter(therapist=therapist).order_by("weekday", "start")
    ]
    if rows:
        return rows
    saved = TherapistSchedule.objects.filter(therapist=therapist).first()
    if saved is None:
        return [(day, datetime.time(9), datetime.time(17)) for day in range(5)]
    return [(int(day), saved.start, saved.end) for day in saved.weekdays]


@functools.lru_cache(maxsize=256)
def _holiday_dates(country: str, subdivision: str, year: int) -> frozenset[datetime.date]:
    try:
        table = holidays.country_holidays(country, subdiv=subdivision or None, years=year)
    except NotImplementedError:
        return frozenset()
    return frozenset(day for day in table if day.year == year)


def availability_of(
    therapist: User, *, start: datetime.datetime, end: datetime.datetime
) -> slots.Availability:
    """The therapist's availability, with the exceptions, public holidays (of their working
    hours' country, as for reply windows) and out-of-office periods that touch `[start, end)`."""
    schedule = TherapistSchedule.objects.filter(therapist=therapist).first()
    zone_name = schedule.time_zone if schedule else therapist.time_zone
    zone = zoneinfo.ZoneInfo(zone_name)
    first = start.astimezone(zone).date() - datetime.timedelta(days=1)
    last = end.astimezone(zone).date() + datetime.timedelta(days=1)
    off_days: set[datetime.date] = set()
    off_hours, extra = [], []
    for row in AvailabilityException.objects.filter(
        therapist=therapist, day__gte=first, day__lte=last
    ):
        if row.kind == ExceptionKind.EXTRA and row.start and row.end:
            extra.append((row.day, row.start, row.end))
        elif row.kind == ExceptionKind.OFF and row.start and row.end:
            off_hours.append((row.day, row.start, row.end))
        elif row.kind == ExceptionKind.OFF:
            off_days.add(row.day)
    if schedule is not None and schedule.holiday_country:
        for year in range(first.year, last.year + 1):
            off_days |= {
                d
                for d in _holiday_dates(
                    schedule.holiday_country, schedule.holiday_subdivision, year
                )
                if first <= d <= last
            }
    away = tuple(
        OutOfOffice.objects.filter(therapist=therapist, starts_at__lt=end, ends_at__gt=start)
        .order_by("starts_at")
        .values_list("starts_at", "ends_at")
    )
    return slots.Availability(
        time_zone=zone_name,
        weekly=tuple(weekly_hours_of(therapist)),
        off_days=frozenset(off_days),
        off_hours=tuple(off_hours),
        extra=tuple(extra),
        away=away,
    )


# The busy intervals of a month are read on every slot page. Through the ORM, turning ~250
# timestamps into aware datetimes cost more than the query (docs/performance.md): read them as
# text (SQLite) or epoch seconds (PostgreSQL) and build the datetimes in C.
_BUSY_SQL = (
    "SELECT {start}, {until} FROM scheduling_booking WHERE therapist_id = %s "
    "AND starts_at > %s AND starts_at < %s AND blocked_until > %s "
    "AND status <> 'cancelled' AND id <> %s"
)


def _sqlite_utc(value: str | datetime.datetime) -> datetime.datetime:
    """A stored timestamp (naive UTC; Django's sqlite3 converters may already have parsed it)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def busy_of(
    therapist: User,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    ignore: int | None = None,
) -> slots.Busy:
    """What is already booked or blocked (with buffers) around `[start, end)`, one query.

    `starts_at` is bounded below by the longest possible booking, so the (therapist, start)
    index limits the scan to the range asked about, however long the history."""
    adapt = connection.ops.adapt_datetimefield_value
    params = [therapist.pk, adapt(start - LONGEST_BOOKING), adapt(end), adapt(start), ignore or 0]
    if connection.vendor == "postgresql":
        sql = _BUSY_SQL.format(
            start="EXTRACT(EPOCH FROM starts_at)", until="EXTRACT(EPOCH FROM blocked_until)"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            from_epoch = datetime.datetime.fromtimestamp
            return slots.Busy(
                (from_epoch(float(a), UTC), from_epoch(float(b), UTC)) for a, b in cursor.fetchall()
            )
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(_BUSY_SQL.format(start="starts_at", until="blocked_until"), params)
            return slots.Busy((_sqlite_utc(a), _sqlite_utc(b)) for a, b in cursor.fetchall())
    rows = Booking.objects.filter(  # pragma: no cover - other databases: the plain ORM way
        therapist=therapist,
        starts_at__gt=start - LONGEST_BOOKING,
        starts_at__lt=end,
        blocked_until__gt=start,
    ).exclude(status=BookingStatus.CANCELLED)
    if ignore is not None:
        rows = rows.exclude(pk=ignore)
    return slots.Busy(rows.values_list("starts_at", "blocked_until"))


def rules_for(session_type: SessionType, policy: SchedulingPolicy) -> slots.Rules:
    return slots.Rules(
        minutes=session_type.minutes,
        buffer_minutes=session_type.buffer_minutes,
        step_minutes=policy.slot_step_minutes,
        notice=datetime.timedelta(hours=session_type.min_notice_hours),
        horizon=datetime.timedelta(days=session_type.horizon_days),
    )


def open_slots_for(
    *,
    session_type: SessionType,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
    ignore: int | None = None,
) -> list[datetime.datetime]:
    """Open start times (UTC) for `session_type` in `[start, end)`: three queries, then
    arithmetic. `ignore` leaves one booking out (the one being moved)."""
    therapist = session_type.therapist
    policy = policy_for(therapist)
    rules = rules_for(session_type, policy)
    lo = max(start, now + rules.notice)
    hi = min(end, now + rules.horizon)
    if hi <= lo:
        return []
    return slots.open_slots(
        availability=availability_of(therapist, start=lo, end=hi + rules.length),
        rules=rules,
        busy=busy_of(therapist, start=lo, end=hi + rules.blocking, ignore=ignore),
        start=lo,
        end=hi,
        now=now,
    )


# --- who may see what ---------------------------------------------------------------------------


def relationships_bookable_by(*, user: User) -> QuerySet[CareRelationship]:
    """Relationships `user` may book in: a client's own, or a therapist's caseload."""
    if not user.is_active:
        return CareRelationship.objects.none()
    if user.role == Role.CLIENT:
        qs = CareRelationship.objects.filter(participants__client=user)
    elif user.role == Role.THERAPIST:
        qs = CareRelationship.objects.filter(therapist=user)
    else:
        return CareRelationship.objects.none()
    return (
        qs.filter(ended_at__isnull=True)
        .select_related("therapist", "practice")
        .prefetch_related("participants__client")
        .distinct()
        .order_by("pk")
    )


def relationship_for(*, user: User, relationship_id: int) -> CareRelationship:
    relationship = relationships_bookable_by(user=user).filter(pk=relationship_id).first()
    if relationship is None:
        raise NotFound("You have no therapist relationship by that id.")
    return relationship


def session_room(relationship: CareRelationship) -> Room | None:
    """Where a session of this relationship happens: the couples room, or the client's room."""
    kind = RoomKind.COUPLE if relationship.kind == "couple" else RoomKind.INDIVIDUAL
    return Room.objects.filter(
        relationship=relationship, kind=kind, private_for__isnull=True
    ).first()


def session_types_of(therapist: User, *, active_only: bool = True) -> QuerySet[SessionType]:
    qs = SessionType.objects.filter(therapist=therapist)
    return qs.filter(active=True) if active_only else qs


def session_type_for(*, relationship: CareRelationship, session_type_id: int) -> SessionType:
    found = (
        session_types_of(relationship.therapist)
        .select_related("therapist")
        .filter(pk=session_type_id)
        .first()
    )
    if found is None:
        raise NotFound("Your therapist offers no session type by that id.")
    return found


def _visible(user: User) -> Q:
    if user.role == Role.THERAPIST:
        return Q(therapist=user)
    if user.role == Role.CLIENT:
        return Q(
            kind=BookingKind.SESSION,
            relationship__participants__client=user,
            relationship__ended_at__isnull=True,
        )
    return Q(pk__in=[])


def bookings_visible_to(*, user: User) -> QuerySet[Booking]:
    if not user.is_active:
        return Booking.objects.none()
    return (
        Booking.objects.filter(_visible(user))
        .select_related("therapist", "relationship", "room", "live_session")
        .distinct()
    )


def booking_get(*, user: User, booking_id: int) -> Booking:
    booking = bookings_visible_to(user=user).filter(pk=booking_id).first()
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def upcoming_for(
    *, user: User, now: datetime.datetime, limit: int = 20, include_blocks: bool = False
) -> list[Booking]:
    """Confirmed bookings not yet over, soonest first, with the people of each."""
    qs = bookings_visible_to(user=user).filter(status=BookingStatus.CONFIRMED, ends_at__gt=now)
    if not include_blocks:
        qs = qs.filter(kind=BookingKind.SESSION)
    return list(
        qs.prefetch_related("relationship__participants__client").order_by("starts_at")[:limit]
    )


def can_join(booking: Booking, now: datetime.datetime) -> bool:
    """Whether the session's "Join" button shows: from a few minutes before until its end."""
    opens = booking.starts_at - datetime.timedelta(minutes=join_minutes_before())
    return (
        booking.kind == BookingKind.SESSION
        and booking.status == BookingStatus.CONFIRMED
        and booking.room_id is not None
        and opens <= now < booking.ends_at
    )


def joinable_in_room(*, user: User, room: Room, now: datetime.datetime) -> Booking | None:
    """The session of `room` that `user` can join now, if any."""
    for booking in bookings_visible_to(user=user).filter(
        room=room,
        status=BookingStatus.CONFIRMED,
        starts_at__lte=now + datetime.timedelta(minutes=join_minutes_before()),
        ends_at__gt=now,
    ):
        if can_join(booking, now):
            return booking
    return None


def open_proposals_for(*, user: User) -> list[Proposal]:
    if user.role == Role.CLIENT:
        qs = Proposal.objects.filter(relationship__participants__client=user)
    elif user.role == Role.THERAPIST:
        qs = Proposal.objects.filter(therapist=user)
    else:
        return []
    return list(
        qs.filter(status=ProposalStatus.OPEN, relationship__ended_at__isnull=True)
        .select_related("therapist", "session_type", "relationship")
        .prefetch_related("times")
        .distinct()
        .order_by("-created_at")
    )


def proposal_get(*, user: User, proposal_id: int) -> Proposal:
    found = next((p for p in open_proposals_for(user=user) if p.pk == proposal_id), None)
    if found is None:
        raise NotFound("No such proposal.")
    return found


@dataclasses.dataclass(frozen=True)
class AttendanceRow:
    names: str
    late_cancellations: int
    no_shows: int


def attendance_record(*, therapist: User) -> list[AttendanceRow]:
    """Late cancellations and no-shows, per relationship, for the therapist."""
    rows: dict[int, list[int]] = {}
    for relationship_id, late, no_show in Booking.objects.filter(
        Q(late_cancellation=True) | Q(status=BookingStatus.NO_SHOW),
        therapist=therapist,
        kind=BookingKind.SESSION,
    ).values_list("relationship_id", "late_cancellation", "status"):
        counts = rows.setdefault(relationship_id, [0, 0])
        counts[0] += int(late)
        counts[1] += int(no_show == BookingStatus.NO_SHOW)
    relationships = {
        r.pk: r
        for r in CareRelationship.objects.filter(pk__in=rows).prefetch_related(
            "participants__client"
        )
    }
    return [
        AttendanceRow(
            names=" & ".join(p.client.display_name for p in relationships[pk].participants.all()),
            late_cancellations=counts[0],
            no_shows=counts[1],
        )
        for pk, counts in sorted(rows.items())
        if pk in relationships
    ]


def feed_owner(*, digest: str) -> User | None:
    policy = (
        SchedulingPolicy.objects.filter(feed_token_hash=digest, therapist__is_active=True)
        .select_related("therapist")
        .first()
    )
    return policy.therapist if policy else None


def feed_bookings(*, therapist: User, now: datetime.datetime) -> list[Booking]:
    """What the private calendar feed lists: the last 30 days and everything ahead."""
    return list(
        Booking.objects.filter(
            therapist=therapist, starts_at__gte=now - datetime.timedelta(days=30)
        )
        .exclude(status=BookingStatus.CANCELLED)
        .select_related("room")
        .order_by("starts_at")
    )


def people_of(booking: Booking) -> list[User]:
    """Everyone a booking concerns: the therapist and the relationship's clients."""
    people = [booking.therapist]
    if booking.relationship_id is not None:
        people += [
            p.client
            for p in booking.relationship.participants.select_related("client")  # type: ignore[union-attr]
            if p.client.is_active
        ]
    return people
