"""Pages for the therapist: the schedule (book for a client, propose, block, the record of late
cancellations and no-shows), the set-up (hours, exceptions, session types, rules) and the
private calendar feed."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.accounts.selectors import token_digest
from confide.audit.services import audit_record
from confide.errors import DomainError
from confide.scheduling import availability, selectors, services
from confide.scheduling.forms import (
    DAYS,
    BlockForm,
    BookForClientForm,
    ExceptionForm,
    PolicyForm,
    ProposeForm,
    SessionTypeForm,
    WeeklyHoursForm,
    aware,
    format_periods,
)
from confide.scheduling.ics import calendar
from confide.scheduling.models import BookingKind
from confide.scheduling.tasks import THERAPIST_TITLE, booking_event, when_text
from confide.scheduling.views.client import _therapist_only, _user, describe
from confide.web.forms import apply_domain_error


def _choices(user: User) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    relationships = [
        (
            r.pk,
            " & ".join(p.client.display_name for p in r.participants.all()) or "Awaiting sign-up",
        )
        for r in selectors.relationships_bookable_by(user=user)
    ]
    types = [(t.pk, str(t)) for t in selectors.session_types_of(user)]
    return relationships, types


def _schedule_forms(request: HttpRequest, user: User) -> dict[str, Any]:
    posted = request.POST.get("form") if request.method == "POST" else None
    data = request.POST if posted else None
    relationships, types = _choices(user)
    book_form = BookForClientForm(data if posted == "book" else None)
    propose_form = ProposeForm(data if posted == "propose" else None)
    for form in (book_form, propose_form):
        form.fields["relationship"].choices = relationships  # type: ignore[attr-defined]
        form.fields["session_type"].choices = types  # type: ignore[attr-defined]
    return {
        "book_form": book_form,
        "propose_form": propose_form,
        "block_form": BlockForm(data if posted == "block" else None),
        "posted": posted,
    }


@require_http_methods(["GET", "POST"])
@login_required
def schedule(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _therapist_only(user)
    forms = _schedule_forms(request, user)
    posted = forms.pop("posted")
    status = 200
    if posted is not None:
        form = {
            "book": forms["book_form"],
            "propose": forms["propose_form"],
            "block": forms["block_form"],
        }.get(posted)
        status = 400
        if form is not None and form.is_valid():
            data = form.cleaned_data
            zone = user.time_zone
            try:
                if posted == "book":
                    booking = services.booking_create(
                        actor=user,
                        relationship_id=data["relationship"],
                        session_type_id=data["session_type"],
                        starts_at=aware(data["starts_at"], zone),
                    )
                    messages.success(request, f"Booked for {when_text(booking.starts_at, zone)}.")
                elif posted == "propose":
                    times = [
                        aware(data[k], zone, k) for k in ("time1", "time2", "time3") if data[k]
                    ]
                    services.proposal_create(
                        actor=user,
                        relationship_id=data["relationship"],
                        session_type_id=data["session_type"],
                        times=times,
                    )
                    messages.success(request, "The times are proposed; your client was emailed.")
                else:
                    services.block_create(
                        actor=user,
                        starts_at=aware(data["starts_at"], zone),
                        ends_at=aware(data["ends_at"], zone, "ends_at"),
                        label=data["label"],
                    )
                    messages.success(request, "The time is blocked.")
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                return redirect("schedule")
    now = timezone.now()
    audit_record(actor=user, action="schedule.view", object_type="user", object_id=user.pk)
    return render(
        request,
        "scheduling/schedule.html",
        {
            **forms,
            "upcoming": [
                describe(b, user)
                for b in selectors.upcoming_for(user=user, now=now, limit=50, include_blocks=True)
            ],
            "proposals": selectors.open_proposals_for(user=user),
            "attendance": selectors.attendance_record(therapist=user),
            "zone": user.time_zone,
            "has_types": bool(selectors.session_types_of(user).exists()),
        },
        status=status,
    )


def _setup_context(request: HttpRequest, user: User, posted: str | None) -> dict[str, Any]:
    data = request.POST if posted else None
    hours: dict[int, list[tuple[datetime.time, datetime.time]]] = {}
    for weekday, start, end in selectors.weekly_hours_of(user):
        hours.setdefault(weekday, []).append((start, end))
    policy = selectors.policy_for(user)
    return {
        "hours_form": WeeklyHoursForm(
            data if posted == "hours" else None,
            initial={f"day{d}": format_periods(hours.get(d, [])) for d in range(7)},
        ),
        "exception_form": ExceptionForm(data if posted == "exception" else None),
        "type_form": SessionTypeForm(data if posted == "type" else None),
        "policy_form": PolicyForm(
            data if posted == "policy" else None,
            initial={
                "free_cancel_hours": policy.free_cancel_hours,
                "slot_step_minutes": policy.slot_step_minutes,
            },
        ),
        "policy": policy,
        "types": selectors.session_types_of(user),
        "exceptions": user.availability_exceptions.filter(
            day__gte=timezone.now().date() - datetime.timedelta(days=1)
        ),
        "zone": selectors.therapist_zone(user),
        "days": DAYS,
    }


@require_http_methods(["GET", "POST"])
@login_required
def schedule_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _therapist_only(user)
    posted = request.POST.get("form") if request.method == "POST" else None
    context = _setup_context(request, user, posted)
    status = 200
    form = {
        "hours": context["hours_form"],
        "exception": context["exception_form"],
        "type": context["type_form"],
        "policy": context["policy_form"],
    }.get(posted or "")
    if form is not None:
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if posted == "hours":
                    availability.weekly_hours_set(actor=user, hours=data["hours"])
                elif posted == "exception":
                    availability.exception_add(
                        actor=user,
                        day=data["day"],
                        kind=data["kind"],
                        start=data["start"],
                        end=data["end"],
                    )
                elif posted == "type":
                    availability.session_type_save(actor=user, **data)
                else:
                    availability.policy_update(actor=user, **data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect("schedule_setup")
    return render(request, "scheduling/setup.html", context, status=status)


@require_POST
@login_required
def exception_remove(request: HttpRequest, exception_id: int) -> HttpResponse:
    availability.exception_remove(actor=_user(request), exception_id=exception_id)
    messages.success(request, "Removed.")
    return redirect("schedule_setup")


@require_POST
@login_required
def session_type_retire(request: HttpRequest, session_type_id: int) -> HttpResponse:
    availability.session_type_retire(actor=_user(request), session_type_id=session_type_id)
    messages.success(request, "Clients can no longer book this kind of session.")
    return redirect("schedule_setup")


@require_POST
@login_required
def feed_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _therapist_only(user)
    raw = availability.feed_token_create(actor=user)
    url = request.build_absolute_uri(f"/calendar/{raw}.ics")
    return render(request, "scheduling/feed_created.html", {"url": url})


@require_POST
@login_required
def feed_revoke(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _therapist_only(user)
    availability.feed_token_revoke(actor=user)
    messages.success(request, "The calendar link no longer works.")
    return redirect("schedule_setup")


@require_GET
@never_cache
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The therapist's private feed: anyone holding the link reads it, so it says only when."""
    therapist = selectors.feed_owner(digest=token_digest(token[:200]))
    if therapist is None:
        return HttpResponse("No such calendar.", status=404, content_type="text/plain")
    now = timezone.now()
    events = [
        booking_event(
            b,
            summary=THERAPIST_TITLE if b.kind == BookingKind.SESSION else "Blocked (Confide)",
            stamp=now,
        )
        for b in selectors.feed_bookings(therapist=therapist, now=now)
    ]
    audit_record(
        actor=therapist, action="calendar.feed", object_type="user", object_id=therapist.pk
    )
    return HttpResponse(
        calendar(events, name="Confide sessions"), content_type="text/calendar; charset=utf-8"
    )
