"""Writes for live sessions: start, ask to join, admit, leave, end. Each is audited, writes its
event into the room's log where the log should show it, and reaches the room's sockets after
commit as a `live` event with the session's whole state."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.live.models import (
    PLANNED_MINUTES,
    LiveMode,
    LiveParticipant,
    LiveSession,
    ParticipantState,
)
from confide.live.selectors import live_payload, open_session
from confide.rooms.events import publish_on_commit, room_group
from confide.rooms.models import MemberRole, Room, RoomMember
from confide.rooms.services import event_append, membership


def _is_staff(member: RoomMember) -> bool:
    return member.role in (MemberRole.THERAPIST, MemberRole.COVERING)


def _changed(
    actor: User,
    room: Room,
    action: str,
    session: LiveSession,
    *,
    shown: LiveSession | None,
    **detail: Any,
) -> None:
    """Audit the change and, after commit, send the room the session's new state (`shown`)."""
    audit_record(
        actor=actor,
        action=action,
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
        detail={"session": session.pk, **detail},
    )
    publish_on_commit(
        room_group(room.pk),
        {"type": "live.state", "session": live_payload(shown) if shown else None},
    )


def _current(room: Room) -> LiveSession:
    session = open_session(room)
    if session is None:
        raise NotFound("There is no live session in this room now.")
    return session


def live_start(
    *,
    actor: User,
    room: Room,
    minutes: int | None = None,
    mode: str = LiveMode.CHAT,
    now: datetime.datetime | None = None,
) -> LiveSession:
    """A therapist opens a live session (chat, voice or video call); the room's clients are
    asked to join."""
    member = membership(actor=actor, room=room)
    if not _is_staff(member):
        raise PermissionDenied("Only the therapist can start a live session.")
    planned = minutes if minutes is not None else room.practice.live_session_minutes
    if planned not in PLANNED_MINUTES:
        choices = ", ".join(str(m) for m in PLANNED_MINUTES)
        raise InvalidInput(
            f"A live session lasts {choices} minutes.",
            field_errors={"minutes": [f"Choose {choices}."]},
        )
    if mode not in LiveMode.values:
        raise InvalidInput(
            "Choose live chat, a voice call or a video call.",
            field_errors={"mode": ["Choose chat, voice or video."]},
        )
    moment = now or timezone.now()
    try:
        with transaction.atomic():
            session = LiveSession.objects.create(
                room=room, started_by=actor, planned_minutes=planned, started_at=moment, mode=mode
            )
            LiveParticipant.objects.create(
                session=session,
                user=actor,
                state=ParticipantState.ADMITTED,
                asked_at=moment,
                admitted_at=moment,
            )
            event = event_append(
                room_id=room.pk,
                text=f"{LiveMode(mode).label} started by {actor.display_name} "
                f"(planned: {planned} minutes).",
                now=moment,
            )
            session.start_seq = event.seq
            session.save(update_fields=["start_seq"])
            _changed(actor, room, "live.start", session, shown=session)
    except IntegrityError:
        raise Conflict("A live session is already running in this room.") from None
    return session


def live_join(*, actor: User, room: Room, now: datetime.datetime | None = None) -> LiveSession:
    """Ask to join the running session. Therapists are in at once; a client waits to be
    admitted, unless the therapist already admitted them earlier in this session."""
    member = membership(actor=actor, room=room)
    moment = now or timezone.now()
    with transaction.atomic():
        session = _current(room)
        place = LiveParticipant.objects.select_for_update().filter(session=session, user=actor)
        participant = place.first()
        if participant is not None and participant.state != ParticipantState.LEFT:
            return session
        admitted = _is_staff(member) or (
            participant is not None and participant.admitted_at is not None
        )
        state = ParticipantState.ADMITTED if admitted else ParticipantState.WAITING
        if participant is None:
            LiveParticipant.objects.create(
                session=session,
                user=actor,
                state=state,
                asked_at=moment,
                admitted_at=moment if admitted else None,
            )
        else:
            place.update(state=state, left_at=None)
        _changed(actor, room, "live.join", session, shown=session, state=state)
    return session


