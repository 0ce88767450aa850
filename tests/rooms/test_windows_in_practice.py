"""Working hours, out-of-office and the practice's figures, through the pages and services."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from confide.care.services import away_add, schedule_update
from confide.errors import InvalidInput, PermissionDenied
from confide.rooms.models import Room
from confide.rooms.services import room_mark_read
from tests.personas import Personas
from tests.rooms.conftest import send

TUESDAY_10 = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_a_therapists_working_hours_set_the_reply_due_time(
    people: Personas, rooms: dict[str, Room]
) -> None:
    schedule_update(
        actor=people.therapist,
        time_zone="America/New_York",
        weekdays=[5, 6],
        start=datetime.time(10),
        end=datetime.time(14),
        holiday_country="US",
    )
    with time_machine.travel(TUESDAY_10, tick=False):
        send(people.client, rooms["individual"], "hello")
    room = Room.objects.get(pk=rooms["individual"].pk)
    # Weekends only, 10:00-14:00 New York (UTC-5 in early March): Sat + Sun = 2 business days.
    assert room.reply_due_at == datetime.datetime(2026, 3, 8, 18, 0, tzinfo=datetime.UTC)
    with pytest.raises(InvalidInput) as bad:
        schedule_update(
            actor=people.therapist,
            time_zone="Mars/Base",
            weekdays=[],
            start=datetime.time(17),
            end=datetime.time(9),
            holiday_country="",
        )
    assert {"weekdays", "end", "time_zone"} <= set(bad.value.field_errors)
    with pytest.raises(PermissionDenied):
        schedule_update(
            actor=people.client,
            time_zone="UTC",
            weekdays=[0],
            start=datetime.time(9),
            end=datetime.time(17),
            holiday_country="",
        )


@pytest.mark.django_db
def test_out_of_office_pushes_the_reply_due_time(people: Personas, rooms: dict[str, Room]) -> None:
    away_add(
        actor=people.therapist,
        starts_at=TUESDAY_10,
        ends_at=TUESDAY_10 + datetime.timedelta(days=7),
    )
    with time_machine.travel(TUESDAY_10 + datetime.timedelta(hours=1), tick=False):
        send(people.client, rooms["individual"], "hello")
    room = Room.objects.get(pk=rooms["individual"].pk)
    assert room.reply_due_at is not None
    assert room.reply_due_at >= TUESDAY_10 + datetime.timedelta(days=7)
    with pytest.raises(InvalidInput):
        away_add(actor=people.therapist, starts_at=TUESDAY_10, ends_at=TUESDAY_10)


@pytest.mark.django_db
def test_the_account_page_saves_working_hours_and_rejects_bad_ones(
    people: Personas, as_user: Any
) -> None:
    therapist = as_user(people.therapist)
    ok = therapist.post(
        "/account/",
        {
            "form": "schedule",
            "time_zone": "Europe/Paris",
            "weekdays": ["0", "1", "2"],
            "start": "08:30",
            "end": "16:00",
            "holiday_country": "FR",
        },
    )
    assert ok.status_code == 302
    bad = therapist.post(
        "/account/",
        {
            "form": "schedule",
            "time_zone": "Europe/Paris",
            "weekdays": [],
            "start": "18:00",
            "end": "09:00",
            "holiday_country": "FR",
        },
    )
    assert bad.status_code == 400
    prefs = as_user(people.client).post(
        "/account/",
        {
            "form": "preferences",
            "email_notifications": "on",
            "read_receipts": "on",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "",
        },
    )
    assert prefs.status_code == 400  # both ends of the quiet hours, or neither
    assert as_user(people.client).post("/account/", {"form": "schedule"}).status_code == 400


@pytest.mark.django_db
@pytest.mark.usefixtures("at_work")  # counts messages on the real clock
def test_read_receipts_show_only_for_people_who_allow_them(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["individual"]
    sent = send(people.client, room, "did you see this?").message
    room_mark_read(actor=people.therapist, room=room, seq=sent.seq)
    assert (
        "Seen by Robin Therapist"
        in as_user(people.client).get(f"/rooms/{room.pk}/").content.decode()
    )
    reply = send(people.therapist, room, "yes").message
    room_mark_read(actor=people.client, room=room, seq=reply.seq)
    page = as_user(people.therapist).get(f"/rooms/{room.pk}/").content.decode()
    assert "Seen by Cam Client" not in page  # clients' receipts are off by default
    people.client.read_receipts = True
    people.client.save()
    page = as_user(people.therapist).get(f"/rooms/{room.pk}/").content.decode()
    assert "Seen by Cam Client" in page


@pytest.mark.django_db
def test_the_admin_sees_every_therapists_response_figures(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, rooms["individual"], "hello")
        traveller.shift(datetime.timedelta(hours=2))
        send(people.therapist, rooms["individual"], "hi")
        page = as_user(people.admin).get("/practice/").content.decode()
    assert "Response times (30 days)" in page
    row = page[page.index("<td>Robin Therapist</td>") :]
    assert "<td>1</td><td>2.0 h</td>" in row and "100.0%" in row


@pytest.mark.django_db
def test_a_rooms_schedule_in_two_statements_equals_the_therapists_schedule(
    people: Personas, rooms: dict[str, Room], django_assert_num_queries: Any
) -> None:
    from confide.care.models import OutOfOffice
    from confide.rooms.schedules import schedule_for, schedule_for_room

    room = rooms["individual"]
    with django_assert_num_queries(2):
        default = schedule_for_room(room, now=TUESDAY_10)
    assert default == schedule_for(people.therapist, now=TUESDAY_10)
    assert default.weekdays == frozenset(range(5)) and default.away == ()

    schedule_update(
        actor=people.therapist,
        time_zone="America/New_York",
        weekdays=[1, 3],
        start=datetime.time(8, 30),
        end=datetime.time(12, 15),
        holiday_country="US",
    )
    day = datetime.timedelta(days=1)
    # Added out of order; one over before yesterday (not needed).
    away_add(actor=people.therapist, starts_at=TUESDAY_10 + 8 * day, ends_at=TUESDAY_10 + 9 * day)
    away_add(actor=people.therapist, starts_at=TUESDAY_10 - 9 * day, ends_at=TUESDAY_10 - 2 * day)
    away_add(actor=people.therapist, starts_at=TUESDAY_10 + day, ends_at=TUESDAY_10 + 3 * day)
    # A period that ends as it starts (the service refuses it; older rows may hold one).
    OutOfOffice.objects.create(
        therapist=people.therapist, starts_at=TUESDAY_10 + 5 * day, ends_at=TUESDAY_10 + 5 * day
    )
    with django_assert_num_queries(2):
        saved = schedule_for_room(room, now=TUESDAY_10)
    people.therapist.refresh_from_db()
    assert saved == schedule_for(people.therapist, now=TUESDAY_10)
    assert saved.time_zone == "America/New_York" and saved.weekdays == frozenset({1, 3})
    assert saved.start == datetime.time(8, 30) and saved.end == datetime.time(12, 15)
    assert saved.away == (
        (TUESDAY_10 + day, TUESDAY_10 + 3 * day),
        (TUESDAY_10 + 8 * day, TUESDAY_10 + 9 * day),
    )
