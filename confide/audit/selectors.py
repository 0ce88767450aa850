from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from confide.audit.models import AuditEvent

if TYPE_CHECKING:
    from confide.care.models import Practice


def audit_events_for_practice(
    *,
    practice: Practice,
    actor_id: int | None = None,
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    tz: datetime.tzinfo = datetime.UTC,
) -> QuerySet[AuditEvent]:
    """The practice's audit trail, newest first, optionally for one actor and a date range.

    Dates are whole days in the viewer's zone `tz`, both ends included.
    """
    events = AuditEvent.objects.filter(practice=practice).select_related("actor")
    if actor_id is not None:
        events = events.filter(actor_id=actor_id)
    if since is not None:
        events = events.filter(at__gte=datetime.datetime.combine(since, datetime.time(), tz))
    if until is not None:
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), tz)
        events = events.filter(at__lt=end)
    return events
