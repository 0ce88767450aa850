"""WebSocket routes."""

from __future__ import annotations

from django.urls import re_path

from confide.live.consumers import RoomConsumer

websocket_urlpatterns = [
    re_path(r"^ws/rooms/(?P<room_id>[1-9][0-9]{0,17})/$", RoomConsumer.as_asgi()),
]
