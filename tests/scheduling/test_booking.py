"""Booking, moving and cancelling through the services: the rules, the refusals with their
reasons, the records for the therapist, and who may see or touch what."""

from __future__ import annotations

import datetime

import pytest
import time_machine

from confide.audit.models import AuditEvent
from confide.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import Room, RoomKind
from confide.scheduling import availability, selectors, services
from confide.scheduling.models import Booking, BookingStatus, ProposalStatus, SessionType
from tests.personas import Personas
from tests.scheduling.conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def book(
    people: Personas, video: SessionType, start: datetime.datetime, actor: object = None
) -> Booking:
    return services.booking_create(
        actor=actor or people.client,  # type: ignore[arg-type]
        relationship_id=people.individual.pk,
        session_type_id=video.pk,
        starts_at=start,
        now=MONDAY,
    )


def test_a_client_books_an_open_slot_in_their_room(people: Personas, video: SessionType) -> None:
    booking = book(people, video, at(5, 10))
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.room == Room.objects.get(relationship=people.individual)
    assert (booking.ends_at, booking.blocked_until) == (at(5, 10, 50), at(5, 11))
    assert (booking.mode, booking.minutes, booking.version) == ("video", 50, 0)
    assert AuditEvent.objects.filter(action="booking.create", object_id=str(booking.pk)).exists()
    open_now = selectors.open_slots_for(
        session_type=video, start=at(5, 0), end=at(6, 0), now=MONDAY
    )
    assert at(5, 10) not in open_now and at(5, 10, 30) not in open_now and at(5, 11) in open_now


@pytest.mark.parametrize(
    ("start", "error", "reason"),
    [
        (at(3, 10), InvalidInput, "already passed"),
        (at(4, 14), InvalidInput, "more notice"),
        (at(9, 10), InvalidInput, "not available"),  # a Saturday
        (at(5, 18), InvalidInput, "not available"),  # after hours
        (at(5, 16, 30), InvalidInput, "not available"),  # would end after 17:00
        (at(5, 10, 10), InvalidInput, "open slots"),  # off the grid
        (at(5, 10) + datetime.timedelta(days=70), InvalidInput, "too far ahead"),
    ],
)
def test_it_refuses_a_client_with_a_clear_reason(
    people: Personas,
    video: SessionType,
    start: datetime.datetime,
    error: type[DomainError],
    reason: str,
) -> None:
    with pytest.raises(error) as caught:
        book(people, video, start)
    assert reason in caught.value.message
    assert caught.value.field_errors["starts_at"]
    assert not Booking.objects.exists()


def test_an_overlapping_booking_is_a_conflict_for_anyone(
    people: Personas, video: SessionType
) -> None:
    book(people, video, at(5, 10))
    with pytest.raises(Conflict, match="already taken"):
        services.booking_create(
            actor=people.partner_b,
            relationship_id=people.couple.pk,
            session_type_id=video.pk,
            starts_at=at(5, 10, 30),
            now=MONDAY,
        )
    # The therapist is not bound by their hours or notice, but is by their other sessions.
    with pytest.raises(Conflict):
        book(people, video, at(5, 9, 30), actor=people.therapist)  # runs into 10:00 with buffer
    assert Booking.objects.count() == 1


def test_a_naive_time_is_refused(people: Personas, video: SessionType) -> None:
    with pytest.raises(InvalidInput, match="time zone"):
        book(people, video, datetime.datetime(2027, 1, 5, 10, 0))  # noqa: DTZ001 - the point


def test_the_therapist_books_for_a_client_outside_their_own_rules(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(4, 19), actor=people.therapist)  # evening, short notice
    assert booking.booked_by == people.therapist and booking.starts_at == at(4, 19)
    with pytest.raises(InvalidInput, match="already passed"):
        book(people, video, at(4, 7), actor=people.therapist)


def test_either_partner_books_for_the_couple_and_both_see_it(
    people: Personas, video: SessionType
) -> None:
    booking = services.booking_create(
        actor=people.partner_a,
        relationship_id=people.couple.pk,
        session_type_id=video.pk,
        starts_at=at(6, 14),
        now=MONDAY,
    )
    assert booking.room == Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)
    for partner in (people.partner_a, people.partner_b):
        assert selectors.booking_get(user=partner, booking_id=booking.pk) == booking
    assert selectors.upcoming_for(user=people.partner_b, now=MONDAY) == [booking]


