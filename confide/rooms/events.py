"""Publishing to the channel layer, always after commit. Group names are built from ids.

Code that runs for a server's event loop (a request or a socket event, on a request thread)
hands its events to that loop's `Publisher`, which sends them one after another, without the
thread waiting: waiting for a busy loop stalled the thread that runs every socket's database
work (bench/live_latency.py). Events handed over by one thread leave in the order that thread
committed them; between threads there was never an order (a socket that sees a gap in sequence
numbers fills it from the database). Elsewhere (a task worker, a management command, a test),
or once the loop has closed, the event is sent before `publish_on_commit`'s caller goes on.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import weakref
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


# A send that takes longer than this (Redis unreachable) is given up, so the events behind it
# are not held up; the sockets catch up from the database.
SEND_TIMEOUT = 5.0


class Publisher:
    """One per event loop: a queue of events drained by one task, in order."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = weakref.ref(loop)  # the map below is keyed by the loop: never keep it alive
        self.queue: asyncio.Queue[tuple[Any, str, dict[str, Any]]] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    def publish(self, layer: Any, group: str, event: dict[str, Any]) -> bool:
        """From any thread: queue the event for the loop (never blocks). False when the loop
        is gone or closed, and the caller sends the event itself."""
        loop = self._loop()
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._put, (layer, group, event))
        except RuntimeError:  # closed in the meantime
            return False
        return True

    def _put(self, item: tuple[Any, str, dict[str, Any]]) -> None:
        self.queue.put_nowait(item)
        if self.task is None or self.task.done():
            loop = self._loop()
            if loop is not None:
                self.task = loop.create_task(self._drain())

    async def _drain(self) -> None:
        while not self.queue.empty():
            layer, group, event = self.queue.get_nowait()
            try:
                await asyncio.wait_for(layer.group_send(group, event), SEND_TIMEOUT)
            except Exception as error:  # Redis down or restarting: sockets catch up on resume
                _failed(group, error)


_publishers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Publisher] = (
    weakref.WeakKeyDictionary()
)
_publisher: contextvars.ContextVar[Publisher | None] = contextvars.ContextVar(
    "confide_publisher", default=None
)


def publish_from_this_loop() -> None:
    """Called in a server's async code (a request, a socket): what its threads publish goes
    through this loop's publisher. The context is copied into the threads that run its sync
    work."""
    loop = asyncio.get_running_loop()
    publisher = _publishers.get(loop)
    if publisher is None:
        publisher = _publishers[loop] = Publisher(loop)
    _publisher.set(publisher)


def _failed(group: str, error: Exception) -> None:
    logger.warning("publish to %s failed: %s", group.split(".")[0], type(error).__name__)


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send `event` to `group` once the surrounding transaction commits (never before).

    The channel layer is lossy by design: a socket that misses an event catches up from the
    database by sequence number, so a failed publish loses nothing.
    """

    publisher = _publisher.get()

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        if publisher is not None and publisher.publish(layer, group, event):
            return
        try:
            async_to_sync(layer.group_send)(group, event)
        except Exception as error:  # Redis down or restarting: sockets catch up on resume
            _failed(group, error)

    transaction.on_commit(send)
