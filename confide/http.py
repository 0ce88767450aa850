"""Small helpers shared by the HTTP interfaces."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_ip(request: HttpRequest) -> str | None:
    """The caller's address: REMOTE_ADDR, or the address TRUSTED_PROXY_COUNT proxies saw."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [p for p in forwarded if p]
        if len(forwarded) >= proxies:
            return str(forwarded[-proxies])
    address = str(request.META.get("REMOTE_ADDR") or "")
    return address or None


def download(content: bytes | str, *, content_type: str, filename: str) -> HttpResponse:
    """A private file download (an export of the log): never cached, never shown inline."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
