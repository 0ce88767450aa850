"""A failing channel layer never fails a write: the message is committed and acknowledged, and
readers catch up from the database."""

from __future__ import annotations

import asyncio
import time
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


class SlowLayer:
    """Takes its time over every send, as a busy loop or a remote Redis would."""

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.all_sent = asyncio.Event()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        await asyncio.sleep(0.01)
        if message["n"] == 3:
            raise ConnectionError("one failure does not stop the queue")
        self.sent.append(message["n"])
        if len(self.sent) == 49:
            self.all_sent.set()


@pytest.mark.django_db(transaction=True)
async def test_a_servers_threads_publish_in_commit_order_without_waiting_for_the_loop(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    layer = SlowLayer()
    monkeypatch.setattr(events, "get_channel_layer", lambda: layer)
    events.publish_from_this_loop()

    def commit_fifty() -> float:
        started = time.perf_counter()
        for n in range(50):
            with transaction.atomic():
                events.publish_on_commit("room.1", {"type": "room.message", "n": n})
        return time.perf_counter() - started

    # The thread carries the loop's publisher in its copied context; it never waits for the
    # sends (50 x 10 ms), and the loop sends them in order, past a failing one.
    spent = await sync_to_async(commit_fifty)()
    assert spent < 0.25, spent
    await asyncio.wait_for(layer.all_sent.wait(), timeout=10)
    assert layer.sent == [n for n in range(50) if n != 3]
    assert "publish to room failed: ConnectionError" in caplog.text


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
