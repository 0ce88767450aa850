"""Pages for a booking's people: a client books in two clicks (a slot, then "Confirm"), moves
and cancels; either side opens a booking, joins it, downloads its calendar file. Thin: parse,
call one service or selector, shape the answer."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import dateparse, timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import DomainError, InvalidInput, NotFound
from confide.scheduling import selectors, services
from confide.scheduling.ics import calendar, event_title
from confide.scheduling.models import Booking, BookingKind, SessionType
from confide.scheduling.services.bookings import MAX_YEAR, MIN_YEAR
from confide.scheduling.tasks import THERAPIST_TITLE, booking_event, when_text

WEEK = datetime.timedelta(days=7)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _therapist_only(user: User) -> None:
    if not user.is_therapist:
        raise NotFound("No such page.")


def _int(raw: str | None) -> int | None:
    # isdecimal alone accepts other scripts' digits, which int() reads but a URL id never has.
    return int(raw) if raw and raw.isascii() and raw.isdecimal() and len(raw) < 19 else None


def _date(raw: str | None) -> datetime.date | None:
    try:
        return dateparse.parse_date((raw or "")[:20])
    except ValueError:  # well-formed but impossible, e.g. 2027-02-30
        return None


def _moment(raw: str | None) -> datetime.datetime | None:
    try:
        moment = dateparse.parse_datetime((raw or "")[:40])
    except ValueError:
        return None
    if moment is None or not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None  # far outside any calendar: no arithmetic on it can overflow
    return moment


def _local(moment: datetime.datetime, zone: str) -> datetime.datetime:
    return moment.astimezone(zoneinfo.ZoneInfo(zone))


def _names(booking: Booking) -> str:
    if booking.relationship is None:
        return booking.label or "Blocked time"
    return (
        " & ".join(p.client.display_name for p in booking.relationship.participants.all())
        or "Client"
    )


def describe(booking: Booking, viewer: User) -> dict[str, Any]:
    """What a page shows of one booking, in the viewer's zone."""
    local = _local(booking.starts_at, viewer.time_zone)
    return {
        "booking": booking,
        "when": when_text(booking.starts_at, viewer.time_zone),
        "day": f"{local:%A} {local.day} {local:%B}",
        "time": f"{local:%H:%M}\u2013{_local(booking.ends_at, viewer.time_zone):%H:%M}",
        "with": booking.therapist.display_name if viewer.is_client else _names(booking),
        "zone": viewer.time_zone,
        "mode": booking.get_mode_display() if booking.mode else "Blocked time",
        "can_join": selectors.can_join(booking, timezone.now()),
    }


def _week_label(first: datetime.date) -> str:
    last = first + WEEK - datetime.timedelta(days=1)
    return f"{first.day} {first:%b} \u2013 {last.day} {last:%b}"


# --- client: book in two clicks -------------------------------------------------------------


