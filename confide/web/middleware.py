from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from confide.errors import DomainError, http_status


class DomainErrorMiddleware:
    """Turns a domain error that escaped a page view into a calm error page with its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError):
            return None
        status = http_status(exception)
        message = exception.message if status != 404 else "This page does not exist."
        return render(request, "error.html", {"status": status, "message": message}, status=status)
