"""The delivery choice: who may make it, what it needs, and the record it leaves."""

from __future__ import annotations

import json
from typing import Any

import pytest

from confide.audit.models import AuditEvent
from confide.mail.models import DeliveryChoice, ReplyToken
from confide.mail.services import EXPLANATION_VERSION
from confide.rooms.models import Delivery, RoomKind
from tests.mail.mails import address_for
from tests.personas import Personas
from tests.rooms.conftest import room_of

pytestmark = pytest.mark.django_db


def test_choosing_email_therapy_needs_the_explanation_acknowledged(
    people: Personas, as_user: Any
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    web = as_user(people.client)
    page = web.get(f"/rooms/{room.pk}/")
    assert b"What email does and does not protect" in page.content
    refused = web.post(f"/rooms/{room.pk}/delivery/", {"delivery": "email"}, follow=True)
    assert b"tick the box" in refused.content
    assert room.members.get(user=people.client).delivery == Delivery.NOTIFY

    web.post(f"/rooms/{room.pk}/delivery/", {"delivery": "email", "understood": "yes"})
    assert room.members.get(user=people.client).delivery == Delivery.EMAIL
    choice = DeliveryChoice.objects.get(user=people.client)
    assert (choice.delivery, choice.via, choice.explanation_version) == (
        "email",
        "web",
        EXPLANATION_VERSION,
    )
    assert choice.chosen_at is not None
    assert AuditEvent.objects.filter(action="mail.delivery_chosen", actor=people.client).exists()


def test_an_unknown_choice_is_a_clear_error(people: Personas, as_user: Any) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    answer = as_user(people.client).post(
        f"/rooms/{room.pk}/delivery/", {"delivery": "carrier pigeon"}, follow=True
    )
    assert answer.status_code == 200 and b"Choose how you would like" in answer.content


@pytest.mark.parametrize("who", ["outsider", "colleague", "partner_a"])
def test_people_outside_a_room_cannot_choose_for_it(
    people: Personas, as_user: Any, who: str
) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    person = people.all()[who]
    answer = as_user(person).post(f"/rooms/{room.pk}/delivery/", {"delivery": "none"})
    assert answer.status_code == 404
    api = as_user(person).put(
        f"/api/v1/rooms/{room.pk}/delivery",
        json.dumps({"delivery": "none"}),
        content_type="application/json",
    )
    assert api.status_code == 404
    assert not DeliveryChoice.objects.exists()


def test_the_api_sets_the_choice_and_validates_it(people: Personas, as_user: Any) -> None:
    room = room_of(people, RoomKind.COUPLE)
    api = as_user(people.partner_b)
    url = f"/api/v1/rooms/{room.pk}/delivery"

    def put(body: Any) -> Any:
        return api.put(url, json.dumps(body), content_type="application/json")

    assert put({"delivery": "email"}).status_code == 400
    assert put({"delivery": "fax"}).status_code == 422
    assert put({}).status_code == 422
    assert put("not an object").status_code in (400, 422)
    done = put({"delivery": "email", "understood": True})
    assert done.status_code == 200 and done.json() == {"room": room.pk, "delivery": "email"}
    assert api.get(url).status_code == 405


def test_withdrawing_reply_addresses_revokes_every_one(people: Personas, as_user: Any) -> None:
    room = room_of(people, RoomKind.INDIVIDUAL)
    for _ in range(3):
        address_for(people.client, room)
    address_for(people.therapist, room)
    web = as_user(people.client)
    assert b"Withdraw all my reply addresses" in web.get("/account/").content
    web.post("/account/reply-addresses/revoke/")
    assert ReplyToken.objects.filter(user=people.client, revoked_at__isnull=True).count() == 0
    assert ReplyToken.objects.filter(user=people.therapist, revoked_at__isnull=True).count() == 1
    answer = as_user(people.outsider).post("/api/v1/me/reply-addresses/revoke")
    assert answer.status_code == 200 and answer.json() == {"revoked": 0}
    assert web.get("/account/reply-addresses/revoke/").status_code == 405
