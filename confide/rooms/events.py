"""Publishing to the channel layer, always after commit. Group names are built from ids."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def room_group(room_id: int) -> str:
    return f"room.{room_id}"


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def publish_on_commit(group: str, event: dict[str, Any]) -> None:
    """Send `event` to `group` once the surrounding transaction commits (never before).

    The channel layer is lossy by design: a socket that misses an event catches up from the
    database by sequence number, so a failed publish loses nothing.
    """

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            async_to_sync(layer.group_send)(group, event)
        except Exception as error:  # Redis down or restarting: sockets catch up on resume
            logger.warning("publish to %s failed: %s", group.split(".")[0], type(error).__name__)

    transaction.on_commit(send)
