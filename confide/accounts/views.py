"""Pages for signing in, the second factor, consent and one's own account."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide.accounts import selectors, services
from confide.accounts.models import User
from confide.care import services as care_services
from confide.care.models import TherapistSchedule
from confide.errors import DomainError
from confide.safety.registry import resources_for
from confide.web.forms import (
    AccessTokenForm,
    AwayForm,
    LoginForm,
    PreferencesForm,
    ProfileForm,
    ScheduleForm,
    TokenForm,
    apply_domain_error,
)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _safe_next(request: HttpRequest, default: str = "home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    from django.urls import reverse

    return reverse(default)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@require_http_methods(["GET", "POST"])
@login_required
def mfa_setup(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if selectors.user_has_mfa(user=user) and not request.user.is_verified():  # type: ignore[union-attr]
        return redirect("mfa_verify")
    form = TokenForm(request.POST or None)
    device_id = request.session.get("confide_totp_pending")
    device = TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()
    if request.method == "POST" and device is not None and form.is_valid():
        try:
            confirmed = services.totp_device_confirm(
                user=user, device_id=device.pk, token=form.cleaned_data["token"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            otp_login(request, confirmed)
            request.session.pop("confide_totp_pending", None)
            messages.success(request, "Two-step sign-in is on.")
            return redirect(_safe_next(request))
    if device is None:
        device = services.totp_device_start(user=user)
        request.session["confide_totp_pending"] = device.pk
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1b2b34")
    qr = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "accounts/mfa_setup.html",
        {"form": form, "qr": qr, "secret": secret, "next": request.GET.get("next", "")},
    )


@require_http_methods(["GET", "POST"])
@login_required
def mfa_verify(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["token"].strip()
        for device in devices_for_user(user, confirmed=True):
            if device.verify_token(code):
                otp_login(request, device)
                return redirect(_safe_next(request))
        form.add_error("token", "That code is not right. Codes change every 30 seconds.")
    return render(
        request, "accounts/mfa_verify.html", {"form": form, "next": request.GET.get("next", "")}
    )


@require_http_methods(["GET", "POST"])
@login_required
def consent(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    document = selectors.consent_current()
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        if request.POST.get("agree") != "yes":
            messages.error(request, "Please tick the box to say you have read and agree.")
        else:
            try:
                services.consent_accept(user=user, version=version)
            except DomainError as error:
                messages.error(request, error.message)
            else:
                messages.success(request, "Thank you. Welcome to Confide.")
                return redirect("home")
    practice = user.practice
    return render(
        request,
        "accounts/consent.html",
        {
            "document": document,
            "practice": practice,
            "crisis": resources_for(user.country),
            "accepted": selectors.consent_is_current(user=user),
        },
    )


def _forms(request: HttpRequest, user: User) -> dict[str, Any]:
    """The account page's forms; the one that was posted is bound to the data."""
    posted = request.POST.get("form") if request.method == "POST" else None
    data = request.POST if posted else None
    schedule = TherapistSchedule.objects.filter(therapist=user).first()
    return {
        "form": ProfileForm(
            data if posted == "profile" else None,
            initial={
                "display_name": user.display_name,
                "time_zone": user.time_zone,
                "country": user.country,
                "locale": user.locale,
            },
        ),
        "preferences_form": PreferencesForm(
            data if posted == "preferences" else None,
            initial={
                "email_notifications": user.email_notifications,
                "read_receipts": user.read_receipts,
                "hide_network_address": user.hide_network_address,
                "quiet_hours_start": user.quiet_hours_start,
                "quiet_hours_end": user.quiet_hours_end,
            },
        ),
        "schedule_form": ScheduleForm(
            data if posted == "schedule" else None,
            initial={
                "time_zone": schedule.time_zone if schedule else user.time_zone,
                "weekdays": [int(d) for d in schedule.weekdays] if schedule else [0, 1, 2, 3, 4],
                "start": schedule.start if schedule else "09:00",
                "end": schedule.end if schedule else "17:00",
                "holiday_country": schedule.holiday_country if schedule else user.country,
            },
        ),
        "away_form": AwayForm(data if posted == "away" else None),
        "posted": posted,
    }


@require_http_methods(["GET", "POST"])
@login_required
def account(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    forms = _forms(request, user)
    posted = forms.pop("posted")
    status = 200
    if posted is not None:
        form = {
            "profile": forms["form"],
            "preferences": forms["preferences_form"],
            "schedule": forms["schedule_form"],
            "away": forms["away_form"],
        }.get(posted)
        status = 400
        if form is not None and form.is_valid():
            try:
                _save(posted, user, form.cleaned_data)
            except DomainError as error:
                apply_domain_error(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect("account")
    return render(
        request,
        "accounts/account.html",
        {
            **forms,
            "away_periods": user.away_periods.filter(ends_at__gt=timezone.now()),
            "has_mfa": selectors.user_has_mfa(user=user),
            "tokens": selectors.tokens_for(user=user),
            "reply_token_days": settings.MAIL_REPLY_TOKEN_DAYS,
            "token_form": AccessTokenForm(),
            "consents": selectors.consent_history(user=user),
        },
        status=status,
    )


def _save(posted: str, user: User, data: dict[str, Any]) -> None:
    if posted == "profile":
        services.profile_update(user=user, **data)
    elif posted == "preferences":
        services.preferences_update(user=user, **data)
    elif posted == "schedule":
        care_services.schedule_update(actor=user, **data)
    elif posted == "away":
        care_services.away_add(actor=user, **data)


@require_POST
@login_required
def away_remove(request: HttpRequest, away_id: int) -> HttpResponse:
    care_services.away_remove(actor=_user(request), away_id=away_id)
    messages.success(request, "Removed.")
    return redirect("account")


@require_POST
@login_required
def token_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = AccessTokenForm(request.POST)
    raw = ""
    if form.is_valid():
        try:
            _, raw = services.token_create(
                user=user, name=form.cleaned_data["name"], ttl_days=form.cleaned_data["ttl_days"]
            )
        except DomainError as error:
            apply_domain_error(form, error)
    status = 201 if raw else 400
    return render(request, "accounts/token_created.html", {"form": form, "raw": raw}, status=status)


@require_POST
@login_required
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    services.token_revoke(user=_user(request), token_id=token_id)
    messages.success(request, "The token is revoked.")
    return redirect("account")


@require_GET
@login_required
def session_ping(request: HttpRequest) -> HttpResponse:
    """Sent by the page while a person is active, so typing a long message is not 'idle'."""
    return HttpResponse(status=204)