def test_outsiders_and_colleagues_see_and_touch_nothing(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(5, 10))
    block = services.block_create(
        actor=people.therapist,
        starts_at=at(7, 9),
        ends_at=at(7, 12),
        label="Supervision",
        now=MONDAY,
    )
    for stranger in (people.outsider, people.colleague, people.partner_a, people.admin):
        for target in (booking, block):
            with pytest.raises(NotFound):
                selectors.booking_get(user=stranger, booking_id=target.pk)
            with pytest.raises(NotFound):
                services.booking_cancel(actor=stranger, booking_id=target.pk, now=MONDAY)
            with pytest.raises(NotFound):
                services.booking_reschedule(
                    actor=stranger, booking_id=target.pk, starts_at=at(8, 10), now=MONDAY
                )
        assert selectors.upcoming_for(user=stranger, now=MONDAY, include_blocks=True) == []
        with pytest.raises(NotFound):
            services.booking_create(
                actor=stranger,
                relationship_id=people.individual.pk,
                session_type_id=video.pk,
                starts_at=at(5, 14),
                now=MONDAY,
            )
    # The client never sees the therapist's blocked time (nor its label).
    with pytest.raises(NotFound):
        selectors.booking_get(user=people.client, booking_id=block.pk)
    # A session type of another therapist cannot be booked with this one.
    theirs = availability.session_type_save(
        actor=people.colleague,
        mode="chat",
        minutes=30,
        buffer_minutes=0,
        min_notice_hours=0,
        horizon_days=30,
    )
    with pytest.raises(NotFound, match="session type"):
        book(people, theirs, at(5, 14))


def test_a_client_cancels_for_free_until_the_window_then_late(
    people: Personas, video: SessionType
) -> None:
    early = book(people, video, at(6, 10))
    late = book(people, video, at(6, 14))
    cancelled = services.booking_cancel(actor=people.client, booking_id=early.pk, now=at(5, 9))
    assert cancelled.status == BookingStatus.CANCELLED and not cancelled.late_cancellation
    assert cancelled.version == 1
    late = services.booking_cancel(actor=people.client, booking_id=late.pk, now=at(5, 15))
    assert late.late_cancellation
    [row] = selectors.attendance_record(therapist=people.therapist)
    assert (row.names, row.late_cancellations, row.no_shows) == ("Cam Client", 1, 0)
    # The freed slot can be booked again (the unique constraint ignores cancelled bookings).
    again = book(people, video, at(6, 10))
    assert again.status == BookingStatus.CONFIRMED


def test_the_therapist_cancelling_late_is_not_the_clients_late_cancellation(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(6, 10))
    cancelled = services.booking_cancel(actor=people.therapist, booking_id=booking.pk, now=at(6, 9))
    assert cancelled.status == BookingStatus.CANCELLED and not cancelled.late_cancellation


def test_a_started_session_cannot_be_cancelled_or_moved(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(6, 10))
    with pytest.raises(Conflict, match="started"):
        services.booking_cancel(actor=people.client, booking_id=booking.pk, now=at(6, 10, 5))
    with pytest.raises(Conflict, match="started"):
        services.booking_reschedule(
            actor=people.therapist, booking_id=booking.pk, starts_at=at(7, 10), now=at(6, 10, 5)
        )


def test_a_client_moves_a_session_within_the_policy(people: Personas, video: SessionType) -> None:
    booking = book(people, video, at(6, 10))
    moved = services.booking_reschedule(
        actor=people.client, booking_id=booking.pk, starts_at=at(6, 10, 30), now=MONDAY
    )
    # Moving half an hour onto its own old time is fine: the booking does not block itself.
    assert (moved.starts_at, moved.version) == (at(6, 10, 30), 1)
    assert Booking.objects.get(pk=booking.pk).ends_at == at(6, 11, 20)
    with pytest.raises(InvalidInput, match="not available"):
        services.booking_reschedule(
            actor=people.client, booking_id=booking.pk, starts_at=at(9, 10), now=MONDAY
        )
    with pytest.raises(Conflict, match="hours before"):
        services.booking_reschedule(
            actor=people.client, booking_id=booking.pk, starts_at=at(7, 10), now=at(5, 12)
        )
    # The therapist can still move it (to any free time), and the client can cancel late.
    services.booking_reschedule(
        actor=people.therapist, booking_id=booking.pk, starts_at=at(5, 19), now=at(5, 12)
    )
    assert Booking.objects.get(pk=booking.pk).version == 2


