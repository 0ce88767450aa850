"""The TURN relay with Confide's production coturn configuration (deploy/coturn/turnserver.conf):
a relay-only call carries media through it with the credentials that `call.ice` hands out,
and coturn refuses expired, forged and altered credentials, and peers on private networks.

Each test runs its own `turnserver` on a free loopback port (tests/live/turn.py). The test
configuration differs from production in one respect that matters: it relays to 127.0.0.1,
because on one machine both peers' relayed addresses are on loopback; see `coturn_config`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aioice import stun
from aioice.turn import TurnClientUdpProtocol
from django.utils import timezone

from confide.accounts.services import token_create
from confide.live import services
from confide.live.models import LiveMode
from confide.live.turn import ice_servers, turn_credential
from confide.rooms.models import Room
from tests.live.turn import CallPeer, Coturn, coturn
from tests.personas import build_personas

SECRET = "confide-test-turn-secret"
UNAUTHORIZED, FORBIDDEN = 401, 403


@pytest.fixture
def turn() -> Iterator[Coturn]:
    with coturn(secret=SECRET) as server:
        yield server


@pytest.fixture
def production_turn() -> Iterator[Coturn]:
    """The production file as it is (only address, port and secret replaced)."""
    with coturn(secret=SECRET, allow_loopback_peers=False) as server:
        yield server


@contextlib.asynccontextmanager
async def turn_client(turn: Coturn, username: str, password: str) -> AsyncIterator[Any]:
    """aioice's TURN client with an allocation on `turn` (TransactionFailed when refused)."""
    loop = asyncio.get_running_loop()
    transport, client = await loop.create_datagram_endpoint(
        lambda: TurnClientUdpProtocol(
            turn.address,
            username=username,
            password=password,
            lifetime=600,
            channel_refresh_time=500,
        ),
        remote_addr=turn.address,
    )
    try:
        await asyncio.wait_for(client.connect(), 10)
        yield client
        await asyncio.wait_for(client.delete(), 10)  # frees the allocation, closes the socket
    finally:
        transport.close()


async def refused(turn: Coturn, username: str, password: str) -> int | None:
    """The error code coturn answers an Allocate with these credentials."""
    with pytest.raises(stun.TransactionFailed) as failure:
        async with turn_client(turn, username, password):
            pass
    return failure.value.response.error_code


async def permission_error(client: Any, host: str) -> int | None:
    """None when coturn lets the allocation send to `host`, else the error code."""
    request = stun.Message(
        message_method=stun.Method.CREATE_PERMISSION, message_class=stun.Class.REQUEST
    )
    request.attributes["XOR-PEER-ADDRESS"] = (host, 9)
    try:
        await asyncio.wait_for(client.request_with_retry(request), 10)
    except stun.TransactionFailed as failure:
        return failure.response.error_code
    return None


def test_a_relay_only_call_carries_media_through_coturn(
    live_app: str, turn: Coturn, settings: Any
) -> None:
    settings.STUN_URLS = []
    settings.TURN_URLS = [turn.url]
    settings.TURN_SECRET = SECRET
    people = build_personas()
    room = Room.objects.get(relationship=people.individual)
    services.live_start(actor=people.therapist, room=room, mode=LiveMode.VIDEO)
    services.live_join(actor=people.client, room=room)
    services.live_admit(actor=people.therapist, room=room, user_id=people.client.pk)
    therapist_token = token_create(user=people.therapist, name="relay test")[1]
    client_token = token_create(user=people.client, name="relay test")[1]

    async def call() -> None:
        # Relay only, as a browser does with iceTransportPolicy "relay": no host candidates.
        host = CallPeer(live_app, room.pk, therapist_token, relay_only=True)
        guest = CallPeer(live_app, room.pk, client_token, relay_only=True)
        try:
            await host.open()
            await guest.open()
            ice = await host.join_call()
            [server] = ice["ice_servers"]
            assert server["urls"] == [turn.url]
            assert server["username"].endswith(f":{people.therapist.pk}")
            assert ice["expires_at"] is not None
            # The guest sees the host's `call.ready` before it is in the call itself (so it
            # ignores it); once ready, the host offers to it, through Confide.
            await guest.wait_for(lambda e: e["type"] == "call.ready")
            await guest.join_call()

            await guest.wait_frames(host.me, video=10, audio=10, seconds=30)
            await host.wait_frames(guest.me, video=10, audio=10, seconds=30)
            assert host.selected_candidate_types(guest.me) == ("relay", "relay")
            assert guest.selected_candidate_types(host.me) == ("relay", "relay")
            for peer in (host, guest):
                assert peer.sent_candidates, "no candidates were trickled"
                assert all(" typ relay" in c for c in peer.sent_candidates), peer.sent_candidates
                assert all(f" {turn.port} " not in c for c in peer.sent_candidates)
                assert peer.errors == [] and peer.failures == []
            assert "offer" not in guest.sent_at and "answer" not in host.sent_at
        finally:
            await host.close()
            await guest.close()

    asyncio.run(asyncio.wait_for(call(), 90))


