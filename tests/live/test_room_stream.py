"""The room's WebSocket: who may connect, sending, live delivery, resume, bad input, revoke."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from confide.asgi import application
from confide.audit.models import AuditEvent
from confide.care.services import relationship_reassign
from confide.rooms.models import Room, RoomKind
from tests.live.stream import TIMEOUT, connect, next_event
from tests.personas import Personas, build_personas
from tests.rooms.conftest import send


@pytest.fixture
def world(transactional_db: None) -> tuple[Personas, dict[str, Room]]:
    people = build_personas()
    rooms = {
        "individual": Room.objects.get(relationship=people.individual),
        "private_a": Room.objects.get(
            relationship=people.couple, kind=RoomKind.PRIVATE, private_for=people.partner_a
        ),
    }
    return people, rooms


async def test_members_connect_and_strangers_are_refused(world: Any) -> None:
    people, rooms = world
    ws, connected, _ = await connect(people.partner_a, rooms["private_a"].pk)
    assert connected
    hello = await next_event(ws, "hello")
    assert hello["room"] == rooms["private_a"].pk and hello["last_seq"] == 0
    assert hello["version"] == 1 and hello["me"] == people.partner_a.pk
    assert hello["live"] is None
    assert hello["presence"] == [
        {"user": people.partner_a.pk, "name": people.partner_a.display_name, "state": "here"}
    ]
    await ws.disconnect()
    for stranger in (people.partner_b, people.outsider, people.colleague, people.admin):
        ws, connected, code = await connect(stranger, rooms["private_a"].pk)
        assert not connected and code == 4404
        await ws.disconnect()


async def test_anonymous_and_foreign_origins_are_refused(world: Any) -> None:
    people, rooms = world
    anonymous = WebsocketCommunicator(
        application,
        f"/ws/rooms/{rooms['individual'].pk}/",
        headers=[(b"origin", b"http://testserver")],
    )
    connected, code = await anonymous.connect(timeout=TIMEOUT)
    assert not connected and code == 4401
    await anonymous.disconnect()
    ws, connected, _ = await connect(
        people.client, rooms["individual"].pk, origin=b"https://evil.example"
    )
    assert not connected
    await ws.disconnect()


async def test_a_message_sent_on_the_socket_is_acknowledged_and_delivered(world: Any) -> None:
    people, rooms = world
    room_id = rooms["individual"].pk
    therapist, _, _ = await connect(people.therapist, room_id)
    client, _, _ = await connect(people.client, room_id)
    await next_event(therapist, "hello")
    await next_event(client, "hello")
    client_id = str(uuid.uuid4())
    await client.send_json_to({"type": "send", "body": "*hello* there", "client_id": client_id})
    events = [await next_event(client, "ack", "message") for _ in range(2)]
    ack = next(e for e in events if e["type"] == "ack")
    assert ack == {
        "type": "ack",
        "client_id": client_id,
        "seq": 1,
        "created": True,
        "crisis": False,
    }
    delivered = await next_event(therapist, "message")
    assert delivered["message"]["html"] == "<p><em>hello</em> there</p>"
    assert delivered["message"]["sender"]["id"] == people.client.pk
    # The same client id again: the same message, not a new one.
    await client.send_json_to({"type": "send", "body": "*hello* there", "client_id": client_id})
    again = await next_event(client, "ack")
    assert again["seq"] == 1 and again["created"] is False
    await therapist.disconnect()
    await client.disconnect()


async def test_resume_sends_everything_after_the_last_seen_sequence(world: Any) -> None:
    people, rooms = world
    room = rooms["individual"]
    for n in range(5):
        await sync_to_async(send)(people.client, room, f"note {n}")
    ws, _, _ = await connect(people.therapist, room.pk)
    await next_event(ws, "hello")
    await ws.send_json_to({"type": "resume", "after": 2})
    seqs = []
    while True:
        event = await next_event(ws, "message", "resumed")
        if event["type"] == "resumed":
            break
        seqs.append(event["message"]["seq"])
    # Five messages, and an out-of-hours notice when the test runs outside working hours.
    last = await sync_to_async(lambda: Room.objects.get(pk=room.pk).last_seq)()
    assert last in (5, 6)
    assert seqs == list(range(3, last + 1)) and event["count"] == last - 2
    audited = await sync_to_async(
        AuditEvent.objects.filter(action="room.resume", actor=people.therapist).count
    )()
    assert audited == 1
    await ws.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"type": "teleport"}', "unknown_type"),
        ('{"type": "send", "body": "x", "client_id": "nope"}', "bad_client_id"),
        (
            '{"type": "send", "body": 5, "client_id": "8d1c7f0e-3e0b-4f4a-9f0a-1b2c3d4e5f60"}',
            "bad_body",
        ),
        (
            '{"type": "send", "body": "  ", "client_id": "8d1c7f0e-3e0b-4f4a-9f0a-1b2c3d4e5f60"}',
            "rejected",
        ),
        ('{"type": "resume", "after": -1}', "bad_after"),
        ('{"type": "read", "seq": "x"}', "bad_seq"),
    ],
)
async def test_bad_frames_get_an_error_event_and_the_socket_stays_open(
    world: Any, frame: str, code: str
) -> None:
    people, rooms = world
    ws, _, _ = await connect(people.client, rooms["individual"].pk)
    await next_event(ws, "hello")
    await ws.send_to(text_data=frame)
    error = await next_event(ws, "error")
    assert error["code"] == code
    await ws.send_json_to({"type": "resume", "after": 0})
    assert (await next_event(ws, "resumed"))["type"] == "resumed"
    await ws.disconnect()


async def test_a_removed_member_has_their_socket_closed(world: Any) -> None:
    people, rooms = world
    ws, _, _ = await connect(people.therapist, rooms["individual"].pk)
    await next_event(ws, "hello")
    await sync_to_async(relationship_reassign)(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    output = await ws.receive_output(timeout=TIMEOUT)
    assert output == {"type": "websocket.close", "code": 4403}
    await ws.disconnect()
