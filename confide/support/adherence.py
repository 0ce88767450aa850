"""Agreement adherence: how many check-ins a client has made this week.

A check-in is a day on which a client of the relationship wrote in any of its rooms (a message,
a voice note or a file; not an automatic notice or a room event). Days are counted in the
practice's time zone, and the week starts on Monday at 00:00 there. One bulk query serves the
room panel (one relationship) and the caseload (hundreds).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable

from django.db.models import Count
from django.db.models.functions import TruncDate

from confide.accounts.models import Role
from confide.rooms.models import Message, MessageKind

CHECKIN_KINDS = (MessageKind.TEXT, MessageKind.VOICE, MessageKind.FILE)


def week_start(now: datetime.datetime, zone_name: str) -> datetime.datetime:
    """Monday 00:00 of the week containing `now`, in `zone_name`, as an aware datetime."""
    zone = zoneinfo.ZoneInfo(zone_name)
    local = now.astimezone(zone)
    monday = local.date() - datetime.timedelta(days=local.weekday())
    return datetime.datetime.combine(monday, datetime.time(0, 0), tzinfo=zone)


def checkins_since(
    relationship_ids: Iterable[int], since: datetime.datetime, zone_name: str
) -> dict[int, int]:
    """{relationship id: days with a client's message since `since`} (absent means 0)."""
    ids = list(relationship_ids)
    if not ids:
        return {}
    rows = (
        Message.objects.filter(
            room__relationship_id__in=ids,
            created_at__gte=since,
            kind__in=CHECKIN_KINDS,
            sender__role=Role.CLIENT,
        )
        .values("room__relationship_id")
        .annotate(
            days=Count(TruncDate("created_at", tzinfo=zoneinfo.ZoneInfo(zone_name)), distinct=True)
        )
    )
    return {row["room__relationship_id"]: row["days"] for row in rows}