def test_coturn_refuses_expired_forged_and_altered_credentials(turn: Coturn) -> None:
    now = timezone.now()
    later = now + datetime.timedelta(hours=1)

    async def check() -> None:
        valid = turn_credential(user_id=5, expires=later, secret=SECRET)
        async with turn_client(turn, valid["username"], valid["credential"]) as client:
            host, port = client.relayed_address
            assert host == "127.0.0.1" and 49152 <= port <= 65535

        expired = turn_credential(
            user_id=5, expires=now - datetime.timedelta(minutes=1), secret=SECRET
        )
        assert await refused(turn, expired["username"], expired["credential"]) == UNAUTHORIZED

        forged = turn_credential(user_id=5, expires=later, secret="not-the-secret")
        assert await refused(turn, forged["username"], forged["credential"]) == UNAUTHORIZED

        # A credential cannot be stretched to a later expiry or passed to another person.
        stretched = f"{int(later.timestamp()) + 86400}:5"
        assert await refused(turn, stretched, valid["credential"]) == UNAUTHORIZED
        someone_else = f"{int(later.timestamp())}:6"
        assert await refused(turn, someone_else, valid["credential"]) == UNAUTHORIZED

    asyncio.run(asyncio.wait_for(check(), 60))


def test_the_credentials_confide_issues_open_an_allocation(turn: Coturn, settings: Any) -> None:
    settings.TURN_URLS = [turn.url]
    settings.TURN_SECRET = SECRET
    servers, expires = ice_servers(user_id=7, until=timezone.now())
    [issued] = servers
    assert expires is not None and expires > timezone.now()

    async def check() -> None:
        async with turn_client(turn, issued["username"], issued["credential"]) as client:
            assert client.relayed_address[0] == "127.0.0.1"

    asyncio.run(asyncio.wait_for(check(), 30))


def test_the_production_config_refuses_to_relay_to_private_addresses(
    production_turn: Coturn,
) -> None:
    credential = turn_credential(
        user_id=5, expires=timezone.now() + datetime.timedelta(hours=1), secret=SECRET
    )
    denied = ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "0.0.0.1"]

    async def check() -> None:
        async with turn_client(
            production_turn, credential["username"], credential["credential"]
        ) as client:
            for host in denied:
                assert await permission_error(client, host) == FORBIDDEN, host
            # A public address is allowed (a permission only: nothing is sent to it).
            assert await permission_error(client, "8.8.8.8") is None

    asyncio.run(asyncio.wait_for(check(), 60))


def test_the_test_config_relays_to_loopback_only_and_keeps_the_other_denials(
    turn: Coturn,
) -> None:
    credential = turn_credential(
        user_id=5, expires=timezone.now() + datetime.timedelta(hours=1), secret=SECRET
    )

    async def check() -> None:
        async with turn_client(turn, credential["username"], credential["credential"]) as client:
            assert await permission_error(client, "127.0.0.1") is None
            assert await permission_error(client, "127.0.0.2") == FORBIDDEN
            assert await permission_error(client, "10.1.2.3") == FORBIDDEN
            assert await permission_error(client, "192.168.1.1") == FORBIDDEN

    asyncio.run(asyncio.wait_for(check(), 60))
