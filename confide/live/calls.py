"""Call signaling on the room stream (docs/protocol.md, "Calls"): ICE servers for participants,
"ready" announcements, offers/answers/candidates between participants, and media state."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from confide.accounts.models import User
from confide.live import signaling
from confide.live.models import LiveSession
from confide.live.turn import ice_servers
from confide.rooms.events import room_group, user_group
from confide.rooms.models import Room


class CallSignaling:
    """The call events of the room consumer (a mixin: it uses the consumer's socket)."""

    user: User
    room: Room
    channel_layer: Any

    if TYPE_CHECKING:  # provided by the consumer

        async def send_json(self, content: Any, close: bool = False) -> None: ...

        async def _error(
            self,
            code: str,
            detail: str,
            *,
            ref: Any = None,
            fields: dict[str, list[str]] | None = None,
        ) -> None: ...

    async def _in_call(self) -> LiveSession | None:
        session: LiveSession | None = await database_sync_to_async(signaling.call_of)(
            self.room.pk, self.user.pk
        )
        if session is None:
            await self._error("not_in_call", "You are not in a call in this room.")
        return session

    async def _call_ice(self, content: dict[str, Any]) -> None:
        """ICE servers (with a TURN credential for this call only) and the ICE policy."""
        session = await self._in_call()
        if session is None:
            return
        until = session.started_at + datetime.timedelta(minutes=session.planned_minutes)
        servers, expires = ice_servers(user_id=self.user.pk, until=until)
        relay_only = self.user.hide_network_address
        await self.send_json(
            {
                "type": "call.ice",
                "ice_servers": servers,
                "policy": "relay" if relay_only else "all",
                "expires_at": expires.isoformat() if expires else None,
            }
        )

    async def _call_ready(self, content: dict[str, Any]) -> None:
        """This participant's media is ready: the others connect to them."""
        if await self._in_call() is None:
            return
        await self.channel_layer.group_send(
            room_group(self.room.pk),
            {"type": "call.ready", "user": self.user.pk, "name": self.user.display_name},
        )

    async def _call_signal(self, content: dict[str, Any]) -> None:
        to = content.get("to")
        if not isinstance(to, int) or isinstance(to, bool) or to == self.user.pk:
            await self._error("bad_signal", "to must be the id of another participant.")
            return
        try:
            signal = signaling.clean_signal(content)
        except signaling.BadSignal as error:
            await self._error("bad_signal", str(error))
            return
        allowed = await database_sync_to_async(signaling.in_same_call)(
            self.room.pk, self.user.pk, to
        )
        if not allowed:
            await self._error("not_in_call", "You and they are not both in a call in this room.")
            return
        await self.channel_layer.group_send(
            user_group(to),
            {"type": "call.signal", "room": self.room.pk, "from": self.user.pk, **signal},
        )

    async def _call_media(self, content: dict[str, Any]) -> None:
        try:
            media = signaling.clean_media(content)
        except signaling.BadSignal as error:
            await self._error("bad_media", str(error))
            return
        if await self._in_call() is None:
            return
        await self.channel_layer.group_send(
            room_group(self.room.pk),
            {"type": "call.media", "user": self.user.pk, "name": self.user.display_name, **media},
        )

    # --- from the channel layer ---

    async def call_ready(self, event: dict[str, Any]) -> None:
        if event["user"] != self.user.pk:
            await self.send_json(
                {"type": "call.ready", "user": event["user"], "name": event["name"]}
            )

    async def call_signal(self, event: dict[str, Any]) -> None:
        if event.get("room") == self.room.pk:
            await self.send_json({**event, "type": "call.signal"})

    async def call_media(self, event: dict[str, Any]) -> None:
        if event["user"] != self.user.pk:
            await self.send_json({**event, "type": "call.media"})
