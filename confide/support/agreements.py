"""The care agreement of a relationship: what the client (or couple) and the therapist agreed.

Either side proposes a version (the first one too); the other side accepts or declines it, and
the proposer may withdraw it while it waits. The therapist side is the relationship's therapist
and any covering therapist; the client side is its clients. For a couple, one partner's
acceptance of the therapist's proposal counts for the couple (the page says who accepted): both
partners see the proposal and either can decline it, and a partner who disagrees with an
accepted version proposes a change. A partner's own proposal is decided by the therapist side,
never by the other partner.

Everyone in the relationship sees the agreement, in every room of it: it is shared by design.
Its reply window is what the therapist promises this client; the practice's reply window, which
the rooms compute due times from, is not changed by it.

Every read and write is audited (ids only); each write also appends one event to the
relationship's main room (the individual room, or the couple's shared room).
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.care.models import CareParticipant, CareRelationship, CoveringTherapist
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import Room
from confide.rooms.services import event_append
from confide.support.adherence import checkins_since, week_start
from confide.support.models import AgreementState, CareAgreement, HomeworkRhythm

MAX_GOALS_CHARS = 4000
CHECKINS_RANGE = (1, 7)
REPLY_WINDOW_RANGE = (1, 10)
LIVE_SESSIONS_RANGE = (0, 8)
DEFAULT_CHECKINS = 3
DEFAULT_LIVE_SESSIONS = 2


def goals_context(relationship_id: int, number: int) -> str:
    return f"agreement:{relationship_id}:{number}"


# --- who is in the relationship ------------------------------------------------------------


def is_therapist_side(
    user: User, relationship: CareRelationship, now: datetime.datetime | None = None
) -> bool:
    """The relationship's therapist, or a therapist covering it right now."""
    if not user.is_authenticated or not user.is_active or not user.is_therapist:
        return False
    if relationship.therapist_id == user.pk:
        return True
    return CoveringTherapist.objects.filter(
        relationship=relationship,
        therapist=user,
        ended_at__isnull=True,
        started_at__lte=now or timezone.now(),
    ).exists()


def is_client_side(user: User, relationship: CareRelationship) -> bool:
    if not user.is_authenticated or not user.is_active or not user.is_client:
        return False
    return CareParticipant.objects.filter(relationship=relationship, client=user).exists()


@dataclasses.dataclass(frozen=True)
class Party:
    """A person of a relationship, and which side they are on."""

    relationship: CareRelationship
    staff: bool


def party(*, user: User, relationship_id: int, lock: bool = False) -> Party:
    """The relationship, if `user` is in it (therapist side or client); anyone else, the
    practice admin included, gets NotFound. `lock` row-locks it (inside a transaction)."""
    if not user.is_authenticated or not user.is_active:
        raise NotFound("No such care agreement.")
    found = CareRelationship.objects.filter(pk=relationship_id, ended_at__isnull=True)
    if lock:
        found = found.select_for_update()
    relationship = found.select_related("practice", "therapist").first()
    if relationship is None:
        raise NotFound("No such care agreement.")
    if is_therapist_side(user, relationship):
        return Party(relationship, staff=True)
    if is_client_side(user, relationship):
        return Party(relationship, staff=False)
    raise NotFound("No such care agreement.")


def main_room(relationship: CareRelationship) -> Room | None:
    """The relationship's shared room: the individual room, or the couple's room."""
    return (
        Room.objects.filter(relationship=relationship, private_for__isnull=True)
        .order_by("pk")
        .first()
    )


# --- what a version says ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Terms:
    checkins_per_week: int
    reply_window_business_days: int
    live_sessions_per_month: int
    homework_rhythm: str
    goals: str


