"""In Debian's Chromium: the therapist assigns a PHQ-9 from the room, the client fills it in on a
phone-sized screen from their home page, and the therapist sees the chart in the room."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.rooms.models import Room, RoomKind
from confide.support import measures
from tests.browser.conftest import browser, new_page
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser

# The Chromium fixtures of tests/browser, used here by name.
__all__ = ["browser", "new_page"]


def earlier_answers(people: Personas, room: Room) -> None:
    """Two PHQ-9s from last month, on a schedule since stopped: the chart has a history."""
    start = datetime.datetime.now(tz=datetime.UTC) - datetime.timedelta(days=40)
    schedule = measures.measure_schedule_assign(
        actor=people.therapist,
        room=room,
        respondent_id=people.client.pk,
        instrument="phq9",
        every_days=14,
        now=start,
    )
    for days, answers in ((1, [2, 2, 2, 2, 1, 2, 1, 1, 0]), (15, [2, 1, 2, 1, 1, 1, 1, 0, 0])):
        measures.measure_complete(
            actor=people.client,
            room=room,
            schedule_id=schedule.pk,
            answers=answers,
            now=start + datetime.timedelta(days=days),
        )
    measures.measure_schedule_stop(
        actor=people.therapist,
        room=room,
        schedule_id=schedule.pk,
        now=start + datetime.timedelta(days=20),
    )


def test_the_therapist_assigns_a_phq9_the_client_answers_and_the_chart_shows_it(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)
    earlier_answers(people, room)

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(f"{live_app}/rooms/{room.pk}/")
    panel = therapist.locator("#measures")
    expect(panel.get_by_role("heading", name="Questionnaires")).to_be_visible()
    panel.get_by_text("Assign a questionnaire").click()
    panel.get_by_label("Questionnaire", exact=True).select_option("phq9")
    panel.get_by_label("Who fills it in").select_option(label="Cam Client")
    panel.get_by_label("How often").select_option("14")
    expect(panel.get_by_text("Who sees the answers: Only you and Cam Client")).to_be_visible()
    panel.get_by_role("button", name="Assign").click()
    expect(therapist.locator(".messages")).to_contain_text("PHQ-9 assigned to Cam Client")
    expect(therapist.locator("#log")).to_contain_text("Cam Client was asked to fill in the PHQ-9")

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    due = client.get_by_role("region", name="Questionnaires to fill in")
    expect(due).to_be_visible()
    shot(client, "measures-due-client-mobile")
    due.get_by_role("link", name="PHQ-9 (mood)").click()
    expect(client.get_by_role("heading", name="PHQ-9 (mood)")).to_be_visible()
    expect(client.locator("main")).to_contain_text("Over the last 2 weeks")
    expect(client.locator("main")).to_contain_text("Not for emergencies")
    answers = ["Several days", "More than half the days", "Several days", "Nearly every day"]
    answers += ["Not at all", "Several days", "Several days", "Not at all", "Not at all"]
    for number, answer in enumerate(answers, start=1):
        group = client.get_by_role("group", name=re.compile(rf"^{number}\. "))
        group.get_by_label(answer, exact=True).check()
    shot(client, "measures-questionnaire-client-mobile")
    client.get_by_role("button", name="Send my answers").click()
    expect(client.get_by_role("heading", name="Total: 9 of 27 · Mild")).to_be_visible()
    expect(client.locator("#crisis-now")).to_have_count(0)
    shot(client, "measures-result-client-mobile")

    therapist.goto(f"{live_app}/rooms/{room.pk}/")
    chart = therapist.locator("#measures .chart svg")
    expect(chart).to_be_visible()
    expect(chart.locator("g.series circle")).to_have_count(3)
    expect(panel).to_contain_text("latest 9 of 27, mild")
    expect(therapist.locator("#log")).to_contain_text("Cam Client completed a PHQ-9.")
    panel.get_by_text("All scores as a table").click()
    expect(panel.get_by_role("table")).to_contain_text("Mild")
    panel.scroll_into_view_if_needed()
    shot(therapist, "measures-room-therapist")

    # The same page on a phone (a second sign-in would reuse the one-time code).
    therapist.set_viewport_size({"width": 390, "height": 844})
    therapist.reload()
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] <= 390  # fits the phone's width
    shot(therapist, "measures-room-therapist-mobile")
