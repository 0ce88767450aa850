"""Exercises through the services and pages: the library, assigning, drafts, submitting,
comments, closing, the room panel, the client's home, and markup that stays text."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from confide import crypto
from confide.accounts.models import User
from confide.audit.models import AuditEvent
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import Message, MessageKind, Room, RoomKind
from confide.rooms.payloads import message_text
from confide.support import exercises
from confide.support.library import LIBRARY, library_ensure
from confide.support.models import (
    Exercise,
    ExerciseComment,
    ExerciseResponse,
    ExerciseTemplate,
    ResponseState,
)
from confide.support.tasks import reminders_sweep
from tests.personas import Personas

CANARY = "canary-4b1e-the-heron-waits-by-the-weir"


def room_of(people: Personas, kind: str, private_for: User | None = None) -> Room:
    relationship = people.individual if kind == RoomKind.INDIVIDUAL else people.couple
    return Room.objects.get(relationship=relationship, kind=kind, private_for=private_for)


@pytest.fixture
def rooms(people: Personas) -> dict[str, Room]:
    return {
        "individual": room_of(people, RoomKind.INDIVIDUAL),
        "couple": room_of(people, RoomKind.COUPLE),
        "private_a": room_of(people, RoomKind.PRIVATE, people.partner_a),
        "private_b": room_of(people, RoomKind.PRIVATE, people.partner_b),
    }


def library(key: str) -> ExerciseTemplate:
    return library_ensure()[key]


def assign(people: Personas, room: Room, key: str = "thought-record", **options: Any) -> Exercise:
    return exercises.exercise_assign(
        actor=people.therapist, room_id=room.pk, template_id=library(key).pk, **options
    )


THOUGHT = {
    "situation": "At work, before a meeting",
    "automatic_thought": "They will think I am useless",
    "emotion": "worried",
    "intensity": 8,
    "balanced_thought": "I prepared; one meeting is not everything",
}


def events(room: Room) -> list[str]:
    return [
        message_text(m)
        for m in Message.objects.filter(room=room, kind=MessageKind.EVENT).order_by("seq")
    ]


def raw_column(table: str, column: str) -> list[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}"')  # noqa: S608 - our own names
        return [bytes(row[0]) for row in cursor.fetchall()]


# --- the library ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_library_is_materialised_once_and_kept_up_to_date(
    django_assert_num_queries: Any,
) -> None:
    first = library_ensure()
    assert set(first) == {entry.key for entry in LIBRARY}
    assert all(t.practice_id is None and t.author_id is None for t in first.values())
    assert first["couples-weekly-check-in"].for_couples
    assert not first["thought-record"].for_couples
    with django_assert_num_queries(1):  # current: one read, no writes
        again = library_ensure()
    assert {k: t.pk for k, t in again.items()} == {k: t.pk for k, t in first.items()}
    ExerciseTemplate.objects.filter(key="thought-record").update(title="Old title", fields=[])
    assert library_ensure()["thought-record"].title == "Thought record"
    fresh = ExerciseTemplate.objects.get(key="thought-record")
    assert fresh.title == "Thought record" and len(fresh.fields) == 8
    assert ExerciseTemplate.objects.filter(key__isnull=False).count() == len(LIBRARY)


def test_the_library_has_what_the_issue_asks_for() -> None:
    by_key = {entry.key: entry for entry in LIBRARY}
    thought = {f["id"]: f for f in by_key["thought-record"].fields}
    assert (thought["intensity"]["min"], thought["intensity"]["max"]) == (0, 10)
    assert {"situation", "automatic_thought", "emotion", "evidence_for", "evidence_against"} <= set(
        thought
    )
    plan = {f["id"]: f["kind"] for f in by_key["activation-plan"].fields}
    assert (
        plan["when"] == "date" and plan["expected_mastery"] == plan["expected_pleasure"] == "scale"
    )
    check_in = {f["id"]: f for f in by_key["couples-weekly-check-in"].fields}
    assert check_in["closeness"]["max"] == 10
    assert by_key["speaker-listener-reflection"].for_couples
    assert len(by_key["gratitude-journal"].fields) == 6


# --- assigning ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_assigning_copies_the_template_and_writes_the_log(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    due = timezone.now().date() + datetime.timedelta(days=7)
    exercise = assign(people, room, due_on=due)
    template = library("thought-record")
    assert exercise.for_user_id == people.client.pk  # the room's client, though none was named
    assert (exercise.title, exercise.fields, exercise.due_on) == (
        template.title,
        template.fields,
        due,
    )
    assert exercise.relationship_id == people.individual.pk
    assert events(room) == ["Robin Therapist assigned an exercise: Thought record"]
    # A due day means a reminder may be owed: a reminder sweep is queued.
    assert DBTaskResult.objects.filter(
        task_path=reminders_sweep.module_path, status="READY"
    ).exists()
    audit = AuditEvent.objects.get(action="exercise.assign")
    assert audit.object_id == str(exercise.pk) and audit.actor_id == people.therapist.pk
    assert audit.detail == {"room": room.pk, "template": template.pk}
    # A later change to the template never changes what was given.
    ExerciseTemplate.objects.filter(pk=template.pk).update(title="Renamed", fields=[])
    exercise.refresh_from_db()
    assert exercise.title == "Thought record" and len(exercise.fields) == 8


@pytest.mark.django_db
def test_in_a_couples_room_it_is_for_one_partner_or_both(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["couple"]
    both = assign(people, room, "couples-weekly-check-in")
    one = assign(people, room, "speaker-listener-reflection", for_user_id=people.partner_b.pk)
    assert both.for_user_id is None and one.for_user_id == people.partner_b.pk
    assert events(room)[-1] == (
        "Robin Therapist assigned an exercise for Blake Partner: Listening reflection"
    )
    for stranger in (people.client, people.therapist, people.outsider):
        with pytest.raises(InvalidInput) as caught:
            assign(people, room, for_user_id=stranger.pk)
        assert "for_user" in caught.value.field_errors


@pytest.mark.django_db
def test_in_a_private_room_it_is_for_its_partner_only(
    people: Personas, rooms: dict[str, Room]
) -> None:
    exercise = assign(people, rooms["private_a"])
    assert exercise.for_user_id == people.partner_a.pk
    with pytest.raises(InvalidInput):
        assign(people, rooms["private_a"], for_user_id=people.partner_b.pk)
    assert Exercise.objects.count() == 1


@pytest.mark.django_db
def test_only_the_rooms_therapist_assigns(people: Personas, rooms: dict[str, Room]) -> None:
    template = library("gratitude-journal")
    with pytest.raises(PermissionDenied):
        exercises.exercise_assign(
            actor=people.client, room_id=rooms["individual"].pk, template_id=template.pk
        )
    for stranger in (people.colleague, people.outsider, people.admin, people.partner_a):
        with pytest.raises(NotFound):
            exercises.exercise_assign(
                actor=stranger, room_id=rooms["individual"].pk, template_id=template.pk
            )
    assert not Exercise.objects.exists()


@pytest.mark.django_db
def test_it_refuses_bad_due_dates_and_templates_it_may_not_use(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    today = timezone.now().date()
    for day in (today - datetime.timedelta(days=2), today + datetime.timedelta(days=400)):
        with pytest.raises(InvalidInput) as caught:
            assign(people, room, due_on=day)
        assert "due_on" in caught.value.field_errors
    elsewhere = ExerciseTemplate.objects.create(
        practice=people.elsewhere.practice, title="Elsewhere", fields=[]
    )
    with pytest.raises(NotFound):
        exercises.exercise_assign(actor=people.therapist, room_id=room.pk, template_id=elsewhere.pk)
    own = exercises.template_save(
        actor=people.therapist,
        template_id=None,
        title="Sleep diary",
        instructions="",
        fields=[{"id": "slept", "kind": "scale", "label": "Hours", "min": 0, "max": 10}],
    )
    exercises.template_archive(actor=people.therapist, template_id=own.pk)
    with pytest.raises(InvalidInput):
        exercises.exercise_assign(actor=people.therapist, room_id=room.pk, template_id=own.pk)
    assert not Exercise.objects.exists()


# --- answering ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_draft_is_only_its_authors_until_it_is_submitted(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    exercises.response_save(
        actor=people.client,
        room_id=room.pk,
        exercise_id=exercise.pk,
        answers={"situation": CANARY},
        submit=False,
    )
    mine = exercises.exercise_page(user=people.client, room_id=room.pk, exercise_id=exercise.pk)
    assert mine.my_answers == {"situation": CANARY} and mine.can_answer
    theirs = exercises.exercise_page(
        user=people.therapist, room_id=room.pk, exercise_id=exercise.pk
    )
    assert theirs.my_answers == {} and theirs.submitted == [] and not theirs.can_answer
    assert theirs.states == [(people.client, "draft")]
    assert events(room) == ["Robin Therapist assigned an exercise: Thought record"]

    with pytest.raises(InvalidInput) as caught:
        exercises.response_save(
            actor=people.client,
            room_id=room.pk,
            exercise_id=exercise.pk,
            answers={"situation": CANARY},
            submit=True,
        )
    assert {"automatic_thought", "emotion", "intensity", "balanced_thought"} <= set(
        caught.value.field_errors
    )
    response = exercises.response_save(
        actor=people.client,
        room_id=room.pk,
        exercise_id=exercise.pk,
        answers=THOUGHT,
        submit=True,
    )
    assert response.state == ResponseState.SUBMITTED and response.submitted_at is not None
    assert events(room)[-1] == "Cam Client submitted: Thought record"
    seen = exercises.exercise_page(user=people.therapist, room_id=room.pk, exercise_id=exercise.pk)
    [sent] = seen.submitted
    assert sent.user == people.client
    assert {row.field["id"]: row.value for row in sent.rows if row.value is not None} == THOUGHT
    assert seen.states == [(people.client, "submitted")]
    assert {a.action for a in AuditEvent.objects.filter(object_type="exercise_response")} == {
        "exercise.draft",
        "exercise.submit",
    }


@pytest.mark.django_db
def test_submitting_is_final(people: Personas, rooms: dict[str, Room]) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    exercises.response_save(
        actor=people.client, room_id=room.pk, exercise_id=exercise.pk, answers=THOUGHT, submit=True
    )
    for submit in (False, True):
        with pytest.raises(Conflict):
            exercises.response_save(
                actor=people.client,
                room_id=room.pk,
                exercise_id=exercise.pk,
                answers={**THOUGHT, "emotion": "changed"},
                submit=submit,
            )
    response = ExerciseResponse.objects.get()
    answers = exercises.answers_open(
        response.answers, exercise_id=exercise.pk, user_id=people.client.pk
    )
    assert answers["emotion"] == "worried"


@pytest.mark.django_db
def test_answers_are_encrypted_at_rest_and_bound_to_their_row(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    exercises.response_save(
        actor=people.client,
        room_id=room.pk,
        exercise_id=exercise.pk,
        answers={"situation": CANARY},
        submit=False,
    )
    exercises.comment_add(
        actor=people.therapist, room_id=room.pk, exercise_id=exercise.pk, body=f"Re {CANARY}"
    )
    for blob in [
        *raw_column("support_exerciseresponse", "answers"),
        *raw_column("support_exercisecomment", "body"),
    ]:
        assert CANARY.encode() not in blob
    response = ExerciseResponse.objects.get()
    with pytest.raises(crypto.DecryptionError):
        exercises.answers_open(
            response.answers, exercise_id=exercise.pk, user_id=people.partner_a.pk
        )
    assert CANARY not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


@pytest.mark.django_db
def test_partners_answer_for_themselves_and_read_each_others_sent_answers(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["couple"]
    both = assign(people, room, "couples-weekly-check-in")
    only_a = assign(people, room, "speaker-listener-reflection", for_user_id=people.partner_a.pk)
    with pytest.raises(PermissionDenied):
        exercises.response_save(
            actor=people.partner_b,
            room_id=room.pk,
            exercise_id=only_a.pk,
            answers={},
            submit=False,
        )
    with pytest.raises(PermissionDenied):
        exercises.response_save(
            actor=people.therapist, room_id=room.pk, exercise_id=both.pk, answers={}, submit=False
        )
    answers = {"appreciations": "The tea in the morning", "closeness": 6}
    for partner in (people.partner_a, people.partner_b):
        exercises.response_save(
            actor=partner, room_id=room.pk, exercise_id=both.pk, answers=answers, submit=False
        )
    exercises.response_save(
        actor=people.partner_a, room_id=room.pk, exercise_id=both.pk, answers=answers, submit=True
    )
    page = exercises.exercise_page(user=people.partner_b, room_id=room.pk, exercise_id=both.pk)
    assert [s.user for s in page.submitted] == [people.partner_a]
    assert dict(page.states) == {people.partner_a: "submitted", people.partner_b: "draft"}
    assert page.can_answer and page.my_answers == answers
    other = exercises.exercise_page(user=people.partner_a, room_id=room.pk, exercise_id=both.pk)
    assert other.my_state == "submitted" and not other.can_answer
    assert [s.user for s in other.submitted] == [people.partner_a]  # B's draft is B's alone


@pytest.mark.django_db
def test_an_exercise_is_reached_only_through_its_own_room(
    people: Personas, rooms: dict[str, Room]
) -> None:
    private = assign(people, rooms["private_a"])
    with pytest.raises(NotFound):
        exercises.exercise_page(
            user=people.partner_b, room_id=rooms["couple"].pk, exercise_id=private.pk
        )
    with pytest.raises(NotFound):
        exercises.exercise_page(
            user=people.partner_a, room_id=rooms["couple"].pk, exercise_id=private.pk
        )
    with pytest.raises(NotFound):
        exercises.response_save(
            actor=people.partner_b,
            room_id=rooms["private_b"].pk,
            exercise_id=private.pk,
            answers={},
            submit=False,
        )


# --- comments and closing ---------------------------------------------------------------------


@pytest.mark.django_db
def test_everyone_in_the_room_comments_and_bad_comments_are_refused(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["couple"]
    exercise = assign(people, room, "couples-weekly-check-in")
    for author, text in (
        (people.therapist, "Thank you both."),
        (people.partner_b, "Glad to try this."),
    ):
        exercises.comment_add(actor=author, room_id=room.pk, exercise_id=exercise.pk, body=text)
    page = exercises.exercise_page(user=people.partner_a, room_id=room.pk, exercise_id=exercise.pk)
    assert [(c.author, c.body) for c in page.comments] == [
        (people.therapist, "Thank you both."),
        (people.partner_b, "Glad to try this."),
    ]
    assert events(room)[-1] == (
        "Blake Partner commented on an exercise: Weekly check-in for couples"
    )
    for body in ("", "   \n ", "x" * (exercises.MAX_COMMENT + 1)):
        with pytest.raises(InvalidInput):
            exercises.comment_add(
                actor=people.partner_a, room_id=room.pk, exercise_id=exercise.pk, body=body
            )
    with pytest.raises(NotFound):
        exercises.comment_add(
            actor=people.client, room_id=room.pk, exercise_id=exercise.pk, body="Hello"
        )
    assert ExerciseComment.objects.count() == 2


@pytest.mark.django_db
def test_the_therapist_closes_and_then_it_is_read_only(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    with pytest.raises(PermissionDenied):
        exercises.exercise_close(actor=people.client, room_id=room.pk, exercise_id=exercise.pk)
    exercises.exercise_close(actor=people.therapist, room_id=room.pk, exercise_id=exercise.pk)
    assert events(room)[-1] == "Robin Therapist closed an exercise: Thought record"
    with pytest.raises(Conflict):
        exercises.exercise_close(actor=people.therapist, room_id=room.pk, exercise_id=exercise.pk)
    with pytest.raises(Conflict):
        exercises.response_save(
            actor=people.client, room_id=room.pk, exercise_id=exercise.pk, answers={}, submit=False
        )
    with pytest.raises(Conflict):
        exercises.comment_add(
            actor=people.client, room_id=room.pk, exercise_id=exercise.pk, body="Late"
        )
    page = exercises.exercise_page(user=people.client, room_id=room.pk, exercise_id=exercise.pk)
    assert not page.is_open and not page.can_answer


# --- lists -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_panel_and_the_home_list_show_open_exercises_with_states(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["couple"]
    today = timezone.now().date()
    later = assign(people, room, "gratitude-journal", due_on=today + datetime.timedelta(days=9))
    sooner = assign(
        people,
        room,
        "values-worksheet",
        for_user_id=people.partner_a.pk,
        due_on=today + datetime.timedelta(days=2),
    )
    undated = assign(people, room, "couples-weekly-check-in")
    closed = assign(people, room)
    exercises.exercise_close(actor=people.therapist, room_id=room.pk, exercise_id=closed.pk)
    exercises.response_save(
        actor=people.partner_b,
        room_id=room.pk,
        exercise_id=undated.pk,
        answers={"appreciations": "x", "closeness": 5},
        submit=True,
    )
    exercises.response_save(
        actor=people.partner_a, room_id=room.pk, exercise_id=later.pk, answers={}, submit=False
    )
    rows = exercises.panel_rows(room=room, viewer=people.therapist)
    assert [r.exercise.pk for r in rows] == [sooner.pk, later.pk, undated.pk]
    assert [[(p.display_name, s) for p, s in r.states] for r in rows] == [
        [("Avery Partner", "not started")],
        [("Avery Partner", "draft"), ("Blake Partner", "not started")],
        [("Avery Partner", "not started"), ("Blake Partner", "submitted")],
    ]
    due_a = exercises.due_for(user=people.partner_a)
    assert [(d.exercise.pk, d.state) for d in due_a] == [
        (sooner.pk, "not started"),
        (later.pk, "draft"),
        (undated.pk, "not started"),
    ]
    due_b = exercises.due_for(user=people.partner_b)
    assert [d.exercise.pk for d in due_b] == [later.pk]  # not A's, not sent, not closed
    assert exercises.due_for(user=people.client) == []
    assert exercises.due_for(user=people.therapist) == []


@pytest.mark.django_db
def test_the_room_page_and_home_page_show_the_panels(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    therapist_page = as_user(people.therapist).get(reverse("room", args=[room.pk])).content.decode()
    assert "Assign an exercise" in therapist_page
    assert reverse("exercise", args=[room.pk, exercise.pk]) in therapist_page
    assert "Cam Client: not started" in therapist_page
    client_page = as_user(people.client).get(reverse("room", args=[room.pk])).content.decode()
    assert "Assign an exercise" not in client_page
    assert "You: not started" in client_page and "Fill it in" in client_page
    home = as_user(people.client).get(reverse("home")).content.decode()
    assert "Exercises for you" in home and "Thought record" in home
    other = as_user(people.partner_a).get(reverse("home")).content.decode()
    assert "Thought record" not in other


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_client_saves_a_draft_then_sends_it_in_the_browser_form(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    page_url = reverse("exercise", args=[room.pk, exercise.pk])
    answer_url = reverse("exercise_answer", args=[room.pk, exercise.pk])
    client = as_user(people.client)
    page = client.get(page_url).content.decode()
    assert "Only you and Robin Therapist can read what is written here." in page
    assert "Your draft is only visible to you until you send it." in page
    response = client.post(
        answer_url, {"action": "draft", "a-situation": "On the bus", "a-intensity": "6"}
    )
    assert response.status_code == 302
    page = client.get(page_url).content.decode()
    assert "On the bus" in page and 'value="6" checked' in page
    assert "On the bus" not in as_user(people.therapist).get(page_url).content.decode()

    response = client.post(
        answer_url, {"action": "submit", "a-situation": "On the bus, later", "a-intensity": "11"}
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "On the bus, later" in body  # what was typed is kept
    assert "Choose a number from 0 to 10." in body
    assert "Please answer this before sending." in body

    posted = {"action": "submit", **{f"a-{k}": str(v) for k, v in THOUGHT.items()}}
    assert client.post(answer_url, posted).status_code == 302
    seen = as_user(people.therapist).get(page_url).content.decode()
    assert "Answers from Cam Client" in seen and "They will think I am useless" in seen
    assert "8 (on a scale of 0 to 10)" in seen
    again = client.post(answer_url, posted)
    assert again.status_code == 409
    assert "already sent this in" in again.content.decode()


@pytest.mark.django_db
def test_comment_and_close_pages(people: Personas, rooms: dict[str, Room], as_user: Any) -> None:
    room = rooms["individual"]
    exercise = assign(people, room)
    therapist = as_user(people.therapist)
    comment_url = reverse("exercise_comment", args=[room.pk, exercise.pk])
    assert therapist.post(comment_url, {"body": "Lovely work"}).status_code == 302
    empty = therapist.post(comment_url, {"body": "  "})
    assert empty.status_code == 400 and "Write a comment first." in empty.content.decode()
    long = therapist.post(comment_url, {"body": "x" * 6000})
    assert long.status_code == 400
    assert (
        as_user(people.client)
        .post(reverse("exercise_close", args=[room.pk, exercise.pk]))
        .status_code
        == 403
    )
    assert therapist.post(reverse("exercise_close", args=[room.pk, exercise.pk])).status_code == 302
    page = as_user(people.client).get(reverse("exercise", args=[room.pk, exercise.pk]))
    text = page.content.decode()
    assert "Lovely work" in text and "Closed on" in text and "Send my answers" not in text
    closed_again = therapist.post(reverse("exercise_close", args=[room.pk, exercise.pk]))
    assert closed_again.status_code == 409


@pytest.mark.django_db
def test_the_assign_page_assigns_and_refuses_bad_input(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["couple"]
    therapist = as_user(people.therapist)
    url = reverse("exercise_assign", args=[room.pk])
    page = therapist.get(url).content.decode()
    assert "Both partners, each on their own" in page and "Listening reflection" in page
    assert "Everyone in this couples room can read this" in page
    template = library("values-worksheet")
    bad = [
        {},
        {"template": "abc"},
        {"template": str(template.pk), "due_on": "not a date"},
        {"template": str(template.pk), "due_on": "2020-01-01"},
        {"template": str(template.pk), "for_user": str(people.client.pk)},
        {"template": str(template.pk), "for_user": "x" * 50},
    ]
    for data in bad:
        response = therapist.post(url, data)
        assert response.status_code == 400, data
    assert therapist.post(url, {"template": "999999"}).status_code == 404
    response = therapist.post(
        url, {"template": str(template.pk), "for_user": str(people.partner_b.pk)}
    )
    assert response.status_code == 302
    exercise = Exercise.objects.get()
    assert response["Location"] == reverse("exercise", args=[room.pk, exercise.pk])
    assert exercise.for_user_id == people.partner_b.pk
    both = therapist.post(url, {"template": str(template.pk), "for_user": ""})
    assert both.status_code == 302
    assert Exercise.objects.filter(for_user__isnull=True).count() == 1


# --- the therapist's own templates -----------------------------------------------------------


@pytest.mark.django_db
def test_own_templates_are_the_authors_to_change(people: Personas) -> None:
    fields = [{"id": "sleep", "kind": "scale", "label": "Sleep", "min": 0, "max": 10}]
    own = exercises.template_save(
        actor=people.therapist,
        template_id=None,
        title="Sleep diary",
        instructions="Each morning.",
        fields=fields,
    )
    assert own.practice_id == people.practice.pk and own.author_id == people.therapist.pk
    assert own.fields == [{**fields[0], "required": False}]
    # The colleague can give it (same practice) but not change it.
    assert own in exercises.templates_available(user=people.colleague)
    with pytest.raises(PermissionDenied):
        exercises.template_save(
            actor=people.colleague, template_id=own.pk, title="x", instructions="", fields=fields
        )
    with pytest.raises(PermissionDenied):
        exercises.template_save(
            actor=people.therapist,
            template_id=library("gratitude-journal").pk,
            title="Mine now",
            instructions="",
            fields=fields,
        )
    for stranger in (people.client, people.admin, people.outsider):
        with pytest.raises(NotFound):
            exercises.template_save(
                actor=stranger, template_id=None, title="x", instructions="", fields=fields
            )
    with pytest.raises(InvalidInput) as caught:
        exercises.template_save(
            actor=people.therapist, template_id=own.pk, title="", instructions="", fields=[]
        )
    assert {"title", "fields"} <= set(caught.value.field_errors)
    exercises.template_archive(actor=people.therapist, template_id=own.pk)
    assert own not in exercises.templates_available(user=people.therapist)
    exercises.template_archive(actor=people.therapist, template_id=own.pk, archived=False)
    assert own in exercises.templates_available(user=people.therapist)


@pytest.mark.django_db
def test_the_form_builder_works_without_javascript(people: Personas, as_user: Any) -> None:
    therapist = as_user(people.therapist)
    url = reverse("exercise_template_new")
    page = therapist.get(url).content.decode()
    assert 'name="rows" value="1"' in page
    base = {"title": "Evening review", "instructions": "Before bed.", "rows": "1"}
    added = therapist.post(url, {**base, "0-label": "First", "0-kind": "text", "op": "add"})
    assert added.status_code == 200
    body = added.content.decode()
    assert 'name="rows" value="2"' in body and 'value="First"' in body
    assert not ExerciseTemplate.objects.filter(practice__isnull=False).exists()
    two = {
        **base,
        "rows": "2",
        "0-label": "First",
        "0-kind": "text",
        "1-label": "Second",
        "1-kind": "scale",
        "1-min": "0",
        "1-max": "5",
    }
    moved = therapist.post(url, {**two, "op": "up-1"}).content.decode()
    assert moved.index('value="Second"') < moved.index('value="First"')
    removed = therapist.post(url, {**two, "op": "remove-0"}).content.decode()
    assert 'value="First"' not in removed and 'name="rows" value="1"' in removed

    wrong = therapist.post(url, {**two, "1-min": "7", "1-max": "3", "op": "save"})
    assert wrong.status_code == 400
    assert "A scale runs from a lower to a higher number" in wrong.content.decode()
    saved = therapist.post(url, {**two, "op": "save"})
    assert saved.status_code == 302
    template = ExerciseTemplate.objects.get(practice__isnull=False)
    assert [f["id"] for f in template.fields] == ["first", "second"]
    assert saved["Location"] == reverse("exercise_template", args=[template.pk])

    edit = reverse("exercise_template_edit", args=[template.pk])
    assert 'value="Second"' in therapist.get(edit).content.decode()
    assert as_user(people.colleague).get(edit).status_code == 403
    assert as_user(people.client).get(edit).status_code == 404
    changed = therapist.post(edit, {**two, "title": "Night review", "op": "save"})
    assert changed.status_code == 302
    template.refresh_from_db()
    assert template.title == "Night review"
    archive = reverse("exercise_template_archive", args=[template.pk])
    assert as_user(people.colleague).post(archive).status_code == 403
    assert therapist.post(archive).status_code == 302
    template.refresh_from_db()
    assert template.archived


@pytest.mark.django_db
def test_a_template_saved_from_a_rooms_assign_page_goes_back_there(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["individual"]
    therapist = as_user(people.therapist)
    page = therapist.get(reverse("exercise_template_new") + f"?room={room.pk}").content.decode()
    assert f'name="room" value="{room.pk}"' in page
    saved = therapist.post(
        reverse("exercise_template_new"),
        {"title": "Walks", "rows": "1", "0-label": "Where?", "0-kind": "text", "room": room.pk},
    )
    template = ExerciseTemplate.objects.get(practice__isnull=False)
    assert saved["Location"] == (
        reverse("exercise_assign", args=[room.pk]) + f"?template={template.pk}"
    )
    assign_page = therapist.get(saved["Location"]).content.decode()
    assert re.search(rf'value="{template.pk}" checked', assign_page)


# --- markup stays text ---------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(2)>'


@pytest.mark.django_db
def test_markup_in_every_label_position_is_escaped_everywhere(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    nasty = f"{SCRIPT}{IMG}"
    short = f"{SCRIPT[:25]}{IMG[:30]}"  # end labels are at most 60 characters
    fields = [
        {"id": "t", "kind": "text", "label": nasty, "help": nasty, "required": False},
        {
            "id": "s",
            "kind": "scale",
            "label": nasty,
            "help": nasty,
            "min": 0,
            "max": 3,
            "min_label": short,
            "max_label": short,
            "required": False,
        },
        {"id": "c", "kind": "choice", "label": nasty, "choices": [nasty, f"2{IMG}"]},
        {"id": "d", "kind": "date", "label": nasty, "help": nasty},
    ]
    template = exercises.template_save(
        actor=people.therapist,
        template_id=None,
        title=nasty[:120],
        instructions=nasty,
        fields=fields,
    )
    room = rooms["individual"]
    exercise = exercises.exercise_assign(
        actor=people.therapist, room_id=room.pk, template_id=template.pk
    )
    exercises.response_save(
        actor=people.client,
        room_id=room.pk,
        exercise_id=exercise.pk,
        answers={"t": nasty, "c": nasty, "s": 2},
        submit=True,
    )
    exercises.comment_add(
        actor=people.therapist, room_id=room.pk, exercise_id=exercise.pk, body=nasty
    )
    pages = {
        people.therapist: [
            reverse("exercise", args=[room.pk, exercise.pk]),
            reverse("exercise_template", args=[template.pk]),
            reverse("exercise_template_edit", args=[template.pk]),
            reverse("exercise_templates"),
            reverse("exercise_assign", args=[room.pk]),
            reverse("room_exercises", args=[room.pk]),
            reverse("room", args=[room.pk]),
        ],
        people.client: [
            reverse("exercise", args=[room.pk, exercise.pk]),
            reverse("room", args=[room.pk]),
        ],
    }
    for user, urls in pages.items():
        for url in urls:
            body = as_user(user).get(url).content.decode()
            for raw in ("<script>alert(1)", "<img src=x", '"><img'):
                assert raw not in body, (url, raw)
            assert "&lt;script&gt;alert(1)" in body, url
    # And while the client is still filling it in (the form itself), and on the home page.
    second = exercises.exercise_assign(
        actor=people.therapist, room_id=room.pk, template_id=template.pk
    )
    for url in (reverse("exercise", args=[room.pk, second.pk]), reverse("home")):
        body = as_user(people.client).get(url).content.decode()
        assert "<script>alert(1)" not in body and "<img src=x" not in body, url
        assert "&lt;script&gt;alert(1)" in body, url


@pytest.mark.django_db(transaction=True)
def test_concurrent_submissions_leave_one_response_and_one_event() -> None:
    import threading

    from django.db import connections

    from tests.personas import build_personas

    people = build_personas()
    room = room_of(people, RoomKind.INDIVIDUAL)
    exercise = assign(people, room)
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            exercises.response_save(
                actor=people.client,
                room_id=room.pk,
                exercise_id=exercise.pk,
                answers=THOUGHT,
                submit=True,
            )
            outcomes.append("sent")
        except Conflict:
            outcomes.append("conflict")
        except BaseException as exc:  # anything else is a failure the test reports
            outcomes.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["conflict"] * 5 + ["sent"], outcomes
    assert ExerciseResponse.objects.filter(exercise=exercise).count() == 1
    assert events(room).count("Cam Client submitted: Thought record") == 1
