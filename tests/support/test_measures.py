"""Questionnaires: published scoring at every band edge, strict validation of answers, the
assign / answer / stop services, and the PHQ-9 item 9 crisis path."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from confide import crypto
from confide.accounts.models import User
from confide.audit.models import AuditEvent
from confide.errors import Conflict, InvalidInput, PermissionDenied
from confide.rooms.models import CrisisFlag, Message, MessageKind, Room, RoomKind
from confide.rooms.payloads import message_text
from confide.support import measures
from confide.support.instruments import CSI4, GAD7, PHQ9, QUESTIONNAIRES, Questionnaire
from confide.support.models import MeasureResponse, MeasureSchedule
from tests.conftest import run_tasks
from tests.personas import Personas

pytestmark = pytest.mark.django_db


# --- helpers (the other measures tests import them) -----------------------------------------


def answers_for(q: Questionnaire, total: int, *, crisis: int = 0) -> list[int]:
    """Item scores adding up to `total`, the crisis item (PHQ-9 item 9) set to `crisis` and
    kept at that value: the other items are filled first."""
    values = [0] * len(q.items)
    order = [i for i in range(len(q.items)) if q.crisis_item is None or i != q.crisis_item - 1]
    if q.crisis_item is not None:
        values[q.crisis_item - 1] = crisis
    left = total - crisis
    for index in order:
        step = min(q.items[index].max_value, left)
        values[index] = step
        left -= step
    if left and q.crisis_item is not None:  # only reachable totals need item 9 itself
        index = q.crisis_item - 1
        step = min(q.items[index].max_value - values[index], left)
        values[index] += step
        left -= step
    assert left == 0, f"{total} is out of {q.name}'s range"
    return values


def individual_room(people: Personas) -> Room:
    return Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)


def couple_room(people: Personas) -> Room:
    return Room.objects.get(relationship=people.couple, kind=RoomKind.COUPLE)


def private_room(people: Personas, partner: User) -> Room:
    return Room.objects.get(relationship=people.couple, private_for=partner)


def assign(
    people: Personas, room: Room, respondent: User, instrument: str = "phq9", every: int = 14
) -> MeasureSchedule:
    return measures.measure_schedule_assign(
        actor=people.therapist,
        room=room,
        respondent_id=respondent.pk,
        instrument=instrument,
        every_days=every,
    )


def complete(
    room: Room, schedule: MeasureSchedule, respondent: User, values: list[int]
) -> MeasureResponse:
    return measures.measure_complete(
        actor=respondent, room=room, schedule_id=schedule.pk, answers=list(values)
    )


def events(room: Room) -> list[str]:
    return [
        message_text(m)
        for m in Message.objects.filter(room=room, kind=MessageKind.EVENT).order_by("seq")
    ]


# --- scoring ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_every_edge(total: int, band: str) -> None:
    result = PHQ9.score(answers_for(PHQ9, total, crisis=0 if total < 25 else 1))
    assert (result.score, result.band.key) == (total, band)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_at_every_edge(total: int, band: str) -> None:
    result = GAD7.score(answers_for(GAD7, total))
    assert (result.score, result.band.key, result.urgent) == (total, band, False)


@pytest.mark.parametrize(
    ("total", "band"),
    [(0, "dissatisfied"), (13, "dissatisfied"), (14, "satisfied"), (21, "satisfied")],
)
def test_csi4_reads_below_13_5_as_notable_dissatisfaction(total: int, band: str) -> None:
    result = CSI4.score(answers_for(CSI4, total))
    assert (result.score, result.band.key) == (total, band)


def test_the_instruments_have_their_published_shape() -> None:
    assert [(q.name, len(q.items), q.max_score) for q in QUESTIONNAIRES.values()] == [
        ("PHQ-9", 9, 27),
        ("GAD-7", 7, 21),
        ("CSI-4", 4, 21),
    ]
    assert [o.label for o in PHQ9.items[0].options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert "last 2 weeks" in PHQ9.stem and "last 2 weeks" in GAD7.stem
    assert PHQ9.items[8].text.startswith("Thoughts that you would be better off dead")
    assert CSI4.items[0].max_value == 6 and {i.max_value for i in CSI4.items[1:]} == {5}
    assert "Funk" in CSI4.source and "13.5" in CSI4.meaning
    # Every band key fits the model's column, and the bands tile the scale without gaps.
    for q in QUESTIONNAIRES.values():
        assert all(len(b.key) <= 24 for b in q.bands)
        assert [q.band_for(s).key for s in range(q.max_score + 1)] == [
            b.key for b in q.bands for _ in range(b.high - b.low + 1)
        ]
    with pytest.raises(ValueError):
        PHQ9.band_for(28)


def test_item_9_above_zero_is_urgent_whatever_the_total() -> None:
    assert PHQ9.score(answers_for(PHQ9, 1, crisis=1)).urgent
    assert not PHQ9.score(answers_for(PHQ9, 24, crisis=0)).urgent


# --- strict validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda a: a[:8], "item9"),  # a missing item
        (lambda a: [*a[:3], None, *a[4:]], "item4"),
        (lambda a: [4, *a[1:]], "item1"),  # above the range
        (lambda a: [-1, *a[1:]], "item1"),
        (lambda a: ["2", *a[1:]], "item1"),  # text, even if it reads as a number
        (lambda a: [True, *a[1:]], "item1"),  # a boolean is no answer
        (lambda a: [1.0, *a[1:]], "item1"),
        (lambda a: [*a, 0], "answers"),  # an extra item
        (lambda a: [], "item1"),
    ],
)
def test_answers_are_validated_strictly(change: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        PHQ9.score(change([1] * 9))
    assert field in caught.value.field_errors


def test_csi4_item_1_allows_6_and_the_others_stop_at_5() -> None:
    assert CSI4.score([6, 5, 5, 5]).score == 21
    with pytest.raises(InvalidInput) as caught:
        CSI4.score([6, 6, 5, 5])
    assert list(caught.value.field_errors) == ["item2"]


# --- services --------------------------------------------------------------------------------


def test_the_therapist_assigns_and_the_client_answers(people: Personas) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client, "gad7", every=7)
    assert schedule.ended_at is None and schedule.respondent == people.client
    assert events(room) == ["Cam Client was asked to fill in the GAD-7 every 7 days."]
    response = complete(room, schedule, people.client, [1, 2, 3, 0, 1, 2, 3])
    assert (response.score, response.band, response.urgent) == (12, "moderate", False)
    # The answers are sealed to this row: unreadable without its context, readable with it.
    assert b"[1, 2" not in bytes(response.answers)
    stored = crypto.decrypt_text(
        bytes(response.answers), context=measures.response_context(response.pk)
    )
    assert json.loads(stored) == [1, 2, 3, 0, 1, 2, 3]
    schedule.refresh_from_db()
    assert schedule.next_due_at == response.completed_at + datetime.timedelta(days=7)
    # The log says who completed what, never the score.
    assert events(room)[-1] == "Cam Client completed a GAD-7."
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"measure.assign", "measure.complete"} <= actions


def test_item_9_above_zero_flags_the_room_like_crisis_language(people: Personas) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    response = complete(room, schedule, people.client, answers_for(PHQ9, 6, crisis=1))
    assert response.urgent
    room.refresh_from_db()
    assert room.crisis_open
    [flag] = CrisisFlag.objects.filter(room=room)
    assert flag.rule == measures.CRISIS_RULE and flag.category == "suicide"
    assert flag.message.kind == MessageKind.EVENT and flag.message.crisis
    assert message_text(flag.message) == "Cam Client completed a PHQ-9."
    assert AuditEvent.objects.filter(action="crisis.flag", object_id=str(room.pk)).exists()
    run_tasks()
    [alert] = [m for m in mail.outbox if people.therapist.email in m.to]
    assert alert.subject.startswith("Urgent")
    assert "PHQ" not in alert.body and "Cam" not in alert.body


def test_a_high_total_with_item_9_at_zero_raises_no_flag(people: Personas) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    response = complete(room, schedule, people.client, answers_for(PHQ9, 24, crisis=0))
    assert (response.score, response.band, response.urgent) == (24, "severe", False)
    room.refresh_from_db()
    assert not room.crisis_open and not CrisisFlag.objects.exists()


def test_the_result_page_shows_the_crisis_lines_at_once(people: Personas, as_user: Any) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    browser: Client = as_user(people.client)
    posted = browser.post(
        f"/rooms/{room.pk}/measures/{schedule.pk}/",
        {f"item{i + 1}": str(v) for i, v in enumerate(answers_for(PHQ9, 3, crisis=2))},
    )
    assert posted.status_code == 302
    page = browser.get(posted["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="crisis-now"' in html and "Samaritans" in html and "116 123" in html
    assert 'href="tel:999"' in html
    # The therapist's view of the same answers says the room is flagged, without the alert box.
    staff = as_user(people.therapist).get(posted["Location"]).content.decode()
    assert 'id="crisis-now"' not in staff and "Item 9 was answered above zero" in staff
    room_page = as_user(people.therapist).get(f"/rooms/{room.pk}/").content.decode()
    assert "Possible crisis language" in room_page


def test_no_crisis_box_when_item_9_is_zero(people: Personas, as_user: Any) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    browser: Client = as_user(people.client)
    posted = browser.post(
        f"/rooms/{room.pk}/measures/{schedule.pk}/",
        {f"item{i + 1}": str(v) for i, v in enumerate(answers_for(PHQ9, 24))},
    )
    html = browser.get(posted["Location"]).content.decode()
    assert 'id="crisis-now"' not in html
    assert "Total: 24 of 27 · Severe" in html


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"item9": ""}, "item9"),
        ({"item1": "4"}, "item1"),
        ({"item1": "-1"}, "item1"),
        ({"item1": "two"}, "item1"),
        ({"item1": "2.0"}, "item1"),
        ({"item1": "\u0661"}, "item1"),  # an Arabic-Indic digit one
        ({"item1": "x" * 5000}, "item1"),
        ({"item10": "1"}, "answers"),
    ],
)
def test_bad_answers_from_the_form_are_a_400_that_keeps_the_rest(
    people: Personas, as_user: Any, form: dict[str, str], field: str
) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    data = {f"item{i}": "1" for i in range(1, 10)} | form
    page = as_user(people.client).post(f"/rooms/{room.pk}/measures/{schedule.pk}/", data)
    assert page.status_code == 400
    html = page.content.decode()
    assert 'role="alert"' in html
    if field != "answers":
        assert f'id="{field}-error"' in html
    else:
        assert "no more" in html
    assert 'name="item2" value="1" required checked' in html  # the other answers are kept
    assert not MeasureResponse.objects.exists()


def test_the_questionnaire_page_is_one_accessible_form(people: Personas, as_user: Any) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    html = as_user(people.client).get(f"/rooms/{room.pk}/measures/{schedule.pk}/").content
    text = html.decode()
    assert text.count("<fieldset") == 9 and text.count("<legend>") == 9
    assert text.count('type="radio"') == 36
    assert "Over the last 2 weeks" in text and "Not for emergencies" in text
    assert "Who sees the answers: Only you and Robin Therapist can read" in text
    assert "csrfmiddlewaretoken" in text and "style=" not in text


def test_csi4_only_in_a_couples_shared_room(people: Personas) -> None:
    for room, person in (
        (individual_room(people), people.client),
        (private_room(people, people.partner_a), people.partner_a),
    ):
        with pytest.raises(InvalidInput) as caught:
            assign(people, room, person, "csi4")
        assert "instrument" in caught.value.field_errors
    schedule = assign(people, couple_room(people), people.partner_b, "csi4")
    assert schedule.instrument == "csi4"


def test_assigning_checks_every_field(people: Personas) -> None:
    room = private_room(people, people.partner_a)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"respondent_id": people.partner_b.pk}, "respondent"),  # not in this room
        ({"respondent_id": people.therapist.pk}, "respondent"),  # not a client
        ({"respondent_id": None}, "respondent"),
        ({"every_days": 10}, "every_days"),
        ({"every_days": None}, "every_days"),
        ({"instrument": "beck"}, "instrument"),
    ]
    for change, field in cases:
        arguments: dict[str, Any] = {
            "respondent_id": people.partner_a.pk,
            "instrument": "phq9",
            "every_days": 14,
        } | change
        with pytest.raises(InvalidInput) as caught:
            measures.measure_schedule_assign(actor=people.therapist, room=room, **arguments)
        assert field in caught.value.field_errors
    with pytest.raises(PermissionDenied):
        measures.measure_schedule_assign(
            actor=people.partner_a,
            room=room,
            respondent_id=people.partner_a.pk,
            instrument="phq9",
            every_days=14,
        )
    assert not MeasureSchedule.objects.exists()


def test_one_running_schedule_per_client_and_instrument(people: Personas) -> None:
    assign(people, private_room(people, people.partner_a), people.partner_a)
    with pytest.raises(Conflict) as caught:
        assign(people, couple_room(people), people.partner_a)
    assert "another room" in caught.value.message
    assign(people, couple_room(people), people.partner_b)  # the other partner may have one


def test_a_stopped_questionnaire_can_be_assigned_again_but_not_answered(
    people: Personas,
) -> None:
    room = individual_room(people)
    schedule = assign(people, room, people.client)
    measures.measure_schedule_stop(actor=people.therapist, room=room, schedule_id=schedule.pk)
    assert events(room)[-1] == "The PHQ-9 for Cam Client was stopped."
    with pytest.raises(Conflict):
        measures.measure_schedule_stop(actor=people.therapist, room=room, schedule_id=schedule.pk)
    with pytest.raises(Conflict):
        complete(room, schedule, people.client, [0] * 9)
    again = assign(people, room, people.client, every=28)
    assert again.pk != schedule.pk


def test_bad_assign_forms_are_a_clear_4xx(people: Personas, as_user: Any) -> None:
    room = individual_room(people)
    therapist = as_user(people.therapist)
    url = f"/rooms/{room.pk}/measures/assign/"
    base = {"respondent": str(people.client.pk), "instrument": "phq9", "every_days": "14"}
    for change in (
        {"every_days": "fourteen"},
        {"every_days": "9" * 40},
        {"respondent": "-1"},
        {"respondent": ""},
        {"instrument": "x" * 500},
        {"instrument": "csi4"},
    ):
        answer = therapist.post(url, base | change)
        assert answer.status_code == 400, change
    assert therapist.post(url, base).status_code == 302
    assert therapist.post(url, base).status_code == 409
    assert therapist.get(url).status_code == 405


def test_a_couples_csi4_is_one_chart_with_a_series_per_partner(
    people: Personas, as_user: Any
) -> None:
    room = couple_room(people)
    for partner, total in ((people.partner_a, 12), (people.partner_b, 17)):
        schedule = assign(people, room, partner, "csi4")
        complete(room, schedule, partner, answers_for(CSI4, total))
    html = as_user(people.partner_b).get(f"/rooms/{room.pk}/").content.decode()
    assert html.count("<svg") == 1
    assert 'data-shape="circle"' in html and 'data-shape="square"' in html
    assert "Avery Partner: circles, solid line" in html
    assert "Blake Partner: squares, dashed line" in html
    assert "Funk &amp; Rogge (2007)" in html
    assert AuditEvent.objects.filter(
        action="measure.list", actor=people.partner_b, object_id=str(room.pk)
    ).exists()
