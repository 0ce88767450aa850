"""A failing channel layer never fails a write: the message is committed and acknowledged, and
readers catch up from the database."""

from __future__ import annotations

from typing import Any

import pytest

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
