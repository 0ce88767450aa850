"""Presence: who has the room open now (here / away / gone), kept in the database so every
server process sees the same answer, and refreshed by one heartbeat per process.

Each process keeps the set of its open sockets. Once a minute one statement refreshes their
rows' `seen_at`, stale rows (left by a process that died) are removed, and every socket's
membership is checked again in one query: a revocation event lost by the channel layer still
closes the socket within a minute. The same beat checks, in one query each, that every
socket's cookie session and token are still valid, in case a sign-out or revocation event was
lost too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from django.contrib.sessions.models import Session
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from confide import rawsql
from confide.accounts.selectors import valid_token_digests
from confide.live.limits import messages_per_user
from confide.rooms.models import Presence, PresenceState, RoomMember

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 60.0
STALE = datetime.timedelta(minutes=2)


def fresh_since(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - STALE


_HERE = (
    'SELECT p."user_id", u."display_name", p."state" FROM "rooms_presence" p '
    'JOIN "accounts_user" u ON u."id" = p."user_id" '
    'WHERE p."room_id" = %s AND p."seen_at" >= %s'
)


def room_presence(room_id: int, now: datetime.datetime | None = None) -> list[dict[str, Any]]:
    """Everyone with the room open: `here` if any of their sockets is, otherwise `away`.
    (Hand-written: it runs on every connect; see live/entry.py.)"""
    since = rawsql.prep(Presence, "seen_at", fresh_since(now))
    with connection.cursor() as cursor:
        cursor.execute(_HERE, [room_id, since])
        rows = cursor.fetchall()
    people: dict[int, dict[str, Any]] = {}
    for user_id, name, state in rows:
        entry = people.setdefault(user_id, {"user": user_id, "name": name, "state": state})
        if state == PresenceState.HERE:
            entry["state"] = PresenceState.HERE
    return sorted(people.values(), key=lambda e: e["user"])


def person_state(room_id: int, user_id: int) -> str:
    states = set(
        Presence.objects.filter(
            room_id=room_id, user_id=user_id, seen_at__gte=fresh_since()
        ).values_list("state", flat=True)
    )
    if not states:
        return "gone"
    return PresenceState.HERE if PresenceState.HERE in states else PresenceState.AWAY


Close = Callable[[int], Awaitable[None]]
CLOSE_SIGNED_OUT = 4401
CLOSE_NOT_A_MEMBER = 4403


@dataclasses.dataclass(frozen=True)
class Socket:
    user_id: int
    room_id: int
    close: Close
    # ("session", session key) or ("token", token digest): what must stay valid.
    auth: tuple[str, str]
    loop: asyncio.AbstractEventLoop = dataclasses.field(
        default_factory=asyncio.get_running_loop, compare=False
    )


class Keeper:
    """The heartbeat of this process's sockets."""

    def __init__(self) -> None:
        self.sockets: dict[str, Socket] = {}
        self.task: asyncio.Task[None] | None = None

    def add(self, channel_name: str, socket: Socket) -> None:
        self.sockets[channel_name] = socket
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    def remove(self, channel_name: str) -> None:
        self.sockets.pop(channel_name, None)

    async def _run(self) -> None:
        while self.sockets:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await self.beat()
            except Exception:  # a database hiccup must not stop the heartbeat
                logger.exception("presence heartbeat failed")

    async def beat(self) -> None:
        # Only this event loop's sockets (a process runs one loop; tests may run several).
        loop = asyncio.get_running_loop()
        sockets = {name: s for name, s in self.sockets.items() if s.loop is loop}
        verdicts = await database_sync_to_async(_refresh)(sockets)
        messages_per_user.forget_idle()
        for channel_name, code in verdicts.items():
            entry = self.sockets.get(channel_name)
            if entry is None:
                continue
            try:
                await entry.close(code)
            except Exception:  # already gone: forget it
                self.sockets.pop(channel_name, None)


def _chunks(items: list[Any], size: int = 500) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _refresh(sockets: dict[str, Socket]) -> dict[str, int]:
    """Refresh this process's rows, drop stale ones, and say which sockets must close (by
    channel name, with the close code)."""
    now = timezone.now()
    for names in _chunks(list(sockets)):
        Presence.objects.filter(channel_name__in=names).update(seen_at=now)
    Presence.objects.filter(seen_at__lt=fresh_since(now)).delete()
    still: set[tuple[int, int]] = set()
    for rooms in _chunks(sorted({s.room_id for s in sockets.values()})):
        still.update(
            RoomMember.objects.filter(Q(room_id__in=rooms), left_at__isnull=True).values_list(
                "user_id", "room_id"
            )
        )
    sessions = [s.auth[1] for s in sockets.values() if s.auth[0] == "session"]
    tokens = [s.auth[1] for s in sockets.values() if s.auth[0] == "token"]
    valid: set[str] = set()
    for keys in _chunks(sessions):
        valid.update(
            Session.objects.filter(session_key__in=keys, expire_date__gt=now).values_list(
                "session_key", flat=True
            )
        )
    for digests in _chunks(tokens):
        valid.update(valid_token_digests(digests, now=now))
    verdicts: dict[str, int] = {}
    for name, socket in sockets.items():
        if socket.auth[1] not in valid:
            verdicts[name] = CLOSE_SIGNED_OUT
        elif (socket.user_id, socket.room_id) not in still:
            verdicts[name] = CLOSE_NOT_A_MEMBER
    return verdicts


keeper = Keeper()