@require_GET
@login_required
def book(request: HttpRequest) -> HttpResponse:
    """Open slots in the viewer's zone, a week at a time. Click one, then confirm."""
    user = _user(request)
    now = timezone.now()
    moving: Booking | None = None
    move_id = _int(request.GET.get("move"))
    if move_id is not None:
        moving = selectors.booking_get(user=user, booking_id=move_id)
        if moving.relationship is None or moving.session_type is None:
            raise NotFound("This booking cannot be moved here.")
    relationships = list(selectors.relationships_bookable_by(user=user))
    chosen = moving.relationship if moving else None
    if chosen is None and relationships:
        wanted = _int(request.GET.get("relationship"))
        chosen = next((r for r in relationships if r.pk == wanted), relationships[0])
    types: list[SessionType] = (
        list(selectors.session_types_of(chosen.therapist)) if chosen is not None else []
    )
    session_type = moving.session_type if moving else None
    if session_type is None and types:
        wanted = _int(request.GET.get("type"))
        session_type = next((t for t in types if t.pk == wanted), types[0])
    zone = zoneinfo.ZoneInfo(user.time_zone)
    today = now.astimezone(zone).date()
    first = _date(request.GET.get("from")) or today
    # Nothing is bookable more than a year ahead (the longest horizon is 366 days).
    first = min(max(first, today), today + datetime.timedelta(days=366))
    start = datetime.datetime.combine(first, datetime.time(0), tzinfo=zone)
    days: list[dict[str, Any]] = []
    if chosen is not None and session_type is not None:
        found = selectors.open_slots_for(
            session_type=session_type,
            start=start,
            end=start + WEEK,
            now=now,
            ignore=moving.pk if moving else None,
        )
        for slot in found:
            local = slot.astimezone(zone)
            label = f"{local:%A} {local.day} {local:%B}"
            if not days or days[-1]["label"] != label:
                days.append({"label": label, "slots": []})
            days[-1]["slots"].append({"iso": slot.isoformat(), "time": f"{local:%H:%M}"})
    return render(
        request,
        "scheduling/book.html",
        {
            "relationships": relationships,
            "chosen": chosen,
            "types": types,
            "session_type": session_type,
            "days": days,
            "moving": describe(moving, user) if moving else None,
            "zone": user.time_zone,
            "previous": (first - WEEK).isoformat() if first > today else None,
            "next": (first + WEEK).isoformat(),
            "week_label": _week_label(first),
            "proposals": [
                {
                    "proposal": p,
                    "times": [
                        {
                            "iso": t.starts_at.isoformat(),
                            "when": when_text(t.starts_at, user.time_zone),
                        }
                        for t in p.times.all()
                        if t.starts_at > now
                    ],
                }
                for p in selectors.open_proposals_for(user=user)
            ]
            if user.is_client
            else [],
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def book_confirm(request: HttpRequest) -> HttpResponse:
    """Second click: confirm the chosen slot (or the new time of a session being moved)."""
    user = _user(request)
    data = request.POST if request.method == "POST" else request.GET
    start = _moment(data.get("start"))
    move_id = _int(data.get("move"))
    moving = selectors.booking_get(user=user, booking_id=move_id) if move_id else None
    relationship = (
        moving.relationship
        if moving
        else selectors.relationship_for(
            user=user, relationship_id=_int(data.get("relationship")) or 0
        )
    )
    if relationship is None:
        raise NotFound("No such booking.")
    session_type = (
        moving.session_type
        if moving and moving.session_type
        else selectors.session_type_for(
            relationship=relationship, session_type_id=_int(data.get("type")) or 0
        )
    )
    error = ""
    if start is None or start.utcoffset() is None:
        error = "Choose a time from the list of open slots."
    elif request.method == "POST":
        try:
            if moving is not None:
                booking = services.booking_reschedule(
                    actor=user, booking_id=moving.pk, starts_at=start
                )
                messages.success(
                    request, "Your session is moved. We emailed everyone the new time."
                )
            else:
                booking = services.booking_create(
                    actor=user,
                    relationship_id=relationship.pk,
                    session_type_id=session_type.pk,
                    starts_at=start,
                )
                messages.success(
                    request, "Your session is booked. A confirmation email is on its way."
                )
            return redirect("booking", booking_id=booking.pk)
        except DomainError as exc:
            error = exc.message
    ends = start + datetime.timedelta(minutes=session_type.minutes) if start else None
    return render(
        request,
        "scheduling/confirm.html",
        {
            "start": start.isoformat() if start else "",
            "when": when_text(start, user.time_zone) if start else "",
            "until": f"{_local(ends, user.time_zone):%H:%M}" if ends else "",
            "session_type": session_type,
            "relationship": relationship,
            "moving": describe(moving, user) if moving else None,
            "error": error,
            "policy": selectors.policy_for(relationship.therapist),
        },
        status=400 if error and request.method == "POST" else 200,
    )


@require_GET
@login_required
def booking_detail(request: HttpRequest, booking_id: int) -> HttpResponse:
    user = _user(request)
    booking = selectors.booking_get(user=user, booking_id=booking_id)
    audit_record(
        actor=user,
        action="booking.view",
        object_type="booking",
        object_id=booking.pk,
        practice=booking.relationship.practice if booking.relationship else None,
    )
    policy = selectors.policy_for(booking.therapist)
    free_until = booking.starts_at - datetime.timedelta(hours=policy.free_cancel_hours)
    now = timezone.now()
    return render(
        request,
        "scheduling/booking.html",
        {
            **describe(booking, user),
            "is_therapist": user.pk == booking.therapist_id,
            "upcoming": booking.status == "confirmed" and booking.starts_at > now,
            "started": booking.status == "confirmed" and booking.starts_at <= now,
            "free_until": when_text(free_until, user.time_zone),
            "free_now": now <= free_until,
            "policy": policy,
        },
    )


def _act(
    request: HttpRequest, booking_id: int, action: Any, done: str, **kwargs: Any
) -> HttpResponse:
    try:
        action(actor=_user(request), booking_id=booking_id, **kwargs)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("booking", booking_id=booking_id)


@require_POST
@login_required
def booking_cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    return _act(request, booking_id, services.booking_cancel, "Cancelled. Everyone has been told.")


@require_POST
@login_required
def booking_no_show(request: HttpRequest, booking_id: int) -> HttpResponse:
    return _act(request, booking_id, services.booking_mark_no_show, "Recorded as a no-show.")


@require_POST
@login_required
def booking_join(request: HttpRequest, booking_id: int) -> HttpResponse:
    user = _user(request)
    try:
        booking, room = services.booking_join(actor=user, booking_id=booking_id)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("booking", booking_id=booking_id)
    if booking.live_session_id is None and user.pk != booking.therapist_id:
        messages.info(
            request,
            f"{booking.therapist.display_name} starts the session; this page shows it when "
            "they do, and you can join then.",
        )
    return redirect("room", room_id=room.pk)


@require_GET
@login_required
def booking_ics(request: HttpRequest, booking_id: int) -> HttpResponse:
    user = _user(request)
    booking = selectors.booking_get(user=user, booking_id=booking_id)
    if booking.kind != BookingKind.SESSION:
        raise NotFound("No such booking.")
    title = THERAPIST_TITLE if user.pk == booking.therapist_id else None
    text = calendar(
        [booking_event(booking, summary=title or event_title(), stamp=timezone.now())],
        method="CANCEL" if booking.status == "cancelled" else "PUBLISH",
    )
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="session.ics"'
    return response


@require_POST
@login_required
def proposal_accept(request: HttpRequest, proposal_id: int) -> HttpResponse:
    user = _user(request)
    start = _moment(request.POST.get("start"))
    try:
        if start is None:
            raise InvalidInput("Choose one of the proposed times.")
        booking = services.proposal_accept(actor=user, proposal_id=proposal_id, starts_at=start)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("book")
    messages.success(request, "Your session is booked. A confirmation email is on its way.")
    return redirect("booking", booking_id=booking.pk)


@require_POST
@login_required
def proposal_withdraw(request: HttpRequest, proposal_id: int) -> HttpResponse:
    try:
        services.proposal_withdraw(actor=_user(request), proposal_id=proposal_id)
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "The proposal is withdrawn.")
    return redirect("schedule")