@dataclasses.dataclass(frozen=True)
class Version:
    """One version of the agreement, decrypted, for a page or an export."""

    id: int
    number: int
    state: str
    state_label: str
    terms: Terms
    homework_label: str
    proposed_by: User
    proposed_by_staff: bool
    proposed_at: datetime.datetime
    decided_by: User | None
    decided_at: datetime.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "state": self.state,
            "checkins_per_week": self.terms.checkins_per_week,
            "reply_window_business_days": self.terms.reply_window_business_days,
            "live_sessions_per_month": self.terms.live_sessions_per_month,
            "homework_rhythm": self.terms.homework_rhythm,
            "goals": self.terms.goals,
            "proposed_by": {"id": self.proposed_by.pk, "name": self.proposed_by.display_name},
            "proposed_at": self.proposed_at.isoformat(),
            "decided_by": None
            if self.decided_by is None
            else {"id": self.decided_by.pk, "name": self.decided_by.display_name},
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def _version(agreement: CareAgreement) -> Version:
    goals = crypto.decrypt_text(
        bytes(agreement.goals),
        context=goals_context(agreement.relationship_id, agreement.number),
    )
    return Version(
        id=agreement.pk,
        number=agreement.number,
        state=agreement.state,
        state_label=AgreementState(agreement.state).label,
        terms=Terms(
            checkins_per_week=agreement.checkins_per_week,
            reply_window_business_days=agreement.reply_window_business_days,
            live_sessions_per_month=agreement.live_sessions_per_month,
            homework_rhythm=agreement.homework_rhythm,
            goals=goals,
        ),
        homework_label=HomeworkRhythm(agreement.homework_rhythm).label
        if agreement.homework_rhythm in HomeworkRhythm.values
        else agreement.homework_rhythm,
        proposed_by=agreement.proposed_by,
        proposed_by_staff=not agreement.proposed_by.is_client,
        proposed_at=agreement.proposed_at,
        decided_by=agreement.decided_by,
        decided_at=agreement.decided_at,
    )


def versions_of(relationship_id: int) -> list[Version]:
    """Every version of a relationship's agreement, oldest first (no access check, no audit:
    for callers that checked and audited already, such as the room export)."""
    return [
        _version(a)
        for a in CareAgreement.objects.filter(relationship_id=relationship_id)
        .select_related("proposed_by", "decided_by")
        .order_by("number")
    ]


# --- reads -------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Overview:
    """What a person of the relationship sees of its agreement."""

    relationship: CareRelationship
    staff: bool
    current: Version | None
    proposal: Version | None
    history: list[Version]  # newest first
    can_decide: bool
    can_withdraw: bool
    checkins_this_week: int
    defaults: Terms


def _overview(*, user: User, found: Party, now: datetime.datetime) -> Overview:
    relationship = found.relationship
    history = versions_of(relationship.pk)
    current = next((v for v in history if v.state == AgreementState.ACCEPTED), None)
    proposal = next((v for v in history if v.state == AgreementState.PROPOSED), None)
    zone = relationship.practice.time_zone
    checkins = 0
    if current is not None:
        since = week_start(now, zone)
        checkins = checkins_since([relationship.pk], since, zone).get(relationship.pk, 0)
    base = current.terms if current is not None else None
    defaults = Terms(
        checkins_per_week=base.checkins_per_week if base else DEFAULT_CHECKINS,
        reply_window_business_days=base.reply_window_business_days
        if base
        else relationship.practice.reply_window_business_days,
        live_sessions_per_month=base.live_sessions_per_month if base else DEFAULT_LIVE_SESSIONS,
        homework_rhythm=base.homework_rhythm if base else HomeworkRhythm.WEEKLY,
        goals=base.goals if base else "",
    )
    return Overview(
        relationship=relationship,
        staff=found.staff,
        current=current,
        proposal=proposal,
        history=list(reversed(history)),
        can_decide=proposal is not None and proposal.proposed_by_staff != found.staff,
        can_withdraw=proposal is not None and proposal.proposed_by.pk == user.pk,
        checkins_this_week=checkins,
        defaults=defaults,
    )


