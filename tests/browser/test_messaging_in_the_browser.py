"""Asynchronous messaging in Debian's Chromium: write, inbox order, reply live, export."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.rooms.models import Room, RoomKind
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser


def test_a_client_writes_the_therapist_replies_and_the_client_sees_it_live(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    client.get_by_role("link", name="Your room with Robin Therapist").click()
    expect(client.locator("#audience")).to_contain_text("Only you and Robin Therapist")
    expect(client.locator("#room")).to_have_attribute("data-live", "on")
    client.get_by_label("Your message").fill("I slept badly again.\n\n- woke at 3\n- **anxious**")
    client.get_by_role("button", name="Send").click()
    expect(client.locator("#log .msg.mine")).to_contain_text("I slept badly again.")
    expect(client.locator("#log strong", has_text="anxious")).to_be_visible()
    expect(client.locator("#body")).to_have_value("")
    shot(client, "room-client-mobile")

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    expect(therapist.get_by_role("heading", name="Inbox")).to_be_visible()
    first = therapist.locator("#inbox li").first
    expect(first).to_contain_text("Cam Client")
    expect(first).to_contain_text("Reply due")
    # The message, and an automatic notice when the test runs outside working hours.
    expect(first).to_contain_text(re.compile(r"\b[12] new"))
    shot(therapist, "inbox")
    first.get_by_role("link").click()
    expect(therapist.locator("#log")).to_contain_text("I slept badly again.")
    expect(therapist.locator("#room")).to_have_attribute("data-live", "on")
    therapist.get_by_label("Your message").fill("Thank you for telling me. Let's look at it.")
    therapist.get_by_role("button", name="Send").click()

    # The client's page was not reloaded: the reply arrives over the room's WebSocket.
    expect(client.locator("#log")).to_contain_text("Thank you for telling me.")
    room.refresh_from_db()
    assert room.reply_due_at is None

    with client.expect_download() as download_info:
        client.get_by_role("link", name="Download as PDF").click()
    download = download_info.value
    assert download.suggested_filename == f"confide-room-{room.pk}.pdf"
    path = download.path()
    assert path is not None and path.read_bytes()[:4] == b"%PDF"


def test_a_partner_cannot_reach_the_other_partners_private_room(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    private_b = Room.objects.get(
        relationship=people.couple, kind=RoomKind.PRIVATE, private_for=people.partner_b
    )
    partner = new_page("partner")
    sign_in(partner, live_app, people.partner_a)
    expect(partner.get_by_role("link", name="Couples room")).to_be_visible()
    expect(
        partner.get_by_role("link", name="Your private room with Robin Therapist")
    ).to_be_visible()
    response = partner.goto(f"{live_app}/rooms/{private_b.pk}/")
    assert response is not None and response.status == 404
    expect(partner.get_by_role("heading", name="Not found")).to_be_visible()
    partner.goto(f"{live_app}/")
    partner.get_by_role("link", name="Your private room with Robin Therapist").click()
    expect(partner.locator("#audience")).to_contain_text("Your partner can never read this room")
    shot(partner, "room-private-partner")


def test_a_voice_note_is_recorded_in_the_browser_and_played_back_inline(
    live_app: str, new_page: Any
) -> None:
    from confide.rooms.models import Attachment

    people: Personas = build_personas()
    client = new_page("voice")
    client.context.grant_permissions(["microphone"])
    sign_in(client, live_app, people.client)
    client.get_by_role("link", name="Your room with Robin Therapist").click()
    record = client.get_by_role("button", name="Record a voice note")
    expect(record).to_be_visible()
    record.click()
    expect(client.locator("#send-status")).to_have_text("Recording…")
    client.wait_for_timeout(1200)  # the length of the note being recorded, not a wait for an event
    client.get_by_role("button", name="Stop and send").click()
    expect(client.locator("#log .msg-voice audio")).to_have_count(1)
    attachment = Attachment.objects.get()
    assert attachment.category == "audio" and attachment.content_type == "audio/webm"
    assert attachment.message.kind == "voice" and (attachment.duration_ms or 0) >= 1000
    src = client.locator("#log .msg-voice audio").get_attribute("src")
    response = client.request.get(live_app + str(src))
    assert response.status == 200 and response.body()[:4] == b"\x1a\x45\xdf\xa3"
