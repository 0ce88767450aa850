"""A client's private journal: write, edit, delete, and share an entry into one of their rooms.

Nobody but the author ever reads a journal: not the therapist, not a partner, not an admin
(everyone else gets NotFound). Sharing posts the entry into a room through
`rooms.services.message_send`, the one write path for messages, prefixed "From my journal:";
from then on the room's copy is a message like any other and belongs to the room's log.

Decisions: an entry is shared at most once (a second share is refused with a clear message:
the model keeps one room per entry, and posting it twice would be noise). Editing a shared
entry changes the journal's copy only. Deleting an entry really deletes it; if it was shared,
the room keeps its message (the room's log never changes silently).
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid
import zoneinfo
from typing import Any

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import Conflict, InvalidInput, NotFound
from confide.rooms.models import Room, RoomKind
from confide.rooms.selectors import audience, room_get, rooms_for
from confide.rooms.services import MAX_BODY_CHARS, SendResult, message_send
from confide.support.models import JournalEntry

SHARE_PREFIX = "From my journal:"
# Room for the prefix: a shared entry must fit in one message.
MAX_ENTRY = MAX_BODY_CHARS - 100
PAGE = 20
_SHARE_IDS = uuid.UUID("6a1f3c7e-2b8d-4f51-9c0e-5d7a2e9b4c13")


def entry_context(entry_id: int) -> str:
    return f"journal:{entry_id}"


def entry_text(entry: JournalEntry) -> str:
    return crypto.decrypt_text(bytes(entry.body), context=entry_context(entry.pk))


def _client_only(user: User) -> None:
    # A journal is a client's own page: for anyone else it does not exist.
    if not user.is_active or not user.is_client:
        raise NotFound("No such page.")


def _own(user: User, entry_id: int) -> JournalEntry:
    _client_only(user)
    entry = (
        JournalEntry.objects.filter(pk=entry_id, author=user).select_related("shared_room").first()
    )
    if entry is None:
        raise NotFound("No such journal entry.")
    return entry


def _clean(body: str) -> str:
    text = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise InvalidInput("Write something first.", field_errors={"body": ["Write something."]})
    if len(text) > MAX_ENTRY:
        raise InvalidInput(
            "The entry is too long.",
            field_errors={"body": [f"An entry can be at most {MAX_ENTRY:,} characters."]},
        )
    return text


@dataclasses.dataclass(frozen=True)
class EntryView:
    entry: JournalEntry
    text: str
    shared_room_title: str


@dataclasses.dataclass(frozen=True)
class JournalPage:
    entries: list[EntryView]
    page: int
    has_more: bool


def room_title(room: Room) -> str:
    """A room's name as its client sees it."""
    therapist = room.relationship.therapist.display_name
    if room.kind == RoomKind.COUPLE:
        return f"Couples room with {therapist}"
    if room.kind == RoomKind.PRIVATE:
        return f"Your private room with {therapist}"
    return f"Your room with {therapist}"


def _view(entry: JournalEntry) -> EntryView:
    shared = entry.shared_room
    return EntryView(
        entry=entry,
        text=entry_text(entry),
        shared_room_title=room_title(shared) if shared is not None else "",
    )


def journal_page(*, user: User, page: int = 1) -> JournalPage:
    """The author's entries, newest first, PAGE at a time (audited)."""
    _client_only(user)
    page = max(1, min(page, 100_000))
    start = (page - 1) * PAGE
    entries = list(
        JournalEntry.objects.filter(author=user)
        .select_related("shared_room__relationship__therapist")
        .order_by("-created_at", "-pk")[start : start + PAGE + 1]
    )
    audit_record(
        actor=user,
        action="journal.list",
        object_type="journal",
        object_id=user.pk,
        detail={"entries": [e.pk for e in entries[:PAGE]]},
    )
    return JournalPage(
        entries=[_view(e) for e in entries[:PAGE]], page=page, has_more=len(entries) > PAGE
    )


def _export(user: User) -> dict[str, Any]:
    entries = (
        JournalEntry.objects.filter(author=user)
        .select_related("shared_room__relationship__therapist")
        .order_by("created_at", "pk")
    )
    return {
        "format": "confide.journal",
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "author": {"id": user.pk, "name": user.display_name},
        "entries": [
            {
                "id": view.entry.pk,
                "created_at": view.entry.created_at.isoformat(),
                "updated_at": view.entry.updated_at.isoformat(),
                "text": view.text,
                "shared": (
                    {
                        "room": view.entry.shared_room_id,
                        "room_title": view.shared_room_title,
                        "seq": view.entry.shared_seq,
                        "at": view.entry.shared_at.isoformat(),
                    }
                    if view.entry.shared_at is not None
                    else None
                ),
            }
            for view in (_view(entry) for entry in entries)
        ],
    }


