"""A failing channel layer never fails a write: the message is committed and acknowledged, and
readers catch up from the database."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from confide.rooms import events
from confide.rooms.models import Room
from tests.personas import Personas
from tests.rooms.conftest import send


class BrokenLayer:
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        raise ConnectionError("redis is restarting")


@pytest.mark.django_db(transaction=True)
def test_a_send_succeeds_when_the_channel_layer_is_down(
    people: Personas, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(events, "get_channel_layer", BrokenLayer)
    room = Room.objects.get(relationship=people.individual)
    send(people.client, room, "still here")
    assert Room.objects.get(pk=room.pk).last_seq >= 1
    assert "publish to room failed: ConnectionError" in caplog.text
    assert "still here" not in caplog.text


class HeldLayer:
    """Sends nothing until released, as a busy loop or a remote Redis would; fails on #3."""

    def __init__(self, expected: int) -> None:
        self.sent: list[int] = []
        self.expected = expected
        self.release = asyncio.Event()
        self.all_sent = asyncio.Event()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await self.release.wait()
        if message["n"] == 3:
            raise ConnectionError("one failure does not stop the queue")
        self.sent.append(message["n"])
        if len(self.sent) == self.expected:
            self.all_sent.set()


@pytest.mark.django_db(transaction=True)
async def test_a_servers_threads_publish_in_commit_order_without_waiting_for_the_loop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = HeldLayer(expected=49)
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    events.publish_from_this_loop()

    def commit_fifty() -> None:
        for n in range(50):
            with transaction.atomic():
                events.publish_on_commit("room.1", {"type": "room.message", "n": n})

    # The thread carries the loop's publisher in its copied context. Nothing is sent until the
    # thread has returned, so a thread that waited for its sends would never return.
    try:
        await asyncio.wait_for(sync_to_async(commit_fifty)(), timeout=10)
    finally:
        layer.release.set()
    await asyncio.wait_for(layer.all_sent.wait(), timeout=10)
    assert layer.sent == [n for n in range(50) if n != 3]
    assert "publish to room failed: ConnectionError" in caplog.text


@pytest.mark.django_db(transaction=True)
async def test_a_send_that_hangs_is_given_up_and_the_next_one_goes_out(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    arrived = asyncio.Event()

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            if message["n"] == 0:
                await asyncio.Event().wait()  # Redis that never answers
            arrived.set()

    monkeypatch.setattr(events, "get_channel_layer", Layer)
    monkeypatch.setattr(events, "SEND_TIMEOUT", 0.2)
    events.publish_from_this_loop()

    def commit_two() -> None:
        for n in range(2):
            with transaction.atomic():
                events.publish_on_commit("room.2", {"type": "room.message", "n": n})

    await sync_to_async(commit_two)()
    await asyncio.wait_for(arrived.wait(), timeout=10)
    assert "publish to room failed: TimeoutError" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_closed_loops_publisher_hands_the_event_back() -> None:
    loop = asyncio.new_event_loop()
    publisher = events.Publisher(loop)
    loop.close()
    sent: list[str] = []

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append(group)

    token = events._publisher.set(publisher)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(events, "get_channel_layer", Layer)
            with transaction.atomic():
                events.publish_on_commit("room.9", {"type": "room.message"})
    finally:
        events._publisher.reset(token)
    assert sent == ["room.9"]


@pytest.mark.django_db(transaction=True)
def test_without_a_servers_loop_a_publish_is_sent_before_the_caller_goes_on() -> None:
    sent: list[str] = []

    class Layer:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            sent.append(group)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(events, "get_channel_layer", Layer)
        with transaction.atomic():
            events.publish_on_commit("room.7", {"type": "room.message"})
            assert sent == []
        assert sent == ["room.7"]
