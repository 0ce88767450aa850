"""`{% upcoming_sessions %}` for the home pages and `{% session_join room %}` for the room."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import template
from django.utils import timezone

from confide.accounts.models import User
from confide.live.selectors import open_session
from confide.rooms.models import Room
from confide.scheduling import selectors

register = template.Library()


def _viewer(context: template.Context) -> User | None:
    user = context.get("user") or getattr(context.get("request"), "user", None)
    return user if isinstance(user, User) and user.is_active else None


@register.inclusion_tag("scheduling/_upcoming.html", takes_context=True)
def upcoming_sessions(context: template.Context, limit: int = 5) -> dict[str, Any]:
    """The viewer's next sessions, with "Join" when one is about to start."""
    from confide.scheduling.views import describe

    viewer = _viewer(context)
    if viewer is None:
        return {"items": [], "viewer": None, "proposals": []}
    now = timezone.now()
    return {
        "items": [
            describe(b, viewer) for b in selectors.upcoming_for(user=viewer, now=now, limit=limit)
        ],
        "viewer": viewer,
        "proposals": selectors.open_proposals_for(user=viewer) if viewer.is_client else [],
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("scheduling/_join.html", takes_context=True)
def session_join(context: template.Context, room: Room) -> dict[str, Any]:
    """A "Join" button in the room from a few minutes before a booked session."""
    viewer = _viewer(context)
    if viewer is None:
        return {"booking": None}
    booking = selectors.joinable_in_room(user=viewer, room=room, now=timezone.now())
    if booking is None or open_session(room) is not None:
        # Once the session runs, the room's live panel offers joining it (with the waiting room).
        return {"booking": None}
    local = booking.starts_at.astimezone(zoneinfo.ZoneInfo(viewer.time_zone))
    return {
        "booking": booking,
        "time": f"{local:%H:%M}",
        "csrf_token": context.get("csrf_token"),
    }
