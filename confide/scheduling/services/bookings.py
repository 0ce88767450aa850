"""Writes for bookings: book, move, cancel, block time, no-shows.

Every write that can collide with another booking runs inside one transaction that first locks
the therapist's row (`SELECT ... FOR UPDATE`; on SQLite the IMMEDIATE transaction serialises
writers), then checks for overlaps, then writes. The database backs the check up: a unique
(therapist, start) constraint everywhere and an exclusion constraint on PostgreSQL, whose
violation is answered like the check's own refusal. Emails and reminders are task rows written
in the same transaction; they run after commit in the worker.
"""

from __future__ import annotations

import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.care.models import CareRelationship
from confide.errors import Conflict, InvalidInput, PermissionDenied
from confide.scheduling import selectors, slots, tasks
from confide.scheduling.models import (
    LONGEST_BOOKING,
    Booking,
    BookingKind,
    BookingStatus,
    SessionType,
)

MAX_BLOCK = LONGEST_BOOKING
TAKEN = "That time is already taken. Please choose another slot."


# Times outside these years are refused before any arithmetic (a session's end, a reminder's
# time) could overflow datetime's range.
MIN_YEAR, MAX_YEAR = 2000, 2200


def _aware(moment: datetime.datetime, field: str = "starts_at") -> datetime.datetime:
    if not isinstance(moment, datetime.datetime) or moment.utcoffset() is None:
        raise InvalidInput(
            "Give the time with its time zone.",
            field_errors={field: ["Give the time with its UTC offset, e.g. 2027-01-05T14:00Z."]},
        )
    if not MIN_YEAR < moment.year < MAX_YEAR:
        raise InvalidInput(
            "That time is outside any calendar Confide keeps.",
            field_errors={field: [f"Choose a time between {MIN_YEAR} and {MAX_YEAR}."]},
        )
    return moment.astimezone(datetime.UTC).replace(second=0, microsecond=0)


def _refuse(reason: slots.Refusal) -> None:
    if reason is slots.Refusal.OVERLAPPING:
        raise Conflict(reason.value, field_errors={"starts_at": [reason.value]})
    raise InvalidInput(reason.value, field_errors={"starts_at": [reason.value]})


def _lock_therapist(therapist_id: int) -> None:
    """Serialise every booking write of one therapist (called inside a transaction)."""
    User.objects.select_for_update().filter(pk=therapist_id).values_list("pk").first()


def _overlaps(
    therapist_id: int,
    start: datetime.datetime,
    blocked_until: datetime.datetime,
    ignore: int | None = None,
) -> bool:
    rows = Booking.objects.filter(
        therapist_id=therapist_id,
        starts_at__gt=start - LONGEST_BOOKING,
        starts_at__lt=blocked_until,
        blocked_until__gt=start,
    ).exclude(status=BookingStatus.CANCELLED)
    if ignore is not None:
        rows = rows.exclude(pk=ignore)
    return rows.exists()


def _save_or_conflict(booking: Booking, *, update_fields: list[str] | None = None) -> None:
    """Write the booking; a constraint saying it overlaps becomes the same Conflict."""
    try:
        with transaction.atomic():
            if update_fields is None:
                booking.save(force_insert=True)
            else:
                booking.save(update_fields=update_fields)
    except IntegrityError:
        raise Conflict(TAKEN, field_errors={"starts_at": [TAKEN]}) from None


def _audit(actor: User | None, action: str, booking: Booking, **detail: object) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="booking",
        object_id=booking.pk,
        practice=booking.relationship.practice if booking.relationship else None,
        detail={"starts_at": booking.starts_at.isoformat(), "version": booking.version, **detail},
    )


def _is_therapist_of(actor: User, relationship: CareRelationship) -> bool:
    return actor.is_therapist and relationship.therapist_id == actor.pk


