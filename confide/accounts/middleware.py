"""Session limits, the second-factor requirement and the consent requirement."""

from __future__ import annotations

import time
import zoneinfo
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from confide.accounts.selectors import consent_is_current, user_has_mfa
from confide.audit.services import current_ip
from confide.http import client_ip

# Paths any signed-in person may reach before finishing MFA or consent.
_OPEN_PREFIXES = ("/static/", "/healthz", "/api/", "/ws/", "/logout/", "/favicon.ico")

Handler = Callable[[HttpRequest], HttpResponse]


class SessionLimitsMiddleware:
    """Sign out after IDLE_TIMEOUT_MINUTES without a request, and after SESSION_MAX_HOURS in all.

    Also makes the caller's address available to the audit helper for this request.
    """

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip.set(client_ip(request))
        try:
            expired = self._expired(request)
            if expired:
                logout(request)
                return HttpResponseRedirect(reverse("login") + "?" + urlencode({"ended": expired}))
            if request.user.is_authenticated:
                # Pages show times in the viewer's own zone.
                timezone.activate(zoneinfo.ZoneInfo(request.user.time_zone))
            return self.get_response(request)
        finally:
            timezone.deactivate()
            current_ip.reset(token)

    def _expired(self, request: HttpRequest) -> str:
        if not request.user.is_authenticated:
            return ""
        now = time.time()
        session = request.session
        started = session.get("confide_started")
        last = session.get("confide_seen")
        if started is None or last is None:
            session["confide_started"] = started or now
            session["confide_seen"] = now
            return ""
        if now - float(last) > settings.IDLE_TIMEOUT_MINUTES * 60:
            return "idle"
        if now - float(started) > settings.SESSION_MAX_HOURS * 3600:
            return "lifetime"
        session["confide_seen"] = now
        return ""


class MFARequiredMiddleware:
    """Therapists and admins (and clients who turned it on) must pass their second factor."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not user.is_verified()  # type: ignore[attr-defined]
        ):
            has_device = user_has_mfa(user=user)
            if has_device:
                target = reverse("mfa_verify")
            elif user.requires_mfa:
                target = reverse("mfa_setup")
            else:
                target = ""
            if target and request.path != target:
                return HttpResponseRedirect(target + "?" + urlencode({"next": request.path}))
        return self.get_response(request)


class ConsentRequiredMiddleware:
    """A client uses Confide only after accepting the current informed-consent version."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        consent_path = reverse("consent")
        if (
            user.is_authenticated
            and user.is_client
            and request.path != consent_path
            and not request.path.startswith(_OPEN_PREFIXES)
            and not consent_is_current(user=user)
        ):
            return HttpResponseRedirect(consent_path)
        return self.get_response(request)


class TokenRequestMiddleware:
    """For API requests that carry a personal access token (settings.API_TOKEN_MIDDLEWARE).

    Stands in for the session middleware stack: nobody is signed in until the API's token
    check says who the caller is, and the caller's address is there for the audit helper.
    The answers are data, never a page: their Content-Security-Policy allows nothing at all
    (stricter than the pages' policy, and one constant instead of a policy built per request).
    """

    POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.user = AnonymousUser()
        token = current_ip.set(client_ip(request))
        try:
            response = self.get_response(request)
        finally:
            current_ip.reset(token)
        response.headers.setdefault("Content-Security-Policy", self.POLICY)
        return response
