"""Every scheduling page against every persona: the people of a booking see it, nobody else
does, and the outsider and the colleague always get 404."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from confide.scheduling import services
from confide.scheduling.models import Booking, SessionType
from tests.personas import Personas
from tests.scheduling.conftest import MONDAY, at

ALL = ("admin", "therapist", "colleague", "client", "partner_a", "partner_b", "outsider")

pytestmark = pytest.mark.django_db


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in ALL}


@pytest.fixture(autouse=True)
def _monday() -> Iterator[None]:
    with time_machine.travel(MONDAY, tick=False):
        yield


def bookings(people: Personas, video: SessionType) -> dict[str, Booking]:
    return {
        "individual": services.booking_create(
            actor=people.client,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            starts_at=at(5, 10),
        ),
        "couple": services.booking_create(
            actor=people.partner_a,
            relationship_id=people.couple.pk,
            session_type_id=video.pk,
            starts_at=at(5, 14),
        ),
        "block": services.block_create(
            actor=people.therapist, starts_at=at(6, 9), ends_at=at(6, 12), label="Supervision"
        ),
    }


def test_every_scheduling_page_against_every_persona(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    made = bookings(people, video)
    solo, pair, block = made["individual"].pk, made["couple"].pk, made["block"].pk
    staff_only = expect(404, therapist=200, colleague=200)
    rows: list[tuple[str, str, dict[str, int]]] = [
        ("/book/", "get", expect(200, admin=200)),
        ("/schedule/", "get", staff_only),
        ("/schedule/setup/", "get", staff_only),
        (f"/bookings/{solo}/", "get", expect(404, therapist=200, client=200)),
        (f"/bookings/{solo}/session.ics", "get", expect(404, therapist=200, client=200)),
        (f"/bookings/{pair}/", "get", expect(404, therapist=200, partner_a=200, partner_b=200)),
        (f"/book/?move={pair}", "get", expect(404, therapist=200, partner_a=200, partner_b=200)),
        (f"/bookings/{block}/", "get", expect(404, therapist=200)),
        (f"/book/?move={block}", "get", expect(404)),
    ]
    for url, method, expected in rows:
        for name, status in expected.items():
            answer = getattr(as_user(getattr(people, name)), method)(url)
            assert answer.status_code == status, (url, name, answer.status_code)
            if status == 404 and name in ("outsider", "colleague"):
                body = answer.content.decode()
                assert "Cam Client" not in body and "Supervision" not in body


def test_strangers_cannot_cancel_join_or_record_anything(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    made = bookings(people, video)
    for name in ("outsider", "colleague", "admin", "partner_a", "partner_b"):
        browser = as_user(getattr(people, name))
        for action in ("cancel", "join", "no-show"):
            for booking in (made["individual"], made["block"]):
                answer = browser.post(f"/bookings/{booking.pk}/{action}/")
                assert answer.status_code == 404, (name, action, booking.kind)
    assert Booking.objects.filter(status="confirmed").count() == 3
    assert as_user(people.outsider).get("/").content.decode().count("Tuesday 5 January") == 0
