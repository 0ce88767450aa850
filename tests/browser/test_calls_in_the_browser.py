"""Calls in Debian's Chromium with fake camera and microphone: each side decodes the others'
video and audio (from getStats), then mutes, switches to voice only, and leaves."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.accounts.models import User
from confide.live.models import LiveSession
from confide.rooms.models import Message, Room, RoomKind
from confide.rooms.payloads import message_text
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser

# Every connection of the page has decoded video frames and received audio packets.
RECEIVING = """async (expected) => {
  const stats = await window.confideCall.stats();
  return stats.length === expected &&
    stats.every(s => s.framesDecoded > 5 && s.audioPackets > 5);
}"""


def poll(page: Any, script: str, arg: Any = None, timeout: float = 30.0) -> None:
    """Evaluate `script` until it is true (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        if time.monotonic() >= deadline:
            state = page.evaluate("window.confideCall && window.confideCall.state()")
            notes = page.locator("#call-notes").text_content()
            raise AssertionError(f"timed out waiting for {script[:60]}: {state} {notes!r}")
        page.wait_for_timeout(250)


def receiving(page: Any, peers: int) -> None:
    poll(page, RECEIVING, peers)


def open_room(page: Any, base: str, user: Any, room: Room) -> None:
    sign_in(page, base, user)
    page.goto(f"{base}/rooms/{room.pk}/")
    expect(page.locator("#room")).to_have_attribute("data-live", "on")


def join(page: Any, therapist: Any, name: str) -> None:
    page.get_by_role("button", name="Check camera and microphone").click()
    page.get_by_role("button", name="Join the video call").click()
    expect(page.locator("#live-panel")).to_contain_text("Waiting for Robin Therapist")
    therapist.get_by_role("button", name=f"Admit {name}").click()
    expect(page.locator("#live-panel")).to_contain_text("In session")


def test_a_video_call_between_therapist_and_client(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    client = new_page("client")
    open_room(client, live_app, people.client, room)

    therapist.get_by_role("button", name="Start video call").click()
    expect(therapist.locator("#call")).to_be_visible()
    join(client, therapist, "Cam Client")
    receiving(therapist, 1)
    receiving(client, 1)
    expect(client.locator("#call-grade")).to_have_text("good", timeout=15_000)
    expect(client.locator("#call-delay")).to_contain_text("ms")
    shot(client, "call-client")

    # A network change: an ICE restart, and media keeps flowing in the same call.
    before = client.evaluate("async () => (await window.confideCall.stats())[0].framesDecoded")
    client.evaluate("window.confideCall.restart()")
    assert client.evaluate("window.confideCall.state()")["restarts"] == 1
    # The restart asks for fresh ICE servers (a new TURN credential) before restarting.
    poll(client, "() => window.confideCall.state().iceFetches === 2", timeout=10)
    poll(
        client,
        "async (n) => (await window.confideCall.stats())[0].framesDecoded > n + 30",
        before,
    )

    # A poor connection: voice only is offered after 3 poor samples, chosen after 5, and video
    # comes back after 10 good ones; both sides are told.
    offered, switched = client.evaluate(
        """() => {
          for (let i = 0; i < 3; i++) window.confideCall.judge("poor", 900);
          const offered = !document.getElementById("call-offer").hidden;
          for (let i = 0; i < 2; i++) window.confideCall.judge("poor", 900);
          return [offered, window.confideCall.state().voiceOnly];
        }"""
    )
    assert offered and switched
    expect(client.locator("#call-advice")).to_contain_text("about a second of delay")
    expect(therapist.locator("#call-notes")).to_contain_text("switched to voice only")
    poll(client, "() => window.confideCall.state().sending[0].video === false", timeout=10)
    client.evaluate(
        """() => { for (let i = 0; i < 10; i++) window.confideCall.judge("good", 40); }"""
    )
    expect(therapist.locator("#call-notes")).to_contain_text("Cam Client's video is back")
    poll(client, "() => window.confideCall.state().sending[0].video === true", timeout=10)

    client.get_by_role("button", name="Mute").click()
    expect(therapist.locator("#call-notes")).to_contain_text("Cam Client muted")
    poll(client, "() => window.confideCall.state().sending[0].audio === false", timeout=10)
    assert client.evaluate("window.confideCall.state()")["muted"] is True

    client.get_by_role("button", name="Voice only").click()
    poll(client, "() => window.confideCall.state().sending[0].video === false", timeout=10)
    assert client.evaluate("window.confideCall.state()")["voiceOnly"] is True
    client.get_by_role("button", name="Video on").click()
    # replaceTrack settles asynchronously.
    poll(client, "() => window.confideCall.state().sending[0].video === true", timeout=10)

    client.get_by_role("button", name="Leave").click()
    poll(therapist, "() => window.confideCall.state().peers.length === 0", timeout=10)
    assert client.evaluate("window.confideCall.state()")["joined"] is False
    therapist.get_by_role("button", name="End the session for everyone").click()
    expect(client.locator("#log")).to_contain_text("Video call ended by Robin Therapist")
    session = LiveSession.objects.get(room=room)
    assert session.end_seq is not None
    closing = message_text(Message.objects.get(room=room, seq=session.end_seq))
    assert "Taking part: Robin Therapist, Cam Client" in closing


def test_a_couples_call_with_three_people(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    partner_a = new_page("partner_a")
    open_room(partner_a, live_app, people.partner_a, room)
    partner_b = new_page("partner_b")
    open_room(partner_b, live_app, people.partner_b, room)

    therapist.get_by_role("button", name="Start video call").click()
    join(partner_a, therapist, "Avery Partner")
    join(partner_b, therapist, "Blake Partner")
    for page in (therapist, partner_a, partner_b):
        receiving(page, 2)
    shot(therapist, "call-couple-therapist")


@pytest.mark.parametrize("lost", ["answer", "offer"])
def test_a_lost_offer_or_answer_costs_seconds_not_the_call(
    live_app: str, new_page: Any, lost: str
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    client = new_page("client")
    open_room(client, live_app, people.client, room)
    therapist.get_by_role("button", name="Start video call").click()
    expect(therapist.locator("#call")).to_be_visible()
    # The therapist offers when the client is ready; the client answers. One of the two never
    # arrives, and the call connects anyway, on a fresh connection.
    (therapist if lost == "offer" else client).evaluate(f"window.confideCall.lose('{lost}', 1)")
    join(client, therapist, "Cam Client")
    receiving(client, 1)
    receiving(therapist, 1)
    retries = [
        page.evaluate("window.confideCall.state()")["retries"] for page in (therapist, client)
    ]
    assert sum(retries) >= 1, retries


def test_a_call_that_cannot_connect_points_both_sides_to_the_chat(
    live_app: str, new_page: Any, settings: Any
) -> None:
    settings.CALL_CONNECT_SECONDS = 3
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    # Relay only, and no relay configured: no route for media can exist.
    User.objects.filter(pk=people.client.pk).update(hide_network_address=True)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    client = new_page("client")
    open_room(client, live_app, people.client, room)
    therapist.get_by_role("button", name="Start video call").click()
    join(client, therapist, "Cam Client")
    # The ICE policy arrives with the ICE servers, just after admission.
    poll(client, "() => window.confideCall.state().policy === 'relay'", timeout=10)
    expect(client.locator("#call-notes")).to_contain_text("could not connect", timeout=20_000)
    expect(client.locator("#call-notes")).to_contain_text("live chat below")
    expect(therapist.locator("#call-notes")).to_contain_text("carry on in the live chat")
    # The chat in the same room still works.
    client.get_by_label("Your message").fill("Video will not work here, shall we write?")
    client.get_by_role("button", name="Send").click()
    expect(therapist.locator("#log")).to_contain_text("shall we write?")


def test_the_camera_switch_and_the_therapists_screen_share(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    client = new_page("client")
    open_room(client, live_app, people.client, room)
    therapist.get_by_role("button", name="Start video call").click()
    join(client, therapist, "Cam Client")
    receiving(therapist, 1)
    client.get_by_role("button", name="Turn camera off").click()
    camera = "() => window.confideCall.localVideoEnabled()"
    assert client.evaluate(camera) is False
    client.get_by_role("button", name="Turn camera on").click()
    assert client.evaluate(camera) is True
    # Only the therapist can share their screen; the others then receive it instead of the camera.
    expect(client.get_by_role("button", name="Share screen")).to_have_count(0)
    camera_label = therapist.evaluate("window.confideCall.state()")["sending"][0]["videoLabel"]
    therapist.get_by_role("button", name="Share screen").click()
    expect(therapist.get_by_role("button", name="Stop sharing")).to_be_visible()
    poll(
        therapist,
        "(c) => { const s = window.confideCall.state().sending[0];"
        " return s.videoLabel !== null && s.videoLabel !== c; }",
        camera_label,
        timeout=10,
    )
    assert therapist.evaluate("window.confideCall.state()")["sharing"] is True
    before = client.evaluate("async () => (await window.confideCall.stats())[0].framesDecoded")
    poll(
        client,
        "async (n) => (await window.confideCall.stats())[0].framesDecoded > n + 10",
        before,
    )
    therapist.get_by_role("button", name="Stop sharing").click()
    poll(
        therapist,
        "(c) => window.confideCall.state().sending[0].videoLabel === c",
        camera_label,
        timeout=10,
    )
    assert therapist.evaluate("window.confideCall.state()")["sharing"] is False


def test_a_live_chat_becomes_a_video_call_without_ending(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    client = new_page("client")
    open_room(client, live_app, people.client, room)
    therapist.get_by_role("button", name="Start live chat").click()
    client.get_by_role("button", name="Join the live session").click()
    therapist.get_by_role("button", name="Admit Cam Client").click()
    expect(client.locator("#live-panel")).to_contain_text("In session")
    expect(client.locator("#call")).to_be_hidden()
    therapist.get_by_role("button", name="Switch to a video call").click()
    expect(client.locator("#call")).to_be_visible()
    receiving(client, 1)
    receiving(therapist, 1)
    expect(client.locator("#log")).to_contain_text("turned the session into a video call")
    assert LiveSession.objects.get(room=room).ended_at is None
