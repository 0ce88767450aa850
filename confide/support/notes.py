"""The therapist's private notes about a relationship (for a couple, optionally about one partner).

Only the therapist side of the relationship reads or writes them: its therapist, or a therapist
covering it now. Everyone else gets NotFound, the practice admin included: the admin runs the
practice but does not read clinical notes. Notes live in no room, publish nothing to any socket,
send no email and are never part of a room's export; the therapist exports them separately.

A note is free form (``{"text": ...}``) or SOAP (``{"s", "o", "a", "p"}``), stored as encrypted
JSON bound to its row (context `note:<note id>`: the row is created first, then sealed). An edit
replaces the text and moves `updated_at`; earlier texts are not kept (the audit log records who
edited and when). Only the author edits a note; the rest of the therapist side reads it. Every
read (list, detail, export) writes an audit row with ids only.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.care.models import CareParticipant, CareRelationship
from confide.errors import InvalidInput, NotFound, PermissionDenied
from confide.support.agreements import is_therapist_side
from confide.support.models import NoteFormat, PrivateNote

MAX_FREE_CHARS = 20_000
MAX_SOAP_FIELD_CHARS = 10_000
SOAP_FIELDS = ("s", "o", "a", "p")
SOAP_LABELS = {"s": "Subjective", "o": "Objective", "a": "Assessment", "p": "Plan"}
# A session date far from today is a typing mistake, not a session.
EARLIEST_SESSION = datetime.date(1970, 1, 1)
SESSION_DAYS_AHEAD = 366


def note_context(note_id: int) -> str:
    return f"note:{note_id}"


def _relationship(*, actor: User, relationship_id: int) -> CareRelationship:
    """The relationship, if `actor` is its therapist side now; NotFound for anyone else.

    Ended care too: a therapist writes a closing note and keeps (and exports) their record
    after the work ends."""
    relationship = (
        CareRelationship.objects.filter(pk=relationship_id)
        .select_related("practice", "therapist")
        .first()
    )
    if relationship is None or not is_therapist_side(actor, relationship):
        raise NotFound("No such page.")
    return relationship


def notes_relationship(*, actor: User, relationship_id: int) -> CareRelationship:
    """For pages that show the relationship's people around the notes (no note is read)."""
    return _relationship(actor=actor, relationship_id=relationship_id)


@dataclasses.dataclass(frozen=True)
class NoteView:
    """One note, decrypted, for the therapist side."""

    id: int
    relationship_id: int
    format: str
    about: User | None
    author: User
    session_on: datetime.date | None
    created_at: datetime.datetime
    updated_at: datetime.datetime
    content: dict[str, str]

    @property
    def format_label(self) -> str:
        return NoteFormat(self.format).label

    @property
    def sections(self) -> list[tuple[str, str]]:
        """(heading, text) pairs to show: one untitled section for free form, four for SOAP."""
        if self.format == NoteFormat.SOAP:
            return [(SOAP_LABELS[key], self.content.get(key, "")) for key in SOAP_FIELDS]
        return [("", self.content.get("text", ""))]

    @property
    def edited(self) -> bool:
        return self.updated_at > self.created_at

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "format": self.format,
            "about": None
            if self.about is None
            else {"id": self.about.pk, "name": self.about.display_name},
            "author": {"id": self.author.pk, "name": self.author.display_name},
            "session_on": self.session_on.isoformat() if self.session_on else None,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "content": self.content,
        }


def _view(note: PrivateNote) -> NoteView:
    data = json.loads(crypto.decrypt_text(bytes(note.body), context=note_context(note.pk)))
    return NoteView(
        id=note.pk,
        relationship_id=note.relationship_id,
        format=note.format,
        about=note.about,
        author=note.author,
        session_on=note.session_on,
        created_at=note.created_at,
        updated_at=note.updated_at,
        content={str(k): str(v) for k, v in data.items()},
    )


