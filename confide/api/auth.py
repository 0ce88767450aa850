"""API authentication: the browser's session (with CSRF) or a personal access token."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBearer

from confide.accounts.models import User
from confide.accounts.selectors import consent_is_current, user_has_mfa
from confide.accounts.services import token_caller
from confide.audit.services import current_ip
from confide.http import client_ip


def _allowed(user: User, consent_current: bool | None = None) -> bool:
    """Clients must have accepted the current consent before using the API."""
    if not user.is_active:
        return False
    if not user.is_client:
        return True
    return consent_is_current(user=user) if consent_current is None else consent_current


class TokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest) -> Any:
        # HttpBearer logs the whole header in DEBUG; a token must never reach a log.
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        # One statement for the token, its user and their consent state (checked every time).
        caller = token_caller(raw=token)
        if caller is None or not _allowed(caller.user, caller.consent_current):
            return None
        user = caller.user
        request.user = user
        current_ip.set(client_ip(request))
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session cookie; unsafe methods need the CSRF token too."""

    param_name = "confide_session"

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        if not isinstance(user, User) or not _allowed(user):
            return None
        needs_second_factor = user.requires_mfa or user_has_mfa(user=user)
        if needs_second_factor and not user.is_verified():  # type: ignore[attr-defined]
            return None
        return user
