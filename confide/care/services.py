"""Writes for care: practices, invitations, relationships and reassignment."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from confide.accounts.models import Role, User
from confide.accounts.services import user_create
from confide.audit.services import audit_record
from confide.care import tasks
from confide.care.models import (
    LIVE_SESSION_MINUTES,
    CareKind,
    CareParticipant,
    CareRelationship,
    CoveringTherapist,
    Invitation,
    OutOfOffice,
    Practice,
    TherapistAssignment,
    TherapistSchedule,
)
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.provision import rooms_sync
from confide.scheduling.services import bookings_release


def hash_invitation_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def invitation_token(nonce: str) -> str:
    """The link token for an invitation: its nonce, signed with the server's secret key."""
    mac = hmac.new(settings.SECRET_KEY.encode(), f"invitation:{nonce}".encode(), hashlib.sha256)
    return f"{nonce}.{base64.urlsafe_b64encode(mac.digest()).decode().rstrip('=')}"


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    raw_token: str  # only ever held in memory and in the email; the database has the hash


def _clean_email(value: str, field: str) -> str:
    email = value.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvalidInput(
            "Enter a valid email address.", field_errors={field: ["Enter a valid email address."]}
        ) from exc
    if User.objects.filter(email=email).exists():
        raise Conflict(
            "This person already has an account.",
            field_errors={field: ["This person already has an account."]},
        )
    return email


def _issue(
    *,
    practice: Practice,
    role: Role,
    email: str,
    invited_by: User,
    relationship: CareRelationship | None,
    now: datetime.datetime,
) -> IssuedInvitation:
    """Create an invitation and queue its email in the caller's transaction."""
    nonce = secrets.token_urlsafe(18)
    raw = invitation_token(nonce)
    invitation = Invitation.objects.create(
        nonce=nonce,
        practice=practice,
        role=role,
        email=email,
        relationship=relationship,
        invited_by=invited_by,
        token_hash=hash_invitation_token(raw),
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    audit_record(
        actor=invited_by,
        action="invitation.create",
        object_type="invitation",
        object_id=invitation.pk,
        practice=practice,
        detail={"role": str(role)},
    )
    # The task row commits with the invitation; the worker sends the mail after commit.
    tasks.send_invitation_email.enqueue(invitation_id=invitation.pk)
    return IssuedInvitation(invitation=invitation, raw_token=raw)


def client_invite(
    *,
    actor: User,
    email: str,
    kind: CareKind = CareKind.INDIVIDUAL,
    partner_email: str = "",
    now: datetime.datetime | None = None,
) -> list[IssuedInvitation]:
    """A therapist invites a client, or both partners of a couple, into a new relationship."""
    if not actor.is_therapist or actor.practice is None:
        raise PermissionDenied("Only a therapist can invite clients.")
    if kind not in (CareKind.INDIVIDUAL, CareKind.COUPLE):
        raise InvalidInput("Choose individual or couple.", field_errors={"kind": ["Unknown kind."]})
    first = _clean_email(email, "email")
    emails = [first]
    if kind == CareKind.COUPLE:
        second = _clean_email(partner_email, "partner_email")
        if second == first:
            raise InvalidInput(
                "Each partner needs their own address.",
                field_errors={"partner_email": ["Each partner needs their own email address."]},
            )
        emails.append(second)
    moment = now or timezone.now()
    with transaction.atomic():
        relationship = CareRelationship.objects.create(
            practice=actor.practice, therapist=actor, kind=kind, created_at=moment
        )
        TherapistAssignment.objects.create(
            relationship=relationship, therapist=actor, assigned_by=actor, started_at=moment
        )
        audit_record(
            actor=actor,
            action="care.create",
            object_type="relationship",
            object_id=relationship.pk,
            detail={"kind": str(kind)},
        )
        return [
            _issue(
                practice=actor.practice,
                role=Role.CLIENT,
                email=address,
                invited_by=actor,
                relationship=relationship,
                now=moment,
            )
            for address in emails
        ]


def therapist_invite(
    *, actor: User, email: str, now: datetime.datetime | None = None
) -> IssuedInvitation:
    """A practice admin invites a therapist into the practice."""
    if not actor.is_practice_admin or actor.practice is None:
        raise PermissionDenied("Only a practice admin can invite therapists.")
    address = _clean_email(email, "email")
    with transaction.atomic():
        return _issue(
            practice=actor.practice,
            role=Role.THERAPIST,
            email=address,
            invited_by=actor,
            relationship=None,
            now=now or timezone.now(),
        )


def invitation_revoke(*, actor: User, invitation_id: int) -> Invitation:
    invitation = Invitation.objects.filter(pk=invitation_id, practice=actor.practice).first()
    if invitation is None or not (actor.is_practice_admin or invitation.invited_by_id == actor.pk):
        raise NotFound("No such invitation.")
    if invitation.accepted_at is not None:
        raise Conflict("This invitation has already been used.")
    with transaction.atomic():
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            actor=actor,
            action="invitation.revoke",
            object_type="invitation",
            object_id=invitation.pk,
        )
    return invitation


