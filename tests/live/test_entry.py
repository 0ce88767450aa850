"""The connect path's hand-written statements (confide/live/entry.py, presence.room_presence)
answer exactly what the ORM selectors they replace answer, for every persona and room."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from confide.accounts.models import ConsentDocument, User
from confide.accounts.selectors import consent_is_current
from confide.errors import DomainError
from confide.live import entry, presence
from confide.live.selectors import open_session
from confide.live.services import live_start
from confide.rooms import selectors
from confide.rooms.models import Presence, PresenceState, Room, RoomMember
from tests.personas import Personas

pytestmark = pytest.mark.django_db


def orm_presence(room_id: int) -> list[dict[str, object]]:
    people: dict[int, dict[str, object]] = {}
    for user_id, name, state in Presence.objects.filter(
        room_id=room_id, seen_at__gte=presence.fresh_since()
    ).values_list("user_id", "user__display_name", "state"):
        row = people.setdefault(user_id, {"user": user_id, "name": name, "state": state})
        if state == PresenceState.HERE:
            row["state"] = PresenceState.HERE
    return sorted(people.values(), key=lambda r: int(str(r["user"])))


def receipts(member: RoomMember) -> bool:
    return bool(member.user.read_receipts)


def check_everyone(people: Personas) -> int:
    """Compare entry_for with room_get and friends for every persona and room; count entries."""
    now = timezone.now()
    entries = 0
    for user in people.all().values():
        for room in Room.objects.all():
            found = entry.entry_for(user_id=user.pk, room_id=room.pk, now=now)
            try:
                expected = selectors.room_get(user=user, room_id=room.pk)
            except DomainError:
                assert found is None, (user.email, room.pk)
                continue
            assert found is not None, (user.email, room.pk)
            entries += 1
            assert found.room.pk == room.pk and found.room.last_seq == expected.last_seq
            # Any other field of the room is read when first used.
            assert found.room.kind == expected.kind
            assert found.consent_current == consent_is_current(user=user)
            assert found.connections == (
                Presence.objects.filter(user=user, seen_at__gte=presence.fresh_since(now)).count()
            )
            running = open_session(expected)
            assert found.live_session_id == (running.pk if running else None)
            members = [
                (m.user_id, m.user.display_name, m.delivered_seq, m.last_read_seq, receipts(m))
                for m in selectors.active_members_of(expected)
            ]
            assert [
                (m.user_id, m.name, m.delivered_seq, m.last_read_seq, m.read_receipts)
                for m in entry.members_of(room.pk)
            ] == members
            assert presence.room_presence(room.pk) == orm_presence(room.pk)
    return entries


def test_the_connect_statements_agree_with_the_orm(people: Personas) -> None:
    couple = Room.objects.get(relationship=people.couple, kind="couple")
    # Some state to read: sockets (one stale, one away), a running session, then a newer consent
    # version that no client has accepted yet, and a member who has left.
    stale = timezone.now() - datetime.timedelta(minutes=10)
    for n, (user, state, seen) in enumerate(
        [
            (people.partner_a, PresenceState.HERE, timezone.now()),
            (people.partner_a, PresenceState.AWAY, timezone.now()),
            (people.partner_b, PresenceState.AWAY, timezone.now()),
            (people.therapist, PresenceState.HERE, stale),
        ]
    ):
        Presence.objects.create(
            channel_name=f"test.{n}", user=user, room=couple, state=state, seen_at=seen
        )
    live_start(actor=people.therapist, room=couple, minutes=50, mode="chat")
    User.objects.filter(pk=people.partner_a.pk).update(read_receipts=True)
    entries = check_everyone(people)
    assert entries >= 8

    ConsentDocument.objects.create(version=99, title="Informed consent, v99", body="...")
    RoomMember.objects.filter(room=couple, user=people.partner_b).update(left_at=timezone.now())
    assert check_everyone(people) == entries - 1
    assert (
        entry.entry_for(user_id=people.outsider.pk, room_id=couple.pk, now=timezone.now()) is None
    )


def test_a_new_presence_row_is_the_row_the_orm_writes(people: Personas) -> None:
    room = Room.objects.get(relationship=people.individual)
    now = timezone.now()
    entry.presence_add(channel_name="test.raw", user_id=people.client.pk, room_id=room.pk, now=now)
    Presence.objects.create(channel_name="test.orm", user=people.client, room=room, seen_at=now)
    raw, orm = (
        Presence.objects.values("user_id", "room_id", "state", "seen_at").get(channel_name=name)
        for name in ("test.raw", "test.orm")
    )
    assert raw == orm
