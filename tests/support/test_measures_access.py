"""Who may open which measures page: every URL against every persona. Outsiders (and anyone not
in the room) always get 404; a client never opens another client's questionnaire; a partner
never sees the other partner's private-room answers."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from confide.audit.models import AuditEvent
from confide.rooms.models import Room
from confide.support.instruments import CSI4, PHQ9
from confide.support.models import MeasureResponse, MeasureSchedule
from tests.personas import Personas
from tests.support.test_measures import (
    answers_for,
    assign,
    complete,
    couple_room,
    individual_room,
    private_room,
)

pytestmark = pytest.mark.django_db

EVERYONE = ("admin", "therapist", "colleague", "client", "partner_a", "partner_b", "outsider")


@dataclasses.dataclass
class World:
    individual: Room
    couple: Room
    private_a: Room
    solo: MeasureSchedule  # Cam's PHQ-9 in the individual room
    private: MeasureSchedule  # Avery's PHQ-9 in Avery's private room
    shared: MeasureSchedule  # Avery's CSI-4 in the couple's room
    solo_answer: MeasureResponse
    private_answer: MeasureResponse
    shared_answer: MeasureResponse


@pytest.fixture
def world(people: Personas) -> World:
    individual = individual_room(people)
    couple = couple_room(people)
    private_a = private_room(people, people.partner_a)
    solo = assign(people, individual, people.client)
    private = assign(people, private_a, people.partner_a)
    shared = assign(people, couple, people.partner_a, "csi4")
    return World(
        individual=individual,
        couple=couple,
        private_a=private_a,
        solo=solo,
        private=private,
        shared=shared,
        solo_answer=complete(individual, solo, people.client, answers_for(PHQ9, 7)),
        private_answer=complete(private_a, private, people.partner_a, answers_for(PHQ9, 16)),
        shared_answer=complete(couple, shared, people.partner_a, answers_for(CSI4, 11)),
    )


def expect(allowed: dict[str, int]) -> list[tuple[str, int]]:
    """Every persona with their expected status: 404 unless named."""
    return [(name, allowed.get(name, 404)) for name in EVERYONE]


def statuses(people: Personas, as_user: Any, method: str, url: str) -> dict[str, int]:
    seen = {}
    for name, user in people.all().items():
        browser = as_user(user)
        answer = browser.get(url) if method == "get" else browser.post(url, {})
        seen[name] = answer.status_code
    return seen


def test_the_questionnaire_page_is_for_its_respondent_only(
    people: Personas, as_user: Any, world: World
) -> None:
    cases = [
        (world.individual, world.solo, {"client": 200, "therapist": 403}),
        (world.private_a, world.private, {"partner_a": 200, "therapist": 403}),
        (world.couple, world.shared, {"partner_a": 200, "partner_b": 403, "therapist": 403}),
    ]
    for room, schedule, allowed in cases:
        url = f"/rooms/{room.pk}/measures/{schedule.pk}/"
        assert statuses(people, as_user, "get", url) == dict(expect(allowed)), url


def test_answering_someone_elses_questionnaire_is_refused(
    people: Personas, as_user: Any, world: World
) -> None:
    before = MeasureResponse.objects.count()
    form = {f"item{i}": "0" for i in range(1, 10)}
    url = f"/rooms/{world.couple.pk}/measures/{world.shared.pk}/"
    assert as_user(people.partner_b).post(url, form).status_code == 403
    url = f"/rooms/{world.private_a.pk}/measures/{world.private.pk}/"
    for name in ("partner_b", "client", "outsider", "colleague", "admin"):
        assert as_user(getattr(people, name)).post(url, form).status_code == 404
    assert as_user(people.therapist).post(url, form).status_code == 403
    assert MeasureResponse.objects.count() == before


def test_the_answers_are_seen_by_the_room_and_nobody_else(
    people: Personas, as_user: Any, world: World
) -> None:
    cases = [
        (world.individual, world.solo_answer, {"client": 200, "therapist": 200}),
        (world.private_a, world.private_answer, {"partner_a": 200, "therapist": 200}),
        (
            world.couple,
            world.shared_answer,
            {"partner_a": 200, "partner_b": 200, "therapist": 200},
        ),
    ]
    for room, response, allowed in cases:
        url = f"/rooms/{room.pk}/measures/answers/{response.pk}/"
        assert statuses(people, as_user, "get", url) == dict(expect(allowed)), url
        reads = AuditEvent.objects.filter(action="measure.read", object_id=str(response.pk))
        assert reads.count() == sum(1 for status in allowed.values() if status == 200)


def test_an_answer_is_only_found_through_its_own_room(
    people: Personas, as_user: Any, world: World
) -> None:
    # Avery's private PHQ-9 asked for through the couple's room, by either partner.
    url = f"/rooms/{world.couple.pk}/measures/answers/{world.private_answer.pk}/"
    for person in (people.partner_a, people.partner_b, people.therapist):
        assert as_user(person).get(url).status_code == 404
    url = f"/rooms/{world.individual.pk}/measures/{world.private.pk}/"
    assert as_user(people.client).get(url).status_code == 404


def test_assigning_and_stopping_is_for_the_therapist_of_the_room(
    people: Personas, as_user: Any, world: World
) -> None:
    url = f"/rooms/{world.individual.pk}/measures/assign/"
    assert statuses(people, as_user, "post", url) == dict(
        expect({"therapist": 400, "client": 403})  # the therapist's empty form is bad input
    )
    url = f"/rooms/{world.couple.pk}/measures/{world.shared.pk}/stop/"
    seen = statuses(people, as_user, "post", url)
    assert seen == dict(expect({"therapist": 302, "partner_a": 403, "partner_b": 403}))
    world.shared.refresh_from_db()
    assert world.shared.ended_at is not None


def test_malformed_ids_are_not_found(people: Personas, as_user: Any, world: World) -> None:
    browser = as_user(people.client)
    room = world.individual.pk
    for url in (
        f"/rooms/{room}/measures/0/",
        f"/rooms/{room}/measures/abc/",
        f"/rooms/{room}/measures/{'9' * 19}/",
        f"/rooms/{room}/measures/answers/-1/",
        f"/rooms/{room}/measures/answers/{'9' * 18}/",
        f"/rooms/{'9' * 18}/measures/{world.solo.pk}/",
        f"/rooms/{room}/measures/{world.solo.pk + 1000}/",
    ):
        assert browser.get(url).status_code == 404, url


def test_the_room_panel_follows_the_room(people: Personas, as_user: Any, world: World) -> None:
    # Avery's private PHQ-9 scored 16 ("Moderately severe"): only in Avery's private room.
    private_page = as_user(people.partner_a).get(f"/rooms/{world.private_a.pk}/").content.decode()
    assert "PHQ-9 (mood)" in private_page and "latest <strong>16</strong>" in private_page
    couple_b = as_user(people.partner_b).get(f"/rooms/{world.couple.pk}/").content.decode()
    assert "CSI-4 (relationship satisfaction)" in couple_b
    assert "PHQ-9 (mood) over time" not in couple_b and "<strong>16</strong>" not in couple_b
    assert f"/measures/answers/{world.private_answer.pk}/" not in couple_b
    # Blake's own pages never link to Avery's questionnaires.
    home_b = as_user(people.partner_b).get("/").content.decode()
    assert f"/measures/{world.private.pk}/" not in home_b
    assert f"/measures/{world.shared.pk}/" not in home_b


def test_the_home_page_lists_only_ones_own_due_questionnaires(
    people: Personas, as_user: Any, world: World
) -> None:
    # Completing moved them 14 days on; a new one is due now.
    due = assign(people, world.couple, people.partner_b, "phq9")
    home_b = as_user(people.partner_b).get("/").content.decode()
    assert "Questionnaires to fill in" in home_b
    assert f"/rooms/{world.couple.pk}/measures/{due.pk}/" in home_b
    home_a = as_user(people.partner_a).get("/").content.decode()
    assert "Questionnaires to fill in" not in home_a
    assert as_user(people.therapist).get("/").status_code == 200


def test_the_therapist_panel_offers_csi4_only_in_the_couples_room(
    people: Personas, as_user: Any, world: World
) -> None:
    therapist = as_user(people.therapist)
    couple = therapist.get(f"/rooms/{world.couple.pk}/").content.decode()
    individual = therapist.get(f"/rooms/{world.individual.pk}/").content.decode()
    assert '<option value="csi4">' in couple and '<option value="csi4">' not in individual
    assert "Who sees the answers: Everyone in this couples room can read this" in couple
    assert "Assign a questionnaire" in individual and "Stop" in individual
    # The client sees no assign form.
    client = as_user(people.client).get(f"/rooms/{world.individual.pk}/").content.decode()
    assert "Assign a questionnaire" not in client and "latest <strong>7</strong>" in client


def test_a_client_without_questionnaires_finds_a_line_where_the_link_points(
    people: Personas, as_user: Any
) -> None:
    room = Room.objects.get(relationship=people.individual)
    page = as_user(people.client).get(f"/rooms/{room.pk}/").content.decode()
    assert 'href="#measures"' in page and 'id="measures"' in page
    assert "No questionnaires for now." in page
    therapist = as_user(people.therapist).get(f"/rooms/{room.pk}/").content.decode()
    assert "No questionnaires for now." not in therapist
