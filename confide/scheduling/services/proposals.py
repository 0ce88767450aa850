"""Writes for proposals: the therapist offers a client a few times; the client accepts one."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import Conflict, InvalidInput, PermissionDenied
from confide.scheduling import selectors, tasks
from confide.scheduling.models import Booking, Proposal, ProposalStatus, ProposedTime
from confide.scheduling.services.bookings import _aware, _book, _is_therapist_of, _overlaps

MAX_PROPOSED_TIMES = 5


def proposal_create(
    *,
    actor: User,
    relationship_id: int,
    session_type_id: int,
    times: list[datetime.datetime],
    now: datetime.datetime | None = None,
) -> Proposal:
    """The therapist offers a client a few times; the client accepts one of them."""
    moment = now or timezone.now()
    relationship = selectors.relationship_for(user=actor, relationship_id=relationship_id)
    if not _is_therapist_of(actor, relationship):
        raise PermissionDenied("Only the therapist proposes times.")
    session_type = selectors.session_type_for(
        relationship=relationship, session_type_id=session_type_id
    )
    starts = sorted({_aware(t, "times") for t in times})
    if not 1 <= len(starts) <= MAX_PROPOSED_TIMES:
        raise InvalidInput(
            f"Propose between 1 and {MAX_PROPOSED_TIMES} times.",
            field_errors={"times": [f"Give 1 to {MAX_PROPOSED_TIMES} different times."]},
        )
    blocking = datetime.timedelta(minutes=session_type.minutes + session_type.buffer_minutes)
    for start in starts:
        if start <= moment:
            raise InvalidInput(
                "A proposed time has already passed.",
                field_errors={"times": ["Every proposed time must be in the future."]},
            )
        if _overlaps(actor.pk, start, start + blocking):
            raise Conflict(
                "You already have a session or blocked time at one of those times.",
                field_errors={"times": ["One of the times overlaps your calendar."]},
            )
    with transaction.atomic():
        proposal = Proposal.objects.create(
            therapist=actor, relationship=relationship, session_type=session_type, created_at=moment
        )
        ProposedTime.objects.bulk_create(
            [ProposedTime(proposal=proposal, starts_at=start) for start in starts]
        )
        audit_record(
            actor=actor,
            action="proposal.create",
            object_type="proposal",
            object_id=proposal.pk,
            practice=relationship.practice,
            detail={"times": len(starts)},
        )
        tasks.queue_proposal_notice(proposal)
    return proposal


def proposal_accept(
    *,
    actor: User,
    proposal_id: int,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Booking:
    """A client accepts one proposed time: it is booked if it is still free."""
    moment = now or timezone.now()
    proposal = selectors.proposal_get(user=actor, proposal_id=proposal_id)
    if not actor.is_client:
        raise PermissionDenied("The client accepts a proposal.")
    start = _aware(starts_at)
    if start not in {t.starts_at for t in proposal.times.all()}:
        raise InvalidInput(
            "Choose one of the proposed times.",
            field_errors={"starts_at": ["That is not one of the proposed times."]},
        )
    with transaction.atomic():
        locked = Proposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.OPEN:
            raise Conflict("This proposal has already been answered or withdrawn.")
        booking = _book(
            actor=actor,
            relationship=proposal.relationship,
            session_type=proposal.session_type,
            start=start,
            now=moment,
            by_client_rules=False,  # the therapist offered this time themselves
        )
        locked.status, locked.booking = ProposalStatus.ACCEPTED, booking
        locked.save(update_fields=["status", "booking"])
    return booking


def proposal_withdraw(*, actor: User, proposal_id: int) -> Proposal:
    proposal = selectors.proposal_get(user=actor, proposal_id=proposal_id)
    if proposal.therapist_id != actor.pk:
        raise PermissionDenied("Only the therapist withdraws a proposal.")
    with transaction.atomic():
        changed = Proposal.objects.filter(pk=proposal.pk, status=ProposalStatus.OPEN).update(
            status=ProposalStatus.WITHDRAWN
        )
        if not changed:
            raise Conflict("This proposal has already been answered.")
        audit_record(
            actor=actor, action="proposal.withdraw", object_type="proposal", object_id=proposal.pk
        )
    proposal.status = ProposalStatus.WITHDRAWN
    return proposal
