"""The room stream: one WebSocket per tab at /ws/rooms/<room id>/ (protocol in docs/protocol.md).

Every event is checked against the room's membership; every message goes through
`rooms.services.message_send` and is acknowledged only after commit. The channel layer may drop
events, so a client that reconnects sends `resume` with the last sequence number it saw.
"""

from __future__ import annotations

import uuid
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from confide.accounts.models import User
from confide.accounts.selectors import consent_is_current, user_has_mfa
from confide.audit.services import audit_record
from confide.errors import DomainError
from confide.rooms import selectors, services
from confide.rooms.events import room_group, user_group
from confide.rooms.models import Presence, Room
from confide.rooms.payloads import message_payload

# Close codes (documented in docs/protocol.md).
CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_A_MEMBER = 4404
CLOSE_REVOKED = 4403
RESUME_LIMIT = 500
MAX_FRAME = 64 * 1024


def _verified(scope: dict[str, Any], user: User) -> bool:
    """Whether the session passed its second step where one is needed."""
    session = scope.get("session")
    passed = bool(session and session.get("otp_device_id"))
    return passed or not (user.requires_mfa or user_has_mfa(user=user))


class RoomConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    user: User
    room: Room

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not isinstance(user, User) or not user.is_authenticated or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        room = await database_sync_to_async(self._authorise)(user, room_id)
        if room is None:
            await self.close(code=CLOSE_NOT_A_MEMBER)
            return
        self.user, self.room = user, room
        await self.channel_layer.group_add(room_group(room.pk), self.channel_name)
        await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        await database_sync_to_async(Presence.objects.update_or_create)(
            channel_name=self.channel_name, defaults={"user": user, "seen_at": timezone.now()}
        )
        await self.accept()
        await self.send_json({"type": "hello", "room": room.pk, "last_seq": room.last_seq})

    def _authorise(self, user: User, room_id: int) -> Room | None:
        if not _verified(self.scope, user):
            return None
        if user.is_client and not consent_is_current(user=user):
            return None
        try:
            return selectors.room_get(user=user, room_id=room_id)
        except DomainError:
            return None

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "room"):
            await self.channel_layer.group_discard(room_group(self.room.pk), self.channel_name)
            await self.channel_layer.group_discard(user_group(self.user.pk), self.channel_name)
            await database_sync_to_async(
                lambda: Presence.objects.filter(channel_name=self.channel_name).delete()
            )()

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if bytes_data is not None or text_data is None:
            await self._error("bad_frame", "Send JSON text frames.")
            return
        if len(text_data) > MAX_FRAME:
            await self._error("too_large", "Frames can be at most 64 KiB.")
            return
        await super().receive(text_data=text_data, **kwargs)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        import json

        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not isinstance(content.get("type"), str):
            await self._error("bad_json", "Each frame is a JSON object with a 'type'.")
            return
        handler = {"send": self._send, "resume": self._resume, "read": self._read}.get(
            content["type"]
        )
        if handler is None:
            await self._error("unknown_type", f"Unknown event type {content['type'][:40]!r}.")
            return
        try:
            await handler(content)
        except DomainError as error:
            await self._error(
                "rejected", error.message, ref=content.get("client_id"), fields=error.field_errors
            )

    async def _error(
        self, code: str, detail: str, *, ref: Any = None, fields: dict[str, list[str]] | None = None
    ) -> None:
        event: dict[str, Any] = {"type": "error", "code": code, "detail": detail}
        if isinstance(ref, str):
            event["client_id"] = ref[:64]
        if fields:
            event["errors"] = fields
        await self.send_json(event)

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

        def send() -> dict[str, Any]:
            room = Room.objects.get(pk=self.room.pk)
            result = services.message_send(
                actor=self.user, room=room, body=body, client_id=client_id
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
        if not isinstance(after, int) or after < 0:
            await self._error("bad_after", "after must be a sequence number (0 or more).")
            return

        def missed() -> list[dict[str, Any]] | None:
            room = Room.objects.get(pk=self.room.pk)
            if room.last_seq - after > RESUME_LIMIT:
                return None
            client = self.scope.get("client") or [None]
            audit_record(
                actor=self.user,
                action="room.resume",
                object_type="room",
                object_id=room.pk,
                practice=room.practice,
                ip=client[0],
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

    async def _read(self, content: dict[str, Any]) -> None:
        seq = content.get("seq")
        if not isinstance(seq, int) or seq < 0:
            await self._error("bad_seq", "seq must be a sequence number.")
            return

        def read() -> None:
            room = Room.objects.get(pk=self.room.pk)
            services.room_mark_read(actor=self.user, room=room, seq=seq)

        await database_sync_to_async(read)()

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

    async def room_crisis(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "crisis", "open": event["open"]})

    async def member_revoked(self, event: dict[str, Any]) -> None:
        if event.get("room") == self.room.pk:
            await self.close(code=CLOSE_REVOKED)
