"""What every /api/v1 router shares: the error shape, id bounds and the caller."""

# No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.
from typing import Annotated

from django.http import HttpRequest
from ninja import Path, Schema

from confide.accounts.models import User

# Ids are 64-bit: a larger number is a 422, never an overflow inside the database driver.
MAX_ID = 2**63 - 1
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def me(request: HttpRequest) -> User:
    """The authenticated caller (the API's auth classes only ever return users)."""
    user = request.auth  # type: ignore[attr-defined]
    assert isinstance(user, User)  # noqa: S101 - guaranteed by the API's auth
    return user
