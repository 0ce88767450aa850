"""`{% agreement_panel room %}`: the care agreement's current state on the room page."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from confide.accounts.models import User
from confide.errors import NotFound
from confide.rooms.models import Room
from confide.support.agreements import agreement_overview

register = template.Library()


@register.simple_tag(takes_context=True)
def agreement_panel(context: template.Context, room: object) -> SafeString | str:
    """The agreement in force, this week's check-ins, a waiting proposal (with Accept and
    Decline for whoever may decide it) and, for the therapist side, the private notes link.

    Shown in every room of the relationship, private rooms included: everyone in the
    relationship sees the agreement."""
    viewer = context.get("user") or getattr(context.get("request"), "user", None)
    if not isinstance(viewer, User) or not isinstance(room, Room):
        return ""
    try:
        overview = agreement_overview(
            user=viewer, relationship_id=room.relationship_id, now=timezone.now(), room_id=room.pk
        )
    except NotFound:
        return ""
    return render_to_string(
        "support/agreements/_panel.html",
        {
            "overview": overview,
            "room": room,
            "user": viewer,
            "csrf_token": context.get("csrf_token"),
            "next": f"/rooms/{room.pk}/",
        },
    )