def _client_refusal(
    *,
    session_type: SessionType,
    start: datetime.datetime,
    now: datetime.datetime,
    ignore: int | None = None,
) -> slots.Refusal | None:
    """Why a client may not book `start` (called under the therapist's lock)."""
    therapist = session_type.therapist
    rules = selectors.rules_for(session_type, selectors.policy_for(therapist))
    return slots.refusal(
        availability=selectors.availability_of(therapist, start=start, end=start + rules.length),
        rules=rules,
        busy=selectors.busy_of(therapist, start=start, end=start + rules.blocking, ignore=ignore),
        start=start,
        now=now,
    )


def _book(
    *,
    actor: User,
    relationship: CareRelationship,
    session_type: SessionType,
    start: datetime.datetime,
    now: datetime.datetime,
    by_client_rules: bool,
) -> Booking:
    """Inside a transaction: lock, check, insert, queue the emails and reminders."""
    room = selectors.session_room(relationship)
    if room is None:
        raise InvalidInput("Sessions can be booked once the client has joined.")
    _lock_therapist(relationship.therapist_id)
    # The relationship was read before the lock: a reassignment may have moved it since.
    if not CareRelationship.objects.filter(
        pk=relationship.pk, therapist_id=relationship.therapist_id, ended_at__isnull=True
    ).exists():
        raise Conflict("This care has moved to another therapist. Please choose a time again.")
    if by_client_rules:
        reason = _client_refusal(session_type=session_type, start=start, now=now)
        if reason is not None:
            _refuse(reason)
    else:
        if start <= now:
            _refuse(slots.Refusal.IN_THE_PAST)
        length = datetime.timedelta(minutes=session_type.minutes)
        if _overlaps(
            relationship.therapist_id,
            start,
            start + length + datetime.timedelta(minutes=session_type.buffer_minutes),
        ):
            _refuse(slots.Refusal.OVERLAPPING)
    ends_at = start + datetime.timedelta(minutes=session_type.minutes)
    booking = Booking(
        therapist_id=relationship.therapist_id,
        kind=BookingKind.SESSION,
        relationship=relationship,
        room=room,
        session_type=session_type,
        mode=session_type.mode,
        minutes=session_type.minutes,
        buffer_minutes=session_type.buffer_minutes,
        starts_at=start,
        ends_at=ends_at,
        blocked_until=ends_at + datetime.timedelta(minutes=session_type.buffer_minutes),
        booked_by=actor,
        created_at=now,
    )
    _save_or_conflict(booking)
    _audit(actor, "booking.create", booking)
    tasks.queue_notice(booking, "booked")
    tasks.queue_reminders(booking, now=now)
    return booking


