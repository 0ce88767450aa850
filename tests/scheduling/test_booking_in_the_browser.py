"""In Debian's Chromium: a client books in two clicks (a slot, then "Confirm booking") on a
phone-sized screen, and the therapist sees the session on their schedule."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.scheduling import availability
from confide.scheduling.models import Booking
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser


def test_a_client_books_in_two_clicks_and_the_therapist_sees_it(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    # Open every day, so the test does not depend on the day it runs.
    availability.weekly_hours_set(
        actor=people.therapist,
        hours=[(d, datetime.time(0), datetime.time(23, 30)) for d in range(7)],
    )
    availability.session_type_save(
        actor=people.therapist,
        mode="video",
        minutes=50,
        buffer_minutes=10,
        min_notice_hours=2,
        horizon_days=30,
    )

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    # From the navigation, on every page.
    book = client.get_by_role("navigation", name="Main").get_by_role("link", name="Book a session")
    expect(book).to_be_visible()
    book.click()
    expect(client.get_by_role("heading", name="Book a session")).to_be_visible()
    expect(client.locator("main")).to_contain_text("Europe/London")
    shot(client, "booking-slots-client-mobile")
    first = client.locator("a.slot").first
    chosen = first.get_attribute("aria-label")
    first.click()  # the first click: a slot
    expect(client.get_by_role("heading", name="Confirm your session")).to_be_visible()
    shot(client, "booking-confirm-client-mobile")
    client.get_by_role("button", name="Confirm booking").click()  # the second: confirm
    expect(client.get_by_role("status")).to_contain_text("Your session is booked")
    shot(client, "booking-done-client-mobile")

    booking = Booking.objects.get()
    assert booking.booked_by == people.client and booking.status == "confirmed"
    day, time = str(chosen).rsplit(", ", 1)

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(live_app + "/schedule/")
    upcoming = therapist.locator("#upcoming-title + ul")
    expect(upcoming).to_contain_text("Cam Client")
    expect(upcoming).to_contain_text(re.compile(rf"{re.escape(day)}, {time}"))
    shot(therapist, "schedule-therapist")
    therapist.get_by_role("link", name="Hours, session types and booking rules").click()
    expect(therapist.get_by_role("heading", name="Booking set-up")).to_be_visible()
    expect(therapist.get_by_label("Monday")).to_have_value("00:00-23:30")
    shot(therapist, "schedule-setup-therapist")

    desk = new_page("client-desktop")
    sign_in(desk, live_app, people.client)
    desk.goto(live_app + "/book/")
    expect(desk.locator("a.slot").first).to_be_visible()
    shot(desk, "booking-slots-client")


def test_the_booked_session_is_joined_from_the_home_pages(live_app: str, new_page: Any) -> None:
    """Five minutes before a booked live chat: the therapist's Join starts it (30 minutes, as
    booked), the client's Join puts them in the waiting room, the therapist admits them."""
    from django.utils import timezone

    from confide.live.models import LiveSession
    from confide.scheduling import services

    people: Personas = build_personas()
    chat = availability.session_type_save(
        actor=people.therapist,
        mode="chat",
        minutes=30,
        buffer_minutes=0,
        min_notice_hours=0,
        horizon_days=30,
    )
    start = (timezone.now() + datetime.timedelta(minutes=5)).replace(second=0, microsecond=0)
    booking = services.booking_create(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        session_type_id=chat.pk,
        starts_at=start,
    )

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(live_app + "/caseload/")
    therapist.locator(".upcoming-sessions").get_by_role("button", name="Join").click()
    expect(therapist.locator("#live-panel")).to_contain_text("In session")
    expect(therapist.locator("#live-panel")).to_contain_text("of 30 minutes")

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    expect(client.locator(".upcoming-sessions")).to_contain_text("Live chat")
    client.locator(".upcoming-sessions").get_by_role("button", name="Join").click()
    expect(client.locator("#live-panel")).to_contain_text("Waiting for Robin Therapist")
    therapist.get_by_role("button", name="Admit Cam Client").click()
    expect(client.locator("#live-panel")).to_contain_text("In session")
    shot(client, "booked-session-joined-client-mobile")

    session = LiveSession.objects.get()
    booking.refresh_from_db()
    assert booking.live_session == session
    assert (session.mode, session.planned_minutes) == ("chat", 30)
