"""Choosing email therapy in a room, in Debian's Chromium, on a phone-sized screen."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from confide.mail.models import DeliveryChoice
from confide.rooms.models import Delivery, Room, RoomMember
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser


def test_a_client_chooses_email_therapy_after_reading_what_it_means(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual)
    page = new_page("client", mobile=True)
    sign_in(page, live_app, people.client)
    page.goto(f"{live_app}/rooms/{room.pk}/")

    page.get_by_text("Email for this room:").click()
    expect(page.get_by_text("What email does and does not protect.", exact=True)).to_be_visible()
    page.get_by_label("Email therapy").check()
    page.get_by_role("button", name="Save").click()
    # Without the acknowledgement nothing changes, and the page says what is missing.
    expect(page.get_by_text("tick the box")).to_be_visible()
    assert RoomMember.objects.get(room=room, user=people.client).delivery == Delivery.NOTIFY

    page.get_by_text("Email for this room:").click()
    page.get_by_label("Email therapy").check()
    page.get_by_label("I have read this and understand").check()
    shot(page, "email-delivery-choice-mobile")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("will now arrive by email")).to_be_visible()
    expect(page.locator("#delivery summary")).to_contain_text("Email therapy")
    assert RoomMember.objects.get(room=room, user=people.client).delivery == Delivery.EMAIL
    assert DeliveryChoice.objects.filter(user=people.client, delivery="email").count() == 1
