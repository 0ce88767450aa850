"""Small helpers shared by the HTTP interfaces."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies saw."""
    return address_from(
        str(request.META.get("REMOTE_ADDR") or ""),
        str(request.META.get("HTTP_X_FORWARDED_FOR", "")),
    )


def scope_ip(scope: dict[str, Any]) -> str | None:
    """The same for a WebSocket's ASGI scope."""
    forwarded = ""
    for key, value in scope.get("headers", []):
        if key.lower() == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    client = scope.get("client") or [""]
    return address_from(str(client[0] or ""), forwarded)


def address_from(remote: str, forwarded_for: str) -> str | None:
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in forwarded_for.split(",") if p.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return remote or None


def download(content: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    """A private file download (an export of the log): never cached, never shown inline."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
