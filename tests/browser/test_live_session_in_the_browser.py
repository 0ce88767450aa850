"""A live session in Debian's Chromium: start, waiting room, admit, chat with typing shown, end;
then the transcript is in the room's log. And a message written while the connection is down
goes out when it returns."""

from __future__ import annotations

import concurrent.futures
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.live.models import LiveSession
from confide.rooms import events
from confide.rooms.models import Message, Room
from confide.rooms.payloads import message_text
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas
from tests.rooms.conftest import send

pytestmark = pytest.mark.browser


def test_a_therapist_and_client_hold_a_live_session(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    room_url = f"{live_app}/rooms/{room.pk}/"

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(room_url)
    expect(therapist.locator("#room")).to_have_attribute("data-live", "on")

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    client.goto(room_url)
    expect(client.locator("#room")).to_have_attribute("data-live", "on")
    expect(therapist.locator("#presence")).to_contain_text("Cam Client is here")

    therapist.get_by_label("Length").select_option("45")
    therapist.get_by_role("button", name="Start live chat").click()
    # The client's page was not reloaded: the prompt arrives over the room's stream.
    client.get_by_role("button", name="Join the live session").click()
    expect(client.locator("#live-panel")).to_contain_text("Waiting for Robin Therapist")
    therapist.get_by_role("button", name="Admit Cam Client").click()
    expect(client.locator("#live-panel")).to_contain_text("In session")
    expect(client.locator("#live-panel")).to_contain_text("of 45 minutes")
    expect(client.locator("#live-elapsed")).to_have_text(re.compile(r"^\d+$"))
    expect(therapist.locator("#live-panel")).to_contain_text("In session")

    client.get_by_label("Your message").press_sequentially("It has been a hard week")
    expect(therapist.locator("#typing")).to_contain_text("Cam Client is typing")
    client.get_by_role("button", name="Send").click()
    expect(therapist.locator("#log")).to_contain_text("It has been a hard week")
    # Delivered, or already seen when the therapist shares read receipts: either way past "sent".
    expect(client.locator("#log .msg.mine .tick").last).to_have_text(re.compile(r"delivered|seen"))
    therapist.get_by_label("Your message").fill("Thank you. What was hardest?")
    therapist.get_by_role("button", name="Send").click()
    expect(client.locator("#log")).to_contain_text("What was hardest?")
    shot(client, "live-session-client-mobile")
    shot(therapist, "live-session-therapist")

    therapist.get_by_role("button", name="End the session for everyone").click()
    expect(client.locator("#log")).to_contain_text("Live chat ended by Robin Therapist")
    expect(client.locator("#live-panel")).not_to_contain_text("In session")

    session = LiveSession.objects.get(room=room)
    assert session.ended_at is not None and session.planned_minutes == 45
    transcript = [
        message_text(m)
        for m in Message.objects.filter(
            room=room, seq__gt=session.start_seq, seq__lt=session.end_seq, kind="text"
        ).order_by("seq")
    ]
    assert transcript == ["It has been a hard week", "Thank you. What was hardest?"]


def test_a_message_written_offline_is_sent_when_the_connection_returns(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    client = new_page("client")
    sign_in(client, live_app, people.client)
    client.goto(f"{live_app}/rooms/{room.pk}/")
    expect(client.locator("#room")).to_have_attribute("data-live", "on")
    # The connection drops: the page says so and keeps what is written.
    client.evaluate("window.confideRoom.socket().close(4000)")
    client.context.set_offline(True)
    expect(client.locator("#send-status")).to_contain_text("Reconnecting")
    client.get_by_label("Your message").fill("Written on the train")
    client.get_by_role("button", name="Send").click()
    expect(client.locator("#log .pending")).to_contain_text("Not sent yet")
    client.context.set_offline(False)
    expect(client.locator("#log .msg.mine")).to_contain_text("Written on the train")
    expect(client.locator("#log .pending")).to_have_count(0)
    assert Message.objects.filter(room=room, kind="text").count() == 1


def off_the_page_thread(work: Any) -> None:
    """Run `work` where no event loop runs (Playwright keeps one on the test's thread, and
    publishing to the channel layer needs a thread of its own)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(work).result(timeout=10)


def test_a_lost_event_is_filled_in_when_the_next_message_shows_the_gap(
    live_app: str, new_page: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    client = new_page("client")
    sign_in(client, live_app, people.client)
    client.goto(f"{live_app}/rooms/{room.pk}/")
    expect(client.locator("#room")).to_have_attribute("data-live", "on")
    # The channel layer loses the first reply (as when Redis restarts); the second arrives.
    with monkeypatch.context() as patch:
        patch.setattr(events, "get_channel_layer", lambda: None)
        off_the_page_thread(
            lambda: send(people.therapist, room, "The reply that was lost on the way")
        )
    off_the_page_thread(lambda: send(people.therapist, room, "And the one after it"))
    expect(client.locator("#log")).to_contain_text("And the one after it")
    expect(client.locator("#log")).to_contain_text("The reply that was lost on the way")
    texts = client.locator("#log li.msg-text .msg-body").all_inner_texts()
    assert texts[-2:] == ["The reply that was lost on the way", "And the one after it"]
