"""WebSocket routes. The room stream (/ws/rooms/<id>/) arrives with the messaging rooms."""

from __future__ import annotations

from typing import Any

websocket_urlpatterns: list[Any] = []
