"""The room stream's rules: token and cookie authentication, the origin allow-list, sockets that
close when the session or token ends or membership is gone, and the limits."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

from confide.accounts.models import PersonalAccessToken
from confide.accounts.services import token_create, token_revoke
from confide.asgi import application
from confide.audit.models import AuditEvent
from confide.live import presence
from confide.rooms.models import Presence, Room, RoomMember
from tests.live.stream import TIMEOUT, collect, connect, connect_token, next_event
from tests.personas import Personas, build_personas, sign_in


@pytest.fixture
def world(transactional_db: None) -> tuple[Personas, Room]:
    people = build_personas()
    return people, Room.objects.get(relationship=people.individual)


async def closed_with(ws: Any) -> int:
    while True:
        output = await ws.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            return int(output["code"])


async def test_a_token_opens_a_socket_and_a_bad_token_or_foreign_origin_does_not(
    world: Any,
) -> None:
    people, room = world
    _, raw = await sync_to_async(token_create)(user=people.therapist, name="desk app")
    ws, connected, _ = await connect_token(raw, room.pk)
    assert connected
    assert (await next_event(ws, "hello"))["me"] == people.therapist.pk
    await ws.disconnect()
    for token, origin in (
        ("cfd_not-a-real-token", None),
        (raw, b"https://evil.example"),
    ):
        ws, connected, code = await connect_token(token, room.pk, origin=origin)
        assert not connected and code == 4401
        await ws.disconnect()
    # A valid token is still refused for a room its owner is not a member of.
    _, outsider_token = await sync_to_async(token_create)(user=people.outsider, name="x")
    ws, connected, code = await connect_token(outsider_token, room.pk)
    assert not connected and code == 4404
    await ws.disconnect()


async def test_cookies_need_the_sites_own_origin_or_an_allowed_one(world: Any) -> None:
    people, room = world
    ws, connected, _ = await connect(people.client, room.pk, origin=b"https://app.example")
    assert not connected
    await ws.disconnect()
    settings.WEBSOCKET_ALLOWED_ORIGINS = ["https://app.example"]
    try:
        ws, connected, _ = await connect(people.client, room.pk, origin=b"https://app.example")
        assert connected
        await ws.disconnect()
    finally:
        settings.WEBSOCKET_ALLOWED_ORIGINS = []


async def test_signing_out_closes_the_sessions_sockets(world: Any) -> None:
    people, room = world
    browser = await sync_to_async(lambda: sign_in(Client(), people.client))()
    ws, _, _ = await connect(people.client, room.pk, client=browser)
    await next_event(ws, "hello")
    await sync_to_async(browser.logout)()
    assert await closed_with(ws) == 4401


async def test_an_idle_session_closes_its_socket_when_it_expires(world: Any) -> None:
    people, room = world

    def almost_idle() -> Client:
        browser = sign_in(Client(), people.client)
        session = browser.session
        now = time.time()
        session["confide_started"] = now - 60
        session["confide_seen"] = now - settings.IDLE_TIMEOUT_MINUTES * 60 + 0.5
        session.save()
        return browser

    browser = await sync_to_async(almost_idle)()
    ws, connected, _ = await connect(people.client, room.pk, client=browser)
    assert connected
    await next_event(ws, "hello")
    # The deadline passes 0.5 s after connecting; the socket checks a second later.
    assert await closed_with(ws) == 4401


async def test_revoking_the_token_closes_its_sockets(world: Any) -> None:
    people, room = world
    token, raw = await sync_to_async(token_create)(user=people.client, name="phone")
    ws, _, _ = await connect_token(raw, room.pk)
    await next_event(ws, "hello")
    await sync_to_async(token_revoke)(user=people.client, token_id=token.pk)
    assert await closed_with(ws) == 4401


async def test_membership_is_checked_on_events_and_by_the_heartbeat(world: Any) -> None:
    people, room = world
    therapist, _, _ = await connect(people.therapist, room.pk)
    client, _, _ = await connect(people.client, room.pk)
    await next_event(therapist, "hello")
    await next_event(client, "hello")
    # Membership ends without any event reaching the sockets (a lost channel-layer message).
    await sync_to_async(
        lambda: RoomMember.objects.filter(room=room).update(left_at=timezone.now())
    )()
    await client.send_json_to({"type": "typing"})
    assert await closed_with(client) == 4403
    await presence.keeper.beat()
    assert await closed_with(therapist) == 4403


async def test_too_many_connections_are_refused_with_4429(world: Any) -> None:
    people, room = world
    settings.LIVE_MAX_CONNECTIONS_PER_USER = 2
    try:
        # A row left by a process that died long ago does not count.
        await sync_to_async(Presence.objects.create)(
            user=people.client,
            room=room,
            channel_name="specific.dead!1",
            seen_at=timezone.now() - presence.STALE * 2,
        )
        browser = await sync_to_async(lambda: sign_in(Client(), people.client))()
        first, ok1, _ = await connect(people.client, room.pk, client=browser)
        second, ok2, _ = await connect(people.client, room.pk, client=browser)
        assert ok1 and ok2
        third, ok3, _ = await connect(people.client, room.pk, client=browser)
        assert ok3
        error = await next_event(third, "error")
        assert error["code"] == "too_many_connections"
        assert await closed_with(third) == 4429
        # Everyone else is still served.
        await next_event(first, "hello")
        await first.send_json_to({"type": "resume", "after": 0})
        assert (await next_event(first, "resumed"))["count"] == 0
        await first.disconnect()
        await second.disconnect()
    finally:
        settings.LIVE_MAX_CONNECTIONS_PER_USER = 20


async def test_messages_per_minute_are_limited_and_the_socket_stays_open(world: Any) -> None:
    people, room = world
    settings.LIVE_MESSAGES_PER_MINUTE = 3
    try:
        ws, _, _ = await connect(people.therapist, room.pk)
        await next_event(ws, "hello")
        for n in range(3):
            await ws.send_json_to(
                {"type": "send", "body": f"note {n}", "client_id": str(uuid.uuid4())}
            )
            await collect(ws, "ack", "message")
        refused_id = str(uuid.uuid4())
        await ws.send_json_to({"type": "send", "body": "one more", "client_id": refused_id})
        error = await next_event(ws, "error")
        assert error["code"] == "rate_limited" and error["client_id"] == refused_id
        assert 0 < error["retry_after"] <= 60
        count = await sync_to_async(lambda: Room.objects.get(pk=room.pk).last_seq)()
        assert count == 3
        await ws.send_json_to({"type": "resume", "after": 3})
        assert (await next_event(ws, "resumed"))["count"] == 0
        await ws.disconnect()
    finally:
        settings.LIVE_MESSAGES_PER_MINUTE = 60


async def test_a_flood_of_frames_is_answered_with_rate_limited(world: Any) -> None:
    people, room = world
    flooder, _, _ = await connect(people.client, room.pk)
    other, _, _ = await connect(people.therapist, room.pk)
    await next_event(flooder, "hello")
    await next_event(other, "hello")
    for _ in range(100):  # cheap frames: each is answered at once with unknown_type
        await flooder.send_json_to({"type": "poke"})
    answered = 0
    while True:
        event = await next_event(flooder, "error")
        if event["code"] == "rate_limited":
            break
        assert event["code"] == "unknown_type"
        answered += 1
    assert 40 <= answered < 100  # the burst was served, then frames were dropped
    # Everyone else is served as usual.
    await other.send_json_to({"type": "resume", "after": 0})
    assert (await next_event(other, "resumed"))["count"] == 0
    await flooder.disconnect()
    await other.disconnect()


async def test_an_oversized_frame_gets_too_large(world: Any) -> None:
    people, room = world
    ws, _, _ = await connect(people.client, room.pk)
    await next_event(ws, "hello")
    await ws.send_to(text_data="x" * (70 * 1024))
    assert (await next_event(ws, "error"))["code"] == "too_large"
    await ws.send_json_to({"type": "resume", "after": 0})
    assert (await next_event(ws, "resumed"))["count"] == 0
    await ws.disconnect()


async def test_the_heartbeat_closes_sockets_whose_sign_out_or_revocation_was_lost(
    world: Any,
) -> None:
    people, room = world
    browser = await sync_to_async(lambda: sign_in(Client(), people.client))()
    by_cookie, _, _ = await connect(people.client, room.pk, client=browser)
    token, raw = await sync_to_async(token_create)(user=people.therapist, name="desk")
    by_token, _, _ = await connect_token(raw, room.pk)
    await next_event(by_cookie, "hello")
    await next_event(by_token, "hello")
    # Both end without any event reaching the sockets (lost by the channel layer).
    key = browser.cookies["confide_session"].value
    await sync_to_async(lambda: Session.objects.filter(session_key=key).delete())()
    await sync_to_async(
        lambda: PersonalAccessToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    )()
    await presence.keeper.beat()
    assert await closed_with(by_cookie) == 4401
    assert await closed_with(by_token) == 4401


async def test_audit_rows_from_the_stream_carry_the_callers_address(world: Any) -> None:
    people, room = world
    settings.AXES_IPWARE_PROXY_COUNT = 1
    try:
        _, raw = await sync_to_async(token_create)(user=people.therapist, name="desk")
        ws = WebsocketCommunicator(
            application,
            f"/ws/rooms/{room.pk}/",
            headers=[
                (b"authorization", f"Bearer {raw}".encode()),
                (b"x-forwarded-for", b"203.0.113.9"),
            ],
        )
        assert (await ws.connect(timeout=TIMEOUT))[0]
        await next_event(ws, "hello")
        await ws.send_json_to({"type": "live.start"})
        await collect(ws, "live", "message")
        await ws.send_json_to({"type": "resume", "after": 1})
        await next_event(ws, "resumed")
        await ws.disconnect()
    finally:
        settings.AXES_IPWARE_PROXY_COUNT = 0
    rows = await sync_to_async(
        lambda: dict(
            AuditEvent.objects.filter(action__in=["live.start", "room.resume"]).values_list(
                "action", "ip"
            )
        )
    )()
    assert rows == {"live.start": "203.0.113.9", "room.resume": "203.0.113.9"}


async def test_an_unexpected_failure_is_answered_and_the_socket_stays_open(
    world: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people, room = world
    ws, _, _ = await connect(people.client, room.pk)
    await next_event(ws, "hello")

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("confide.live.services.room_mark_delivered", broken)
    await ws.send_json_to({"type": "delivered", "seq": 1})
    assert (await next_event(ws, "error"))["code"] == "server_error"
    await ws.send_json_to({"type": "resume", "after": 0})
    assert (await next_event(ws, "resumed"))["count"] == 0
    await ws.disconnect()


async def test_a_client_behind_on_consent_or_a_closed_account_cannot_connect(
    world: Any,
) -> None:
    from confide.accounts.models import ConsentDocument, User

    people, room = world
    _, client_token = await sync_to_async(token_create)(user=people.client, name="phone")
    _, therapist_token = await sync_to_async(token_create)(user=people.therapist, name="desk")
    ws, connected, _ = await connect_token(client_token, room.pk)
    assert connected
    await ws.disconnect()
    # A newer consent version: the client must accept it first; the therapist is not asked.
    await sync_to_async(ConsentDocument.objects.create)(version=99, title="v99", body="...")
    ws, connected, code = await connect_token(client_token, room.pk)
    assert not connected and code == 4404
    await ws.disconnect()
    ws, connected, _ = await connect_token(therapist_token, room.pk)
    assert connected
    await ws.disconnect()
    # A closed account is refused before any room is looked at.
    await sync_to_async(User.objects.filter(pk=people.therapist.pk).update)(is_active=False)
    ws, connected, code = await connect_token(therapist_token, room.pk)
    assert not connected and code == 4401
    await ws.disconnect()
