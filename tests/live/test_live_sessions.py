"""Live sessions: start, waiting room, admit, leave, end; the transcript in the log and export;
who may do what over pages and the room stream."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.urls import reverse
from django.utils import timezone

from confide.audit.models import AuditEvent
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.live import services
from confide.live.models import LiveSession, ParticipantState
from confide.rooms.export import log_data
from confide.rooms.models import Message, MessageKind, Room, RoomKind
from confide.rooms.payloads import message_text
from tests.live.stream import collect, connect, next_event
from tests.personas import Personas, build_personas
from tests.rooms.conftest import send


def _couple_room(people: Personas) -> Room:
    return Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)


def _individual(people: Personas) -> Room:
    return Room.objects.get(relationship=people.individual)


@pytest.mark.django_db
def test_a_session_runs_from_start_through_the_waiting_room_to_its_end(people: Personas) -> None:
    room = _couple_room(people)
    start = timezone.now() - datetime.timedelta(minutes=46)
    session = services.live_start(actor=people.therapist, room=room, minutes=45, now=start)
    assert session.planned_minutes == 45 and session.start_seq == room_last_seq(room)
    started = Message.objects.get(room=room, seq=session.start_seq)
    assert started.kind == MessageKind.EVENT and started.sender is None
    assert "Live chat started by Robin Therapist (planned: 45 minutes)" in message_text(started)

    services.live_join(actor=people.partner_a, room=room)
    services.live_join(actor=people.partner_b, room=room)
    states = dict(session.participants.values_list("user_id", "state"))
    assert states[people.partner_a.pk] == ParticipantState.WAITING
    services.live_admit(actor=people.therapist, room=room, user_id=people.partner_a.pk)
    services.live_admit(actor=people.therapist, room=room, user_id=people.partner_b.pk)
    # In session, messages go through the one write path and are part of the transcript.
    send(people.partner_a, room, "We argued again on Sunday.")
    send(people.therapist, room, "What happened just before?")
    # Leaving and rejoining: an admitted partner does not wait again.
    services.live_leave(actor=people.partner_b, room=room)
    services.live_join(actor=people.partner_b, room=room)
    assert session.participants.get(user=people.partner_b).state == ParticipantState.ADMITTED
    ended = services.live_end(actor=people.therapist, room=room)
    assert ended.ended_at is not None and ended.end_seq == room_last_seq(room)
    closing = message_text(Message.objects.get(room=room, seq=ended.end_seq))
    assert "after 46 minutes" in closing
    assert "Robin Therapist, Avery Partner, Blake Partner" in closing
    transcript = Message.objects.filter(
        room=room, seq__gt=ended.start_seq, seq__lt=ended.end_seq, kind=MessageKind.TEXT
    )
    assert [message_text(m) for m in transcript] == [
        "We argued again on Sunday.",
        "What happened just before?",
    ]
    exported = log_data(room=room, reader=people.partner_a)["live_sessions"]
    assert exported == [
        {
            "id": ended.pk,
            "mode": "chat",
            "started_at": start.isoformat(),
            "ended_at": ended.ended_at.isoformat(),
            "planned_minutes": 45,
            "started_by": "Robin Therapist",
            "first_seq": ended.start_seq,
            "last_seq": ended.end_seq,
            "participants": ["Robin Therapist", "Avery Partner", "Blake Partner"],
        }
    ]
    actions = set(
        AuditEvent.objects.filter(object_type="room", object_id=room.pk).values_list(
            "action", flat=True
        )
    )
    assert {"live.start", "live.join", "live.admit", "live.leave", "live.end"} <= actions
    # After the end, nothing is open: a new session can start.
    assert services.live_start(actor=people.therapist, room=room).planned_minutes == 50


def room_last_seq(room: Room) -> int:
    return Room.objects.get(pk=room.pk).last_seq


@pytest.mark.django_db
def test_only_the_therapist_starts_admits_and_ends(people: Personas) -> None:
    room = _individual(people)
    with pytest.raises(PermissionDenied):
        services.live_start(actor=people.client, room=room)
    with pytest.raises(InvalidInput):
        services.live_start(actor=people.therapist, room=room, minutes=90)
    with pytest.raises(NotFound):
        services.live_join(actor=people.client, room=room)  # nothing running yet
    services.live_start(actor=people.therapist, room=room)
    with pytest.raises(Conflict):
        services.live_start(actor=people.therapist, room=room)
    services.live_join(actor=people.client, room=room)
    with pytest.raises(PermissionDenied):
        services.live_admit(actor=people.client, room=room, user_id=people.client.pk)
    with pytest.raises(NotFound):
        services.live_admit(actor=people.therapist, room=room, user_id=people.outsider.pk)
    with pytest.raises(PermissionDenied):
        services.live_end(actor=people.client, room=room)
    for stranger in (people.colleague, people.outsider, people.partner_a, people.admin):
        with pytest.raises(NotFound):
            services.live_join(actor=stranger, room=room)
        with pytest.raises(NotFound):
            services.live_end(actor=stranger, room=room)
    assert LiveSession.objects.filter(room=room, ended_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_live_pages_answer_each_persona(people: Personas, as_user: Any) -> None:
    room = _individual(people)
    services.live_start(actor=people.therapist, room=room)
    members = {"therapist", "client"}
    for persona, user in people.all().items():
        browser = as_user(user)
        panel = browser.get(reverse("live_panel", args=[room.pk]))
        assert panel.status_code == (200 if persona in members else 404), persona
        join = browser.post(reverse("live_join", args=[room.pk]))
        assert join.status_code == (302 if persona in members else 404), persona
        end = browser.post(
            reverse("live_end", args=[room.pk]), headers={"X-Requested-With": "fetch"}
        )
        expected = {"client": 403, "therapist": 204}.get(persona, 404)
        if persona == "therapist":
            services.live_start(actor=people.therapist, room=room)
        assert end.status_code == expected, persona
    therapist = as_user(people.therapist)
    bad = therapist.post(
        reverse("live_start", args=[room.pk]),
        {"minutes": "abc"},
        headers={"X-Requested-With": "fetch"},
    )
    assert bad.status_code in (400, 422)
    page = therapist.get(reverse("room", args=[room.pk]))
    assert b"End the session for everyone" in page.content


@pytest.mark.django_db
def test_the_room_page_shows_the_join_prompt_waiting_room_and_timer(
    people: Personas, as_user: Any
) -> None:
    room = _individual(people)
    client = as_user(people.client)
    therapist = as_user(people.therapist)
    assert b"Start live chat" in therapist.get(reverse("room", args=[room.pk])).content
    assert b"Start live chat" not in client.get(reverse("room", args=[room.pk])).content
    services.live_start(actor=people.therapist, room=room, minutes=30)
    assert b"Join the live session" in client.get(reverse("room", args=[room.pk])).content
    client.post(reverse("live_join", args=[room.pk]))
    assert b"Waiting for Robin Therapist" in client.get(reverse("room", args=[room.pk])).content
    assert b"Admit Cam Client" in therapist.get(reverse("room", args=[room.pk])).content
    therapist.post(reverse("live_admit", args=[room.pk, people.client.pk]))
    page = client.get(reverse("room", args=[room.pk])).content.decode()
    assert 'data-state="admitted"' in page and "of 30 minutes" in page


# --- over the room stream ----------------------------------------------------------------------


@pytest.fixture
def world(transactional_db: None) -> Personas:
    return build_personas()


async def test_live_events_reach_everyone_in_the_room(world: Personas) -> None:
    people = world
    room = await sync_to_async(_individual)(people)
    therapist, _, _ = await connect(people.therapist, room.pk)
    client, _, _ = await connect(people.client, room.pk)
    await next_event(therapist, "hello")
    await next_event(client, "hello")

    await client.send_json_to({"type": "live.start"})
    refused = await next_event(client, "error")
    assert refused["code"] == "rejected"

    await therapist.send_json_to({"type": "live.start", "minutes": 45})
    for ws in (therapist, client):
        got = await collect(ws, "live", "message")
        assert got["live"]["session"]["planned_minutes"] == 45
        assert got["live"]["session"]["host"]["name"] == "Robin Therapist"
        assert got["message"]["message"]["kind"] == "event"

    await client.send_json_to({"type": "live.join"})
    waiting = await next_event(therapist, "live")
    people_in = {p["id"]: p["state"] for p in waiting["session"]["participants"]}
    assert people_in == {people.therapist.pk: "admitted", people.client.pk: "waiting"}
    await next_event(client, "live")

    await therapist.send_json_to({"type": "live.admit", "user": people.client.pk})
    admitted = await next_event(client, "live")
    assert {p["id"]: p["state"] for p in admitted["session"]["participants"]}[
        people.client.pk
    ] == "admitted"
    await next_event(therapist, "live")

    await therapist.send_json_to({"type": "live.admit", "user": "everyone"})
    assert (await next_event(therapist, "error"))["code"] == "bad_user"

    await therapist.send_json_to({"type": "live.end"})
    for ws in (therapist, client):
        got = await collect(ws, "live", "message")
        assert got["message"]["message"]["kind"] == "event"
        assert got["live"]["session"] is None
    await therapist.disconnect()
    await client.disconnect()


async def test_typing_presence_and_ticks(world: Personas) -> None:
    people = world
    room = await sync_to_async(_individual)(people)
    therapist, _, _ = await connect(people.therapist, room.pk)
    await next_event(therapist, "hello")
    client, _, _ = await connect(people.client, room.pk)
    hello = await next_event(client, "hello")
    assert {p["user"]: p["state"] for p in hello["presence"]} == {
        people.therapist.pk: "here",
        people.client.pk: "here",
    }
    # Read positions are shared only by people who allow read receipts (therapists by default).
    receipts = {r["user"]: r for r in hello["receipts"]}
    assert receipts[people.therapist.pk]["read"] == 0

    arrived = await next_event(therapist, "presence")
    assert arrived == {
        "type": "presence",
        "user": people.client.pk,
        "name": "Cam Client",
        "state": "here",
    }
    await client.send_json_to({"type": "typing"})
    typing = await next_event(therapist, "typing")
    assert typing["user"] == people.client.pk and typing["name"] == "Cam Client"
    await client.send_json_to({"type": "typing"})  # within 2 s: not forwarded again
    assert await therapist.receive_nothing(timeout=0.3)

    await client.send_json_to({"type": "presence", "state": "away"})
    assert (await next_event(therapist, "presence"))["state"] == "away"
    await client.send_json_to({"type": "presence", "state": "asleep"})
    assert (await next_event(client, "error"))["code"] == "bad_state"

    await therapist.send_json_to(
        {"type": "send", "body": "Here when you are.", "client_id": str(uuid.uuid4())}
    )
    seq = (await collect(therapist, "ack", "message"))["ack"]["seq"]
    await next_event(client, "message")
    await client.send_json_to({"type": "delivered", "seq": seq})
    tick = await next_event(therapist, "delivered")
    assert tick == {"type": "delivered", "user": people.client.pk, "seq": seq}
    # The client does not share read receipts: reading sends no `read` event; and a delivery
    # mark is clamped to the room's last message, so this one changes nothing.
    await client.send_json_to({"type": "read", "seq": seq})
    await client.send_json_to({"type": "delivered", "seq": 10_000})
    assert await therapist.receive_nothing(timeout=0.3)
    member = await sync_to_async(lambda: room.members.get(user=people.client))()
    assert member.delivered_seq == seq and member.last_read_seq == seq

    await client.disconnect()
    gone = await next_event(therapist, "presence")
    assert gone["user"] == people.client.pk and gone["state"] == "gone"
    await therapist.disconnect()


@pytest.mark.django_db
def test_the_practice_sets_the_planned_length_and_clients_see_a_running_session_at_home(
    people: Personas, as_user: Any
) -> None:
    admin = as_user(people.admin)
    form = {"name": "Test Practice", "reply_window_business_days": 2, "escalation_grace_hours": 24}
    assert (
        admin.post(reverse("practice_update"), {**form, "live_session_minutes": 90}).status_code
        == 400
    )
    assert (
        admin.post(reverse("practice_update"), {**form, "live_session_minutes": 30}).status_code
        == 302
    )
    room = _individual(people)
    assert services.live_start(actor=people.therapist, room=room).planned_minutes == 30
    home = as_user(people.client).get(reverse("home")).content.decode()
    assert "Robin Therapist has started a live session" in home
    assert reverse("room", args=[room.pk]) in home
    # Someone outside the room sees nothing of it.
    assert "live session" not in as_user(people.partner_a).get(reverse("home")).content.decode()


@pytest.mark.django_db
def test_only_the_therapist_changes_a_running_session_into_a_call(people: Personas) -> None:
    room = _individual(people)
    with pytest.raises(NotFound):
        services.live_mode_change(actor=people.therapist, room=room, mode="video")
    services.live_start(actor=people.therapist, room=room)
    with pytest.raises(PermissionDenied):
        services.live_mode_change(actor=people.client, room=room, mode="video")
    with pytest.raises(NotFound):
        services.live_mode_change(actor=people.outsider, room=room, mode="video")
    with pytest.raises(InvalidInput):
        services.live_mode_change(actor=people.therapist, room=room, mode="hologram")
    session = services.live_mode_change(actor=people.therapist, room=room, mode="voice")
    assert session.mode == "voice" and session.ended_at is None
    last = Message.objects.get(room=room, seq=room_last_seq(room))
    assert message_text(last) == "Robin Therapist turned the session into a voice call."
