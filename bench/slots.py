"""A month of open slots for a busy therapist, against a naive one-query-per-slot check.

A therapist with 200 clients and a year of bookings (six sessions a working day, a few blocks,
days off and out-of-office weeks; about 1,500 rows, plus another therapist's year beside it)
works Monday to Friday 08:00-20:00 in London with public holidays off. `p99_ms` is the
selector `scheduling.selectors.open_slots_for` computing every open 50-minute slot of the next
31 days (a few queries, then arithmetic); `cold_p99_ms` is the same with the per-day cache
emptied before every call; `page_*` is the client's booking page (one week) through Django.
`baseline_*` is the naive way: walk the month's 30-minute grid and, for each start inside the
weekly hours, ask the database whether a booking overlaps it. Both give the same slots.

    python bench/slots.py [--quick] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import configure, machine, summary

NOW = datetime.datetime(2027, 1, 4, 8, 0, tzinfo=datetime.UTC)
UTC = datetime.UTC


def build(clients_n: int) -> tuple[int, int, int, int]:
    """Bulk-load rows directly (a benchmark's data, not a test's). Returns the therapist, a
    client, the client's relationship and the session type ids, and the booking count."""
    from django.db import connection, transaction

    from confide.accounts.models import Role, User
    from confide.care.models import (
        CareParticipant,
        CareRelationship,
        OutOfOffice,
        Practice,
        TherapistSchedule,
    )
    from confide.rooms.models import MemberRole, Room, RoomMember
    from confide.scheduling.models import (
        AvailabilityException,
        Booking,
        SchedulingPolicy,
        SessionType,
        WeeklyHours,
    )

    rng = random.Random(7)
    with transaction.atomic():
        practice = Practice.objects.create(name="Bench", slug="bench", country="GB")
        therapists = User.objects.bulk_create(
            [
                User(
                    email=f"t{i}@bench.example",
                    display_name=f"T{i}",
                    role=Role.THERAPIST,
                    practice=practice,
                    time_zone="Europe/London",
                    password="!",  # noqa: S106 - an unusable password marker
                )
                for i in range(2)
            ]
        )
        clients = User.objects.bulk_create(
            [
                User(
                    email=f"c{i}@bench.example",
                    display_name=f"C{i}",
                    role=Role.CLIENT,
                    practice=practice,
                    time_zone="Europe/London",
                    password="!",  # noqa: S106 - an unusable password marker
                )
                for i in range(2 * clients_n)
            ]
        )
        rels = CareRelationship.objects.bulk_create(
            [
                CareRelationship(practice=practice, therapist=therapists[i % 2], kind="individual")
                for i in range(2 * clients_n)
            ]
        )
        CareParticipant.objects.bulk_create(
            [CareParticipant(relationship=r, client=c) for r, c in zip(rels, clients, strict=True)]
        )
        rooms = Room.objects.bulk_create(
            [Room(practice=practice, relationship=r, kind="individual") for r in rels]
        )
        RoomMember.objects.bulk_create(
            [
                RoomMember(room=room, user_id=rel.therapist_id, role=MemberRole.THERAPIST)
                for room, rel in zip(rooms, rels, strict=True)
            ]
            + [
                RoomMember(room=room, user=client, role=MemberRole.CLIENT)
                for room, client in zip(rooms, clients, strict=True)
            ]
        )
        types = []
        for therapist in therapists:
            TherapistSchedule.objects.create(
                therapist=therapist, time_zone="Europe/London", holiday_country="GB"
            )
            SchedulingPolicy.objects.create(therapist=therapist, slot_step_minutes=30)
            WeeklyHours.objects.bulk_create(
                [
                    WeeklyHours(
                        therapist=therapist,
                        weekday=d,
                        start=datetime.time(8),
                        end=datetime.time(20),
                    )
                    for d in range(5)
                ]
            )
            types.append(
                SessionType.objects.create(
                    therapist=therapist,
                    mode="video",
                    minutes=50,
                    buffer_minutes=10,
                    min_notice_hours=24,
                    horizon_days=90,
                )
            )
        bookings: list[Booking] = []
        first_day = (NOW - datetime.timedelta(days=300)).date()
        for index, therapist in enumerate(therapists):
            mine = [r for r in rels if r.therapist_id == therapist.pk]
            room_of = {room.relationship_id: room for room in rooms}
            for offset in range(365):
                day = first_day + datetime.timedelta(days=offset)
                if day.weekday() >= 5:
                    continue
                hours = rng.sample(range(8, 20), 6)
                for hour in hours:
                    start = datetime.datetime.combine(day, datetime.time(hour), tzinfo=UTC)
                    rel = mine[rng.randrange(len(mine))]
                    status = "cancelled" if rng.random() < 0.05 else "confirmed"
                    bookings.append(
                        Booking(
                            therapist=therapist,
                            kind="session",
                            relationship=rel,
                            room=room_of[rel.pk],
                            session_type=types[index],
                            mode="video",
                            minutes=50,
                            buffer_minutes=10,
                            starts_at=start,
                            ends_at=start + datetime.timedelta(minutes=50),
                            blocked_until=start + datetime.timedelta(minutes=60),
                            status=status,
                            booked_by=therapist,
                        )
                    )
                if offset % 17 == 0:
                    AvailabilityException.objects.create(therapist=therapist, day=day, kind="off")
            for month in range(0, 12, 3):
                away = datetime.datetime(2026, 3 + month, 3, tzinfo=UTC)
                OutOfOffice.objects.create(
                    therapist=therapist, starts_at=away, ends_at=away + datetime.timedelta(days=5)
                )
        Booking.objects.bulk_create(bookings, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    target = therapists[0]
    booked = Booking.objects.filter(therapist=target).count()
    rel = next(r for r in rels if r.therapist_id == target.pk)
    client = next(c for r, c in zip(rels, clients, strict=True) if r.pk == rel.pk)
    return target.pk, client.pk, rel.pk, booked


NAIVE_OVERLAP = (
    "SELECT 1 FROM scheduling_booking WHERE therapist_id = %s AND status <> 'cancelled' "
    "AND starts_at < %s AND blocked_until > %s LIMIT 1"
)


def naive_slots(therapist_id: int, start: datetime.datetime, end: datetime.datetime) -> list[Any]:
    """Walk the grid; for each start in the weekly hours (and not a day off), one query."""
    import zoneinfo

    from django.db import connection

    from confide.care.models import OutOfOffice
    from confide.scheduling.models import AvailabilityException, WeeklyHours
    from confide.scheduling.selectors import _holiday_dates

    zone = zoneinfo.ZoneInfo("Europe/London")
    hours = list(WeeklyHours.objects.filter(therapist_id=therapist_id))
    days_off = set(
        AvailabilityException.objects.filter(therapist_id=therapist_id, kind="off").values_list(
            "day", flat=True
        )
    )
    away = list(
        OutOfOffice.objects.filter(therapist_id=therapist_id).values_list("starts_at", "ends_at")
    )
    adapt = connection.ops.adapt_datetimefield_value  # as the ORM stores them (SQLite: text)
    found = []
    moment = start
    length, blocking = datetime.timedelta(minutes=50), datetime.timedelta(minutes=60)
    with connection.cursor() as cursor:
        while moment < end:
            local = moment.astimezone(zone)
            fits = any(
                h.weekday == local.weekday()
                and h.start <= local.time()
                and (local + length).time() <= h.end
                and (local + length).date() == local.date()
                for h in hours
            )
            if (
                fits
                and local.date() not in days_off
                and local.date() not in _holiday_dates("GB", "", local.year)
                and not any(a < moment + length and b > moment for a, b in away)
            ):
                cursor.execute(
                    NAIVE_OVERLAP,
                    [therapist_id, adapt(moment + blocking), adapt(moment)],
                )
                if cursor.fetchone() is None:
                    found.append(moment)
            moment += datetime.timedelta(minutes=30)
    return found


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    env = configure(args.db)
    try:
        started = time.perf_counter()
        therapist_id, client_id, relationship_id, bookings_n = build(200)
        load_s = time.perf_counter() - started
        import time_machine
        from django.db import connection
        from django.test import Client

        from confide.accounts.models import User
        from confide.accounts.services import consent_accept
        from confide.scheduling import slots as slot_math
        from confide.scheduling.models import SessionType
        from confide.scheduling.selectors import open_slots_for
        from tests.personas import ensure_consent_document, sign_in

        session_type = SessionType.objects.select_related("therapist").get(
            therapist_id=therapist_id
        )
        start, end = NOW, NOW + datetime.timedelta(days=31)

        def selector() -> list[datetime.datetime]:
            return open_slots_for(session_type=session_type, start=start, end=end, now=NOW)

        def cold() -> list[datetime.datetime]:
            slot_math._day_periods.cache_clear()
            return selector()

        month = selector()
        notice_start = NOW + datetime.timedelta(hours=24)
        expected = [s for s in naive_slots(therapist_id, start, end) if s >= notice_start]
        assert month == expected, (len(month), len(expected))
        assert len(month) > 100
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            selector()

        # The booking page as the client sees it: "now" is the benchmark's Monday, the client
        # has given consent and signs in then (sessions expire in real hours).
        traveller = time_machine.travel(NOW, tick=True)
        traveller.start()
        client = User.objects.get(pk=client_id)
        consent_accept(user=client, version=ensure_consent_document().version)
        browser = sign_in(Client(), client)

        def page() -> None:
            answer = browser.get(f"/book/?relationship={relationship_id}")
            assert answer.status_code == 200 and b'class="slot"' in answer.content

        runs = 200 if args.quick else 2000
        for warm in (selector, cold, page):
            timed(warm, 5)
        fast = summary(timed(selector, runs))
        chilly = summary(timed(cold, max(20, runs // 4)))
        pages = summary(timed(page, max(20, runs // 20)))
        traveller.stop()
        slow = summary(
            timed(lambda: naive_slots(therapist_id, start, end), 10 if args.quick else 50)
        )
        print(
            json.dumps(
                {
                    "bench": "slots",
                    "db": connection.vendor,
                    "quick": args.quick,
                    "clients": 200,
                    "bookings": bookings_n,
                    "days": 31,
                    "open_slots": len(month),
                    "queries": queries,
                    "p50_ms": fast["p50"],
                    "p99_ms": fast["p99"],
                    "cold_p99_ms": chilly["p99"],
                    "page_p50_ms": pages["p50"],
                    "page_p99_ms": pages["p99"],
                    "baseline_p50_ms": slow["p50"],
                    "baseline_p99_ms": slow["p99"],
                    "speedup_p99": round(slow["p99"] / fast["p99"], 1),
                    "load_s": round(load_s, 1),
                    "machine": machine(),
                }
            )
        )
    finally:
        env["cleanup"]()


if __name__ == "__main__":
    main()
