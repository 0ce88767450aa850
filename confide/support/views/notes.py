"""Pages for the therapist's private notes: the list, one note, writing and editing, and the
separate exports (JSON and PDF). Only the therapist side of the relationship gets anything but
a 404 here. Thin: parse, call one service or selector, shape the answer."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils import dateparse, timezone
from django.views.decorators.http import require_GET, require_http_methods

from confide.accounts.models import User
from confide.care.models import CareKind, CareRelationship
from confide.errors import InvalidInput, PermissionDenied
from confide.http import download
from confide.support import notes
from confide.support.models import NoteFormat

CONTENT_FIELDS = ("text", *notes.SOAP_FIELDS)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _int_or_raw(raw: str) -> object:
    """An id from a form: None when empty, an int when it is one, else the raw text (which
    the service then refuses with a field error)."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 19 else raw


def _date_or_raw(raw: str) -> object:
    raw = raw.strip()
    if not raw:
        return None
    try:
        day = dateparse.parse_date(raw[:20])
    except ValueError:  # well-formed but impossible, e.g. 2027-02-30
        return raw
    return day if day is not None else raw


def _posted(request: HttpRequest) -> dict[str, Any]:
    return {
        "format": request.POST.get("format", ""),
        "content": {key: request.POST.get(key, "") for key in CONTENT_FIELDS},
        "about_id": _int_or_raw(request.POST.get("about", "")),
        "session_on": _date_or_raw(request.POST.get("session_on", "")),
    }


def _form_context(
    relationship: CareRelationship, values: dict[str, Any], error: InvalidInput | None
) -> dict[str, Any]:
    fmt = values.get("format")
    return {
        "relationship": relationship,
        "clients": [p.client for p in relationship.participants.select_related("client")],
        "couple": relationship.kind == CareKind.COUPLE,
        "format": fmt if fmt in NoteFormat.values else NoteFormat.FREE,
        "values": values,
        "soap": [(key, notes.SOAP_LABELS[key]) for key in notes.SOAP_FIELDS],
        "errors": error.field_errors if error else {},
        "error": error.message if error else "",
        "limits": {"free": notes.MAX_FREE_CHARS, "soap": notes.MAX_SOAP_FIELD_CHARS},
    }


def _raw_values(request: HttpRequest) -> dict[str, Any]:
    """What was typed, to show the form again after an error."""
    return {
        "format": request.POST.get("format", ""),
        **{key: request.POST.get(key, "") for key in CONTENT_FIELDS},
        "about": request.POST.get("about", ""),
        "session_on": request.POST.get("session_on", ""),
    }


@require_GET
@login_required
def notes_page(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    found = notes.notes_list(actor=user, relationship_id=relationship_id)
    relationship = notes.notes_relationship(actor=user, relationship_id=relationship_id)
    return render(
        request,
        "support/notes/list.html",
        {"relationship": relationship, "notes": found},
    )


@require_http_methods(["GET", "POST"])
@login_required
def note_new(request: HttpRequest, relationship_id: int) -> HttpResponse:
    user = _user(request)
    relationship = notes.notes_relationship(actor=user, relationship_id=relationship_id)
    if request.method == "POST":
        try:
            note = notes.note_create(
                actor=user, relationship_id=relationship_id, **_posted(request)
            )
        except InvalidInput as error:
            return render(
                request,
                "support/notes/form.html",
                _form_context(relationship, _raw_values(request), error),
                status=400,
            )
        messages.success(request, "The note is saved. Only the therapist side can read it.")
        return redirect("note", relationship_id=relationship_id, note_id=note.pk)
    fmt = request.GET.get("format", NoteFormat.FREE)
    values = {"format": fmt, "session_on": timezone.localdate().isoformat()}
    return render(request, "support/notes/form.html", _form_context(relationship, values, None))


@require_GET
@login_required
def note_page(request: HttpRequest, relationship_id: int, note_id: int) -> HttpResponse:
    user = _user(request)
    note = notes.note_get(actor=user, relationship_id=relationship_id, note_id=note_id)
    relationship = notes.notes_relationship(actor=user, relationship_id=relationship_id)
    return render(
        request,
        "support/notes/detail.html",
        {"relationship": relationship, "note": note, "can_edit": note.author.pk == user.pk},
    )


@require_http_methods(["GET", "POST"])
@login_required
def note_edit(request: HttpRequest, relationship_id: int, note_id: int) -> HttpResponse:
    user = _user(request)
    relationship = notes.notes_relationship(actor=user, relationship_id=relationship_id)
    if request.method == "POST":
        try:
            notes.note_update(
                actor=user, relationship_id=relationship_id, note_id=note_id, **_posted(request)
            )
        except InvalidInput as error:
            context = _form_context(relationship, _raw_values(request), error)
            return render(
                request, "support/notes/form.html", {**context, "note_id": note_id}, status=400
            )
        messages.success(request, "The note is updated.")
        return redirect("note", relationship_id=relationship_id, note_id=note_id)
    note = notes.note_get(actor=user, relationship_id=relationship_id, note_id=note_id)
    if note.author.pk != user.pk:
        raise PermissionDenied("Only the therapist who wrote this note can change it.")
    values: dict[str, Any] = {
        "format": note.format,
        **note.content,
        "about": str(note.about.pk) if note.about else "",
        "session_on": note.session_on.isoformat() if note.session_on else "",
    }
    context = _form_context(relationship, values, None)
    return render(request, "support/notes/form.html", {**context, "note_id": note_id})


@require_GET
@login_required
def notes_export_json(request: HttpRequest, relationship_id: int) -> HttpResponse:
    data = notes.notes_export_json(actor=_user(request), relationship_id=relationship_id)
    return download(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        filename=f"confide-private-notes-{relationship_id}.json",
    )


@require_GET
@login_required
def notes_export_pdf(request: HttpRequest, relationship_id: int) -> HttpResponse:
    return download(
        notes.notes_export_pdf(actor=_user(request), relationship_id=relationship_id),
        content_type="application/pdf",
        filename=f"confide-private-notes-{relationship_id}.pdf",
    )


urlpatterns: list[URLPattern] = [
    path("care/<id:relationship_id>/notes/", notes_page, name="notes"),
    path("care/<id:relationship_id>/notes/new/", note_new, name="note_new"),
    path("care/<id:relationship_id>/notes/<id:note_id>/", note_page, name="note"),
    path("care/<id:relationship_id>/notes/<id:note_id>/edit/", note_edit, name="note_edit"),
    path(
        "care/<id:relationship_id>/notes/export.json",
        notes_export_json,
        name="notes_export_json",
    ),
    path(
        "care/<id:relationship_id>/notes/export.pdf",
        notes_export_pdf,
        name="notes_export_pdf",
    ),
]