def _text(value: object, field: str, limit: int, errors: dict[str, list[str]]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[field] = ["This must be text."]
        return ""
    text = value.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > limit:
        errors[field] = [f"This can be at most {limit:,} characters."]
    return text


@dataclasses.dataclass(frozen=True)
class CleanNote:
    format: str
    content: dict[str, str]
    about_id: int | None
    session_on: datetime.date | None


def clean_note(
    *,
    relationship: CareRelationship,
    format: object,
    content: Mapping[str, object],
    about_id: object,
    session_on: object,
    today: datetime.date,
) -> CleanNote:
    """A note's parts, or InvalidInput naming each field that is wrong."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    if format == NoteFormat.FREE:
        cleaned["text"] = _text(content.get("text"), "text", MAX_FREE_CHARS, errors)
        if not errors and not cleaned["text"]:
            errors["text"] = ["Write something first."]
    elif format == NoteFormat.SOAP:
        for key in SOAP_FIELDS:
            cleaned[key] = _text(content.get(key), key, MAX_SOAP_FIELD_CHARS, errors)
        if not errors and not any(cleaned.values()):
            errors["s"] = ["Write in at least one of the four parts."]
    else:
        errors["format"] = ["Choose free form or SOAP."]
    about: int | None = None
    if about_id is not None:
        if (
            isinstance(about_id, bool)
            or not isinstance(about_id, int)
            or not CareParticipant.objects.filter(
                relationship=relationship, client_id=about_id
            ).exists()
        ):
            errors["about"] = ["Choose a client of this care, or nobody in particular."]
        else:
            about = about_id
    day: datetime.date | None = None
    if session_on is not None:
        latest = today + datetime.timedelta(days=SESSION_DAYS_AHEAD)
        if (
            not isinstance(session_on, datetime.date)
            or isinstance(session_on, datetime.datetime)
            or not EARLIEST_SESSION <= session_on <= latest
        ):
            errors["session_on"] = ["Give the date of the session, or leave it empty."]
        else:
            day = session_on
    if errors:
        raise InvalidInput("Please check the note.", field_errors=errors)
    return CleanNote(str(format), cleaned, about, day)


def _seal(note: PrivateNote, content: dict[str, str]) -> None:
    note.body = crypto.encrypt_text(
        json.dumps(content, ensure_ascii=False), context=note_context(note.pk)
    )


def _audit(
    actor: User, action: str, relationship: CareRelationship, detail: dict[str, Any]
) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type="relationship",
        object_id=relationship.pk,
        practice=relationship.practice,
        detail=detail,
    )


def note_create(
    *,
    actor: User,
    relationship_id: int,
    format: object,
    content: Mapping[str, object],
    about_id: object = None,
    session_on: object = None,
    now: datetime.datetime | None = None,
) -> PrivateNote:
    """Write a private note. Nothing is published or sent: no one else is told."""
    moment = now or timezone.now()
    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    clean = clean_note(
        relationship=relationship,
        format=format,
        content=content,
        about_id=about_id,
        session_on=session_on,
        today=moment.astimezone(zoneinfo.ZoneInfo(actor.time_zone)).date(),
    )
    with transaction.atomic():
        note = PrivateNote.objects.create(
            relationship=relationship,
            about_id=clean.about_id,
            author=actor,
            format=clean.format,
            session_on=clean.session_on,
            body=b"",
            created_at=moment,
            updated_at=moment,
        )
        _seal(note, clean.content)
        note.save(update_fields=["body"])
        _audit(actor, "note.create", relationship, {"note": note.pk})
    return note


def note_update(
    *,
    actor: User,
    relationship_id: int,
    note_id: int,
    format: object,
    content: Mapping[str, object],
    about_id: object = None,
    session_on: object = None,
    now: datetime.datetime | None = None,
) -> PrivateNote:
    """Replace a note's text (its author only); `updated_at` says when."""
    moment = now or timezone.now()
    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    with transaction.atomic():
        note = (
            PrivateNote.objects.select_for_update()
            .filter(pk=note_id, relationship=relationship)
            .first()
        )
        if note is None:
            raise NotFound("No such note.")
        if note.author_id != actor.pk:
            raise PermissionDenied("Only the therapist who wrote this note can change it.")
        clean = clean_note(
            relationship=relationship,
            format=format,
            content=content,
            about_id=about_id,
            session_on=session_on,
            today=moment.astimezone(zoneinfo.ZoneInfo(actor.time_zone)).date(),
        )
        note.format = clean.format
        note.about_id = clean.about_id
        note.session_on = clean.session_on
        note.updated_at = moment
        _seal(note, clean.content)
        note.save(update_fields=["format", "about", "session_on", "updated_at", "body"])
        _audit(actor, "note.update", relationship, {"note": note.pk})
    return note


def _notes(relationship: CareRelationship) -> list[NoteView]:
    return [
        _view(n)
        for n in PrivateNote.objects.filter(relationship=relationship)
        .select_related("about", "author")
        .order_by("-created_at", "-pk")
    ]


def notes_list(*, actor: User, relationship_id: int) -> list[NoteView]:
    """The relationship's notes, newest first (audited: which notes were shown)."""
    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    notes = _notes(relationship)
    _audit(actor, "note.list", relationship, {"notes": [n.id for n in notes]})
    return notes


def note_get(*, actor: User, relationship_id: int, note_id: int) -> NoteView:
    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    note = (
        PrivateNote.objects.select_related("about", "author")
        .filter(pk=note_id, relationship=relationship)
        .first()
    )
    if note is None:
        raise NotFound("No such note.")
    view = _view(note)
    _audit(actor, "note.read", relationship, {"note": note.pk})
    return view


def _export(relationship: CareRelationship, actor: User) -> dict[str, Any]:
    return {
        "format": "confide.private-notes",
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "exported_by": {"id": actor.pk, "name": actor.display_name},
        "relationship": {
            "id": relationship.pk,
            "kind": relationship.kind,
            "practice": relationship.practice.name,
            "therapist": {
                "id": relationship.therapist.pk,
                "name": relationship.therapist.display_name,
            },
            "clients": [
                {"id": p.client.pk, "name": p.client.display_name}
                for p in relationship.participants.select_related("client").order_by("joined_at")
            ],
        },
        "notes": [n.as_dict() for n in _notes(relationship)],
    }


def notes_export_json(*, actor: User, relationship_id: int) -> dict[str, Any]:
    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    data = _export(relationship, actor)
    _audit(actor, "note.export_json", relationship, {"notes": [n["id"] for n in data["notes"]]})
    return data


def notes_export_pdf(*, actor: User, relationship_id: int) -> bytes:
    """The notes as a PDF for the therapist's own records, times in their zone."""
    from weasyprint import HTML

    relationship = _relationship(actor=actor, relationship_id=relationship_id)
    zone = zoneinfo.ZoneInfo(actor.time_zone)
    notes = _notes(relationship)
    html = render_to_string(
        "support/notes/export.html",
        {
            "relationship": relationship,
            "clients": [p.client for p in relationship.participants.select_related("client")],
            "notes": [
                (n, n.created_at.astimezone(zone), n.updated_at.astimezone(zone)) for n in notes
            ],
            "exported_by": actor,
            "exported": timezone.now().astimezone(zone),
            "zone": actor.time_zone,
        },
    )
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    _audit(actor, "note.export_pdf", relationship, {"notes": [n.id for n in notes]})
    return pdf
