"""Pages of the client's private journal: write, read, edit, delete, share an entry into a room.

For anyone but a client the journal does not exist (404), and a client only ever reaches their
own entries. Thin: parse, call one service or selector, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.errors import DomainError, InvalidInput, NotFound, http_status
from confide.http import download
from confide.support import journal as service


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdecimal() and len(raw) < 19 else None


def _body(request: HttpRequest) -> str:
    # Keep enough to say "too long"; never hold a huge post in memory twice.
    return request.POST.get("body", "")[: service.MAX_ENTRY + 1000]


@require_http_methods(["GET", "POST"])
@login_required
def journal(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    body, error, status = "", "", 200
    if request.method == "POST":
        body = _body(request)
        try:
            service.journal_write(actor=user, body=body)
        except NotFound:
            raise
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, "Saved in your journal. Only you can read it.")
            return redirect("journal")
    page = service.journal_page(user=user, page=_int(request.GET.get("page")) or 1)
    return render(
        request,
        "support/journal/journal.html",
        {"page": page, "body": body, "error": error, "max_chars": service.MAX_ENTRY},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def journal_entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _user(request)
    error, status, body = "", 200, None
    if request.method == "POST":
        body = _body(request)
        try:
            service.journal_edit(actor=user, entry_id=entry_id, body=body)
        except NotFound:
            raise
        except DomainError as exc:
            error, status = exc.message, 400
        else:
            messages.success(request, "Entry saved.")
            return redirect("journal")
    view = service.journal_entry(user=user, entry_id=entry_id)
    return render(
        request,
        "support/journal/entry.html",
        {
            "view": view,
            "body": view.text if body is None else body,
            "error": error,
            "max_chars": service.MAX_ENTRY,
        },
        status=status,
    )


@require_POST
@login_required
def journal_delete(request: HttpRequest, entry_id: int) -> HttpResponse:
    service.journal_delete(actor=_user(request), entry_id=entry_id)
    messages.success(request, "The entry is deleted.")
    return redirect("journal")


@require_http_methods(["GET", "POST"])
@login_required
def journal_share(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _user(request)
    error, status = "", 200
    if request.method == "POST":
        room_id = _int(request.POST.get("room"))
        try:
            if room_id is None:
                raise InvalidInput("Choose a room to share into.")
            result = service.journal_share(actor=user, entry_id=entry_id, room_id=room_id)
        except NotFound:
            raise
        except DomainError as exc:
            error, status = exc.message, http_status(exc)
        else:
            messages.success(request, "Shared. It is now a message in the room.")
            crisis = "?crisis=1" if result.crisis else ""
            return redirect(f"{reverse('room', args=[room_id])}{crisis}#m{result.message.seq}")
    view = service.journal_entry(user=user, entry_id=entry_id)
    return render(
        request,
        "support/journal/share.html",
        {
            "view": view,
            "targets": service.share_targets(user=user),
            "prefix": service.SHARE_PREFIX,
            "error": error,
        },
        status=status,
    )


@require_GET
@login_required
def journal_export_json(request: HttpRequest) -> HttpResponse:
    data = service.journal_export_json(user=_user(request))
    return download(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        filename="confide-journal.json",
    )


@require_GET
@login_required
def journal_export_pdf(request: HttpRequest) -> HttpResponse:
    return download(
        service.journal_export_pdf(user=_user(request)),
        content_type="application/pdf",
        filename="confide-journal.pdf",
    )


urlpatterns: list[URLPattern] = [
    path("journal/", journal, name="journal"),
    path("journal/export.json", journal_export_json, name="journal_export_json"),
    path("journal/export.pdf", journal_export_pdf, name="journal_export_pdf"),
    path("journal/<id:entry_id>/", journal_entry, name="journal_entry"),
    path("journal/<id:entry_id>/delete/", journal_delete, name="journal_delete"),
    path("journal/<id:entry_id>/share/", journal_share, name="journal_share"),
]
