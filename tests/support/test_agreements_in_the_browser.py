"""In Debian's Chromium: the therapist proposes a care agreement from the room, the client
accepts it in the room on a phone-sized screen, the panel shows "0 of 3 check-ins", the client
writes, and it shows "1 of 3". The therapist then writes a private note from the panel."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from confide.rooms.models import Room, RoomKind
from confide.support.models import AgreementState, CareAgreement, PrivateNote
from tests.browser.conftest import browser, new_page  # the Chromium fixtures
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser
__all__ = ["browser", "new_page"]


def test_a_care_agreement_is_proposed_accepted_and_kept_count_of(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)
    room_url = f"{live_app}/rooms/{room.pk}/"

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(room_url)
    panel = therapist.locator("#agreement")
    expect(panel).to_contain_text("No care agreement yet")
    panel.get_by_role("link", name="Propose a care agreement").click()
    expect(therapist.get_by_role("heading", name="Propose a care agreement")).to_be_visible()
    # The reply window starts at the practice's.
    expect(therapist.get_by_label("Reply window (business days)")).to_have_value("2")
    therapist.get_by_label("Check-ins a week").fill("3")
    therapist.get_by_label("Live sessions a month").fill("2")
    therapist.get_by_label("Two exercises a week").check()
    therapist.get_by_label("Goals").fill(
        "Write when a worry shows up, before it grows.\nOne long walk every weekend."
    )
    shot(therapist, "agreement-propose-therapist")
    therapist.get_by_role("button", name="Propose").click()
    expect(therapist.get_by_role("status")).to_contain_text("Version 1 is proposed")
    assert CareAgreement.objects.get().state == AgreementState.PROPOSED

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    client.goto(room_url)
    panel = client.locator("#agreement")
    expect(panel).to_contain_text("A change is waiting for you")
    expect(panel).to_contain_text("One long walk every weekend.")
    shot(client, "agreement-waiting-client-mobile")
    panel.get_by_role("button", name="Accept version 1").click()
    expect(client).to_have_url(room_url)
    expect(client.locator("#agreement-week")).to_contain_text("This week: 0 of 3 check-ins")
    expect(client.locator("#log")).to_contain_text("Cam Client agreed to the care agreement")
    shot(client, "agreement-accepted-client-mobile")

    client.get_by_label("Your message").fill("Checking in: a calmer day today.")
    client.get_by_role("button", name="Send").click()
    expect(client.locator("#log")).to_contain_text("Checking in: a calmer day today.")
    client.reload()
    expect(client.locator("#agreement-week")).to_contain_text("This week: 1 of 3 check-ins")
    shot(client, "agreement-one-check-in-client-mobile")

    desk = new_page("client-desktop")
    sign_in(desk, live_app, people.client)
    desk.goto(room_url)
    expect(desk.locator("#agreement-week")).to_contain_text("This week: 1 of 3 check-ins")
    expect(desk.locator("#agreement")).not_to_contain_text("Private notes")
    shot(desk, "agreement-client")

    therapist.goto(room_url)
    expect(therapist.locator("#agreement-week")).to_contain_text("This week: 1 of 3 check-ins")
    expect(therapist.locator("#agreement")).to_contain_text("agreed by Cam Client")
    shot(therapist, "agreement-therapist")

    # The private notes, from the staff-only link of the panel.
    therapist.locator("#agreement").get_by_role("link", name="Private notes").click()
    expect(therapist.get_by_role("heading", name="Private notes")).to_be_visible()
    therapist.get_by_role("link", name="Write a SOAP note").click()
    therapist.get_by_label("Subjective").fill("Feels calmer; sleep still short.")
    therapist.get_by_label("Plan").fill("Keep the worry time; review sleep next session.")
    therapist.get_by_role("button", name="Save the note").click()
    expect(therapist.get_by_role("status")).to_contain_text("The note is saved")
    expect(therapist.locator("main")).to_contain_text("Feels calmer; sleep still short.")
    shot(therapist, "private-note-therapist")
    therapist.get_by_role("link", name="All notes").click()
    expect(therapist.locator("main")).to_contain_text("Keep the worry time")
    shot(therapist, "private-notes-list-therapist")
    assert PrivateNote.objects.count() == 1
