"""The room stream: one WebSocket per tab at /ws/rooms/<room id>/ (protocol in docs/protocol.md).

Every event is checked against the room's membership; every message goes through
`rooms.services.message_send` and is acknowledged only after commit. The channel layer may drop
events, so a client that reconnects sends `resume` with the last sequence number it saw.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from importlib import import_module
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.utils import timezone

from confide.accounts.models import User
from confide.accounts.selectors import token_digest, user_has_mfa
from confide.accounts.services import token_authenticate
from confide.audit.services import audit_record, current_ip
from confide.errors import DomainError
from confide.http import scope_ip
from confide.live import entry, presence
from confide.live import services as live_services
from confide.live.auth import bearer_token
from confide.live.calls import CallSignaling
from confide.live.limits import MAX_FRAME, TokenBucket, messages_per_user
from confide.live.models import LiveMode, LiveSession
from confide.live.selectors import live_payload
from confide.rooms import selectors, services
from confide.rooms.events import room_group, user_group
from confide.rooms.models import Presence, PresenceState, Room
from confide.rooms.payloads import message_payload

logger = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
# Close codes (documented in docs/protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_A_MEMBER = 4404
CLOSE_REVOKED = 4403
CLOSE_TOO_MANY = 4429
RESUME_LIMIT = 500
TYPING_EVERY = 2.0  # seconds between forwarded typing events of one socket
TOKEN_RECHECK = 3600.0  # seconds between checks that a token is still valid


def session_tag(session_key: str) -> str:
    """A name for a session that can travel through the channel layer without being a secret."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:24]


def _verified(scope: dict[str, Any], user: User) -> bool:
    """Whether the session passed its second step where one is needed. A token was created by
    someone who had (tokens are issued only from a verified session)."""
    if scope.get("auth") == "token":
        return True
    session = scope.get("session")
    passed = bool(session and session.get("otp_device_id"))
    return passed or not (user.requires_mfa or user_has_mfa(user=user))


def _session_deadline(session: SessionBase) -> float | None:
    """When the cookie session ends by the idle or lifetime rule (epoch seconds)."""
    started, seen = session.get("confide_started"), session.get("confide_seen")
    if started is None or seen is None:
        return None
    return min(
        float(seen) + settings.IDLE_TIMEOUT_MINUTES * 60,
        float(started) + settings.SESSION_MAX_HOURS * 3600,
    )