def journal_export_json(*, user: User) -> dict[str, Any]:
    """The author's whole journal, oldest first, for them to keep (audited)."""
    _client_only(user)
    data = _export(user)
    audit_record(
        actor=user,
        action="journal.export_json",
        object_type="journal",
        object_id=user.pk,
        detail={"entries": len(data["entries"])},
    )
    return data


def journal_export_pdf(*, user: User) -> bytes:
    """The author's journal as a PDF, times in their own zone (audited)."""
    from weasyprint import HTML

    _client_only(user)
    data = _export(user)
    zone = zoneinfo.ZoneInfo(user.time_zone)
    for item in data["entries"]:
        item["local_time"] = datetime.datetime.fromisoformat(item["created_at"]).astimezone(zone)
    html = render_to_string(
        "support/journal/export.html",
        {"data": data, "zone": user.time_zone, "exported": timezone.now().astimezone(zone)},
    )
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    audit_record(
        actor=user,
        action="journal.export_pdf",
        object_type="journal",
        object_id=user.pk,
        detail={"entries": len(data["entries"])},
    )
    return pdf


def journal_entry(*, user: User, entry_id: int) -> EntryView:
    """One of the author's entries (audited)."""
    entry = _own(user, entry_id)
    audit_record(actor=user, action="journal.view", object_type="journal_entry", object_id=entry.pk)
    return _view(entry)


def journal_write(*, actor: User, body: str, now: datetime.datetime | None = None) -> JournalEntry:
    _client_only(actor)
    text = _clean(body)
    moment = now or timezone.now()
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            author=actor, body=b"", created_at=moment, updated_at=moment
        )
        entry.body = crypto.encrypt_text(text, context=entry_context(entry.pk))
        entry.save(update_fields=["body"])
        audit_record(
            actor=actor, action="journal.write", object_type="journal_entry", object_id=entry.pk
        )
    return entry


def journal_edit(
    *, actor: User, entry_id: int, body: str, now: datetime.datetime | None = None
) -> JournalEntry:
    """Change the journal's copy (a shared entry's message in the room stays as it was)."""
    entry = _own(actor, entry_id)
    text = _clean(body)
    entry.body = crypto.encrypt_text(text, context=entry_context(entry.pk))
    entry.updated_at = now or timezone.now()
    with transaction.atomic():
        entry.save(update_fields=["body", "updated_at"])
        audit_record(
            actor=actor, action="journal.edit", object_type="journal_entry", object_id=entry.pk
        )
    return entry


def journal_delete(*, actor: User, entry_id: int) -> None:
    """Delete an entry for good (a copy shared into a room stays there as a message)."""
    entry = _own(actor, entry_id)
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="journal.delete",
            object_type="journal_entry",
            object_id=entry.pk,
            detail={"shared_room": entry.shared_room_id} if entry.shared_room_id else {},
        )
        entry.delete()


@dataclasses.dataclass(frozen=True)
class ShareTarget:
    room: Room
    title: str
    audience: str


def share_targets(*, user: User) -> list[ShareTarget]:
    """The rooms the author can share into, each with who will read it there."""
    _client_only(user)
    return [
        ShareTarget(room=room, title=room_title(room), audience=audience(room, user))
        for room in rooms_for(user=user)
    ]


def journal_share(
    *, actor: User, entry_id: int, room_id: int, now: datetime.datetime | None = None
) -> SendResult:
    """Post the entry into one of the author's rooms as their message, once."""
    _own(actor, entry_id)  # NotFound before anything else
    room = room_get(user=actor, room_id=room_id)
    moment = now or timezone.now()
    with transaction.atomic():
        entry = JournalEntry.objects.select_for_update().get(pk=entry_id, author=actor)
        if entry.shared_room_id is not None:
            raise Conflict(
                "This entry is already shared. It is in the room's log; you can write a new "
                "entry, or a message in the room, to add to it."
            )
        result = message_send(
            actor=actor,
            room=room,
            body=f"{SHARE_PREFIX}\n\n{entry_text(entry)}",
            client_id=uuid.uuid5(_SHARE_IDS, str(entry.pk)),
            now=moment,
        )
        entry.shared_room = room
        entry.shared_seq = result.message.seq
        entry.shared_at = moment
        entry.save(update_fields=["shared_room", "shared_seq", "shared_at"])
        audit_record(
            actor=actor,
            action="journal.share",
            object_type="journal_entry",
            object_id=entry.pk,
            practice=room.practice,
            detail={"room": room.pk, "seq": result.message.seq},
        )
    return result
