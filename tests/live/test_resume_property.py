"""Property: whatever the interleaving of sends and dropped connections, every participant's log
is complete, in order and without duplicates once they have caught up with `resume`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.conf import settings
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from confide.live.limits import messages_per_user
from confide.rooms.models import Message, Room, RoomKind
from confide.rooms.payloads import message_text
from tests.live.stream import connect, next_event
from tests.personas import build_personas, sign_in

SPEAKERS = ("therapist", "partner_a", "partner_b")
Op = tuple[str, int, int]
operations = st.lists(
    st.tuples(st.sampled_from(["send", "drop", "return"]), st.integers(0, 2), st.integers(0, 99)),
    min_size=1,
    max_size=14,
)


class Participant:
    """One person's tab: a socket (or none while dropped) and the log it has built."""

    def __init__(self, user: Any, browser: Client) -> None:
        self.user, self.browser = user, browser
        self.ws: Any = None
        self.log: dict[int, str] = {}
        self.arrivals: list[int] = []
        self.floor = 0  # the room's last sequence number when the example began

    def take(self, event: dict[str, Any]) -> None:
        if event["type"] == "message":
            seq = event["message"]["seq"]
            self.arrivals.append(seq)
            self.log[seq] = event["message"]["body"]

    async def pump(self) -> None:
        """Read whatever has already arrived."""
        while self.ws is not None and not await self.ws.receive_nothing(timeout=0.02):
            self.take(await self.ws.receive_json_from())

    async def open(self, room_id: int) -> None:
        self.ws, connected, _ = await connect(self.user, room_id, client=self.browser)
        assert connected
        await next_event(self.ws, "hello")
        await self.ws.send_json_to({"type": "resume", "after": max(self.log, default=self.floor)})
        while True:
            event = await next_event(self.ws, "message", "resumed")
            if event["type"] == "resumed":
                return
            self.take(event)

    async def close(self) -> None:
        if self.ws is not None:
            await self.pump()
            await self.ws.disconnect()
            self.ws = None


@pytest.mark.django_db(transaction=True)
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=operations)
def test_every_log_is_complete_and_ordered_after_catching_up(ops: list[Op]) -> None:
    settings.LIVE_MESSAGES_PER_MINUTE = 100_000
    try:
        async_to_sync(_run)(ops)
    finally:
        settings.LIVE_MESSAGES_PER_MINUTE = 60
        messages_per_user.events.clear()


async def _run(ops: list[Op]) -> None:
    def world() -> tuple[int, list[Participant]]:
        if not Room.objects.filter(kind=RoomKind.COUPLE).exists():
            build_personas()
        room = Room.objects.filter(kind=RoomKind.COUPLE).order_by("pk").first()
        assert room is not None
        people = []
        for member in room.members.filter(left_at__isnull=True).select_related("user"):
            people.append(Participant(member.user, sign_in(Client(), member.user)))
        return room.pk, people

    room_id, people = await sync_to_async(world)()
    start = await sync_to_async(lambda: Room.objects.get(pk=room_id).last_seq)()
    for person in people:
        person.floor = start
        await person.open(room_id)
    acked: dict[int, str] = {}
    for action, who, n in ops:
        person = people[who % len(people)]
        if action == "drop":
            await person.close()
        elif action == "return" and person.ws is None:
            await person.open(room_id)
        elif action == "send" and person.ws is not None:
            body = f"note {n} from {who}"
            await person.ws.send_json_to(
                {"type": "send", "body": body, "client_id": str(uuid.uuid4())}
            )
            while True:
                event = await next_event(person.ws, "ack", "message")
                if event["type"] == "ack":
                    acked[event["seq"]] = body
                    break
                person.take(event)
        for other in people:
            await other.pump()
    for person in people:
        if person.ws is None:
            await person.open(room_id)
        else:
            await person.pump()
            await person.close()
            await person.open(room_id)
        await person.close()

    def truth() -> dict[int, str]:
        return {
            m.seq: message_text(m)
            for m in Message.objects.filter(room_id=room_id, seq__gt=start).order_by("seq")
        }

    expected = await sync_to_async(truth)()
    for seq, body in acked.items():
        assert expected[seq] == body  # every acknowledged message is committed, as acknowledged
    for person in people:
        assert person.log == expected, f"{person.user.display_name} has a gap or a stranger"
        assert person.arrivals == sorted(set(person.arrivals)), "out of order or twice"
