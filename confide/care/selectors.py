"""Reads for care. Access is decided here by relationship membership; strangers get NotFound."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from confide.accounts.models import Role, User
from confide.care.models import CareParticipant, CareRelationship, Invitation, TherapistAssignment
from confide.errors import NotFound


def _with_people(relationships: QuerySet[CareRelationship]) -> QuerySet[CareRelationship]:
    return relationships.select_related("therapist", "practice").prefetch_related(
        Prefetch(
            "participants",
            queryset=CareParticipant.objects.select_related("client").order_by("joined_at"),
        ),
        Prefetch(
            "invitations",
            queryset=Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True),
            to_attr="open_invitations",
        ),
    )


def relationships_visible_to(*, user: User) -> QuerySet[CareRelationship]:
    """Every relationship `user` may see: their own as client or therapist, or, for a practice
    admin, every relationship of their practice."""
    if not user.is_authenticated or not user.is_active:
        return CareRelationship.objects.none()
    if user.role == Role.ADMIN:
        visible = CareRelationship.objects.filter(practice=user.practice)
    elif user.role == Role.THERAPIST:
        visible = CareRelationship.objects.filter(therapist=user)
    else:
        visible = CareRelationship.objects.filter(participants__client=user)
    return _with_people(visible.filter(ended_at__isnull=True)).order_by("-created_at").distinct()


def relationship_get(*, user: User, relationship_id: int) -> CareRelationship:
    relationship = relationships_visible_to(user=user).filter(pk=relationship_id).first()
    if relationship is None:
        raise NotFound("No such relationship.")
    return relationship


def relationship_history(*, relationship: CareRelationship) -> QuerySet[TherapistAssignment]:
    return relationship.assignments.select_related("therapist", "assigned_by")


def therapists_of_practice(*, user: User) -> QuerySet[User]:
    """The therapists a practice admin manages (their caseload sizes attached as `caseload_n`)."""
    if user.role != Role.ADMIN:
        return User.objects.none()
    from django.db.models import Count

    return (
        User.objects.filter(practice=user.practice, role=Role.THERAPIST)
        .annotate(
            caseload_n=Count("caseload", filter=Q(caseload__ended_at__isnull=True), distinct=True)
        )
        .order_by("display_name")
    )


def invitations_visible_to(*, user: User) -> QuerySet[Invitation]:
    if user.role == Role.ADMIN:
        qs = Invitation.objects.filter(practice=user.practice)
    elif user.role == Role.THERAPIST:
        qs = Invitation.objects.filter(invited_by=user)
    else:
        return Invitation.objects.none()
    return qs.select_related("invited_by", "accepted_by")


def invitation_for_token(*, raw_token: str) -> Invitation:
    from confide.care.services import hash_invitation_token

    invitation = (
        Invitation.objects.select_related("practice", "invited_by")
        .filter(token_hash=hash_invitation_token(raw_token))
        .first()
    )
    if invitation is None:
        raise NotFound("This invitation link is not valid.")
    return invitation


def client_visible_to(*, user: User, client_id: int) -> User:
    """A client's account, for themselves, their therapist, or their practice's admin."""
    client = User.objects.filter(pk=client_id, role=Role.CLIENT, is_active=True).first()
    if client is None:
        raise NotFound("No such client.")
    if client.pk == user.pk:
        return client
    if user.role == Role.ADMIN and client.practice_id == user.practice_id:
        return client
    if (
        user.role == Role.THERAPIST
        and CareRelationship.objects.filter(
            therapist=user, participants__client=client, ended_at__isnull=True
        ).exists()
    ):
        return client
    raise NotFound("No such client.")


def colleagues_of(*, user: User) -> QuerySet[User]:
    """Other active therapists of the user's practice (for covering), for therapists and admins."""
    if user.role not in (Role.THERAPIST, Role.ADMIN):
        return User.objects.none()
    return (
        User.objects.filter(practice=user.practice, role=Role.THERAPIST, is_active=True)
        .exclude(pk=user.pk)
        .order_by("display_name")
    )
