"""Fictional bookings for the demo practice, made through the real services."""

from __future__ import annotations

import datetime
import zoneinfo

from django.utils import timezone

from confide.accounts.models import User
from confide.care.models import CareKind
from confide.scheduling import availability, services
from confide.scheduling.selectors import relationships_bookable_by


def _next_weekday(today: datetime.date, weekday: int) -> datetime.date:
    return today + datetime.timedelta(days=(weekday - today.weekday()) % 7 or 7)


def seed_demo_schedule(therapist: User, *, now: datetime.datetime | None = None) -> None:
    """Robin's hours (Mon-Thu 09:00-17:00, Fri 09:00-13:00, London), a video and a live-chat
    session type, a session with the individual client and one with the couple next week, and
    a blocked morning for supervision."""
    moment = now or timezone.now()
    zone = zoneinfo.ZoneInfo("Europe/London")
    availability.weekly_hours_set(
        actor=therapist,
        hours=[(d, datetime.time(9), datetime.time(17)) for d in range(4)]
        + [(4, datetime.time(9), datetime.time(13))],
    )
    video = availability.session_type_save(
        actor=therapist,
        mode="video",
        minutes=50,
        buffer_minutes=10,
        min_notice_hours=24,
        horizon_days=60,
    )
    availability.session_type_save(
        actor=therapist,
        mode="chat",
        minutes=30,
        buffer_minutes=10,
        min_notice_hours=12,
        horizon_days=30,
    )
    today = moment.astimezone(zone).date()
    tuesday, wednesday = _next_weekday(today, 1), _next_weekday(today, 2)
    for relationship in relationships_bookable_by(user=therapist):
        day, hour = (wednesday, 17) if relationship.kind == CareKind.COUPLE else (tuesday, 10)
        services.booking_create(
            actor=therapist,
            relationship_id=relationship.pk,
            session_type_id=video.pk,
            starts_at=datetime.datetime.combine(day, datetime.time(hour), tzinfo=zone),
            now=moment,
        )
    thursday = _next_weekday(today, 3)
    services.block_create(
        actor=therapist,
        starts_at=datetime.datetime.combine(thursday, datetime.time(9), tzinfo=zone),
        ends_at=datetime.datetime.combine(thursday, datetime.time(11), tzinfo=zone),
        label="Supervision",
        now=moment,
    )
