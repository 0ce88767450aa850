"""Writes for scheduling. Every write that can collide with another booking locks the
therapist's row first (see `bookings`); proposals and joining build on the same booking path."""

from confide.scheduling.services.bookings import (
    block_create,
    booking_cancel,
    booking_create,
    booking_mark_no_show,
    booking_reschedule,
    bookings_release,
)
from confide.scheduling.services.joining import booking_join
from confide.scheduling.services.proposals import (
    proposal_accept,
    proposal_create,
    proposal_withdraw,
)

__all__ = [
    "block_create",
    "booking_cancel",
    "booking_create",
    "booking_join",
    "booking_mark_no_show",
    "booking_reschedule",
    "bookings_release",
    "proposal_accept",
    "proposal_create",
    "proposal_withdraw",
]
