"""Scheduling fixtures: Robin opens bookings (weekly hours in London, one video session type)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail

from confide.accounts.models import User
from confide.scheduling import availability
from confide.scheduling.models import SessionType
from tests.personas import Personas

# A Monday in winter (London = UTC): the reference "now" of most scheduling tests.
MONDAY = datetime.datetime(2027, 1, 4, 8, 0, tzinfo=datetime.UTC)
UTC = datetime.UTC


def at(day: int, hour: int, minute: int = 0, month: int = 1, year: int = 2027) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def open_bookings(therapist: User, **type_options: Any) -> SessionType:
    """Weekdays 09:00-17:00 in the therapist's zone; a 50-minute video session, 10 minutes of
    buffer, 24 hours of notice, 60 days ahead; 30-minute start grid; free cancellation 24 h."""
    availability.weekly_hours_set(
        actor=therapist,
        hours=[(d, datetime.time(9), datetime.time(17)) for d in range(5)],
    )
    options: dict[str, Any] = {
        "mode": "video",
        "minutes": 50,
        "buffer_minutes": 10,
        "min_notice_hours": 24,
        "horizon_days": 60,
    }
    options.update(type_options)
    return availability.session_type_save(actor=therapist, **options)


@pytest.fixture
def video(people: Personas) -> SessionType:
    return open_bookings(people.therapist)


def mails_to(user: User) -> list[Any]:
    return [m for m in mail.outbox if user.email in m.to]


def calendar_of(message: Any) -> str:
    """The .ics attachment of an email."""
    [(_name, content, mimetype)] = [a for a in message.attachments if a[0].endswith(".ics")]
    assert mimetype.startswith("text/calendar")
    return content.decode("utf-8") if isinstance(content, bytes) else str(content)


# The browser tests of this directory use the same Chromium fixtures (and failure screenshots)
# as tests/browser.
from tests.browser.conftest import (  # noqa: E402
    browser,
    new_page,
    pytest_runtest_makereport,
)

__all__ = ["browser", "new_page", "pytest_runtest_makereport"]
