"""Call signaling rules on the room stream: ICE servers only for participants, offers and
candidates only between participants of the same call, and nothing else passes."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from confide.live import services
from confide.live.models import LiveMode
from confide.live.turn import MARGIN, turn_credential
from confide.rooms.models import Room, RoomKind
from tests.live.stream import connect, next_event
from tests.personas import Personas, build_personas, sign_in


def test_turn_credentials_follow_the_turn_rest_scheme() -> None:
    expires = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
    issued = turn_credential(user_id=7, expires=expires, secret="s3cret")
    assert issued["username"] == f"{int(expires.timestamp())}:7"
    expected = hmac.new(b"s3cret", issued["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(issued["credential"]) == expected


@pytest.fixture
def world(transactional_db: None) -> tuple[Personas, Room]:
    people = build_personas()
    return people, Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)


async def start_call(people: Personas, room: Room, *, admit: list[Any]) -> None:
    def run() -> None:
        services.live_start(actor=people.therapist, room=room, mode=LiveMode.VIDEO)
        for person in admit:
            services.live_join(actor=person, room=room)
            services.live_admit(actor=people.therapist, room=room, user_id=person.pk)

    await sync_to_async(run)()


async def test_ice_servers_go_only_to_participants_with_a_credential_for_the_call(
    world: Any,
) -> None:
    people, room = world
    settings.STUN_URLS = ["stun:turn.test.example:3478"]
    settings.TURN_URLS = ["turn:turn.test.example:3478?transport=udp"]
    settings.TURN_SECRET = "test-secret"
    try:
        await start_call(people, room, admit=[people.partner_a])
        await sync_to_async(services.live_join)(actor=people.partner_b, room=room)  # waiting
        inside, _, _ = await connect(people.partner_a, room.pk)
        waiting, _, _ = await connect(people.partner_b, room.pk)
        await next_event(inside, "hello")
        await next_event(waiting, "hello")
        await inside.send_json_to({"type": "call.ice"})
        ice = await next_event(inside, "call.ice")
        assert ice["policy"] == "all"
        stun, turn = ice["ice_servers"]
        assert stun == {"urls": ["stun:turn.test.example:3478"]}
        expiry = int(turn["username"].split(":")[0])
        assert turn["username"].endswith(f":{people.partner_a.pk}")
        planned_end = timezone.now() + datetime.timedelta(minutes=50)
        assert abs(expiry - (planned_end + MARGIN).timestamp()) < 60
        signed = hmac.new(b"test-secret", turn["username"].encode(), hashlib.sha1).digest()
        assert base64.b64decode(turn["credential"]) == signed
        await waiting.send_json_to({"type": "call.ice"})
        assert (await next_event(waiting, "error"))["code"] == "not_in_call"
        await inside.disconnect()
        await waiting.disconnect()
    finally:
        settings.STUN_URLS, settings.TURN_URLS, settings.TURN_SECRET = [], [], ""


async def test_signals_pass_only_between_participants_of_the_same_call(world: Any) -> None:
    people, room = world
    await start_call(people, room, admit=[people.partner_a])
    await sync_to_async(services.live_join)(actor=people.partner_b, room=room)  # still waiting
    therapist, _, _ = await connect(people.therapist, room.pk)
    partner_a, _, _ = await connect(people.partner_a, room.pk)
    partner_b, _, _ = await connect(people.partner_b, room.pk)
    for ws in (therapist, partner_a, partner_b):
        await next_event(ws, "hello")

    offer = {"type": "offer", "sdp": "v=0\r\n"}
    await therapist.send_json_to(
        {"type": "call.signal", "to": people.partner_a.pk, "description": offer}
    )
    got = await next_event(partner_a, "call.signal")
    assert got["from"] == people.therapist.pk and got["description"] == offer
    assert set(got) == {"type", "room", "from", "description"}
    candidate = {
        "candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
        "usernameFragment": "abcd",
        "extra": "dropped",
    }
    await partner_a.send_json_to(
        {"type": "call.signal", "to": people.therapist.pk, "candidate": candidate}
    )
    got = await next_event(therapist, "call.signal")
    assert "extra" not in got["candidate"] and got["candidate"]["sdpMLineIndex"] == 0
    # Connection ids travel with the signal, so a browser can tell a fresh connection's offer
    # from a late answer meant for one it has replaced.
    await therapist.send_json_to(
        {
            "type": "call.signal",
            "to": people.partner_a.pk,
            "description": offer,
            "pc": "c0ffee-1",
            "for": "beef_2",
        }
    )
    got = await next_event(partner_a, "call.signal")
    assert (got["pc"], got["for"]) == ("c0ffee-1", "beef_2")

    # A member of the room who is not in the call can neither send nor be sent to.
    await partner_b.send_json_to(
        {"type": "call.signal", "to": people.therapist.pk, "description": offer}
    )
    assert (await next_event(partner_b, "error"))["code"] == "not_in_call"
    await therapist.send_json_to(
        {"type": "call.signal", "to": people.partner_b.pk, "description": offer}
    )
    assert (await next_event(therapist, "error"))["code"] == "not_in_call"
    # Someone from another room, and a stranger's id, get nowhere.
    await therapist.send_json_to(
        {"type": "call.signal", "to": people.client.pk, "description": offer}
    )
    assert (await next_event(therapist, "error"))["code"] == "not_in_call"
    assert await partner_b.receive_nothing(timeout=0.2)

    for bad in (
        {"type": "call.signal", "to": people.partner_a.pk},
        {"type": "call.signal", "to": people.partner_a.pk, "description": {"type": "hello"}},
        {"type": "call.signal", "to": people.partner_a.pk, "description": offer, "candidate": None},
        {"type": "call.signal", "to": "everyone", "description": offer},
        {"type": "call.signal", "to": people.partner_a.pk, "candidate": {"candidate": "x" * 5000}},
        {"type": "call.signal", "to": people.therapist.pk, "description": offer},  # oneself
        {"type": "call.signal", "to": people.partner_a.pk, "description": offer, "pc": 7},
        {"type": "call.signal", "to": people.partner_a.pk, "description": offer, "pc": "a b"},
        {"type": "call.signal", "to": people.partner_a.pk, "description": offer, "for": "x" * 65},
    ):
        await therapist.send_json_to(bad)
        assert (await next_event(therapist, "error"))["code"] == "bad_signal", bad

    await partner_a.send_json_to(
        {"type": "call.media", "audio": False, "video": True, "voice_only": False}
    )
    media = await next_event(therapist, "call.media")
    assert media["user"] == people.partner_a.pk and media["audio"] is False
    await partner_a.send_json_to({"type": "call.media", "audio": "off"})
    assert (await next_event(partner_a, "error"))["code"] == "bad_media"
    await partner_a.send_json_to({"type": "call.ready"})
    ready = await next_event(therapist, "call.ready")
    assert ready["user"] == people.partner_a.pk
    for ws in (therapist, partner_a, partner_b):
        await ws.disconnect()


async def test_a_chat_session_is_not_a_call(world: Any) -> None:
    people, room = world
    await sync_to_async(services.live_start)(actor=people.therapist, room=room)
    therapist, _, _ = await connect(people.therapist, room.pk)
    await next_event(therapist, "hello")
    await therapist.send_json_to({"type": "call.ready"})
    assert (await next_event(therapist, "error"))["code"] == "not_in_call"
    await therapist.send_json_to({"type": "live.start", "mode": "hologram"})
    assert (await next_event(therapist, "error"))["code"] == "bad_mode"
    await therapist.disconnect()


async def test_hiding_ones_network_address_makes_calls_relay_only(world: Any) -> None:
    people, room = world

    def choose() -> int:
        browser = sign_in(Client(), people.partner_a)
        return browser.post(
            reverse("account"),
            {
                "form": "preferences",
                "email_notifications": "on",
                "hide_network_address": "on",
                "quiet_hours_start": "",
                "quiet_hours_end": "",
            },
        ).status_code

    assert await sync_to_async(choose)() == 302
    await start_call(people, room, admit=[people.partner_a])
    ws, _, _ = await connect(people.partner_a, room.pk)
    await next_event(ws, "hello")
    await ws.send_json_to({"type": "call.ice"})
    assert (await next_event(ws, "call.ice"))["policy"] == "relay"
    await ws.disconnect()
