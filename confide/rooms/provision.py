"""Which rooms a care relationship has, and who is in each. One function keeps them in step."""

from __future__ import annotations

import datetime

from django.utils import timezone

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.care.models import CareKind, CareRelationship
from confide.rooms.events import publish_on_commit, user_group
from confide.rooms.models import MemberRole, Room, RoomKind, RoomMember


def _desired(relationship: CareRelationship) -> dict[tuple[str, int | None], dict[int, str]]:
    """(room kind, private_for id) -> {user id: role} for everyone who should be in each room."""
    staff: dict[int, str] = {relationship.therapist_id: MemberRole.THERAPIST}
    for cover in relationship.covers.filter(ended_at__isnull=True):
        staff.setdefault(cover.therapist_id, MemberRole.COVERING)
    clients = [p.client_id for p in relationship.participants.all()]
    rooms: dict[tuple[str, int | None], dict[int, str]] = {}
    if relationship.ended_at is not None:
        return rooms
    if relationship.kind == CareKind.COUPLE:
        rooms[(RoomKind.COUPLE, None)] = {**staff, **dict.fromkeys(clients, MemberRole.CLIENT)}
        for client in clients:
            rooms[(RoomKind.PRIVATE, client)] = {**staff, client: MemberRole.CLIENT}
    elif clients:
        rooms[(RoomKind.INDIVIDUAL, None)] = {**staff, **dict.fromkeys(clients, MemberRole.CLIENT)}
    return rooms


def rooms_sync(
    *, relationship: CareRelationship, actor: User | None, now: datetime.datetime | None = None
) -> list[Room]:
    """Create missing rooms and bring memberships in line with the relationship.

    Called inside the caller's transaction whenever a client joins, the therapist changes or a
    covering therapist is added or removed. A member who leaves has their open sockets closed
    after commit.
    """
    moment = now or timezone.now()
    desired = _desired(relationship)
    existing = {(r.kind, r.private_for_id): r for r in relationship.rooms.all()}
    rooms: list[Room] = []
    for (kind, private_for), people in desired.items():
        room = existing.get((kind, private_for))
        if room is None:
            room = Room.objects.create(
                practice_id=relationship.practice_id,
                relationship=relationship,
                kind=kind,
                private_for_id=private_for,
                created_at=moment,
            )
        rooms.append(room)
        _sync_members(room=room, people=people, actor=actor, now=moment)
    for key, room in existing.items():
        if key not in desired:
            _sync_members(room=room, people={}, actor=actor, now=moment)
    return rooms


def _sync_members(
    *, room: Room, people: dict[int, str], actor: User | None, now: datetime.datetime
) -> None:
    members = {m.user_id: m for m in room.members.all()}
    for user_id, role in people.items():
        member = members.get(user_id)
        if member is None:
            # A newcomer starts with everything before them marked read: the log is theirs
            # to read, but nothing old is "unread" news.
            RoomMember.objects.create(
                room=room,
                user_id=user_id,
                role=role,
                joined_at=now,
                last_read_seq=room.last_seq,
                notified_seq=room.last_seq,
            )
        elif member.left_at is not None or member.role != role:
            member.left_at = None
            member.role = role
            member.save(update_fields=["left_at", "role"])
        else:
            continue
        audit_record(
            actor=actor,
            action="room.member_add",
            object_type="room",
            object_id=room.pk,
            practice=room.practice,
            detail={"user": user_id, "role": role},
        )
    for user_id, member in members.items():
        if user_id not in people and member.left_at is None:
            member.left_at = now
            member.save(update_fields=["left_at"])
            audit_record(
                actor=actor,
                action="room.member_remove",
                object_type="room",
                object_id=room.pk,
                practice=room.practice,
                detail={"user": user_id},
            )
            publish_on_commit(user_group(user_id), {"type": "member.revoked", "room": room.pk})
