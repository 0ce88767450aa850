"""Joining a booked session: it opens the room's live session of the booked kind."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from confide.accounts.models import User
from confide.errors import Conflict, NotFound
from confide.live import services as live_services
from confide.live.selectors import open_session
from confide.rooms.models import Room
from confide.scheduling import selectors
from confide.scheduling.models import Booking
from confide.scheduling.services.bookings import _audit


def booking_join(
    *, actor: User, booking_id: int, now: datetime.datetime | None = None
) -> tuple[Booking, Room]:
    """Open the booked session: the therapist starts the live session (the booking's mode and
    length) or rejoins it; a client asks to join (the waiting room) once it has started."""
    moment = now or timezone.now()
    booking = selectors.booking_get(user=actor, booking_id=booking_id)
    if not selectors.can_join(booking, moment):
        raise Conflict(
            f"You can join from {selectors.join_minutes_before()} minutes before the session "
            "starts until it ends."
        )
    room = booking.room
    if room is None:  # pragma: no cover - can_join checked it
        raise NotFound("No such room.")
    running = open_session(room)
    with transaction.atomic():
        if running is None and actor.pk == booking.therapist_id:
            try:
                running = live_services.live_start(
                    actor=actor, room=room, minutes=booking.minutes, mode=booking.mode, now=moment
                )
            except Conflict:  # started a moment ago from the room itself
                running = open_session(room)
        elif running is not None:
            live_services.live_join(actor=actor, room=room, now=moment)
        if (
            running is not None
            and booking.live_session_id is None
            and not Booking.objects.filter(live_session=running).exists()
        ):
            linked = Booking.objects.filter(pk=booking.pk, live_session__isnull=True).update(
                live_session=running
            )
            if linked:
                booking.live_session = running
        _audit(actor, "booking.join", booking, live=running.pk if running else None)
    return booking, room
