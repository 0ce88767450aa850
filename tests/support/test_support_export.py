"""The room's export (JSON and PDF) carries the work between sessions that belongs to the room:
the care agreement with every version, the room's exercises with submitted answers and comments,
the room's questionnaires; never anyone else's drafts, never the private notes.

Exercise and questionnaire rows are written here in the format models.py documents (encrypted
JSON bound to its row): that format is the contract the export reads."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest

from confide import crypto
from confide.accounts.models import User
from confide.rooms.export import export_json, log_data
from confide.rooms.models import Room, RoomKind
from confide.support import agreements, notes
from confide.support.models import (
    Exercise,
    ExerciseComment,
    ExerciseResponse,
    ExerciseTemplate,
    MeasureResponse,
    NoteFormat,
    ResponseState,
)
from tests.personas import Personas

NOTE_CANARY = "canary-export-4e1b-the-heron-waits"
FIELDS = [
    {"id": "situation", "kind": "text", "label": "Situation", "required": True},
    {"id": "mood", "kind": "scale", "label": "Mood", "min": 0, "max": 10},
]


def room_of(people: Personas, kind: str, private_for: Any = None) -> Room:
    relationship = people.individual if kind == RoomKind.INDIVIDUAL else people.couple
    return Room.objects.get(relationship=relationship, kind=kind, private_for=private_for)


def exercise_in(
    room: Room, therapist: User, *, title: str, for_user: User | None = None
) -> Exercise:
    template = ExerciseTemplate.objects.create(
        practice=room.practice, author=therapist, title=title, fields=FIELDS
    )
    return Exercise.objects.create(
        room=room,
        relationship=room.relationship,
        template=template,
        title=title,
        instructions="Write about one moment this week.",
        fields=FIELDS,
        for_user=for_user,
        assigned_by=therapist,
        due_on=datetime.date(2027, 1, 8),
    )


def respond(exercise: Exercise, user: User, answers: dict[str, Any], *, submit: bool) -> None:
    now = datetime.datetime(2027, 1, 5, 9, 0, tzinfo=datetime.UTC)
    ExerciseResponse.objects.create(
        exercise=exercise,
        user=user,
        answers=crypto.encrypt_text(
            json.dumps(answers), context=f"exercise:{exercise.pk}:{user.pk}"
        ),
        state=ResponseState.SUBMITTED if submit else ResponseState.DRAFT,
        updated_at=now,
        submitted_at=now if submit else None,
    )


def comment(exercise: Exercise, author: User, text: str) -> None:
    row = ExerciseComment.objects.create(exercise=exercise, author=author, body=b"")
    row.body = crypto.encrypt_text(text, context=f"exercise-comment:{exercise.pk}:{row.pk}")
    row.save(update_fields=["body"])


def measure(room: Room, respondent: User, answers: list[int], score: int, band: str) -> None:
    row = MeasureResponse.objects.create(
        relationship=room.relationship,
        room=room,
        respondent=respondent,
        instrument="gad7",
        answers=b"",
        score=score,
        band=band,
    )
    row.answers = crypto.encrypt_text(json.dumps(answers), context=f"measure:{row.pk}")
    row.save(update_fields=["answers"])


def agree(people: Personas, relationship: Any, goals: str, decider: User) -> None:
    proposal = agreements.agreement_propose(
        actor=people.therapist,
        relationship_id=relationship.pk,
        checkins_per_week=3,
        reply_window_business_days=2,
        live_sessions_per_month=1,
        homework_rhythm="weekly",
        goals=goals,
    )
    agreements.agreement_decide(
        actor=decider, relationship_id=relationship.pk, agreement_id=proposal.pk, accept=True
    )


def private_note(people: Personas, relationship: Any) -> None:
    notes.note_create(
        actor=people.therapist,
        relationship_id=relationship.pk,
        format=NoteFormat.FREE,
        content={"text": f"{NOTE_CANARY} must stay with the therapist"},
    )


@pytest.mark.django_db
def test_the_json_export_holds_the_agreement_exercises_and_measures(people: Personas) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    agree(people, people.individual, "Version one goals", people.client)
    agreements.agreement_propose(
        actor=people.client,
        relationship_id=people.individual.pk,
        checkins_per_week=4,
        reply_window_business_days=3,
        live_sessions_per_month=2,
        homework_rhythm="fortnightly",
        goals="Version two goals\nsecond line",
    )
    exercise = exercise_in(room, people.therapist, title="Thought record")
    respond(exercise, people.client, {"situation": "The bus was late.", "mood": 4}, submit=True)
    comment(exercise, people.therapist, "Well noticed.")
    measure(room, people.client, [1, 2, 0, 1, 3, 0, 1], 8, "mild")
    private_note(people, people.individual)

    data = export_json(room=room, reader=people.therapist)
    assert data["version"] == 1
    assert [(v["number"], v["state"], v["goals"]) for v in data["agreements"]] == [
        (1, "accepted", "Version one goals"),
        (2, "proposed", "Version two goals\nsecond line"),
    ]
    assert data["agreements"][0]["decided_by"] == {"id": people.client.pk, "name": "Cam Client"}
    assert data["agreements"][1]["homework_rhythm"] == "fortnightly"
    [item] = data["exercises"]
    assert item["title"] == "Thought record" and item["fields"] == FIELDS
    assert item["instructions"] == "Write about one moment this week."
    assert item["due_on"] == "2027-01-08" and item["for"] is None
    assert [(r["by"]["id"], r["state"], r["answers"]) for r in item["responses"]] == [
        (people.client.pk, "submitted", {"situation": "The bus was late.", "mood": 4})
    ]
    assert [(c["by"]["id"], c["body"]) for c in item["comments"]] == [
        (people.therapist.pk, "Well noticed.")
    ]
    [gad] = data["measures"]
    assert (gad["instrument"], gad["score"], gad["band"]) == ("gad7", 8, "mild")
    assert gad["answers"] == [1, 2, 0, 1, 3, 0, 1]
    assert gad["respondent"]["id"] == people.client.pk and gad["completed_at"]
    assert NOTE_CANARY not in json.dumps(data)


@pytest.mark.django_db
def test_drafts_are_exported_only_to_their_writer(people: Personas) -> None:
    shared = room_of(people, RoomKind.COUPLE)
    exercise = exercise_in(shared, people.therapist, title="Weekly check-in")
    respond(exercise, people.partner_a, {"situation": "A's unfinished draft"}, submit=False)
    respond(exercise, people.partner_b, {"situation": "B submitted this"}, submit=True)

    def answers_for(reader: User) -> list[tuple[int, str]]:
        [item] = log_data(room=shared, reader=reader)["exercises"]
        return [(r["by"]["id"], r["answers"]["situation"]) for r in item["responses"]]

    assert answers_for(people.partner_a) == [
        (people.partner_a.pk, "A's unfinished draft"),
        (people.partner_b.pk, "B submitted this"),
    ]
    assert answers_for(people.partner_b) == [(people.partner_b.pk, "B submitted this")]
    assert answers_for(people.therapist) == [(people.partner_b.pk, "B submitted this")]


@pytest.mark.django_db
def test_each_room_exports_only_its_own_exercises_and_measures(people: Personas) -> None:
    shared = room_of(people, RoomKind.COUPLE)
    private_a = room_of(people, RoomKind.PRIVATE, people.partner_a)
    private_b = room_of(people, RoomKind.PRIVATE, people.partner_b)
    agree(people, people.couple, "Shared couple goals", people.partner_b)
    exercise_in(private_a, people.therapist, title="Only for A", for_user=people.partner_a)
    measure(private_a, people.partner_a, [3, 3, 3, 3, 3, 3, 3], 21, "severe")
    exercise_in(shared, people.therapist, title="For both")

    b_private = log_data(room=private_b, reader=people.partner_b)
    b_shared = log_data(room=shared, reader=people.partner_b)
    a_private = log_data(room=private_a, reader=people.partner_a)
    assert b_private["exercises"] == [] and b_private["measures"] == []
    assert [e["title"] for e in b_shared["exercises"]] == ["For both"]
    assert b_shared["measures"] == []
    assert [e["title"] for e in a_private["exercises"]] == ["Only for A"]
    assert a_private["exercises"][0]["for"]["id"] == people.partner_a.pk
    assert [m["score"] for m in a_private["measures"]] == [21]
    # The agreement is the relationship's: every room of it carries it.
    for data in (b_private, b_shared, a_private):
        assert [v["goals"] for v in data["agreements"]] == ["Shared couple goals"]


@pytest.mark.django_db
def test_the_pdf_shows_them_and_never_the_notes(
    people: Personas, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weasyprint

    room = room_of(people, RoomKind.INDIVIDUAL)
    agree(people, people.individual, "Goals <b>as text</b>\nline two", people.client)
    exercise = exercise_in(room, people.therapist, title="Behavioural activation")
    respond(exercise, people.client, {"mood": 7, "situation": "Walked to the park."}, submit=True)
    comment(exercise, people.therapist, "Lovely.")
    measure(room, people.client, [0, 1, 0, 0, 1, 0, 0], 2, "minimal")
    private_note(people, people.individual)

    seen: list[str] = []
    real = weasyprint.HTML

    def capture(*, string: str, base_url: Any = None) -> Any:
        seen.append(string)
        return real(string=string, base_url=base_url)

    monkeypatch.setattr(weasyprint, "HTML", capture)
    answer = as_user(people.client).get(f"/rooms/{room.pk}/export.pdf")
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    [html] = seen
    assert "Care agreement" in html and "Goals &lt;b&gt;as text&lt;/b&gt;\nline two" in html
    assert "One exercise a week" in html
    assert "Behavioural activation" in html
    # Answers in the exercise's field order, with the fields' labels.
    assert html.index("Situation:") < html.index("Mood:")
    assert "Walked to the park." in html and "Lovely." in html
    assert "GAD-7" in html and "minimal" in html and "0, 1, 0, 0, 1, 0, 0" in html
    assert NOTE_CANARY not in html
    json_answer = as_user(people.client).get(f"/rooms/{room.pk}/export.json")
    assert json_answer.status_code == 200
    assert NOTE_CANARY.encode() not in json_answer.content
    assert json.loads(json_answer.content)["exercises"][0]["title"] == "Behavioural activation"