class RoomConsumer(CallSignaling, AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user: User
    # Only `pk` and `last_seq` are loaded (live/entry.py); any other field would be read from the
    # database on first use, which async code must not do: use `_fresh_room` in a sync call.
    room: Room

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        found = await database_sync_to_async(self._authorise)(user, room_id)
        if found is None:
            await self.close(code=CLOSE_NOT_A_MEMBER)
            return
        room, busy, hello = found
        self.user, self.room = user, room
        self.events = TokenBucket()
        self.last_typing = 0.0
        self.last_limit_error = 0.0
        self.timer: asyncio.TimerHandle | None = None
        await self.accept()
        if busy:
            await self._error("too_many_connections", "Too many open connections: close a tab.")
            await self.close(code=CLOSE_TOO_MANY)
            return
        self.joined = True
        await self.channel_layer.group_add(room_group(room.pk), self.channel_name)
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        presence.keeper.add(
            self.channel_name,
            presence.Socket(
                user_id=user.pk, room_id=room.pk, close=self._closed, auth=self._auth()
            ),
        )
        self._watch_session(first=True)
        await self.send_json(hello)
        await self._announce(PresenceState.HERE)

    def _authorise(self, user: User, room_id: int) -> tuple[Room, bool, dict[str, Any]] | None:
        if not _verified(self.scope, user):
            return None
        now = timezone.now()
        found = entry.entry_for(user_id=user.pk, room_id=room_id, now=now)
        if found is None or (user.is_client and not found.consent_current):
            return None
        room = found.room
        if found.connections >= settings.LIVE_MAX_CONNECTIONS_PER_USER:
            return room, True, {}
        entry.presence_add(
            channel_name=self.channel_name, user_id=user.pk, room_id=room.pk, now=now
        )
        session = (
            LiveSession.objects.select_related("started_by").get(pk=found.live_session_id)
            if found.live_session_id is not None
            else None
        )
        hello = {
            "type": "hello",
            "version": PROTOCOL_VERSION,
            "room": room.pk,
            "me": user.pk,
            "last_seq": room.last_seq,
            "presence": presence.room_presence(room.pk, now),
            "receipts": [
                {
                    "user": m.user_id,
                    "name": m.name,
                    "delivered": m.delivered_seq,
                    "read": m.last_read_seq if m.read_receipts else None,
                }
                for m in entry.members_of(room.pk)
                if m.user_id != user.pk
            ],
            "live": live_payload(session) if session else None,
            "limits": {
                "frame_bytes": MAX_FRAME,
                "messages_per_minute": settings.LIVE_MESSAGES_PER_MINUTE,
            },
        }
        return room, False, hello

    async def disconnect(self, code: int) -> None:
        if not getattr(self, "joined", False):
            return
        self.joined = False
        if self.timer is not None:
            self.timer.cancel()
        presence.keeper.remove(self.channel_name)
        await self.channel_layer.group_discard(room_group(self.room.pk), self.channel_name)
        await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
        await database_sync_to_async(
            lambda: Presence.objects.filter(channel_name=self.channel_name).delete()
        )()
        await self._announce(None)

    # --- the session behind the socket ---------------------------------------------------------

    def _watch_session(self, *, first: bool = False) -> None:
        """Close the socket when its cookie session ends (idle, lifetime) or its token lapses."""
        delay = TOKEN_RECHECK
        if self.scope.get("auth") != "token":
            session = self.scope.get("session")
            deadline = _session_deadline(session) if session is not None else None
            if deadline is not None:
                delay = max(1.0, deadline - time.time() + 1.0)
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(delay, lambda: loop.create_task(self._check_session()))

    async def _check_session(self) -> None:
        if not getattr(self, "joined", False):
            return
        if not await database_sync_to_async(self._still_signed_in)():
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self._watch_session()

    def _still_signed_in(self) -> bool:
        if self.scope.get("auth") == "token":
            raw = bearer_token(self.scope)
            return raw is not None and token_authenticate(raw=raw) is not None
        session = self.scope.get("session")
        if session is None or session.session_key is None:
            return False
        fresh = import_module(settings.SESSION_ENGINE).SessionStore(session.session_key)
        if str(fresh.get("_auth_user_id")) != str(self.user.pk):
            return False
        self.scope["session"] = fresh
        deadline = _session_deadline(fresh)
        return deadline is None or time.time() < deadline

    def _auth(self) -> tuple[str, str]:
        """What must stay valid for this socket to stay open (checked by the heartbeat)."""
        if self.scope.get("auth") == "token":
            return ("token", token_digest(bearer_token(self.scope) or ""))
        session = self.scope.get("session")
        return ("session", str(getattr(session, "session_key", "") or ""))

    async def _closed(self, code: int) -> None:
        await self.close(code=code)

    # --- frames in -----------------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not getattr(self, "joined", False):
            return
        if not self.events.take():
            now = time.monotonic()
            if now - self.last_limit_error >= 1.0:
                self.last_limit_error = now
                await self._error("rate_limited", "Too many events: slow down.")
            return
        if bytes_data is not None or text_data is None:
            await self._error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data) > MAX_FRAME:
            await self._error("too_large", "Frames can be at most 64 KiB.")
            return
        await super().receive(text_data=text_data, **kwargs)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("bad_json", "Each frame is a JSON object with a 'type'.")
            return
        handler = self._handlers().get(content["type"])
        if handler is None:
            await self._error("unknown_type", f"Unknown event type {content['type'][:40]!r}.")
            return
        # Audit rows written for this event carry the caller's address.
        token = current_ip.set(scope_ip(self.scope))
        try:
            await handler(content)
        except DomainError as error:
            await self._error(
                "rejected", error.message, ref=content.get("client_id"), fields=error.field_errors
            )
        except Exception as error:  # never a crashed consumer: answer, log without content
            logger.error("room stream %s failed: %s", content["type"][:40], type(error).__name__)
            await self._error("server_error", "That did not work; please try again.")
        finally:
            current_ip.reset(token)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
        return {
            "send": self._send,
            "resume": self._resume,
            "read": self._read,
            "delivered": self._delivered,
            "typing": self._typing,
            "presence": self._presence,
            "live.start": self._live_start,
            "live.join": self._live_simple(live_services.live_join),
            "live.leave": self._live_simple(live_services.live_leave),
            "live.end": self._live_simple(live_services.live_end),
            "live.admit": self._live_admit,
            "live.mode": self._live_mode,
            "call.ice": self._call_ice,
            "call.ready": self._call_ready,
            "call.signal": self._call_signal,
            "call.media": self._call_media,
        }

    async def _error(
        self, code: str, detail: str, *, ref: Any = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        event: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if isinstance(ref, str):
            event["client_id"] = ref[:64]
        if fields:
            event["errors"] = fields
        await self.send_json(event)

    def _fresh_room(self) -> Room:
        """The room, re-read for each event, with the actor's membership checked by the caller."""
        return Room.objects.select_related("practice").get(pk=self.room.pk)

    async def _member_check(self) -> bool:
        """Membership for events that write nothing (typing, presence): a removed member is
        closed out instead of being answered."""

        def check() -> bool:
            try:
                services.membership(actor=self.user, room=self.room)
            except DomainError:
                return False
            return True

        if await database_sync_to_async(check)():
            return True
        await self.close(code=CLOSE_REVOKED)
        return False

    async def _send(self, content: dict[str, Any]) -> None:
        body, raw_id = content.get("body"), content.get("client_id")
        try:
            client_id = uuid.UUID(str(raw_id))
        except ValueError:
            await self._error("bad_client_id", "client_id must be a UUID.")
            return
        if not isinstance(body, str):
            await self._error("bad_body", "body must be a string.", ref=raw_id)
            return
        wait = messages_per_user.allow(self.user.pk, settings.LIVE_MESSAGES_PER_MINUTE)
        if wait:
            await self.send_json(
                {
                    "type": "error",
                    "code": "rate_limited",
                    "detail": "Too many messages in a minute: wait a moment and send again.",
                    "client_id": str(client_id),
                    "retry_after": round(wait, 1),
                }
            )
            return

        def send() -> dict[str, Any]:
            # message_send reads only the room's id from `room`, and checks the membership and
            # reads the room's state itself, under the room's lock: no fresh read needed here.
            result = services.message_send(
                actor=self.user, room=self.room, body=body, client_id=client_id
            )
            return {
                "type": "ack",
                "client_id": str(client_id),
                "seq": result.message.seq,
                "created": result.created,
                "crisis": result.crisis is not None,
            }

        await self.send_json(await database_sync_to_async(send)())

    async def _resume(self, content: dict[str, Any]) -> None:
        after = content.get("after")
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            await self._error("bad_after", "after must be a sequence number (0 or more).")
            return

        def missed() -> list[dict[str, Any]] | None:
            room = self._fresh_room()
            services.membership(actor=self.user, room=room)
            if room.last_seq - after > RESUME_LIMIT:
                return None
            audit_record(
                actor=self.user,
                action="room.resume",
                object_type="room",
                object_id=room.pk,
                practice=room.practice,
            )
            return [
                message_payload(m)
                for m in selectors.messages_page(room=room, after=after, limit=RESUME_LIMIT)
            ]

        items = await database_sync_to_async(missed)()
        if items is None:
            await self.send_json({"type": "reload", "detail": "Too far behind: reload."})
            return
        for item in items:
            await self.send_json({"type": "message", "message": item})
        await self.send_json({"type": "resumed", "after": after, "count": len(items)})

    def _seq(self, content: dict[str, Any]) -> int | None:
        seq = content.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
            return None
        return seq

    async def _read(self, content: dict[str, Any]) -> None:
        seq = self._seq(content)
        if seq is None:
            await self._error("bad_seq", "seq must be a sequence number.")
            return
        await database_sync_to_async(
            lambda: services.room_mark_read(actor=self.user, room=self._fresh_room(), seq=seq)
        )()

    async def _delivered(self, content: dict[str, Any]) -> None:
        seq = self._seq(content)
        if seq is None:
            await self._error("bad_seq", "seq must be a sequence number.")
            return
        await database_sync_to_async(
            lambda: live_services.room_mark_delivered(
                actor=self.user, room=self._fresh_room(), seq=seq
            )
        )()

    async def _typing(self, content: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return  # documented: typing is forwarded at most once every 2 s per socket
        self.last_typing = now
        if not await self._member_check():
            return
        await self.channel_layer.group_send(
            room_group(self.room.pk),
            {"type": "room.typing", "user": self.user.pk, "name": self.user.display_name},
        )

    async def _presence(self, content: dict[str, Any]) -> None:
        state = content.get("state")
        if state not in (PresenceState.HERE, PresenceState.AWAY):
            await self._error("bad_state", "state must be 'here' or 'away'.")
            return
        if not await self._member_check():
            return
        await database_sync_to_async(
            lambda: Presence.objects.filter(channel_name=self.channel_name).update(state=state)
        )()
        await self._announce(state)

    async def _announce(self, state: str | None) -> None:
        """Tell the room this person's presence (over all their sockets in the room)."""
        if state is None or state == PresenceState.AWAY:
            state = await database_sync_to_async(presence.person_state)(self.room.pk, self.user.pk)
        await self.channel_layer.group_send(
            room_group(self.room.pk),
            {
                "type": "room.presence",
                "user": self.user.pk,
                "name": self.user.display_name,
                "state": state,
            },
        )

    async def _live_start(self, content: dict[str, Any]) -> None:
        minutes = content.get("minutes")
        if minutes is not None and (not isinstance(minutes, int) or isinstance(minutes, bool)):
            await self._error("bad_minutes", "minutes must be 30, 45 or 50.")
            return
        mode = content.get("mode", LiveMode.CHAT)
        if mode not in LiveMode.values:
            await self._error("bad_mode", "mode must be chat, voice or video.")
            return
        await database_sync_to_async(
            lambda: live_services.live_start(
                actor=self.user, room=self._fresh_room(), minutes=minutes, mode=mode
            )
        )()

    def _live_simple(
        self, action: Callable[..., Any]
    ) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def run(content: dict[str, Any]) -> None:
            await database_sync_to_async(lambda: action(actor=self.user, room=self._fresh_room()))()

        return run

    async def _live_mode(self, content: dict[str, Any]) -> None:
        mode = content.get("mode")
        if mode not in LiveMode.values:
            await self._error("bad_mode", "mode must be chat, voice or video.")
            return
        await database_sync_to_async(
            lambda: live_services.live_mode_change(
                actor=self.user, room=self._fresh_room(), mode=mode
            )
        )()

    async def _live_admit(self, content: dict[str, Any]) -> None:
        user_id = content.get("user")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or user_id <= 0:
            await self._error("bad_user", "user must be the id of a waiting participant.")
            return
        await database_sync_to_async(
            lambda: live_services.live_admit(
                actor=self.user, room=self._fresh_room(), user_id=user_id
            )
        )()

    # --- events from the channel layer ---------------------------------------------------------

    async def room_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def room_read(self, event: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "read",
                "user": event["user"],
                "name": event.get("name", ""),
                "seq": event["seq"],
            }
        )

    async def room_delivered(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "delivered", "user": event["user"], "seq": event["seq"]})

    async def room_typing(self, event: dict[str, Any]) -> None:
        if event["user"] != self.user.pk:
            await self.send_json({"type": "typing", "user": event["user"], "name": event["name"]})

    async def room_presence(self, event: dict[str, Any]) -> None:
        if event["user"] != self.user.pk:
            await self.send_json(
                {
                    "type": "presence",
                    "user": event["user"],
                    "name": event["name"],
                    "state": event["state"],
                }
            )

    async def room_crisis(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "crisis", "open": event["open"]})

    async def live_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "live", "session": event["session"]})

    async def member_revoked(self, event: dict[str, Any]) -> None:
        if event.get("room") == self.room.pk:
            await self.close(code=CLOSE_REVOKED)

    async def session_ended(self, event: dict[str, Any]) -> None:
        session = self.scope.get("session")
        key = getattr(session, "session_key", None)
        if self.scope.get("auth") != "token" and key and session_tag(key) == event.get("session"):
            await self.close(code=CLOSE_UNAUTHENTICATED)

    async def token_revoked(self, event: dict[str, Any]) -> None:
        if self.scope.get("auth") == "token":
            await self._check_session()
