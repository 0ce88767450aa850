"""/api/v1 endpoints for availability and bookings.

Refusals answer with the shared error shape: `detail` says why (outside availability, in the
past, inside the minimum notice, beyond the booking horizon, overlapping, not your therapist)
and `errors.starts_at` repeats it for the field. Overlaps are 409, a relationship or booking the
caller may not see is 404, other bad input 400 (422 when the JSON itself has the wrong shape).
"""

# No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.
import datetime

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from confide.accounts.models import User
from confide.api.common import ERRORS, MAX_ID, Id
from confide.api.common import me as caller
from confide.audit.services import audit_record
from confide.scheduling import selectors, services
from confide.scheduling.models import Booking

router = Router(tags=["scheduling"])

MAX_SLOT_DAYS = 62


class SlotOut(Schema):
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    local: str


class SessionTypeOut(Schema):
    id: int
    mode: str
    minutes: int
    min_notice_hours: int
    horizon_days: int


class BookingOut(Schema):
    id: int
    kind: str
    status: str
    mode: str
    minutes: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    relationship: int | None
    room: int | None
    therapist: int
    version: int
    late_cancellation: bool
    live_session: int | None


class SlotQuery(Schema):
    relationship: int = Field(ge=1, le=MAX_ID)
    session_type: int = Field(ge=1, le=MAX_ID)
    start: datetime.date | None = None
    days: int = Field(7, ge=1, le=MAX_SLOT_DAYS)


class BookIn(Schema):
    relationship: int = Field(ge=1, le=MAX_ID)
    session_type: int = Field(ge=1, le=MAX_ID)
    starts_at: datetime.datetime


class RescheduleIn(Schema):
    starts_at: datetime.datetime


class BookingsQuery(Schema):
    past: bool = False


def _out(booking: Booking) -> BookingOut:
    return BookingOut(
        id=booking.pk,
        kind=booking.kind,
        status=booking.status,
        mode=booking.mode,
        minutes=booking.minutes,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        relationship=booking.relationship_id,
        room=booking.room_id,
        therapist=booking.therapist_id,
        version=booking.version,
        late_cancellation=booking.late_cancellation,
        live_session=booking.live_session_id,
    )


def _local(moment: datetime.datetime, user: User) -> str:
    import zoneinfo

    return moment.astimezone(zoneinfo.ZoneInfo(user.time_zone)).isoformat()


class RelationshipQuery(Schema):
    relationship: int = Field(ge=1, le=MAX_ID)


@router.get("/scheduling/session-types", response={200: list[SessionTypeOut], **ERRORS})
def session_types(request: HttpRequest, query: Query[RelationshipQuery]) -> list[SessionTypeOut]:
    user = caller(request)
    found = selectors.relationship_for(user=user, relationship_id=query.relationship)
    return [
        SessionTypeOut(
            id=t.pk,
            mode=t.mode,
            minutes=t.minutes,
            min_notice_hours=t.min_notice_hours,
            horizon_days=t.horizon_days,
        )
        for t in selectors.session_types_of(found.therapist)
    ]


@router.get("/scheduling/slots", response={200: list[SlotOut], **ERRORS})
def slots(request: HttpRequest, query: Query[SlotQuery]) -> list[SlotOut]:
    """Open start times from `start` (a date in the caller's zone, default today) for `days`."""
    import zoneinfo

    user = caller(request)
    relationship = selectors.relationship_for(user=user, relationship_id=query.relationship)
    session_type = selectors.session_type_for(
        relationship=relationship, session_type_id=query.session_type
    )
    now = timezone.now()
    zone = zoneinfo.ZoneInfo(user.time_zone)
    today = now.astimezone(zone).date()
    first = query.start or today
    if not today - datetime.timedelta(days=1) <= first <= today + datetime.timedelta(days=366):
        return []  # nothing can be booked in the past or beyond the longest horizon
    begin = datetime.datetime.combine(first, datetime.time(0), tzinfo=zone)
    length = datetime.timedelta(minutes=session_type.minutes)
    return [
        SlotOut(starts_at=s, ends_at=s + length, local=_local(s, user))
        for s in selectors.open_slots_for(
            session_type=session_type,
            start=begin,
            end=begin + datetime.timedelta(days=query.days),
            now=now,
        )
    ]


@router.get("/scheduling/bookings", response={200: list[BookingOut], **ERRORS})
def bookings(request: HttpRequest, query: Query[BookingsQuery]) -> list[BookingOut]:
    """The caller's bookings: upcoming (default), or the last 100 that are over."""
    user = caller(request)
    now = timezone.now()
    if query.past:
        found = list(
            selectors.bookings_visible_to(user=user)
            .filter(ends_at__lte=now)
            .order_by("-starts_at")[:100]
        )
    else:
        found = list(
            selectors.bookings_visible_to(user=user)
            .filter(ends_at__gt=now)
            .order_by("starts_at")[:200]
        )
    audit_record(
        actor=user,
        action="booking.list",
        object_type="user",
        object_id=user.pk,
        detail={"count": len(found)},
    )
    return [_out(b) for b in found]


@router.get("/scheduling/bookings/{booking_id}", response={200: BookingOut, **ERRORS})
def booking(request: HttpRequest, booking_id: Id) -> BookingOut:
    user = caller(request)
    found = selectors.booking_get(user=user, booking_id=booking_id)
    audit_record(actor=user, action="booking.view", object_type="booking", object_id=found.pk)
    return _out(found)


@router.post("/scheduling/bookings", response={201: BookingOut, **ERRORS})
def book(request: HttpRequest, payload: BookIn) -> Status[BookingOut]:
    created = services.booking_create(
        actor=caller(request),
        relationship_id=payload.relationship,
        session_type_id=payload.session_type,
        starts_at=payload.starts_at,
    )
    return Status(201, _out(created))


@router.post("/scheduling/bookings/{booking_id}/cancel", response={200: BookingOut, **ERRORS})
def cancel(request: HttpRequest, booking_id: Id) -> BookingOut:
    return _out(services.booking_cancel(actor=caller(request), booking_id=booking_id))


@router.post("/scheduling/bookings/{booking_id}/reschedule", response={200: BookingOut, **ERRORS})
def reschedule(request: HttpRequest, booking_id: Id, payload: RescheduleIn) -> BookingOut:
    return _out(
        services.booking_reschedule(
            actor=caller(request), booking_id=booking_id, starts_at=payload.starts_at
        )
    )
