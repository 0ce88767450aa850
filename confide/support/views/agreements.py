"""Pages for the care agreement: the agreement with its versions, proposing a version, and
accepting, declining or withdrawing the waiting one. Thin: parse, call one service or selector,
shape the answer."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.errors import DomainError, NotFound, http_status
from confide.support import agreements
from confide.support.models import HomeworkRhythm
from confide.web.forms import apply_domain_error


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _next(request: HttpRequest, relationship_id: int) -> str:
    """Where to go after a decision: the page it was made on (same site only)."""
    target = request.POST.get("next", "")
    if (
        target.startswith("/")
        and len(target) < 200
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    ):
        return target
    return f"/care/{relationship_id}/agreement/"


class AgreementForm(forms.Form):
    checkins_per_week = forms.IntegerField(
        label="Check-ins a week",
        min_value=agreements.CHECKINS_RANGE[0],
        max_value=agreements.CHECKINS_RANGE[1],
        help_text="On how many days a week the client means to write (1 to 7).",
    )
    reply_window_business_days = forms.IntegerField(
        label="Reply window (business days)",
        min_value=agreements.REPLY_WINDOW_RANGE[0],
        max_value=agreements.REPLY_WINDOW_RANGE[1],
        help_text="How soon the therapist aims to reply (1 to 10 business days).",
    )
    live_sessions_per_month = forms.IntegerField(
        label="Live sessions a month",
        min_value=agreements.LIVE_SESSIONS_RANGE[0],
        max_value=agreements.LIVE_SESSIONS_RANGE[1],
        help_text="Planned live chats or calls a month (0 to 8).",
    )
    homework_rhythm = forms.ChoiceField(
        label="Homework", choices=HomeworkRhythm.choices, widget=forms.RadioSelect
    )
    goals = forms.CharField(
        label="Goals",
        required=False,
        max_length=agreements.MAX_GOALS_CHARS,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What you want to work towards, in your own words. Everyone in this care "
        "can read it.",
    )


@require_GET
@login_required
def agreement_page(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    overview = agreements.agreement_overview(user=user, relationship_id=relationship_id)
    return render(
        request,
        "support/agreements/agreement.html",
        {
            "overview": overview,
            "proposal": overview.proposal,
            "next": f"/care/{relationship_id}/agreement/",
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def agreement_propose(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    overview = agreements.agreement_overview(user=user, relationship_id=relationship_id)
    status = 200
    if request.method == "POST":
        form = AgreementForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                agreement = agreements.agreement_propose(
                    actor=user,
                    relationship_id=relationship_id,
                    checkins_per_week=data["checkins_per_week"],
                    reply_window_business_days=data["reply_window_business_days"],
                    live_sessions_per_month=data["live_sessions_per_month"],
                    homework_rhythm=data["homework_rhythm"],
                    goals=data["goals"],
                )
            except DomainError as error:
                if isinstance(error, NotFound):
                    raise
                apply_domain_error(form, error)
                status = http_status(error)
            else:
                messages.success(
                    request,
                    f"Version {agreement.number} is proposed. It applies once the other side "
                    "accepts it.",
                )
                return redirect("agreement", relationship_id=relationship_id)
        else:
            status = 400
    else:
        defaults = overview.defaults
        form = AgreementForm(
            initial={
                "checkins_per_week": defaults.checkins_per_week,
                "reply_window_business_days": defaults.reply_window_business_days,
                "live_sessions_per_month": defaults.live_sessions_per_month,
                "homework_rhythm": defaults.homework_rhythm,
                "goals": defaults.goals,
            }
        )
    return render(
        request,
        "support/agreements/propose.html",
        {"overview": overview, "form": form},
        status=status,
    )


def _decide(
    request: HttpRequest, relationship_id: int, agreement_id: int, action: str
) -> HttpResponse:
    """A Conflict (already decided, e.g. by the other partner a moment ago) or PermissionDenied
    reaches the error page with its status through the domain error middleware."""
    user = _user(request)
    if action == "withdraw":
        agreements.agreement_withdraw(
            actor=user, relationship_id=relationship_id, agreement_id=agreement_id
        )
        done = "Your proposal is withdrawn."
    else:
        agreement = agreements.agreement_decide(
            actor=user,
            relationship_id=relationship_id,
            agreement_id=agreement_id,
            accept=action == "accept",
        )
        done = (
            f"Version {agreement.number} of the care agreement now applies."
            if action == "accept"
            else f"You declined version {agreement.number}."
        )
    messages.success(request, done)
    return redirect(_next(request, relationship_id))


@require_POST
@login_required
def agreement_accept(request: HttpRequest, relationship_id: int, agreement_id: int) -> HttpResponse:
    return _decide(request, relationship_id, agreement_id, "accept")


@require_POST
@login_required
def agreement_decline(
    request: HttpRequest, relationship_id: int, agreement_id: int
) -> HttpResponse:
    return _decide(request, relationship_id, agreement_id, "decline")


@require_POST
@login_required
def agreement_withdraw(
    request: HttpRequest, relationship_id: int, agreement_id: int
) -> HttpResponse:
    return _decide(request, relationship_id, agreement_id, "withdraw")


urlpatterns: list[URLPattern] = [
    path("care/<id:relationship_id>/agreement/", agreement_page, name="agreement"),
    path(
        "care/<id:relationship_id>/agreement/propose/",
        agreement_propose,
        name="agreement_propose",
    ),
    path(
        "care/<id:relationship_id>/agreement/<id:agreement_id>/accept/",
        agreement_accept,
        name="agreement_accept",
    ),
    path(
        "care/<id:relationship_id>/agreement/<id:agreement_id>/decline/",
        agreement_decline,
        name="agreement_decline",
    ),
    path(
        "care/<id:relationship_id>/agreement/<id:agreement_id>/withdraw/",
        agreement_withdraw,
        name="agreement_withdraw",
    ),
]
