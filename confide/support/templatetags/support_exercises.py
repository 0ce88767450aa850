"""`{% exercises_panel room %}` for the room page and `{% exercises_due %}` for a client's home."""

from __future__ import annotations

from typing import Any

from django import template

from confide.accounts.models import User
from confide.rooms.models import Room
from confide.rooms.selectors import active_members_of
from confide.support import exercises

register = template.Library()


def _viewer(context: template.Context) -> User | None:
    user = context.get("user") or getattr(context.get("request"), "user", None)
    return user if isinstance(user, User) and user.is_active else None


@register.inclusion_tag("support/exercises/_panel.html", takes_context=True)
def exercises_panel(context: template.Context, room: Room) -> dict[str, Any]:
    """The room's open exercises, each client's state, and (for the therapist) "Assign".

    Titles and states only, no answers: the room page's own audit row covers this read.
    """
    viewer = _viewer(context)
    member = next(
        (m for m in active_members_of(room) if viewer is not None and m.user_id == viewer.pk),
        None,
    )
    if viewer is None or member is None:
        return {"show": False}
    return {
        "show": True,
        "room": room,
        "viewer": viewer,
        "is_staff": member.is_staff_side,
        "rows": exercises.panel_rows(room=room, viewer=viewer),
    }


@register.inclusion_tag("support/exercises/_due.html", takes_context=True)
def exercises_due(context: template.Context) -> dict[str, Any]:
    """The client's open exercises, soonest due first."""
    viewer = _viewer(context)
    if viewer is None or not viewer.is_client:
        return {"show": False}
    return {"show": True, "rows": exercises.due_for(user=viewer)}
