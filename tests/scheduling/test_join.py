"""Joining a booked session: the "Join" button a few minutes before, the therapist starting the
live session of the booked kind and length, the client entering the waiting room."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from confide.errors import Conflict
from confide.live.models import LiveParticipant, LiveSession, ParticipantState
from confide.scheduling import availability, services
from confide.scheduling.models import Booking, SessionType
from tests.personas import Personas
from tests.scheduling.conftest import MONDAY, at

pytestmark = pytest.mark.django_db


def booked(people: Personas, video: SessionType) -> Booking:
    return services.booking_create(
        actor=people.client,
        relationship_id=people.individual.pk,
        session_type_id=video.pk,
        starts_at=at(5, 10),
        now=MONDAY,
    )


def test_join_opens_ten_minutes_before_and_closes_at_the_end(
    people: Personas, video: SessionType
) -> None:
    booking = booked(people, video)
    for moment in (at(5, 9, 49), at(5, 10, 50)):
        with pytest.raises(Conflict, match="10 minutes before"):
            services.booking_join(actor=people.therapist, booking_id=booking.pk, now=moment)
    assert not LiveSession.objects.exists()


def test_the_therapist_starts_the_booked_kind_of_session_and_the_client_waits(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    booking = booked(people, video)
    room_url = f"/rooms/{booking.room_id}/"
    with time_machine.travel(at(5, 9, 52), tick=False):
        client = as_user(people.client)
        therapist = as_user(people.therapist)
        # Before the therapist starts, the client's Join leads to the room, which says so.
        early = client.post(f"/bookings/{booking.pk}/join/", follow=True)
        assert early.redirect_chain[-1][0] == room_url
        assert "starts the session" in early.content.decode()
        assert not LiveSession.objects.exists()
        assert "Join the session" in therapist.get(room_url).content.decode()
        assert "Join" in therapist.get("/caseload/").content.decode()
        started = therapist.post(f"/bookings/{booking.pk}/join/")
        assert started.status_code == 302 and started["Location"] == room_url
        session = LiveSession.objects.get()
        assert (session.mode, session.planned_minutes, session.started_by) == (
            "video",
            50,
            people.therapist,
        )
        booking.refresh_from_db()
        assert booking.live_session == session
        # The room's live panel now offers the call; the booking banner steps aside.
        room_page = client.get(room_url).content.decode()
        assert "Join the video call" in room_page and "join-banner" not in room_page
        client.post(f"/bookings/{booking.pk}/join/")
        place = LiveParticipant.objects.get(session=session, user=people.client)
        assert place.state == ParticipantState.WAITING
        # The therapist joining again (another device) does not start a second session.
        therapist.post(f"/bookings/{booking.pk}/join/")
        assert LiveSession.objects.count() == 1


def test_a_couples_live_chat_session_starts_with_its_own_length(people: Personas) -> None:
    availability.weekly_hours_set(
        actor=people.therapist, hours=[(1, datetime.time(9), datetime.time(17))]
    )
    chat = availability.session_type_save(
        actor=people.therapist,
        mode="chat",
        minutes=30,
        buffer_minutes=0,
        min_notice_hours=0,
        horizon_days=30,
    )
    booking = services.booking_create(
        actor=people.partner_b,
        relationship_id=people.couple.pk,
        session_type_id=chat.pk,
        starts_at=at(5, 11),
        now=MONDAY,
    )
    services.booking_join(actor=people.therapist, booking_id=booking.pk, now=at(5, 10, 58))
    session = LiveSession.objects.get()
    assert (session.mode, session.planned_minutes, session.room_id) == ("chat", 30, booking.room_id)
    services.booking_join(actor=people.partner_a, booking_id=booking.pk, now=at(5, 11, 1))
    assert LiveParticipant.objects.get(user=people.partner_a).state == ParticipantState.WAITING


def test_a_cancelled_session_cannot_be_joined(people: Personas, video: SessionType) -> None:
    booking = booked(people, video)
    services.booking_cancel(actor=people.therapist, booking_id=booking.pk, now=at(5, 9))
    with pytest.raises(Conflict):
        services.booking_join(actor=people.therapist, booking_id=booking.pk, now=at(5, 9, 55))
