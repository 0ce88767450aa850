"""Scheduling pages: `client` for a booking's people, `therapist` for the schedule and set-up."""

from confide.scheduling.views.client import (
    book,
    book_confirm,
    booking_cancel,
    booking_detail,
    booking_ics,
    booking_join,
    booking_no_show,
    describe,
    proposal_accept,
    proposal_withdraw,
)
from confide.scheduling.views.therapist import (
    calendar_feed,
    exception_remove,
    feed_create,
    feed_revoke,
    schedule,
    schedule_setup,
    session_type_retire,
)

__all__ = [
    "book",
    "book_confirm",
    "booking_cancel",
    "booking_detail",
    "booking_ics",
    "booking_join",
    "booking_no_show",
    "calendar_feed",
    "describe",
    "exception_remove",
    "feed_create",
    "feed_revoke",
    "proposal_accept",
    "proposal_withdraw",
    "schedule",
    "schedule_setup",
    "session_type_retire",
]