def invitation_accept(
    *,
    raw_token: str,
    display_name: str,
    password: str,
    time_zone: str,
    country: str,
    locale: str = "en",
    now: datetime.datetime | None = None,
) -> User:
    """Create the invited person's account and seat them in their relationship. Single use."""
    moment = now or timezone.now()
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update(of=("self",))
            .select_related("practice", "relationship")
            .filter(token_hash=hash_invitation_token(raw_token))
            .first()
        )
        if invitation is None:
            raise NotFound("This invitation link is not valid.")
        status = invitation.status(moment)
        if status != "pending":
            raise Conflict(f"This invitation link has {status}. Ask for a new one.")
        user = user_create(
            email=invitation.email,
            password=password,
            display_name=display_name,
            role=Role(invitation.role),
            practice=invitation.practice,
            time_zone=time_zone,
            country=country,
            locale=locale,
        )
        invitation.accepted_at = moment
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if invitation.relationship is not None:
            CareParticipant.objects.create(
                relationship=invitation.relationship, client=user, joined_at=moment
            )
            rooms_sync(relationship=invitation.relationship, actor=user, now=moment)
        audit_record(
            actor=user,
            action="invitation.accept",
            object_type="invitation",
            object_id=invitation.pk,
            practice=invitation.practice,
        )
    return user


def relationship_reassign(
    *, actor: User, relationship_id: int, therapist_id: int, now: datetime.datetime | None = None
) -> CareRelationship:
    """A practice admin hands a relationship to another therapist of the same practice."""
    if not actor.is_practice_admin:
        raise NotFound("No such relationship.")
    moment = now or timezone.now()
    with transaction.atomic():
        relationship = (
            CareRelationship.objects.select_for_update()
            .filter(pk=relationship_id, practice=actor.practice, ended_at__isnull=True)
            .first()
        )
        if relationship is None:
            raise NotFound("No such relationship.")
        therapist = User.objects.filter(
            pk=therapist_id, practice=actor.practice, role=Role.THERAPIST, is_active=True
        ).first()
        if therapist is None:
            raise InvalidInput(
                "Choose a therapist of this practice.",
                field_errors={"therapist": ["Choose a therapist of this practice."]},
            )
        previous = relationship.therapist_id
        if previous == therapist.pk:
            return relationship
        TherapistAssignment.objects.filter(relationship=relationship, ended_at__isnull=True).update(
            ended_at=moment
        )
        TherapistAssignment.objects.create(
            relationship=relationship, therapist=therapist, assigned_by=actor, started_at=moment
        )
        relationship.therapist = therapist
        relationship.save(update_fields=["therapist"])
        rooms_sync(relationship=relationship, actor=actor, now=moment)
        # Sessions booked with the former therapist are theirs, not the new therapist's.
        bookings_release(actor=actor, relationship=relationship, therapist_id=previous, now=moment)
        audit_record(
            actor=actor,
            action="care.reassign",
            object_type="relationship",
            object_id=relationship.pk,
            detail={"from_therapist": previous, "to_therapist": therapist.pk},
        )
    return relationship


def practice_update(
    *,
    actor: User,
    name: str,
    reply_window_business_days: int,
    escalation_grace_hours: int = 24,
    live_session_minutes: int | None = None,
) -> Practice:
    if not actor.is_practice_admin or actor.practice is None:
        raise PermissionDenied("Only a practice admin can change the practice.")
    errors: dict[str, list[str]] = {}
    if not name.strip() or len(name.strip()) > 120:
        errors["name"] = ["Give the practice a name (1 to 120 characters)."]
    if not 1 <= reply_window_business_days <= 10:
        errors["reply_window_business_days"] = ["Choose between 1 and 10 business days."]
    if not 1 <= escalation_grace_hours <= 240:
        errors["escalation_grace_hours"] = ["Choose between 1 and 240 hours."]
    if live_session_minutes is not None and live_session_minutes not in LIVE_SESSION_MINUTES:
        errors["live_session_minutes"] = ["Choose 30, 45 or 50 minutes."]
    if errors:
        raise InvalidInput("The practice settings are not valid.", field_errors=errors)
    practice = actor.practice
    practice.name = name.strip()
    practice.reply_window_business_days = reply_window_business_days
    practice.escalation_grace_hours = escalation_grace_hours
    if live_session_minutes is not None:
        practice.live_session_minutes = live_session_minutes
    with transaction.atomic():
        practice.save(
            update_fields=[
                "name",
                "reply_window_business_days",
                "escalation_grace_hours",
                "live_session_minutes",
            ]
        )
        audit_record(
            actor=actor, action="practice.update", object_type="practice", object_id=practice.pk
        )
    return practice


def practice_create(
    *, name: str, slug: str, country: str, time_zone: str = "UTC", is_demo: bool = False
) -> Practice:
    """A new practice. Operators create practices (the demo seed does the same)."""
    practice = Practice(name=name, slug=slug, country=country, time_zone=time_zone, is_demo=is_demo)
    try:
        practice.full_clean()
    except ValidationError as exc:
        raise InvalidInput("The practice is not valid.", field_errors=exc.message_dict) from exc
    with transaction.atomic():
        practice.save()
        audit_record(
            actor=None,
            action="practice.create",
            object_type="practice",
            object_id=practice.pk,
            practice=practice,
        )
    return practice


