from __future__ import annotations

import datetime

from ninja import Field, Schema


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


class MeOut(Schema):
    id: int
    email: str
    display_name: str
    role: str
    time_zone: str
    country: str
    locale: str
    practice_id: int | None


class ProfileIn(Schema):
    display_name: str = Field(min_length=1, max_length=80)
    time_zone: str = Field(min_length=1, max_length=64)
    country: str = Field(min_length=2, max_length=2)
    locale: str = Field(min_length=2, max_length=8)


class PersonOut(Schema):
    id: int
    display_name: str


class RelationshipOut(Schema):
    id: int
    kind: str
    therapist: PersonOut
    clients: list[PersonOut]
    created_at: datetime.datetime


class ClientInviteIn(Schema):
    email: str = Field(min_length=3, max_length=254)
    kind: str = Field("individual", pattern="^(individual|couple)$")
    partner_email: str | None = Field(None, max_length=254)


class TherapistInviteIn(Schema):
    email: str = Field(min_length=3, max_length=254)


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    relationship_id: int | None
    status: str
    expires_at: datetime.datetime


class ReassignIn(Schema):
    therapist_id: int = Field(ge=1, le=2**62)


class TherapistOut(Schema):
    id: int
    display_name: str
    email: str
    caseload: int


class AuditEventOut(Schema):
    id: int
    at: datetime.datetime
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    ip: str | None


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=80)
    ttl_days: int = Field(90, ge=1, le=365)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    last_used_at: datetime.datetime | None
    revoked_at: datetime.datetime | None


class TokenCreatedOut(TokenOut):
    token: str
