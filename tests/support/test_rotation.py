"""Key rotation covers everything the support area encrypts: agreement goals, exercise answers
and comments, journal entries, questionnaire answers and private notes."""

from __future__ import annotations

import base64
import os
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from confide import crypto
from confide.rooms.models import Room, RoomKind
from confide.support import agreements, exercises, journal, measures, notes
from confide.support.library import library_ensure
from confide.support.models import (
    CareAgreement,
    ExerciseComment,
    ExerciseResponse,
    JournalEntry,
    MeasureResponse,
    PrivateNote,
)
from tests.personas import Personas

COLUMNS = [
    (CareAgreement, "goals"),
    (ExerciseResponse, "answers"),
    (ExerciseComment, "body"),
    (JournalEntry, "body"),
    (MeasureResponse, "answers"),
    (PrivateNote, "body"),
]


def key(name: str) -> str:
    return f"{name}:{base64.b64encode(os.urandom(32)).decode()}"


@pytest.mark.django_db
def test_rotation_re_encrypts_every_support_column(people: Personas, settings: Any) -> None:
    old, new = key("old"), key("new")
    settings.ENCRYPTION_KEYS = old
    crypto.reset_keyring()
    room = Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)
    agreements.agreement_propose(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        checkins_per_week=3,
        reply_window_business_days=2,
        live_sessions_per_month=2,
        homework_rhythm="weekly",
        goals="Sleep before midnight on weekdays",
    )
    gratitude = library_ensure()["gratitude-journal"]
    exercise = exercises.exercise_assign(
        actor=people.therapist, room_id=room.pk, template_id=gratitude.pk
    )
    first = exercise.fields[0]["id"]
    exercises.response_save(
        actor=people.client,
        room_id=room.pk,
        exercise_id=exercise.pk,
        answers={first: "The walk by the canal"},
        submit=False,
    )
    exercises.comment_add(
        actor=people.therapist, room_id=room.pk, exercise_id=exercise.pk, body="Lovely start"
    )
    entry = journal.journal_write(actor=people.client, body="A quiet evening, for once")
    schedule = measures.measure_schedule_assign(
        actor=people.therapist,
        room=room,
        respondent_id=people.client.pk,
        instrument="gad7",
        every_days=14,
    )
    measures.measure_complete(
        actor=people.client, room=room, schedule_id=schedule.pk, answers=[1, 1, 0, 2, 0, 1, 1]
    )
    note = notes.note_create(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        format="free",
        content={"text": "Settled; discussed sleep"},
    )
    for model, _ in COLUMNS:
        assert model._default_manager.exists(), model

    settings.ENCRYPTION_KEYS = f"{new},{old}"
    crypto.reset_keyring()
    call_command("rotate_encryption_keys", stdout=StringIO())
    for model, field in COLUMNS:
        for blob in model._default_manager.values_list(field, flat=True):
            assert crypto.key_id_of(bytes(blob)) == "new", (model, field)

    settings.ENCRYPTION_KEYS = new  # the old key is gone: everything still reads
    crypto.reset_keyring()
    assert journal.journal_entry(user=people.client, entry_id=entry.pk).text.startswith("A quiet")
    read = notes.note_get(
        actor=people.therapist, relationship_id=people.individual.pk, note_id=note.pk
    )
    assert read.content == {"text": "Settled; discussed sleep"}
    stored = MeasureResponse.objects.get()
    assert measures.response_get(viewer=people.client, room=room, response_id=stored.pk)
    comment = ExerciseComment.objects.get()
    assert exercises.comment_text(comment) == "Lovely start"
