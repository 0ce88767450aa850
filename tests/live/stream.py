"""Helpers for room stream tests: connect as a persona, wait for the next event of a type."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from confide.asgi import application
from tests.personas import sign_in

TIMEOUT = 5
# Events that may arrive at any time and that most tests do not wait for.
BACKGROUND = {"presence", "typing", "delivered"}


async def connect(
    user: Any, room_id: int, *, origin: bytes = b"http://testserver", client: Client | None = None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    browser = client or await sync_to_async(lambda: sign_in(Client(), user))()
    cookie = f"confide_session={browser.cookies['confide_session'].value}".encode()
    communicator = WebsocketCommunicator(
        application,
        f"/ws/rooms/{room_id}/",
        headers=[(b"cookie", cookie), (b"origin", origin), (b"host", b"testserver")],
    )
    connected, code = await communicator.connect(timeout=TIMEOUT)
    return communicator, connected, code


async def connect_token(
    token: str, room_id: int, *, origin: bytes | None = None
) -> tuple[WebsocketCommunicator, bool, int | None]:
    headers = [(b"authorization", f"Bearer {token}".encode()), (b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, f"/ws/rooms/{room_id}/", headers=headers)
    connected, code = await communicator.connect(timeout=TIMEOUT)
    return communicator, connected, code


async def next_event(ws: WebsocketCommunicator, *types: str) -> dict[str, Any]:
    """The next event of one of `types`, skipping background events (presence, typing, ticks)."""
    while True:
        event: dict[str, Any] = await ws.receive_json_from(timeout=TIMEOUT)
        if event["type"] in types:
            return event
        if event["type"] not in BACKGROUND:
            raise AssertionError(f"expected {types}, got {event}")


async def drain(ws: WebsocketCommunicator) -> list[dict[str, Any]]:
    """Everything already queued on the socket (nothing waits for more)."""
    events = []
    while not await ws.receive_nothing(timeout=0.05):
        events.append(await ws.receive_json_from(timeout=TIMEOUT))
    return events


async def collect(ws: WebsocketCommunicator, *types: str) -> dict[str, dict[str, Any]]:
    """One event of each of `types`, in whichever order they come."""
    wanted, found = set(types), {}
    while wanted:
        event = await next_event(ws, *wanted)
        found[event["type"]] = event
        wanted.discard(event["type"])
    return found
