from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from confide.accounts.models import User
from confide.rooms.models import Message, Room
from confide.support.models import (
    CareAgreement,
    ExerciseResponse,
    JournalEntry,
    MeasureResponse,
    PrivateNote,
)


@pytest.mark.django_db
def test_the_demo_seed_builds_a_practice_with_rooms_and_is_idempotent() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.filter(email__endswith="@confide.example").count() == 6
    jamie = User.objects.get(email="jamie@confide.example")
    assert Room.objects.filter(members__user=jamie).count() == 1
    kit = User.objects.get(email="kit@confide.example")
    assert Room.objects.filter(members__user=kit).count() == 2  # couples room + private room
    # Four conversation messages and one journal entry Jamie shared into the room.
    assert Message.objects.filter(kind="text").count() == 5
    # Support between sessions: an agreed agreement, twelve weeks of questionnaires that show a
    # trend, a submitted thought record and a draft check-in, a journal, a private note.
    assert CareAgreement.objects.filter(state="accepted").count() == 1
    phq9 = list(
        MeasureResponse.objects.filter(instrument="phq9")
        .order_by("completed_at")
        .values_list("score", flat=True)
    )
    assert phq9 == [16, 14, 13, 11, 9, 7]
    assert MeasureResponse.objects.filter(instrument="csi4").count() == 6
    assert not MeasureResponse.objects.filter(urgent=True).exists()
    assert sorted(ExerciseResponse.objects.values_list("state", flat=True)) == [
        "draft",
        "submitted",
    ]
    assert JournalEntry.objects.filter(author=jamie).count() == 2
    assert PrivateNote.objects.count() == 1
    codes = StringIO()
    call_command("demo_codes", stdout=codes)
    assert "robin@confide.example" in codes.getvalue()
