"""/api/v1: thin endpoints that parse input, call one service or selector, and shape the answer."""

# No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.
import datetime
import zoneinfo

from django.http import HttpRequest, HttpResponse
from ninja import Field, NinjaAPI, Query, Schema, Status
from ninja.errors import AuthenticationError
from ninja.pagination import LimitOffsetPagination, paginate

from confide.accounts import selectors as account_selectors
from confide.accounts import services as account_services
from confide.accounts.models import PersonalAccessToken, User
from confide.api.auth import SessionAuth, TokenAuth
from confide.api.common import ERRORS, MAX_ID, Id
from confide.api.common import me as caller
from confide.api.rooms import router as rooms_router
from confide.api.schemas import (
    AuditEventOut,
    ClientInviteIn,
    InvitationOut,
    MeOut,
    PersonOut,
    ProfileIn,
    ReassignIn,
    RelationshipOut,
    TherapistInviteIn,
    TherapistOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
)
from confide.audit.models import AuditEvent
from confide.audit.selectors import audit_events_for_practice
from confide.audit.services import audit_record
from confide.care import selectors as care_selectors
from confide.care import services as care_services
from confide.care.models import CareKind, CareRelationship, Invitation
from confide.errors import DomainError, PermissionDenied, http_status
from confide.mail.api import router as mail_router
from confide.scheduling.api import router as scheduling_router

api = NinjaAPI(
    title="Confide API",
    version="1",
    description="Confide's HTTP API. Authenticate with a personal access token "
    "(`Authorization: Bearer cfd_…`) or, from the browser, the session cookie and CSRF token.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api-v1",
)

