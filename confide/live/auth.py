"""Who is on the other end of a room socket, and from which page.

A browser authenticates with its session cookie; its `Origin` must be the site itself or one of
`WEBSOCKET_ALLOWED_ORIGINS`. Any other program authenticates with a personal access token in an
`Authorization: Bearer` header; it sends no cookie, so a foreign page cannot ride on it, and it
may omit `Origin`. Everything else is refused before the handshake completes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import validate_host

from confide.accounts.services import token_authenticate
from confide.rooms.events import publish_from_this_loop

Scope = dict[str, Any]
ASGIApp = Any


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            try:
                return str(value.decode("latin-1"))
            except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes every byte
                return None
    return None


def bearer_token(scope: Scope) -> str | None:
    header = _header(scope, b"authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def origin_allowed(scope: Scope) -> bool:
    """The page's origin is this site (same host as the request) or explicitly allowed."""
    origin = _header(scope, b"origin")
    if origin is None:
        return False
    if origin in settings.WEBSOCKET_ALLOWED_ORIGINS:
        return True
    parsed = urlsplit(origin)
    host = _header(scope, b"host")
    if not parsed.netloc or host is None or parsed.scheme not in ("http", "https"):
        return False
    hostname = parsed.hostname or ""
    return parsed.netloc.lower() == host.lower() and validate_host(hostname, settings.ALLOWED_HOSTS)


class RoomSocketAuth:
    """Token or cookie authentication plus the origin rule, for every WebSocket route."""

    def __init__(self, app: ASGIApp) -> None:
        self.cookie_app = AuthMiddlewareStack(app)
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> Any:
        publish_from_this_loop()
        raw = bearer_token(scope)
        if raw is not None:
            user = await database_sync_to_async(token_authenticate)(raw=raw)
            if user is None:
                return await _refuse(receive, send)
            origin = _header(scope, b"origin")
            if origin is not None and not origin_allowed(scope):
                return await _refuse(receive, send)
            return await self.app({**scope, "user": user, "auth": "token"}, receive, send)
        if not origin_allowed(scope):
            return await _refuse(receive, send)
        return await self.cookie_app({**scope, "auth": "session"}, receive, send)


async def _refuse(receive: Any, send: Any) -> None:
    """Answer the upgrade with HTTP 403: closing before accepting refuses the handshake."""
    message = await receive()
    if message.get("type") == "websocket.connect":
        await send({"type": "websocket.close", "code": 4401})
