from __future__ import annotations

import uuid
from typing import Any

import pytest

from confide.rooms.models import Room, RoomKind
from confide.rooms.services import SendResult, message_send
from tests.personas import Personas


def room_of(people: Personas, kind: str, private_for: Any = None) -> Room:
    relationship = (
        people.couple if kind in (RoomKind.COUPLE, RoomKind.PRIVATE) else (people.individual)
    )
    return Room.objects.get(relationship=relationship, kind=kind, private_for=private_for)


def send(user: Any, room: Room, body: str, **kwargs: Any) -> SendResult:
    return message_send(actor=user, room=room, body=body, client_id=uuid.uuid4(), **kwargs)


@pytest.fixture
def rooms(people: Personas) -> dict[str, Room]:
    return {
        "individual": room_of(people, RoomKind.INDIVIDUAL),
        "couple": room_of(people, RoomKind.COUPLE),
        "private_a": room_of(people, RoomKind.PRIVATE, people.partner_a),
        "private_b": room_of(people, RoomKind.PRIVATE, people.partner_b),
    }