def _relationship_managed_by(actor: User, relationship_id: int) -> CareRelationship:
    """The relationship, if `actor` is its therapist or their practice's admin."""
    relationship = (
        CareRelationship.objects.select_for_update()
        .filter(pk=relationship_id, practice=actor.practice, ended_at__isnull=True)
        .first()
    )
    if relationship is None or not (
        actor.is_practice_admin or relationship.therapist_id == actor.pk
    ):
        raise NotFound("No such relationship.")
    return relationship


def covering_add(
    *, actor: User, relationship_id: int, therapist_id: int, now: datetime.datetime | None = None
) -> CoveringTherapist:
    """Add a covering therapist (for leave): they see the relationship's rooms from now on."""
    moment = now or timezone.now()
    with transaction.atomic():
        relationship = _relationship_managed_by(actor, relationship_id)
        therapist = User.objects.filter(
            pk=therapist_id, practice=actor.practice, role=Role.THERAPIST, is_active=True
        ).first()
        if therapist is None or therapist.pk == relationship.therapist_id:
            raise InvalidInput(
                "Choose another therapist of this practice.",
                field_errors={"therapist": ["Choose another therapist of this practice."]},
            )
        cover = relationship.covers.filter(therapist=therapist, ended_at__isnull=True).first()
        if cover is None:
            cover = CoveringTherapist.objects.create(
                relationship=relationship,
                therapist=therapist,
                added_by=actor,
                started_at=moment,
            )
            audit_record(
                actor=actor,
                action="care.cover_add",
                object_type="relationship",
                object_id=relationship.pk,
                detail={"therapist": therapist.pk},
            )
        rooms_sync(relationship=relationship, actor=actor, now=moment)
    return cover


def covering_end(
    *, actor: User, relationship_id: int, therapist_id: int, now: datetime.datetime | None = None
) -> None:
    moment = now or timezone.now()
    with transaction.atomic():
        relationship = _relationship_managed_by(actor, relationship_id)
        ended = relationship.covers.filter(therapist_id=therapist_id, ended_at__isnull=True).update(
            ended_at=moment
        )
        if not ended:
            raise NotFound("That therapist is not covering.")
        audit_record(
            actor=actor,
            action="care.cover_end",
            object_type="relationship",
            object_id=relationship.pk,
            detail={"therapist": therapist_id},
        )
        rooms_sync(relationship=relationship, actor=actor, now=moment)


def schedule_update(
    *,
    actor: User,
    time_zone: str,
    weekdays: list[int],
    start: datetime.time,
    end: datetime.time,
    holiday_country: str,
) -> TherapistSchedule:
    """A therapist's working time: replies are promised within it."""
    if not actor.is_therapist:
        raise PermissionDenied("Only therapists have working hours here.")
    errors: dict[str, list[str]] = {}
    if not weekdays or any(d not in range(7) for d in weekdays):
        errors["weekdays"] = ["Choose at least one working day."]
    if end <= start:
        errors["end"] = ["The working day must end after it starts."]
    schedule = TherapistSchedule(
        therapist=actor,
        time_zone=time_zone,
        weekdays="".join(str(d) for d in sorted(set(weekdays))),
        start=start,
        end=end,
        holiday_country=holiday_country,
    )
    try:
        schedule.full_clean(exclude=["therapist"])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise InvalidInput("The working hours are not valid.", field_errors=errors)
    with transaction.atomic():
        saved, _ = TherapistSchedule.objects.update_or_create(
            therapist=actor,
            defaults={
                "time_zone": schedule.time_zone,
                "weekdays": schedule.weekdays,
                "start": start,
                "end": end,
                "holiday_country": holiday_country,
            },
        )
        audit_record(actor=actor, action="schedule.update", object_type="user", object_id=actor.pk)
    return saved


def away_add(
    *, actor: User, starts_at: datetime.datetime, ends_at: datetime.datetime
) -> OutOfOffice:
    if not actor.is_therapist:
        raise PermissionDenied("Only therapists set out-of-office periods.")
    if ends_at <= starts_at:
        raise InvalidInput(
            "The period must end after it starts.",
            field_errors={"ends_at": ["The period must end after it starts."]},
        )
    if ends_at - starts_at > datetime.timedelta(days=366):
        raise InvalidInput(
            "At most a year at a time.",
            field_errors={"ends_at": ["Out of office is at most a year."]},
        )
    with transaction.atomic():
        away = OutOfOffice.objects.create(therapist=actor, starts_at=starts_at, ends_at=ends_at)
        audit_record(actor=actor, action="away.add", object_type="user", object_id=actor.pk)
    return away


def away_remove(*, actor: User, away_id: int) -> None:
    deleted, _ = OutOfOffice.objects.filter(pk=away_id, therapist=actor).delete()
    if not deleted:
        raise NotFound("No such period.")
    audit_record(actor=actor, action="away.remove", object_type="user", object_id=actor.pk)