def test_the_therapist_records_a_no_show_once_the_session_started(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(6, 10))
    with pytest.raises(Conflict, match="once it has started"):
        services.booking_mark_no_show(actor=people.therapist, booking_id=booking.pk, now=at(6, 9))
    with pytest.raises(PermissionDenied):
        services.booking_mark_no_show(actor=people.client, booking_id=booking.pk, now=at(6, 10, 20))
    services.booking_mark_no_show(actor=people.therapist, booking_id=booking.pk, now=at(6, 10, 20))
    [row] = selectors.attendance_record(therapist=people.therapist)
    assert (row.late_cancellations, row.no_shows) == (0, 1)


def test_blocked_time_closes_slots_and_cannot_overlap_a_session(
    people: Personas, video: SessionType
) -> None:
    book(people, video, at(5, 10))
    with pytest.raises(Conflict, match="Move or cancel it first"):
        services.block_create(
            actor=people.therapist, starts_at=at(5, 9), ends_at=at(5, 12), now=MONDAY
        )
    with pytest.raises(PermissionDenied):
        services.block_create(
            actor=people.client, starts_at=at(5, 13), ends_at=at(5, 14), now=MONDAY
        )
    services.block_create(
        actor=people.therapist, starts_at=at(5, 13), ends_at=at(5, 15), now=MONDAY
    )
    open_now = selectors.open_slots_for(
        session_type=video, start=at(5, 0), end=at(6, 0), now=MONDAY
    )
    assert [s for s in open_now if at(5, 12) < s < at(5, 15)] == []
    with pytest.raises(Conflict):
        book(people, video, at(5, 14))


def test_the_therapist_proposes_times_and_the_client_accepts_one(
    people: Personas, video: SessionType
) -> None:
    proposal = services.proposal_create(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        session_type_id=video.pk,
        times=[at(11, 18), at(12, 8)],  # outside the weekly hours: the therapist's choice
        now=MONDAY,
    )
    with pytest.raises(NotFound):
        services.proposal_accept(
            actor=people.outsider, proposal_id=proposal.pk, starts_at=at(11, 18), now=MONDAY
        )
    with pytest.raises(InvalidInput, match="proposed times"):
        services.proposal_accept(
            actor=people.client, proposal_id=proposal.pk, starts_at=at(11, 10), now=MONDAY
        )
    booking = services.proposal_accept(
        actor=people.client, proposal_id=proposal.pk, starts_at=at(12, 8), now=MONDAY
    )
    assert booking.starts_at == at(12, 8) and booking.booked_by == people.client
    proposal.refresh_from_db()
    assert proposal.status == ProposalStatus.ACCEPTED and proposal.booking == booking
    with pytest.raises(NotFound):  # answered proposals are no longer open
        services.proposal_accept(
            actor=people.client, proposal_id=proposal.pk, starts_at=at(11, 18), now=MONDAY
        )


def test_proposing_a_taken_or_past_time_is_refused(people: Personas, video: SessionType) -> None:
    book(people, video, at(5, 10))
    for times, error in (
        ([at(5, 10, 30)], Conflict),
        ([at(3, 10)], InvalidInput),
        ([], InvalidInput),
    ):
        with pytest.raises(error):
            services.proposal_create(
                actor=people.therapist,
                relationship_id=people.individual.pk,
                session_type_id=video.pk,
                times=times,
                now=MONDAY,
            )
    with pytest.raises(PermissionDenied):
        services.proposal_create(
            actor=people.client,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            times=[at(12, 10)],
            now=MONDAY,
        )


