"""No double booking, ever: concurrent bookings of one therapist from real threads, each with
its own database connection, and the database constraints that back the services' check."""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import IntegrityError, connection, connections, transaction

from confide.errors import Conflict
from confide.scheduling import services
from confide.scheduling.models import Booking, BookingStatus
from tests.personas import Personas, build_personas
from tests.scheduling.conftest import MONDAY, at, open_bookings

pytestmark = pytest.mark.django_db(transaction=True)


def race(calls: list[Callable[[], object]]) -> list[object]:
    """Run the calls at the same moment, one thread and one connection each; results or errors."""
    barrier = threading.Barrier(len(calls), timeout=10)

    def run(call: Callable[[], object]) -> object:
        try:
            barrier.wait()
            return call()
        except Exception as error:
            return error
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls, timeout=30))


def booker(
    people: Personas, who: str, start: datetime.datetime, type_id: int
) -> Callable[[], object]:
    actor = getattr(people, who)
    relationship = people.individual if who == "client" else people.couple
    return lambda: services.booking_create(
        actor=actor,
        relationship_id=relationship.pk,
        session_type_id=type_id,
        starts_at=start,
        now=MONDAY,
    )


@pytest.mark.parametrize("round_", range(3))
def test_two_clients_booking_the_same_slot_at_once_one_wins(round_: int) -> None:
    people = build_personas()
    video = open_bookings(people.therapist)
    start = at(5 + round_, 10)
    outcomes = race(
        [
            booker(people, "client", start, video.pk),
            booker(people, "partner_a", start, video.pk),
            booker(people, "partner_b", start, video.pk),
        ]
    )
    won = [o for o in outcomes if isinstance(o, Booking)]
    lost = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(won) == 1 and len(lost) == 2, outcomes
    assert all("already taken" in error.message for error in lost)
    assert Booking.objects.filter(starts_at=start, status=BookingStatus.CONFIRMED).count() == 1


def test_overlapping_slots_booked_at_once_one_wins() -> None:
    """10:00, 10:30 and 09:45 are different starts (the unique constraint cannot tell), but
    each pair of these sessions would overlap: the lock (and on PostgreSQL the exclusion
    constraint) decides."""
    people = build_personas()
    video = open_bookings(people.therapist)
    outcomes = race(
        [
            booker(people, "client", at(5, 10), video.pk),
            booker(people, "partner_a", at(5, 10, 30), video.pk),
            lambda: services.booking_create(
                actor=people.therapist,
                relationship_id=people.individual.pk,
                session_type_id=video.pk,
                starts_at=at(5, 9, 45),  # with its buffer, until 10:45
                now=MONDAY,
            ),
        ]
    )
    won = [o for o in outcomes if isinstance(o, Booking)]
    assert len(won) == 1, outcomes
    assert all(isinstance(o, Conflict) for o in outcomes if o not in won), outcomes
    assert Booking.objects.filter(status=BookingStatus.CONFIRMED).count() == 1


def test_moving_two_sessions_onto_the_same_time_at_once_one_wins() -> None:
    people = build_personas()
    video = open_bookings(people.therapist)
    first = booker(people, "client", at(5, 10), video.pk)()
    second = booker(people, "partner_a", at(5, 14), video.pk)()
    assert isinstance(first, Booking) and isinstance(second, Booking)
    outcomes = race(
        [
            lambda: services.booking_reschedule(
                actor=people.client, booking_id=first.pk, starts_at=at(6, 11), now=MONDAY
            ),
            lambda: services.booking_reschedule(
                actor=people.partner_b, booking_id=second.pk, starts_at=at(6, 11), now=MONDAY
            ),
        ]
    )
    assert sum(isinstance(o, Booking) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    assert Booking.objects.filter(starts_at=at(6, 11)).count() == 1


def _row(people: Personas, start: datetime.datetime, minutes: int) -> Booking:
    end = start + datetime.timedelta(minutes=minutes)
    return Booking(
        therapist=people.therapist,
        minutes=minutes,
        starts_at=start,
        ends_at=end,
        blocked_until=end,
        booked_by=people.therapist,
        kind="block",
    )


def test_the_database_refuses_two_bookings_at_one_start_even_past_the_services() -> None:
    people = build_personas()
    _row(people, at(5, 10), 60).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        _row(people, at(5, 10), 30).save()
    cancelled = _row(people, at(5, 10), 30)
    cancelled.status = BookingStatus.CANCELLED
    cancelled.save()  # a cancelled booking does not hold its time


def test_the_database_refuses_overlaps_on_postgresql_and_serialises_writers_on_sqlite() -> None:
    people = build_personas()
    _row(people, at(5, 10), 60).save()
    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError), transaction.atomic():
            _row(people, at(5, 10, 30), 60).save()
    else:
        # SQLite has no exclusion constraints: the services' check is the guard, and it holds
        # because every transaction takes the write lock when it begins (BEGIN IMMEDIATE).
        assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    _row(people, at(5, 11), 60).save()  # touching end to start is not an overlap