def live_admit(
    *, actor: User, room: Room, user_id: int, now: datetime.datetime | None = None
) -> LiveSession:
    """The therapist lets a waiting participant in."""
    member = membership(actor=actor, room=room)
    if not _is_staff(member):
        raise PermissionDenied("Only the therapist can admit participants.")
    moment = now or timezone.now()
    with transaction.atomic():
        session = _current(room)
        changed = LiveParticipant.objects.filter(
            session=session, user_id=user_id, state=ParticipantState.WAITING
        ).update(state=ParticipantState.ADMITTED, admitted_at=moment)
        if not changed:
            raise NotFound("Nobody by that id is waiting to join.")
        _changed(actor, room, "live.admit", session, shown=session, user=user_id)
    return session


def live_leave(*, actor: User, room: Room, now: datetime.datetime | None = None) -> LiveSession:
    """Leave the running session (the room stays; rejoining is allowed)."""
    membership(actor=actor, room=room)
    moment = now or timezone.now()
    with transaction.atomic():
        session = _current(room)
        changed = (
            LiveParticipant.objects.filter(session=session, user=actor)
            .exclude(state=ParticipantState.LEFT)
            .update(state=ParticipantState.LEFT, left_at=moment)
        )
        if not changed:
            raise NotFound("You are not in this live session.")
        _changed(actor, room, "live.leave", session, shown=session)
    return session


def live_end(*, actor: User, room: Room, now: datetime.datetime | None = None) -> LiveSession:
    """The therapist ends the session; the log records its end, length and participants."""
    member = membership(actor=actor, room=room)
    if not _is_staff(member):
        raise PermissionDenied("Only the therapist can end the live session.")
    moment = now or timezone.now()
    with transaction.atomic():
        session = _current(room)
        locked = LiveSession.objects.select_for_update().get(pk=session.pk)
        if locked.ended_at is not None:
            raise NotFound("There is no live session in this room now.")
        names = [
            p.user.display_name
            for p in locked.participants.select_related("user").order_by("asked_at", "pk")
            if p.admitted_at is not None
        ]
        minutes = max(0, round((moment - locked.started_at).total_seconds() / 60))
        event = event_append(
            room_id=room.pk,
            text=f"{LiveMode(locked.mode).label} ended by {actor.display_name} after {minutes} "
            f"minute{'s' if minutes != 1 else ''}. Taking part: {', '.join(names)}.",
            now=moment,
        )
        locked.ended_at, locked.ended_by, locked.end_seq = moment, actor, event.seq
        locked.save(update_fields=["ended_at", "ended_by", "end_seq"])
        LiveParticipant.objects.filter(session=locked).exclude(state=ParticipantState.LEFT).update(
            state=ParticipantState.LEFT, left_at=moment
        )
        _changed(actor, room, "live.end", locked, shown=None, minutes=minutes)
    return locked


def room_mark_delivered(*, actor: User, room: Room, seq: int) -> RoomMember:
    """Move the actor's delivery marker forward; the room sees the tick (delivery ticks are
    shown to everyone in the room, unlike read receipts, which are a personal setting)."""
    member = membership(actor=actor, room=room)
    target = min(max(seq, 0), room.last_seq)
    if target <= member.delivered_seq:
        return member
    changed = RoomMember.objects.filter(pk=member.pk, delivered_seq__lt=target).update(
        delivered_seq=target
    )
    member.delivered_seq = target
    if changed:
        publish_on_commit(
            room_group(room.pk), {"type": "room.delivered", "user": actor.pk, "seq": target}
        )
    return member


def live_mode_change(
    *, actor: User, room: Room, mode: str, now: datetime.datetime | None = None
) -> LiveSession:
    """The therapist turns the running session into a video or voice call, or back into live
    chat, without ending it (the log records the change)."""
    member = membership(actor=actor, room=room)
    if not _is_staff(member):
        raise PermissionDenied("Only the therapist can change the session.")
    if mode not in LiveMode.values:
        raise InvalidInput(
            "Choose live chat, a voice call or a video call.",
            field_errors={"mode": ["Choose chat, voice or video."]},
        )
    moment = now or timezone.now()
    with transaction.atomic():
        session = LiveSession.objects.select_for_update().get(pk=_current(room).pk)
        if session.mode == mode:
            return session
        session.mode = mode
        session.save(update_fields=["mode"])
        event_append(
            room_id=room.pk,
            text=f"{actor.display_name} turned the session into a {LiveMode(mode).label.lower()}.",
            now=moment,
        )
        _changed(actor, room, "live.mode", session, shown=session, mode=mode)
    return session
