"""/api/v1 endpoints for email delivery: a room's choice, and withdrawing reply addresses."""

# No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema

from confide.api.common import ERRORS, Id
from confide.api.common import me as caller
from confide.errors import InvalidInput
from confide.mail import services
from confide.rooms.models import Room

router = Router(tags=["email"])


class DeliveryIn(Schema):
    delivery: Literal["notify", "email", "none"]
    # Email therapy needs the explanation of what email does and does not protect acknowledged.
    understood: bool = False


class DeliveryOut(Schema):
    room: int
    delivery: str


class RevokedOut(Schema):
    revoked: int


@router.put("/rooms/{room_id}/delivery", response={200: DeliveryOut, **ERRORS})
def delivery_choose(request: HttpRequest, room_id: Id, payload: DeliveryIn) -> DeliveryOut:
    if payload.delivery == "email" and not payload.understood:
        raise InvalidInput(
            "Email therapy needs `understood: true`: the person has read what email does and "
            "does not protect.",
            field_errors={"understood": ["Must be true to choose email therapy."]},
        )
    member = services.delivery_choose(
        actor=caller(request), room=Room(pk=room_id), delivery=payload.delivery, via="api"
    )
    return DeliveryOut(room=room_id, delivery=member.delivery)


@router.post("/me/reply-addresses/revoke", response={200: RevokedOut, **ERRORS})
def reply_addresses_revoke(request: HttpRequest) -> RevokedOut:
    return RevokedOut(revoked=services.reply_tokens_revoke(actor=caller(request)))
