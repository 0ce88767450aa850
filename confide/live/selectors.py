"""Reads for live sessions: the open one in a room, its state for sockets and pages, history."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from confide.accounts.models import User
from confide.live.models import PLANNED_MINUTES, LiveMode, LiveSession
from confide.rooms.models import Room


def open_session(room: Room) -> LiveSession | None:
    return (
        LiveSession.objects.filter(room=room, ended_at__isnull=True)
        .select_related("started_by")
        .first()
    )


def live_payload(session: LiveSession) -> dict[str, Any]:
    """The session's whole state: sent on every change, so a socket never has to merge."""
    participants = session.participants.select_related("user").order_by("asked_at", "pk")
    ends_at = session.started_at + datetime.timedelta(minutes=session.planned_minutes)
    return {
        "id": session.pk,
        "mode": session.mode,
        "started_at": session.started_at.isoformat(),
        "planned_minutes": session.planned_minutes,
        "ends_at": ends_at.isoformat(),
        "ended_at": session.ended_at.isoformat() if session.ended_at else None,
        "host": {"id": session.started_by_id, "name": session.started_by.display_name},
        "participants": [
            {"id": p.user_id, "name": p.user.display_name, "state": p.state} for p in participants
        ],
        "server_time": timezone.now().isoformat(),
    }


def open_live_sessions_for(user: User) -> list[LiveSession]:
    """Live sessions running now in rooms `user` is an active member of (for the dashboard)."""
    return list(
        LiveSession.objects.filter(
            ended_at__isnull=True,
            room__members__user=user,
            room__members__left_at__isnull=True,
        )
        .select_related("room", "started_by")
        .order_by("started_at")
    )


def sessions_of_room(room: Room) -> list[dict[str, Any]]:
    """Every live session of the room, for the log export (transcript = messages in range)."""
    return [
        {
            "id": s.pk,
            "mode": s.mode,
            "started_at": s.started_at.isoformat(),
            "ended_at": s.ended_at.isoformat() if s.ended_at else None,
            "planned_minutes": s.planned_minutes,
            "started_by": s.started_by.display_name,
            "first_seq": s.start_seq,
            "last_seq": s.end_seq,
            "participants": [
                p.user.display_name
                for p in s.participants.select_related("user").order_by("asked_at", "pk")
                if p.admitted_at is not None
            ],
        }
        for s in LiveSession.objects.filter(room=room).select_related("started_by").order_by("pk")
    ]


def panel_context(*, room: Room, viewer: User) -> dict[str, Any]:
    """What the live panel of the room page shows to `viewer`."""
    session = open_session(room)
    is_staff = any(
        m.user_id == viewer.pk and m.is_staff_side
        for m in room.members.filter(left_at__isnull=True)
    )
    context: dict[str, Any] = {
        "room": room,
        "live": None,
        "live_is_staff": is_staff,
        "live_choices": PLANNED_MINUTES,
        "live_default": room.practice.live_session_minutes,
        "call_connect_seconds": settings.CALL_CONNECT_SECONDS,
    }
    if session is None:
        return context
    payload = live_payload(session)
    mine = next((p for p in payload["participants"] if p["id"] == viewer.pk), None)
    context.update(
        live=payload,
        live_session=session,
        live_mode_label=LiveMode(session.mode).label,
        live_ends_at=session.started_at + datetime.timedelta(minutes=session.planned_minutes),
        live_elapsed=max(0, int((timezone.now() - session.started_at).total_seconds() // 60)),
        live_state=mine["state"] if mine else None,
        live_waiting=[p for p in payload["participants"] if p["state"] == "waiting"],
        live_in=[p for p in payload["participants"] if p["state"] == "admitted"],
    )
    return context