def agreement_overview(
    *,
    user: User,
    relationship_id: int,
    now: datetime.datetime | None = None,
    room_id: int | None = None,
) -> Overview:
    """The agreement of a relationship `user` is in (NotFound otherwise), audited."""
    found = party(user=user, relationship_id=relationship_id)
    overview = _overview(user=user, found=found, now=now or timezone.now())
    detail: dict[str, Any] = {"versions": [v.id for v in overview.history]}
    if room_id is not None:
        detail["room"] = room_id
    audit_record(
        actor=user,
        action="agreement.read",
        object_type="relationship",
        object_id=found.relationship.pk,
        practice=found.relationship.practice,
        detail=detail,
    )
    return overview


# --- writes ------------------------------------------------------------------------------------


def _whole(value: object, field: str, low: int, high: int, errors: dict[str, list[str]]) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[field] = [f"Choose a whole number from {low} to {high}."]
        return low
    return value


def clean_terms(
    *,
    checkins_per_week: object,
    reply_window_business_days: object,
    live_sessions_per_month: object,
    homework_rhythm: object,
    goals: object,
) -> Terms:
    """The terms of a proposal, or InvalidInput naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    checkins = _whole(checkins_per_week, "checkins_per_week", *CHECKINS_RANGE, errors)
    window = _whole(
        reply_window_business_days, "reply_window_business_days", *REPLY_WINDOW_RANGE, errors
    )
    live = _whole(live_sessions_per_month, "live_sessions_per_month", *LIVE_SESSIONS_RANGE, errors)
    if not isinstance(homework_rhythm, str) or homework_rhythm not in HomeworkRhythm.values:
        errors["homework_rhythm"] = ["Choose one of the homework rhythms."]
        homework_rhythm = HomeworkRhythm.NONE
    text = ""
    if not isinstance(goals, str):
        errors["goals"] = ["Goals must be text."]
    else:
        text = goals.replace("\r\n", "\n").replace("\x00", "").strip()
        if len(text) > MAX_GOALS_CHARS:
            errors["goals"] = [f"Goals can be at most {MAX_GOALS_CHARS:,} characters."]
    if errors:
        raise InvalidInput("Please check the agreement.", field_errors=errors)
    return Terms(checkins, window, live, str(homework_rhythm), text)


def _event(relationship: CareRelationship, text: str) -> None:
    room = main_room(relationship)
    if room is not None:
        event_append(room_id=room.pk, text=text)


def _audit(actor: User, action: str, agreement: CareAgreement, practice: Any) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="agreement",
        object_id=agreement.pk,
        practice=practice,
        detail={"relationship": agreement.relationship_id, "number": agreement.number},
    )


OPEN_PROPOSAL = "A proposed change is already waiting for an answer. Answer or withdraw it first."


def agreement_propose(
    *,
    actor: User,
    relationship_id: int,
    checkins_per_week: object,
    reply_window_business_days: object,
    live_sessions_per_month: object,
    homework_rhythm: object,
    goals: object,
    now: datetime.datetime | None = None,
) -> CareAgreement:
    """Propose a version of the agreement (the first one too). Only one proposal waits at a
    time: a second one, or one that lost a race with another, is a Conflict."""
    party(user=actor, relationship_id=relationship_id)  # NotFound before any validation
    terms = clean_terms(
        checkins_per_week=checkins_per_week,
        reply_window_business_days=reply_window_business_days,
        live_sessions_per_month=live_sessions_per_month,
        homework_rhythm=homework_rhythm,
        goals=goals,
    )
    moment = now or timezone.now()
    try:
        with transaction.atomic():
            # The row lock orders concurrent proposals (SQLite: BEGIN IMMEDIATE does); the
            # partial unique index settles any race that gets past it.
            found = party(user=actor, relationship_id=relationship_id, lock=True)
            relationship = found.relationship
            versions = CareAgreement.objects.filter(relationship=relationship)
            if versions.filter(state=AgreementState.PROPOSED).exists():
                raise Conflict(OPEN_PROPOSAL)
            has_current = versions.filter(state=AgreementState.ACCEPTED).exists()
            number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
            agreement = CareAgreement.objects.create(
                relationship=relationship,
                number=number,
                state=AgreementState.PROPOSED,
                checkins_per_week=terms.checkins_per_week,
                reply_window_business_days=terms.reply_window_business_days,
                live_sessions_per_month=terms.live_sessions_per_month,
                homework_rhythm=terms.homework_rhythm,
                goals=crypto.encrypt_text(
                    terms.goals, context=goals_context(relationship.pk, number)
                ),
                proposed_by=actor,
                proposed_at=moment,
            )
            _audit(actor, "agreement.propose", agreement, relationship.practice)
            what = "a change to the care agreement" if has_current else "a care agreement"
            _event(relationship, f"{actor.display_name} proposed {what} (version {number}).")
    except IntegrityError:
        raise Conflict(OPEN_PROPOSAL) from None
    return agreement


def _open_proposal(found: Party, agreement_id: int) -> CareAgreement:
    agreement = (
        CareAgreement.objects.select_for_update()
        .select_related("proposed_by")
        .filter(pk=agreement_id, relationship=found.relationship)
        .first()
    )
    if agreement is None:
        raise NotFound("No such version of the care agreement.")
    if agreement.state != AgreementState.PROPOSED:
        raise Conflict(f"This version was {AgreementState(agreement.state).label.lower()} already.")
    return agreement


def agreement_decide(
    *,
    actor: User,
    relationship_id: int,
    agreement_id: int,
    accept: bool,
    now: datetime.datetime | None = None,
) -> CareAgreement:
    """Accept or decline the waiting proposal. Only the other side decides: a client (either
    partner of a couple) the therapist side's proposal, the therapist side a client's."""
    moment = now or timezone.now()
    with transaction.atomic():
        found = party(user=actor, relationship_id=relationship_id, lock=True)
        agreement = _open_proposal(found, agreement_id)
        if agreement.proposed_by.is_client != found.staff:
            raise PermissionDenied(
                "The other side of the care agreement accepts or declines this proposal."
            )
        relationship = found.relationship
        if accept:
            # Supersede first: at most one accepted version may exist at any moment.
            CareAgreement.objects.filter(
                relationship=relationship, state=AgreementState.ACCEPTED
            ).update(state=AgreementState.SUPERSEDED)
        agreement.state = AgreementState.ACCEPTED if accept else AgreementState.DECLINED
        agreement.decided_by = actor
        agreement.decided_at = moment
        agreement.save(update_fields=["state", "decided_by", "decided_at"])
        _audit(
            actor,
            "agreement.accept" if accept else "agreement.decline",
            agreement,
            relationship.practice,
        )
        if accept:
            text = (
                f"{actor.display_name} agreed to the care agreement (version {agreement.number})."
            )
        else:
            text = (
                f"{actor.display_name} declined the proposed care agreement "
                f"(version {agreement.number})."
            )
        _event(relationship, text)
    return agreement


def agreement_withdraw(
    *,
    actor: User,
    relationship_id: int,
    agreement_id: int,
    now: datetime.datetime | None = None,
) -> CareAgreement:
    """The proposer takes back their proposal while it waits."""
    moment = now or timezone.now()
    with transaction.atomic():
        found = party(user=actor, relationship_id=relationship_id, lock=True)
        agreement = _open_proposal(found, agreement_id)
        if agreement.proposed_by_id != actor.pk:
            raise PermissionDenied("Only the person who proposed it can withdraw it.")
        agreement.state = AgreementState.WITHDRAWN
        agreement.decided_by = actor
        agreement.decided_at = moment
        agreement.save(update_fields=["state", "decided_by", "decided_at"])
        _audit(actor, "agreement.withdraw", agreement, found.relationship.practice)
        _event(
            found.relationship,
            f"{actor.display_name} withdrew the proposed care agreement "
            f"(version {agreement.number}).",
        )
    return agreement
