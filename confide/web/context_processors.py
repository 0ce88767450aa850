from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from confide.safety.registry import resources_for


def confide(request: HttpRequest) -> dict[str, Any]:
    """What every page needs: the idle limit for the page timer, and the viewer's crisis lines."""
    user = getattr(request, "user", None)
    country = getattr(user, "country", None) if user is not None else None
    return {
        "idle_timeout_seconds": settings.IDLE_TIMEOUT_MINUTES * 60,
        "idle_timeout_minutes": settings.IDLE_TIMEOUT_MINUTES,
        "crisis": resources_for(country),
    }
