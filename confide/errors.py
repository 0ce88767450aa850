"""Domain errors raised by services and selectors; each interface turns them into its own answer."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: a rule of the domain said no."""

    def __init__(self, message: str = "", *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    """The object does not exist, or the actor may not know that it does (answered as 404)."""


class PermissionDenied(DomainError):
    """The actor may see the object but not do this to it (answered as 403)."""


class InvalidInput(DomainError):
    """The input broke a rule; `field_errors` says which field and why (answered as 400/422)."""


class Conflict(DomainError):
    """The request clashes with the current state, e.g. an invitation already used (409)."""


def http_status(error: DomainError) -> int:
    """The HTTP status each interface answers a domain error with."""
    for kind, status in ((NotFound, 404), (PermissionDenied, 403), (Conflict, 409)):
        if isinstance(error, kind):
            return status
    return 400
