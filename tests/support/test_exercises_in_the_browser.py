"""In Debian's Chromium: the therapist assigns a thought record from the room, the client saves a
draft on a phone-sized screen, reloads, finds it there, sends it, and the therapist comments.
Then the client keeps a journal entry and shares it into the room."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from confide.rooms.models import Room, RoomKind
from confide.support.models import Exercise, ExerciseResponse, JournalEntry
from tests.browser.conftest import browser, new_page
from tests.browser.test_personas_in_the_browser import shot, sign_in
from tests.personas import Personas, build_personas

pytestmark = pytest.mark.browser

# The Chromium fixtures of tests/browser, used here by name.
__all__ = ["browser", "new_page"]


def test_a_thought_record_is_assigned_drafted_sent_and_commented_on(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)
    room_url = f"{live_app}/rooms/{room.pk}/"

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(room_url)
    panel = therapist.locator("#exercises")
    expect(panel).to_contain_text("No open exercises.")
    panel.get_by_role("link", name="Assign an exercise").click()
    expect(therapist.get_by_role("heading", name="Assign an exercise")).to_be_visible()
    expect(therapist.locator("#assign-audience")).to_contain_text("Only you and Cam Client")
    therapist.get_by_role("radio", name=re.compile("^Thought record")).check()
    shot(therapist, "exercise-assign-therapist")
    therapist.get_by_role("button", name="Assign").click()
    expect(therapist.get_by_role("heading", name="Thought record")).to_be_visible()
    expect(therapist.get_by_role("status")).to_contain_text("The exercise is given")
    exercise = Exercise.objects.get()
    assert exercise.for_user == people.client

    client = new_page("client", mobile=True)
    sign_in(client, live_app, people.client)
    due = client.locator(".exercises-due")
    expect(due).to_contain_text("Thought record")
    shot(client, "exercise-home-client-mobile")
    due.get_by_role("link", name="Thought record").click()
    expect(client.locator("#exercise-audience")).to_contain_text(
        "Your draft is only visible to you until you send it."
    )
    client.get_by_label("What was happening?").fill("On the bus to work, running late.")
    client.get_by_label("What went through your mind?").fill("Everyone will be annoyed with me.")
    client.get_by_role("group", name="How strong was that feeling?").get_by_label("7").check()
    client.get_by_role("button", name="Save draft").click()
    expect(client.get_by_role("status")).to_contain_text("Draft saved")
    client.reload()
    expect(client.get_by_label("What was happening?")).to_have_value(
        "On the bus to work, running late."
    )
    expect(
        client.get_by_role("group", name="How strong was that feeling?").get_by_label("7")
    ).to_be_checked()
    expect(client.locator("#draft-note")).to_be_visible()
    shot(client, "exercise-draft-client-mobile")
    assert ExerciseResponse.objects.get().state == "draft"

    # The draft is the client's alone.
    therapist.reload()
    expect(therapist.locator("main")).not_to_contain_text("running late")
    expect(therapist.locator("main")).to_contain_text("Cam Client: draft")

    client.get_by_label("What did you feel?").fill("worried")
    client.get_by_label("A fuller, kinder way to see it").fill(
        "Being late happens; one message to say so is enough."
    )
    client.get_by_role("button", name="Send my answers").click()
    expect(client.get_by_role("status")).to_contain_text("Sent.")
    expect(client.get_by_role("heading", name="Your answers")).to_be_visible()
    expect(client.get_by_role("button", name="Send my answers")).to_have_count(0)
    shot(client, "exercise-sent-client-mobile")

    therapist.reload()
    answers = therapist.get_by_role("region", name="Answers from Cam Client")
    expect(answers).to_contain_text("Everyone will be annoyed with me.")
    expect(answers).to_contain_text("7 (on a scale of 0 to 10)")
    therapist.get_by_label("Add a comment").fill("Well spotted. What helped you notice it?")
    therapist.get_by_role("button", name="Add comment").click()
    expect(therapist.locator("#comments")).to_contain_text("Well spotted.")
    shot(therapist, "exercise-commented-therapist")

    client.reload()
    expect(client.locator("#comments")).to_contain_text("Robin Therapist")
    expect(client.locator("#comments")).to_contain_text("Well spotted.")
    client.goto(room_url)
    log = client.locator("#log")
    expect(log).to_contain_text("Robin Therapist assigned an exercise: Thought record")
    expect(log).to_contain_text("Cam Client submitted: Thought record")
    expect(client.locator("#exercises")).to_contain_text("You: submitted")
    shot(client, "exercise-room-client-mobile")

    desk = new_page("client-desktop")
    sign_in(desk, live_app, people.client)
    desk.goto(f"{live_app}/rooms/{room.pk}/exercises/{exercise.pk}/")
    expect(desk.get_by_role("heading", name="Your answers")).to_be_visible()
    shot(desk, "exercise-sent-client")
    # The same therapist on a phone-sized screen (a second sign-in would reuse the TOTP code).
    therapist.set_viewport_size({"width": 390, "height": 844})
    therapist.reload()
    expect(therapist.get_by_role("region", name="Answers from Cam Client")).to_be_visible()
    shot(therapist, "exercise-commented-therapist-mobile")


def test_a_journal_entry_is_written_and_shared_into_the_room(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(
        relationship=people.couple, kind=RoomKind.PRIVATE, private_for=people.partner_a
    )

    partner = new_page("partner-a", mobile=True)
    sign_in(partner, live_app, people.partner_a)
    partner.get_by_role("navigation", name="Main").get_by_role("link", name="Journal").click()
    expect(partner.get_by_role("heading", name="Your journal")).to_be_visible()
    partner.get_by_label("What's on your mind?").fill("Slept better. The evening walk helps.")
    partner.get_by_role("button", name="Save entry").click()
    expect(partner.get_by_role("status")).to_contain_text("Only you can read it.")
    shot(partner, "journal-client-mobile")
    partner.get_by_role("link", name=re.compile("^Share into a room")).click()
    expect(partner.get_by_role("heading", name="Share a journal entry")).to_be_visible()
    private = partner.get_by_role("radio", name=re.compile("Your private room"))
    expect(private).to_be_visible()
    expect(partner.locator("main")).to_contain_text("Your partner can never read this room.")
    private.check()
    shot(partner, "journal-share-client-mobile")
    partner.get_by_role("button", name="Share this entry").click()
    expect(partner.locator("#log")).to_contain_text("From my journal:")
    expect(partner.locator("#log")).to_contain_text("Slept better.")
    entry = JournalEntry.objects.get()
    assert entry.shared_room == room

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(f"{live_app}/rooms/{room.pk}/")
    expect(therapist.locator("#log")).to_contain_text("The evening walk helps.")
    response = therapist.goto(f"{live_app}/journal/{entry.pk}/")
    assert response is not None and response.status == 404


def test_a_therapist_builds_a_template_without_javascript_and_assigns_it(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    room = Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    therapist.goto(f"{live_app}/rooms/{room.pk}/exercises/assign/")
    therapist.get_by_role("link", name="Write a new template").click()
    expect(therapist.get_by_role("heading", name="Write an exercise template")).to_be_visible()
    therapist.get_by_label("Title").fill("Evening check-in")
    therapist.get_by_label("Instructions").fill("A minute before bed, each of you on your own.")
    therapist.get_by_label("Question or prompt").fill("How was today between you?")
    therapist.get_by_role("button", name="Add a question").click()
    second = therapist.get_by_role("group", name="Question 2")
    second.get_by_label("Question or prompt").fill("How connected do you feel?")
    second.get_by_label("Kind of answer").select_option("scale")
    second.get_by_text("Options for a scale").click()
    second.get_by_label("What the lowest number means").fill("Not at all")
    second.get_by_label("What the highest number means").fill("Very")
    second.get_by_label("An answer is required").check()
    second.get_by_role("button", name="Move up").click()
    first = therapist.get_by_role("group", name="Question 1")
    expect(first.get_by_label("Question or prompt")).to_have_value("How connected do you feel?")
    shot(therapist, "exercise-builder-therapist")
    therapist.get_by_role("button", name="Save template").click()

    expect(therapist.get_by_role("heading", name="Assign an exercise")).to_be_visible()
    chosen = therapist.get_by_role("radio", name=re.compile("^Evening check-in"))
    expect(chosen).to_be_checked()
    therapist.get_by_role("radio", name="Both partners, each on their own").check()
    therapist.get_by_role("button", name="Assign").click()
    expect(therapist.get_by_role("heading", name="Evening check-in")).to_be_visible()
    exercise = Exercise.objects.get()
    assert exercise.for_user is None
    assert [f["id"] for f in exercise.fields] == [
        "how_connected_do_you_feel",
        "how_was_today_between_you",
    ]

    partner = new_page("partner-b", mobile=True)
    sign_in(partner, live_app, people.partner_b)
    partner.goto(f"{live_app}/rooms/{room.pk}/")
    partner.locator("#exercises").get_by_role("link", name="Evening check-in").click()
    expect(partner.locator("#exercise-audience")).to_contain_text("Avery Partner")
    scale = partner.get_by_role("group", name=re.compile("How connected do you feel"))
    expect(scale).to_contain_text("0 = Not at all")
    shot(partner, "exercise-own-template-client-mobile")