api.add_router("", rooms_router)
api.add_router("", scheduling_router)
api.add_router("", mail_router)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = http_status(exc)
    return api.create_response(
        request, {"detail": exc.message, "errors": exc.field_errors}, status=status
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Authentication required."}, status=401)


def _relationship_out(relationship: CareRelationship) -> RelationshipOut:
    return RelationshipOut(
        id=relationship.pk,
        kind=relationship.kind,
        therapist=PersonOut(
            id=relationship.therapist.pk, display_name=relationship.therapist.display_name
        ),
        clients=[
            PersonOut(id=p.client.pk, display_name=p.client.display_name)
            for p in relationship.participants.all()
        ],
        created_at=relationship.created_at,
    )


def _invitation_out(invitation: Invitation) -> InvitationOut:
    return InvitationOut(
        id=invitation.pk,
        email=invitation.email,
        role=invitation.role,
        relationship_id=invitation.relationship_id,
        status=invitation.status(),
        expires_at=invitation.expires_at,
    )


# --- me ---------------------------------------------------------------------------------------


@api.get("/me", response={200: MeOut, **ERRORS}, tags=["account"])
def me(request: HttpRequest) -> User:
    return caller(request)


@api.patch("/me", response={200: MeOut, **ERRORS}, tags=["account"])
def me_update(request: HttpRequest, payload: ProfileIn) -> User:
    return account_services.profile_update(user=caller(request), **payload.dict())


# --- care -------------------------------------------------------------------------------------


@api.get("/care/relationships", response={200: list[RelationshipOut], **ERRORS}, tags=["care"])
def relationships(request: HttpRequest) -> list[RelationshipOut]:
    user = caller(request)
    return [_relationship_out(r) for r in care_selectors.relationships_visible_to(user=user)]


@api.get(
    "/care/relationships/{relationship_id}",
    response={200: RelationshipOut, **ERRORS},
    tags=["care"],
)
def relationship(request: HttpRequest, relationship_id: Id) -> RelationshipOut:
    user = caller(request)
    found = care_selectors.relationship_get(user=user, relationship_id=relationship_id)
    audit_record(
        actor=user,
        action="relationship.view",
        object_type="relationship",
        object_id=found.pk,
        practice=found.practice,
    )
    return _relationship_out(found)


@api.post(
    "/care/relationships/{relationship_id}/reassign",
    response={200: RelationshipOut, **ERRORS},
    tags=["practice"],
)
def relationship_reassign(
    request: HttpRequest, relationship_id: Id, payload: ReassignIn
) -> RelationshipOut:
    user = caller(request)
    care_services.relationship_reassign(
        actor=user, relationship_id=relationship_id, therapist_id=payload.therapist_id
    )
    return _relationship_out(
        care_selectors.relationship_get(user=user, relationship_id=relationship_id)
    )


@api.get("/care/invitations", response={200: list[InvitationOut], **ERRORS}, tags=["care"])
def invitations(request: HttpRequest) -> list[InvitationOut]:
    user = caller(request)
    return [_invitation_out(i) for i in care_selectors.invitations_visible_to(user=user)[:500]]


@api.post("/care/invitations", response={201: list[InvitationOut], **ERRORS}, tags=["care"])
def client_invite(request: HttpRequest, payload: ClientInviteIn) -> Status[list[InvitationOut]]:
    issued = care_services.client_invite(
        actor=caller(request),
        email=payload.email,
        kind=CareKind(payload.kind),
        partner_email=payload.partner_email or "",
    )
    return Status(201, [_invitation_out(item.invitation) for item in issued])


@api.delete(
    "/care/invitations/{invitation_id}", response={200: InvitationOut, **ERRORS}, tags=["care"]
)
def invitation_revoke(request: HttpRequest, invitation_id: Id) -> InvitationOut:
    invitation = care_services.invitation_revoke(actor=caller(request), invitation_id=invitation_id)
    return _invitation_out(invitation)


# --- practice ---------------------------------------------------------------------------------


@api.get("/practice/therapists", response={200: list[TherapistOut], **ERRORS}, tags=["practice"])
def therapists(request: HttpRequest) -> list[TherapistOut]:
    user = caller(request)
    if not user.is_practice_admin:
        raise PermissionDenied("Only a practice admin can list the practice's therapists.")
    return [
        TherapistOut(id=t.pk, display_name=t.display_name, email=t.email, caseload=t.caseload_n)  # type: ignore[attr-defined]
        for t in care_selectors.therapists_of_practice(user=user)
    ]


@api.post(
    "/practice/therapist-invitations", response={201: InvitationOut, **ERRORS}, tags=["practice"]
)
def therapist_invite(request: HttpRequest, payload: TherapistInviteIn) -> Status[InvitationOut]:
    issued = care_services.therapist_invite(actor=caller(request), email=payload.email)
    return Status(201, _invitation_out(issued.invitation))


class BoundedPagination(LimitOffsetPagination):
    """Limit/offset with both ends bounded: a huge offset is a 422, not a database overflow."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=10_000_000)


class AuditFilter(Schema):
    actor_id: int | None = Field(None, ge=1, le=MAX_ID)
    since: datetime.date | None = None
    until: datetime.date | None = None


@api.get("/audit/events", response={200: list[AuditEventOut], **ERRORS}, tags=["practice"])
@paginate(BoundedPagination)
def audit_events(request: HttpRequest, filters: Query[AuditFilter]) -> list[AuditEvent]:
    user = caller(request)
    if not user.is_practice_admin or user.practice is None:
        raise PermissionDenied("Only a practice admin can read the audit log.")
    audit_record(
        actor=user, action="audit.view", object_type="practice", object_id=user.practice.pk
    )
    return audit_events_for_practice(  # type: ignore[return-value]
        practice=user.practice,
        actor_id=filters.actor_id,
        since=filters.since,
        until=filters.until,
        tz=zoneinfo.ZoneInfo(user.time_zone),
    )


# --- tokens -----------------------------------------------------------------------------------


@api.get("/tokens", response={200: list[TokenOut], **ERRORS}, tags=["account"])
def tokens(request: HttpRequest) -> list[PersonalAccessToken]:
    return list(account_selectors.tokens_for(user=caller(request))[:200])


@api.post("/tokens", response={201: TokenCreatedOut, **ERRORS}, tags=["account"])
def token_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    token, raw = account_services.token_create(
        user=caller(request), name=payload.name, ttl_days=payload.ttl_days
    )
    return Status(
        201,
        TokenCreatedOut(
            id=token.pk,
            name=token.name,
            prefix=token.prefix,
            created_at=token.created_at,
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
            token=raw,
        ),
    )


@api.delete("/tokens/{token_id}", response={200: TokenOut, **ERRORS}, tags=["account"])
def token_revoke(request: HttpRequest, token_id: Id) -> PersonalAccessToken:
    return account_services.token_revoke(user=caller(request), token_id=token_id)
