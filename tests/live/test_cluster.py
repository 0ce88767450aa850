"""Confide as a cluster: two `manage.py serve` processes sharing the test database and one private
redis-server, with a therapist on one node and their client on the other.

Real processes and real sockets, no mocks. What must hold whatever happens to Redis or a node:
every acknowledged message reaches every participant exactly once, in order (by sequence
number), once each has caught up with `resume`; a resend with the same client_id never makes a
second message.

These tests start their own redis-server (never the shared one of REDIS_URL), so they run in
both CI modes, SQLite and PostgreSQL; without the redis-server binary they fail, never skip.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async

from confide.accounts.services import token_create
from confide.rooms.models import Message, Presence, Room
from tests.live.cluster import (
    Cluster,
    Node,
    Participant,
    RedisServer,
    new_items,
    running_cluster,
    sigkill,
)
from tests.personas import always_at_work, build_personas

# The per-person message limit counts per process and is sized for people typing; a test that
# resends after failures may pass 60 in a minute. The socket limit (20) stays at its default.
NODE_ENV = {"LIVE_MESSAGES_PER_MINUTE": "1000"}
DELIVERY_TIMEOUT = 15.0  # seconds for a published message to reach a socket on the other node
SCENARIO_TIMEOUT = 60.0  # seconds for a whole send-until-acknowledged run
PROBE_WAIT = 1.0  # seconds to wait for one probe before sending the next


@dataclass
class World:
    cluster: Cluster
    room_id: int
    therapist_token: str
    client_token: str
    therapist_user_id: int
    client_user_id: int


@pytest.fixture
def world(transactional_db: None, tmp_path: Path) -> Iterator[World]:
    """Robin and Cam in their room, committed (the nodes read the same database), each with a
    personal access token, and the cluster running; everything stopped afterwards."""
    people = build_personas()
    # Every message in the room is one both people sent: no out-of-hours notice, whatever the
    # hour (a notice after the last message could reach one person before the comparison).
    always_at_work(people.therapist)
    room = Room.objects.get(relationship=people.individual)
    therapist_token = token_create(user=people.therapist, name="test")[1]
    client_token = token_create(user=people.client, name="test")[1]
    with running_cluster(tmp_path, nodes=2, **NODE_ENV) as cluster:
        yield World(
            cluster=cluster,
            room_id=room.pk,
            therapist_token=therapist_token,
            client_token=client_token,
            therapist_user_id=people.therapist.pk,
            client_user_id=people.client.pk,
        )


@contextlib.asynccontextmanager
async def therapist_and_client(world: World) -> AsyncIterator[tuple[Participant, Participant]]:
    """The therapist on node 1 and the client on node 2, each caught up from seq 0."""
    first, second = (node.ws_url for node in world.cluster.nodes)
    therapist = Participant("therapist", world.therapist_token, world.room_id, [first, second])
    client = Participant("client", world.client_token, world.room_id, [second, first])
    try:
        await therapist.connect(first)
        await client.connect(second)
        yield therapist, client
    finally:
        await therapist.disconnect()
        await client.disconnect()


def _room_rows(room_id: int) -> tuple[int, list[tuple[int, int, str | None]]]:
    last_seq = Room.objects.get(pk=room_id).last_seq
    rows = [
        (seq, pk, None if client_id is None else str(client_id))
        for seq, pk, client_id in Message.objects.filter(room_id=room_id)
        .order_by("seq")
        .values_list("seq", "pk", "client_id")
    ]
    return last_seq, rows


async def assert_complete(room_id: int, *people: Participant) -> None:
    """Every message of the room is in every log, once, under its seq; every acknowledged
    message is the one its sender sent, in the sender's order; the database holds each sent
    client_id exactly once."""
    last_seq, rows = await sync_to_async(_room_rows)(room_id)
    seqs = [seq for seq, _, _ in rows]
    assert seqs == list(range(1, last_seq + 1)), "the room's sequence has a gap"
    ids = {seq: pk for seq, pk, _ in rows}
    for person in people:
        assert person.mismatches == [], person.mismatches
        assert sorted(person.log) == seqs, f"{person.name} is missing messages"
        assert person.contiguous == last_seq
        assert {seq: m["id"] for seq, m in person.log.items()} == ids
    stored = [client_id for _, _, client_id in rows if client_id is not None]
    assert len(stored) == len(set(stored)), "a client_id was written twice"
    for sender in people:
        assert set(sender.acked) == set(sender.sent), f"{sender.name} has unacknowledged sends"
        order = [sender.acked[client_id] for client_id in sender.sent]
        assert order == sorted(order), f"{sender.name}'s messages are out of order"
        for client_id, seq in sender.acked.items():
            assert stored.count(client_id) == 1
            for person in people:
                holding = [s for s, m in person.log.items() if m["client_id"] == client_id]
                assert holding == [seq], (person.name, client_id, holding, seq)
                assert person.log[seq]["body"] == sender.bodies[client_id]


def _presence_rows(user_id: int) -> int:
    return Presence.objects.filter(user_id=user_id).count()


async def test_two_nodes_deliver_every_message_to_both_people_in_the_same_order(
    world: World,
) -> None:
    async with therapist_and_client(world) as (therapist, client):
        caught_up = therapist.contiguous
        assert client.contiguous == caught_up

        # Turn by turn: each message crosses from one node to the other through Redis and
        # arrives live (no resume), in sequence order, at both people.
        for turn in range(4):
            for sender, other in ((therapist, client), (client, therapist)):
                [item] = new_items(f"{sender.name} turn {turn}", 1)
                assert await sender.send_batch([item]) == [item[0]]
                seq = sender.acked[item[0]]
                await other.wait_for_seq(seq, DELIVERY_TIMEOUT)
                await sender.wait_for_seq(seq, DELIVERY_TIMEOUT)

        # Both at once, each with twelve frames in flight on its own node.
        counts = await asyncio.gather(
            therapist.send_batch(new_items("therapist burst", 12)),
            client.send_batch(new_items("client burst", 12)),
        )
        assert [len(acked) for acked in counts] == [12, 12]
        top = max([*therapist.acked.values(), *client.acked.values()])
        for person in (therapist, client):
            await person.wait_for_contiguous(top, DELIVERY_TIMEOUT)

        for person in (therapist, client):
            # Everything came live: one resume (the first, from 0), and each seq exactly once.
            assert person.resumes == [(0, caught_up)]
            assert set(person.deliveries.values()) == {1}, person.deliveries
            assert person.link is not None
            turns = [seq for seq in person.link.seqs if seq > caught_up][:8]
            assert turns == sorted(turns), f"{person.name} saw the turns out of order: {turns}"
        # The same messages under the same numbers, so the same order for both.
        assert [therapist.log[s] for s in sorted(therapist.log)] == [
            client.log[s] for s in sorted(client.log)
        ]
        assert all(created for created in therapist.created.values())
        assert all(created for created in client.created.values())
        await assert_complete(world.room_id, therapist, client)


async def test_a_redis_restart_loses_and_duplicates_nothing_acknowledged(world: World) -> None:
    redis_server = world.cluster.redis
    node2 = world.cluster.nodes[1]
    # A second tab of the therapist's, on the other node, open through the outage and silent.
    tab = Participant("therapist's idle tab", world.therapist_token, world.room_id, [node2.ws_url])
    async with therapist_and_client(world) as (therapist, client):
        try:
            await _restart_redis_mid_conversation(redis_server, therapist, client, tab)
        finally:
            await tab.disconnect()
        await assert_complete(world.room_id, therapist, client, tab)
        print("resent (therapist, client):", resent(therapist), resent(client))
        print(
            "presence rows (therapist, client):",
            await sync_to_async(_presence_rows)(world.therapist_user_id),
            await sync_to_async(_presence_rows)(world.client_user_id),
            "sockets opened:",
            therapist.connections,
            client.connections,
        )


async def _restart_redis_mid_conversation(
    redis_server: RedisServer, therapist: Participant, client: Participant, tab: Participant
) -> None:
    senders = (therapist, client)
    await tab.connect(tab.urls[0])
    deadline = time.monotonic() + SCENARIO_TIMEOUT
    for person in senders:
        await person.send_all(new_items(f"{person.name} before", 3), window=1, deadline=deadline)
    top = max([*therapist.acked.values(), *client.acked.values()])
    for person in (*senders, tab):
        await person.wait_for_seq(top, DELIVERY_TIMEOUT)

    await asyncio.to_thread(redis_server.signal, signal.SIGTERM)
    assert not redis_server.running
    # During the outage a send may be committed and still fail (the publish after commit
    # fails, or the socket closes): it stays unacknowledged and is resent below.
    outage: dict[str, list[tuple[str, str]]] = {}
    for person in senders:
        items = new_items(f"{person.name} during the outage", 3)
        outage[person.name] = items
        if not person.connected:
            with contextlib.suppress(OSError, TimeoutError):
                await person.connect(person.url)
        await person.send_batch(items)

    await asyncio.to_thread(redis_server.start_and_wait)
    deadline = time.monotonic() + SCENARIO_TIMEOUT
    for person in senders:
        # Every send of the outage again, acknowledged or not (a client that lost its acks
        # with its socket): the same client_id, so the same message.
        answered = len(person.answers)
        acknowledged = [cid for cid, _ in outage[person.name] if cid in person.acked]
        items = outage[person.name] + new_items(f"{person.name} after", 3)
        await person.send_all(items, window=2, deadline=deadline)
        again = {cid: created for cid, _, created in person.answers[answered:]}
        assert [again[cid] for cid in acknowledged] == [False] * len(acknowledged)

    # Live delivery comes back by itself, also for the tab that never reconnected: a probe
    # published once the nodes have resubscribed reaches the others without a resume.
    # (A probe published before that is lost to them, as the layer may; resume finds it.)
    for sender, others in ((therapist, (client, tab)), (client, (therapist, tab))):
        await probe_until_live(sender, others, time.monotonic() + DELIVERY_TIMEOUT)
    assert tab.connections == 1 and tab.connected

    # Then each catches up from the last seq it holds without a gap: the two who lost their
    # sockets on a new one, the idle tab on the socket it kept.
    for person in senders:
        await person.disconnect()
        await person.connect(person.url)
    await tab.resume()


def resent(person: Participant) -> str:
    """How many sends went out more than once, and how many of those a later frame found
    already committed (answered created=false)."""
    again = {cid for cid, frames in person.attempts.items() if frames > 1}
    found = {cid for cid, _, created in person.answers if cid in again and not created}
    return f"{len(again)} ({len(found)} found committed)"


async def probe_until_live(
    sender: Participant, others: tuple[Participant, ...], deadline: float
) -> None:
    """Send probes until one reaches every one of `others` live (no resume), or fail at the
    deadline."""
    while True:
        resumes = [len(other.resumes) for other in others]
        [item] = new_items(f"{sender.name} probe", 1)
        await sender.send_all([item], window=1, deadline=deadline + SCENARIO_TIMEOUT)
        seq = sender.acked[item[0]]
        try:
            for other in others:
                await other.wait_for_seq(seq, PROBE_WAIT)
        except TimeoutError:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"live delivery from {sender.name} did not come back"
                ) from None
            continue
        assert all(other.connected for other in others)
        assert [len(other.resumes) for other in others] == resumes
        return


async def test_a_killed_node_loses_and_duplicates_nothing_acknowledged(world: World) -> None:
    node1, node2 = world.cluster.nodes
    async with therapist_and_client(world) as (therapist, client):
        killed: list[asyncio.Task[None]] = []
        acknowledged = [0]

        def kill_node2_mid_stream() -> None:
            # On the client's sixth acknowledgement; its next sends go out while node 2 dies.
            acknowledged[0] += 1
            if acknowledged[0] == 6:
                killed.append(asyncio.get_running_loop().create_task(_kill(node2)))

        deadline = time.monotonic() + SCENARIO_TIMEOUT
        await asyncio.gather(
            therapist.send_all(new_items("therapist", 20), window=3, deadline=deadline),
            client.send_all(
                new_items("client", 20), window=3, deadline=deadline, on_ack=kill_node2_mid_stream
            ),
        )
        assert killed, "node 2 was never killed"
        await asyncio.wait_for(killed[0], 15)
        assert not node2.running
        assert node1.running
        # The client moved to node 1; the therapist's socket there never closed.
        assert client.url == node1.ws_url and client.connections >= 2
        assert therapist.connections == 1 and therapist.connected

        # The client sends again what node 2 acknowledged before it died: node 1 finds each.
        first = [(cid, client.bodies[cid]) for cid in client.sent[:6]]
        answered = len(client.answers)
        assert len(await client.send_batch(first)) == 6
        assert client.answers[answered:] == [(cid, client.acked[cid], False) for cid, _ in first]

        for person in (therapist, client):
            await person.resume()
        await assert_complete(world.room_id, therapist, client)
        print("client sends resent after the kill:", resent(client))


async def _kill(node: Node) -> None:
    await asyncio.to_thread(sigkill, node)


async def test_call_signaling_crosses_nodes(world: World) -> None:
    """A call's offer and candidates reach a participant connected to the other node."""
    import json

    import websockets

    from confide.accounts.models import User
    from confide.live import services as live_services

    def start_call() -> None:
        room = Room.objects.get(pk=world.room_id)
        therapist = User.objects.get(pk=world.therapist_user_id)
        live_services.live_start(actor=therapist, room=room, mode="video")
        client = User.objects.get(pk=world.client_user_id)
        live_services.live_join(actor=client, room=room)
        live_services.live_admit(actor=therapist, room=room, user_id=client.pk)

    await sync_to_async(start_call)()
    first, second = (f"{node.ws_url}/ws/rooms/{world.room_id}/" for node in world.cluster.nodes)

    async def until(ws: Any, kind: str) -> dict[str, Any]:
        while True:
            event: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), DELIVERY_TIMEOUT))
            if event["type"] == kind:
                return event

    def bearer(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    async with (
        websockets.connect(first, additional_headers=bearer(world.therapist_token)) as therapist,
        websockets.connect(second, additional_headers=bearer(world.client_token)) as client,
    ):
        await until(therapist, "hello")
        await until(client, "hello")
        await client.send(json.dumps({"type": "call.ready"}))
        ready = await until(therapist, "call.ready")
        assert ready["user"] == world.client_user_id
        offer = {"type": "offer", "sdp": "v=0\r\n"}
        await therapist.send(
            json.dumps({"type": "call.signal", "to": world.client_user_id, "description": offer})
        )
        got = await until(client, "call.signal")
        assert got["from"] == world.therapist_user_id and got["description"] == offer
        await client.send(
            json.dumps({"type": "call.signal", "to": world.therapist_user_id, "candidate": None})
        )
        back = await until(therapist, "call.signal")
        assert back["from"] == world.client_user_id and back["candidate"] is None
