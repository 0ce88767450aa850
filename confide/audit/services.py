"""The one helper every view and service that touches clinical data calls."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from confide.audit.models import AuditEvent

if TYPE_CHECKING:
    from confide.accounts.models import User
    from confide.care.models import Practice

# The address of the request being served, set by middleware (HTTP) or a consumer (WebSocket),
# so services do not need an `ip` argument threaded through every call.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


def audit_record(
    *,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: int | str,
    practice: Practice | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one audit row. `detail` carries identifiers only, never anything a person wrote."""
    if practice is None and actor is not None:
        practice_id = actor.practice_id
    else:
        practice_id = practice.pk if practice is not None else None
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        practice_id=practice_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        ip=ip if ip is not None else current_ip.get(),
        detail=detail or {},
    )
