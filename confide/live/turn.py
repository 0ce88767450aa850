"""ICE servers for a call: STUN, and TURN with time-limited credentials.

The TURN REST scheme (coturn's `use-auth-secret`): the username is `<expiry>:<user id>` and the
password is base64(HMAC-SHA1(shared secret, username)). coturn checks the HMAC and refuses the
credential after the expiry, so nothing is stored and a credential cannot be extended. Confide
issues them only to the admitted participants of a running call, valid for the call's planned
remaining time plus a margin.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.utils import timezone

MARGIN = datetime.timedelta(minutes=15)


def turn_credential(*, user_id: int, expires: datetime.datetime, secret: str) -> dict[str, str]:
    username = f"{int(expires.timestamp())}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return {"username": username, "credential": base64.b64encode(digest).decode()}


def ice_servers(
    *, user_id: int, until: datetime.datetime, now: datetime.datetime | None = None
) -> tuple[list[dict[str, Any]], datetime.datetime | None]:
    """The ICE servers for one participant, and when their TURN credential expires (or None
    when no TURN server is configured: `make run` on one machine needs none)."""
    servers: list[dict[str, Any]] = []
    if settings.STUN_URLS:
        servers.append({"urls": list(settings.STUN_URLS)})
    if not settings.TURN_URLS or not settings.TURN_SECRET:
        return servers, None
    moment = now or timezone.now()
    expires = max(until, moment) + MARGIN
    servers.append(
        {
            "urls": list(settings.TURN_URLS),
            **turn_credential(user_id=user_id, expires=expires, secret=settings.TURN_SECRET),
        }
    )
    return servers, expires
