from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from confide.accounts.models import User
from confide.rooms.models import Message, Room


@pytest.mark.django_db
def test_the_demo_seed_builds_a_practice_with_rooms_and_is_idempotent() -> None:
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())
    assert User.objects.filter(email__endswith="@confide.example").count() == 6
    jamie = User.objects.get(email="jamie@confide.example")
    assert Room.objects.filter(members__user=jamie).count() == 1
    kit = User.objects.get(email="kit@confide.example")
    assert Room.objects.filter(members__user=kit).count() == 2  # couples room + private room
    assert Message.objects.filter(kind="text").count() == 4
    codes = StringIO()
    call_command("demo_codes", stdout=codes)
    assert "robin@confide.example" in codes.getvalue()
