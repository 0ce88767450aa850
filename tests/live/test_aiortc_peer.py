"""An independent WebRTC peer in calls with Chromium: aiortc, speaking Confide's documented call
signaling over a real WebSocket with a personal access token, in a video call with a browser
running call.js. Each side decodes the other's audio and video: the browser according to its
getStats and its <video>, the aiortc peer from its remote tracks. Both directions of the
negotiation are covered: the browser offering to the aiortc peer, and answering it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.accounts.services import token_create
from confide.live.models import LiveMode, LiveSession
from confide.rooms.models import Room
from tests.browser import conftest as browser_fixtures
from tests.browser.test_calls_in_the_browser import open_room, poll
from tests.live.turn import CallPeer, LoopThread, Remote
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser

# The browser fixtures live in tests/browser/conftest.py; these tests belong with the calls.
browser = browser_fixtures.browser
new_page = browser_fixtures.new_page

# The page decodes video from the aiortc peer and hears its tone (energy above silence).
RECEIVING_FROM_AIORTC = """async (user) => {
  const stats = await window.confideCall.stats();
  return stats.length === 1 && stats[0].user === user &&
    stats[0].framesDecoded > 10 && stats[0].audioPackets > 10 && stats[0].audioEnergy > 0;
}"""
# The tile shows the aiortc peer's 320x240 picture.
SHOWING = """(user) => {
  const video = document.querySelector('#peer-' + user + ' video');
  return !!video && video.videoWidth === 320 && video.videoHeight === 240;
}"""


@contextlib.contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    # tests/browser's failure hook only runs for the tests in that folder.
    try:
        yield
    except BaseException:
        browser_fixtures.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(browser_fixtures.ARTIFACTS / f"{name}-failure.png"))
        raise


def media_flows_both_ways(loop: LoopThread, peer: CallPeer, page: Any, browser_user: int) -> Remote:
    remote = loop.run(peer.wait_frames(browser_user, video=10, audio=10, seconds=30), timeout=35)
    poll(page, RECEIVING_FROM_AIORTC, peer.me, timeout=30)
    poll(page, SHOWING, peer.me, timeout=10)
    assert remote.pc.connectionState == "connected"
    assert remote.video_sizes and all(w > 0 and h > 0 for w, h in remote.video_sizes)
    assert page.evaluate("window.confideCall.state()")["peers"] == [peer.me]
    # call.js used every description and candidate the aiortc peer sent.
    expect(page.locator("#call-notes")).not_to_contain_text("could not be used")
    assert peer.errors == [] and peer.failures == []
    return remote


def test_chromium_offers_and_an_aiortc_client_answers(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    token = token_create(user=people.client, name="aiortc peer")[1]
    therapist = new_page("therapist")
    open_room(therapist, live_app, people.therapist, room)
    therapist.get_by_role("button", name="Start video call").click()
    expect(therapist.locator("#call-controls")).to_be_visible()

    with screenshot_on_failure(therapist, "aiortc-answers"), LoopThread() as loop:
        peer = CallPeer(live_app, room.pk, token)
        try:
            hello = loop.run(peer.open())
            assert hello["live"]["mode"] == "video"
            assert peer.me == people.client.pk
            loop.run(peer.ask_to_join())
            therapist.get_by_role("button", name="Admit Cam Client").click()
            loop.run(peer.wait_admitted())
            assert loop.run(peer.join_call())["policy"] == "all"

            # The browser was in the call first: it offers when the peer is ready, the aiortc
            # peer answers. Should the browser's own `call.ready` reach the peer first, the peer
            # offers instead, and call.js answers: it keeps a connection under negotiation
            # rather than starting another when the peer's `call.ready` arrives. Either way
            # exactly one offer meets one answer, in that order.
            remote = media_flows_both_ways(loop, peer, therapist, people.therapist.pk)
            if remote.role == "answerer":
                assert peer.sent_at["answer"] > peer.received_at["offer"]
            else:
                assert remote.role == "offerer"
                assert peer.received_at["answer"] > peer.sent_at["offer"]

            # Leaving over the protocol drops the browser's connection to the peer.
            loop.run(peer.send({"type": "live.leave"}))
            poll(therapist, "() => window.confideCall.state().peers.length === 0", timeout=10)
        finally:
            loop.run(peer.close())

    therapist.get_by_role("button", name="End the session for everyone").click()
    expect(therapist.locator("#log")).to_contain_text("Video call ended by Robin Therapist")
    session = LiveSession.objects.get(room=room)
    assert session.mode == LiveMode.VIDEO and session.ended_at is not None


def test_an_aiortc_therapist_offers_and_chromium_answers(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    token = token_create(user=people.therapist, name="aiortc peer")[1]
    client = new_page("client")
    open_room(client, live_app, people.client, room)

    with screenshot_on_failure(client, "aiortc-offers"), LoopThread() as loop:
        peer = CallPeer(live_app, room.pk, token)
        try:
            loop.run(peer.open())
            loop.run(peer.send({"type": "live.start", "mode": "video"}))
            loop.run(peer.wait_admitted())  # a therapist is in at once
            loop.run(peer.join_call())

            client.get_by_role("button", name="Check camera and microphone").click()
            client.get_by_role("button", name="Join the video call").click()
            expect(client.locator("#live-panel")).to_contain_text("Waiting for Robin Therapist")
            loop.run(
                peer.wait_for(
                    lambda e: (
                        e["type"] == "live"
                        and any(
                            p["id"] == people.client.pk and p["state"] == "waiting"
                            for p in (e["session"] or {}).get("participants", [])
                        )
                    )
                )
            )
            loop.run(peer.send({"type": "live.admit", "user": people.client.pk}))
            expect(client.locator("#live-panel")).to_contain_text("In session")

            # The browser's `call.ready` reaches the aiortc peer, which offers; call.js answers.
            remote = media_flows_both_ways(loop, peer, client, people.client.pk)
            assert remote.role == "offerer"
            assert peer.received_at["answer"] > peer.sent_at["offer"]

            loop.run(peer.send({"type": "live.end"}))
            expect(client.locator("#log")).to_contain_text("Video call ended by Robin Therapist")
            poll(client, "() => window.confideCall.state().joined === false", timeout=10)
        finally:
            loop.run(peer.close())