def test_holidays_and_out_of_office_close_the_calendar(
    people: Personas, video: SessionType
) -> None:
    from confide.care.services import away_add, schedule_update

    schedule_update(
        actor=people.therapist,
        time_zone="Europe/London",
        weekdays=[0, 1, 2, 3, 4],
        start=datetime.time(9),
        end=datetime.time(17),
        holiday_country="GB",
    )
    away_add(actor=people.therapist, starts_at=at(13, 0), ends_at=at(14, 0))
    with time_machine.travel(MONDAY, tick=False):
        slots = selectors.open_slots_for(
            session_type=video,
            start=at(1, 0, month=3),
            end=at(7, 0, month=3),
            now=at(24, 0, month=2),
        )
        # Good Friday 2027 is 26 March; no slots that day in England.
        good_friday = selectors.open_slots_for(
            session_type=video,
            start=at(26, 0, month=3),
            end=at(27, 0, month=3),
            now=at(20, 0, month=3),
        )
        away = selectors.open_slots_for(
            session_type=video, start=at(13, 0), end=at(14, 0), now=MONDAY
        )
    assert slots and good_friday == [] and away == []


def test_the_therapists_weekly_hours_are_in_their_own_zone(
    people: Personas, video: SessionType
) -> None:
    """Robin works from New York; a London client sees 09:00 New York as 14:00."""
    from confide.care.services import schedule_update

    schedule_update(
        actor=people.therapist,
        time_zone="America/New_York",
        weekdays=[0, 1, 2, 3, 4],
        start=datetime.time(9),
        end=datetime.time(17),
        holiday_country="",
    )
    slots = selectors.open_slots_for(session_type=video, start=at(5, 0), end=at(6, 0), now=MONDAY)
    assert slots[0] == at(5, 14)
    with pytest.raises(InvalidInput, match="not available"):
        book(people, video, at(5, 10))
    assert book(people, video, at(5, 14)).starts_at == at(5, 14)


def test_setup_refuses_bad_hours_and_session_types(people: Personas) -> None:
    with pytest.raises(InvalidInput, match="overlap"):
        availability.weekly_hours_set(
            actor=people.therapist,
            hours=[
                (0, datetime.time(9), datetime.time(12)),
                (0, datetime.time(11), datetime.time(13)),
            ],
        )
    with pytest.raises(InvalidInput) as caught:
        availability.session_type_save(
            actor=people.therapist,
            mode="smoke",
            minutes=60,
            buffer_minutes=0,
            min_notice_hours=0,
            horizon_days=0,
        )
    assert set(caught.value.field_errors) >= {"mode", "minutes", "horizon_days"}
    with pytest.raises(PermissionDenied):
        availability.weekly_hours_set(actor=people.client, hours=[])
    with pytest.raises(InvalidInput, match="Extra hours"):
        availability.exception_add(
            actor=people.therapist, day=datetime.date(2027, 1, 9), kind="extra"
        )


def test_the_demo_practice_has_a_small_fictional_schedule() -> None:
    from io import StringIO

    from django.core.management import call_command

    with time_machine.travel(MONDAY, tick=False):
        call_command("seed_demo", stdout=StringIO())
    robin = Booking.objects.filter(kind="session").first()
    assert robin is not None
    sessions = Booking.objects.filter(kind="session").order_by("starts_at")
    assert [(b.starts_at, b.mode) for b in sessions] == [(at(5, 10), "video"), (at(6, 17), "video")]
    assert Booking.objects.filter(kind="block", label="Supervision").count() == 1
    assert SessionType.objects.filter(therapist=robin.therapist).count() == 2


def test_a_fortnight_of_blocked_time_closes_slots_until_its_very_end(
    people: Personas, video: SessionType
) -> None:
    """Overlap queries look back no further than the longest possible booking (14 days)."""
    services.block_create(
        actor=people.therapist, starts_at=at(4, 12), ends_at=at(18, 12), now=MONDAY
    )
    slots = selectors.open_slots_for(session_type=video, start=at(18, 0), end=at(19, 0), now=MONDAY)
    assert slots and min(slots) == at(18, 12)
    with pytest.raises(Conflict):
        book(people, video, at(18, 11), actor=people.therapist)
    with pytest.raises(InvalidInput, match="14 days"):
        services.block_create(
            actor=people.therapist, starts_at=at(20, 12), ends_at=at(4, 13, month=2), now=MONDAY
        )
