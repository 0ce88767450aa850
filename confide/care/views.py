"""Pages for care: the home page of each role, invitations, relationships, the practice."""

from __future__ import annotations

import zoneinfo

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from confide.accounts.models import Role, User
from confide.audit.services import audit_record
from confide.care import selectors, services
from confide.care.models import CareKind
from confide.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from confide.live.selectors import open_live_sessions_for
from confide.rooms import selectors as room_selectors
from confide.rooms.windows import format_due
from confide.support.views.caseload import caseload_context
from confide.web.forms import (
    ClientInviteForm,
    PracticeForm,
    ReassignForm,
    SignupForm,
    TherapistInviteForm,
    apply_domain_error,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if user.role == Role.ADMIN:
        return redirect("practice")
    if user.role == Role.THERAPIST:
        return inbox_page(request)
    return render(
        request,
        "care/home_client.html",
        {
            "rooms": room_selectors.rooms_for(user=user),
            "relationships": selectors.relationships_visible_to(user=user),
            "live_now": open_live_sessions_for(user),
        },
    )


@require_http_methods(["GET", "HEAD"])
@login_required
def caseload(request: HttpRequest) -> HttpResponse:
    """The therapist's caseload: every client and couple with their figures, and invitations."""
    user = _user(request)
    if not user.is_therapist:
        raise NotFound("No such page.")
    context = caseload_context(user=user, now=timezone.now(), form=ClientInviteForm())
    return render(request, "care/home_therapist.html", context)


def inbox_page(request: HttpRequest) -> HttpResponse:
    """The therapist's inbox: rooms in the order they should be answered, and their figures."""
    user = _user(request)
    now = timezone.now()
    rows = room_selectors.inbox(therapist=user, now=now)
    audit_record(actor=user, action="inbox.view", object_type="user", object_id=user.pk)
    zone = zoneinfo.ZoneInfo(user.time_zone)
    kinds = {"couple": "Couples room", "private": "Private room", "individual": "Individual room"}
    # Display strings are made here, once per row: the template only prints them (a therapist
    # with 200 rooms opens this page all day long).
    items = [
        {
            "row": row,
            "url": f"/rooms/{row.room_id}/",
            "names": " & ".join(row.clients) or "Awaiting sign-up",
            "kind": kinds.get(row.kind, row.kind),
            "due": format_due(row.reply_due_at, user.time_zone, now).removeprefix("Expected by ")
            if row.reply_due_at
            else "",
            "last": row.last_message_at.astimezone(zone).strftime("%a %-d %b, %H:%M")
            if row.last_message_at
            else "",
        }
        for row in rows
    ]
    return render(
        request,
        "rooms/inbox.html",
        {
            "items": items,
            "figures": room_selectors.response_figures(therapist=user, now=now),
            "window_days": user.practice.reply_window_business_days if user.practice else 2,
        },
    )


@require_POST
@login_required
def client_invite(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_therapist:
        raise PermissionDenied("Only a therapist can invite clients.")
    form = ClientInviteForm(request.POST)
    if form.is_valid():
        try:
            issued = services.client_invite(
                actor=user,
                email=form.cleaned_data["email"],
                kind=CareKind(form.cleaned_data["kind"]),
                partner_email=form.cleaned_data["partner_email"] or "",
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            sent_to = " and ".join(item.invitation.email for item in issued)
            messages.success(request, f"Invitation sent to {sent_to}.")
            return redirect("caseload")
    return render(
        request,
        "care/home_therapist.html",
        caseload_context(user=user, now=timezone.now(), form=form),
        status=400,
    )


@require_POST
@login_required
def invitation_revoke(request: HttpRequest, invitation_id: int) -> HttpResponse:
    services.invitation_revoke(actor=_user(request), invitation_id=invitation_id)
    messages.success(request, "The invitation is withdrawn.")
    return redirect((request.POST.get("back") == "practice" and "practice") or "caseload")


@login_required
def relationship_detail(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    relationship = selectors.relationship_get(user=user, relationship_id=relationship_id)
    audit_record(
        actor=user,
        action="relationship.view",
        object_type="relationship",
        object_id=relationship.pk,
        practice=relationship.practice,
    )
    context = {
        "relationship": relationship,
        "history": selectors.relationship_history(relationship=relationship),
        "therapists": selectors.therapists_of_practice(user=user),
        "colleagues": selectors.colleagues_of(user=user),
        "covers": relationship.covers.filter(ended_at__isnull=True).select_related("therapist"),
        "rooms": [
            r for r in room_selectors.rooms_for(user=user) if r.relationship_id == relationship.pk
        ],
        "can_manage": user.is_practice_admin or relationship.therapist_id == user.pk,
    }
    return render(request, "care/relationship.html", context)


@require_http_methods(["GET", "POST"])
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = selectors.invitation_for_token(raw_token=token)
    except NotFound:
        return render(request, "care/invitation_invalid.html", {"status": "invalid"}, status=404)
    status = invitation.status()
    if status != "pending":
        return render(request, "care/invitation_invalid.html", {"status": status}, status=410)
    if request.user.is_authenticated:
        return render(request, "care/invitation_invalid.html", {"status": "signed_in"}, status=409)
    form = SignupForm(request.POST or None, initial={"time_zone": "UTC", "locale": "en"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.invitation_accept(
                raw_token=token,
                display_name=data["display_name"],
                password=data["password"],
                time_zone=data["time_zone"],
                country=data["country"],
                locale=data["locale"],
            )
        except Conflict as error:
            if "password" in error.field_errors or "email" in error.field_errors:
                apply_domain_error(form, error)
            else:
                return render(
                    request, "care/invitation_invalid.html", {"status": "used"}, status=410
                )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("consent" if user.is_client else "mfa_setup")
    return render(
        request,
        "care/invitation_accept.html",
        {"form": form, "invitation": invitation},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def practice(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_practice_admin or user.practice is None:
        raise NotFound("No such page.")
    return render(request, "care/practice.html", _practice_context(user))


def _practice_context(user: User, **forms: object) -> dict[str, object]:
    assert user.practice is not None  # noqa: S101 - checked by callers
    therapists = list(selectors.therapists_of_practice(user=user))
    return {
        "practice": user.practice,
        "therapists": therapists,
        "figures": [
            (t, room_selectors.response_figures(therapist=t, now=timezone.now()))
            for t in therapists
        ],
        "relationships": selectors.relationships_visible_to(user=user),
        "invitations": selectors.invitations_visible_to(user=user).filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ),
        "invite_form": forms.get("invite_form") or TherapistInviteForm(),
        "practice_form": forms.get("practice_form")
        or PracticeForm(
            initial={
                "name": user.practice.name,
                "reply_window_business_days": user.practice.reply_window_business_days,
                "escalation_grace_hours": user.practice.escalation_grace_hours,
                "live_session_minutes": user.practice.live_session_minutes,
            }
        ),
    }


@require_POST
@login_required
def therapist_invite(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_practice_admin:
        raise NotFound("No such page.")
    form = TherapistInviteForm(request.POST)
    if form.is_valid():
        try:
            services.therapist_invite(actor=user, email=form.cleaned_data["email"])
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Invitation sent to {form.cleaned_data['email']}.")
            return redirect("practice")
    return render(
        request, "care/practice.html", _practice_context(user, invite_form=form), status=400
    )


@require_POST
@login_required
def practice_update(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not user.is_practice_admin:
        raise NotFound("No such page.")
    form = PracticeForm(request.POST)
    if form.is_valid():
        try:
            services.practice_update(actor=user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Practice settings saved.")
            return redirect("practice")
    return render(
        request, "care/practice.html", _practice_context(user, practice_form=form), status=400
    )


@require_POST
@login_required
def relationship_reassign(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a therapist.")
        return redirect("relationship", relationship_id=relationship_id)
    relationship = services.relationship_reassign(
        actor=user, relationship_id=relationship_id, therapist_id=form.cleaned_data["therapist"]
    )
    messages.success(request, f"Now with {relationship.therapist.display_name}.")
    return redirect("relationship", relationship_id=relationship.pk)


@require_POST
@login_required
def covering_add(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    form = ReassignForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a therapist.")
    else:
        try:
            cover = services.covering_add(
                actor=user,
                relationship_id=relationship_id,
                therapist_id=form.cleaned_data["therapist"],
            )
        except InvalidInput as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"{cover.therapist.display_name} is now covering.")
    return redirect("relationship", relationship_id=relationship_id)


@require_POST
@login_required
def covering_end(request: HttpRequest, relationship_id: int, therapist_id: int) -> HttpResponse:
    services.covering_end(
        actor=_user(request), relationship_id=relationship_id, therapist_id=therapist_id
    )
    messages.success(request, "Covering ended.")
    return redirect("relationship", relationship_id=relationship_id)