def booking_create(
    *,
    actor: User,
    relationship_id: int,
    session_type_id: int,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Booking:
    """A client (either partner of a couple) books an open slot; or the therapist books for
    their client, at any free time (their own availability, notice and horizon do not bind them).
    """
    moment = now or timezone.now()
    relationship = selectors.relationship_for(user=actor, relationship_id=relationship_id)
    session_type = selectors.session_type_for(
        relationship=relationship, session_type_id=session_type_id
    )
    start = _aware(starts_at)
    with transaction.atomic():
        return _book(
            actor=actor,
            relationship=relationship,
            session_type=session_type,
            start=start,
            now=moment,
            by_client_rules=not _is_therapist_of(actor, relationship),
        )


def _changeable(actor: User, booking_id: int, now: datetime.datetime) -> Booking:
    """The booking, locked, if it is confirmed and has not started (inside a transaction)."""
    found = selectors.booking_get(user=actor, booking_id=booking_id)
    _lock_therapist(found.therapist_id)
    booking = (
        Booking.objects.select_for_update(of=("self",))
        .select_related("relationship__practice", "session_type__therapist", "therapist")
        .get(pk=found.pk)
    )
    if booking.status != BookingStatus.CONFIRMED:
        raise Conflict("This booking is already cancelled or closed.")
    if booking.starts_at <= now:
        raise Conflict("This session has already started.")
    return booking


def _free_until(booking: Booking) -> datetime.datetime:
    policy = selectors.policy_for(booking.therapist)
    return booking.starts_at - datetime.timedelta(hours=policy.free_cancel_hours)


def _mark_cancelled(booking: Booking, *, actor: User, now: datetime.datetime, late: bool) -> None:
    """Cancelled, by whom and when, with a new version for calendars (inside a transaction)."""
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at, booking.cancelled_by = now, actor
    booking.late_cancellation = late
    booking.version += 1
    booking.save(
        update_fields=["status", "cancelled_at", "cancelled_by", "late_cancellation", "version"]
    )


def booking_cancel(
    *, actor: User, booking_id: int, now: datetime.datetime | None = None
) -> Booking:
    """Cancel a session (either party) or remove blocked time (the therapist). A client's
    cancellation inside the free-cancellation window is recorded as late."""
    moment = now or timezone.now()
    with transaction.atomic():
        booking = _changeable(actor, booking_id, moment)
        late = (
            booking.kind == BookingKind.SESSION
            and actor.pk != booking.therapist_id
            and moment > _free_until(booking)
        )
        _mark_cancelled(booking, actor=actor, now=moment, late=late)
        _audit(actor, "booking.cancel", booking, late=late)
        if booking.kind == BookingKind.SESSION:
            tasks.queue_notice(booking, "cancelled")
    return booking


def booking_reschedule(
    *,
    actor: User,
    booking_id: int,
    starts_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Booking:
    """Move a session to another time. A client may move it until the free-cancellation window
    starts, to an open slot; the therapist, any time before it starts, to any free time."""
    moment = now or timezone.now()
    start = _aware(starts_at)
    with transaction.atomic():
        booking = _changeable(actor, booking_id, moment)
        if booking.kind != BookingKind.SESSION:
            raise InvalidInput("Blocked time is removed and added again, not moved.")
        if start == booking.starts_at:
            return booking
        by_therapist = actor.pk == booking.therapist_id
        if not by_therapist:
            if moment > _free_until(booking):
                hours = selectors.policy_for(booking.therapist).free_cancel_hours
                raise Conflict(
                    f"Sessions can be moved until {hours} hours before they start. You can "
                    "still cancel (it is recorded as a late cancellation) or write to your "
                    "therapist."
                )
            if booking.session_type is None or not booking.session_type.active:
                raise Conflict("This kind of session is no longer offered; please cancel it.")
            reason = _client_refusal(
                session_type=booking.session_type, start=start, now=moment, ignore=booking.pk
            )
            if reason is not None:
                _refuse(reason)
        else:
            if start <= moment:
                _refuse(slots.Refusal.IN_THE_PAST)
            blocked = start + datetime.timedelta(minutes=booking.minutes + booking.buffer_minutes)
            if _overlaps(booking.therapist_id, start, blocked, ignore=booking.pk):
                _refuse(slots.Refusal.OVERLAPPING)
        previous = booking.starts_at
        booking.starts_at = start
        booking.ends_at = start + datetime.timedelta(minutes=booking.minutes)
        booking.blocked_until = booking.ends_at + datetime.timedelta(minutes=booking.buffer_minutes)
        booking.version += 1
        _save_or_conflict(
            booking, update_fields=["starts_at", "ends_at", "blocked_until", "version"]
        )
        _audit(actor, "booking.reschedule", booking, previous=previous.isoformat())
        tasks.queue_notice(booking, "moved")
        tasks.queue_reminders(booking, now=moment)
    return booking


def booking_mark_no_show(
    *, actor: User, booking_id: int, now: datetime.datetime | None = None
) -> Booking:
    """The therapist records that nobody came to a session that has started."""
    moment = now or timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("relationship__practice")
            .filter(pk=selectors.booking_get(user=actor, booking_id=booking_id).pk)
            .get()
        )
        if actor.pk != booking.therapist_id:
            raise PermissionDenied("Only the therapist records a no-show.")
        if booking.kind != BookingKind.SESSION or booking.status != BookingStatus.CONFIRMED:
            raise Conflict("Only a confirmed session can be marked as a no-show.")
        if booking.starts_at > moment:
            raise Conflict("A session can be marked as a no-show once it has started.")
        booking.status, booking.no_show_at = BookingStatus.NO_SHOW, moment
        booking.save(update_fields=["status", "no_show_at"])
        _audit(actor, "booking.no_show", booking)
    return booking


def block_create(
    *,
    actor: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    label: str = "",
    now: datetime.datetime | None = None,
) -> Booking:
    """The therapist keeps some time free of bookings (its label is for them alone)."""
    if not actor.is_therapist:
        raise PermissionDenied("Only therapists block time.")
    moment = now or timezone.now()
    start, end = _aware(starts_at), _aware(ends_at, "ends_at")
    if end <= start:
        raise InvalidInput(
            "The blocked time must end after it starts.",
            field_errors={"ends_at": ["The blocked time must end after it starts."]},
        )
    if end <= moment:
        _refuse(slots.Refusal.IN_THE_PAST)
    if end - start > MAX_BLOCK:
        raise InvalidInput(
            "Block at most 14 days at a time; for longer, set an out-of-office period.",
            field_errors={"ends_at": ["At most 14 days; use out-of-office for longer."]},
        )
    with transaction.atomic():
        _lock_therapist(actor.pk)
        if _overlaps(actor.pk, start, end):
            overlap = "You have a session or blocked time then. Move or cancel it first."
            raise Conflict(overlap, field_errors={"starts_at": [overlap]})
        booking = Booking(
            therapist=actor,
            kind=BookingKind.BLOCK,
            minutes=int((end - start).total_seconds() // 60),
            starts_at=start,
            ends_at=end,
            blocked_until=end,
            label=label.strip()[:80],
            booked_by=actor,
            created_at=moment,
        )
        _save_or_conflict(booking)
        _audit(actor, "block.create", booking)
    return booking


def bookings_release(
    *,
    actor: User,
    relationship: CareRelationship,
    therapist_id: int,
    now: datetime.datetime,
) -> int:
    """A relationship moved away from `therapist_id` (a reassignment): their sessions with it
    that have not started are cancelled, and their open proposals withdrawn, so neither the
    former therapist nor the client keeps an appointment the new therapist never agreed to.
    Everyone is told, with a calendar cancellation. Called inside the reassignment's
    transaction; returns the number of sessions cancelled."""
    from confide.scheduling.models import Proposal, ProposalStatus

    # Proposals first, then the therapist: the order proposal_accept takes them in, so a client
    # accepting at this moment waits for the other instead of deadlocking with it.
    withdrawn = list(
        Proposal.objects.select_for_update()
        .filter(relationship=relationship, therapist_id=therapist_id, status=ProposalStatus.OPEN)
        .values_list("pk", flat=True)
    )
    _lock_therapist(therapist_id)
    upcoming = list(
        Booking.objects.select_for_update(of=("self",))
        .select_related("relationship__practice")
        .filter(
            relationship=relationship,
            therapist_id=therapist_id,
            kind=BookingKind.SESSION,
            status=BookingStatus.CONFIRMED,
            starts_at__gt=now,
        )
        .order_by("starts_at")
    )
    for booking in upcoming:
        _mark_cancelled(booking, actor=actor, now=now, late=False)
        _audit(actor, "booking.cancel", booking, late=False, reason="reassigned")
        tasks.queue_notice(booking, "reassigned")
    if withdrawn:
        Proposal.objects.filter(pk__in=withdrawn, status=ProposalStatus.OPEN).update(
            status=ProposalStatus.WITHDRAWN
        )
        for proposal_id in withdrawn:
            audit_record(
                actor=actor,
                action="proposal.withdraw",
                object_type="proposal",
                object_id=proposal_id,
                practice=relationship.practice,
                detail={"reason": "reassigned"},
            )
    return len(upcoming)
