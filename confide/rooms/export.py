"""The written log for its readers: a complete JSON export and a readable, paginated PDF.

Besides the messages, the export carries the work between sessions that belongs to the room
(confide.support.export): the relationship's care agreement, the room's exercises and their
responses and comments, and its completed questionnaires. The therapist's private notes are
never part of it."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.live.selectors import sessions_of_room
from confide.rooms.models import Message, Room
from confide.rooms.payloads import message_payload
from confide.rooms.selectors import active_members_of, audience
from confide.support.export import support_data, support_for_pdf


def _versions(message: Message) -> list[dict[str, Any]]:
    return [
        {
            "number": v.number,
            "written_at": v.written_at.isoformat(),
            "replaced_at": v.replaced_at.isoformat(),
            "body": crypto.decrypt_text(
                bytes(v.body),
                context=f"message:{message.room_id}:{message.seq}:version:{v.number}",
            ),
        }
        for v in message.versions.all()
    ]


def log_data(*, room: Room, reader: User) -> dict[str, Any]:
    """Everything in the room's log, for `reader` (a member): messages, versions, members,
    and the agreement, exercises and questionnaires. (New keys do not change "version": only a
    change of an existing key's meaning does.)"""
    messages = (
        Message.objects.filter(room=room)
        .select_related("sender", "attachment")
        .prefetch_related("versions")
        .order_by("seq")
    )
    items = []
    for message in messages:
        payload = message_payload(message)
        payload.pop("html")
        payload["versions"] = _versions(message)
        items.append(payload)
    return {
        "format": "confide.room-log",
        "version": 1,
        "exported_at": timezone.now().isoformat(),
        "exported_by": {"id": reader.pk, "name": reader.display_name},
        "room": {
            "id": room.pk,
            "kind": room.kind,
            "practice": room.practice.name,
            "audience": audience(room, reader),
            "members": [
                {
                    "id": m.user_id,
                    "name": m.user.display_name,
                    "role": m.role,
                    "joined_at": m.joined_at.isoformat(),
                }
                for m in active_members_of(room)
            ],
        },
        "messages": items,
        # Live sessions: their transcript is the messages from first_seq to last_seq.
        "live_sessions": sessions_of_room(room),
        **support_data(room=room, reader=reader),
    }


def export_json(*, room: Room, reader: User) -> dict[str, Any]:
    data = log_data(room=room, reader=reader)
    audit_record(
        actor=reader,
        action="log.export_json",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
    )
    return data


def export_pdf(*, room: Room, reader: User) -> bytes:
    """A readable PDF of the log, with times in the reader's own zone."""
    from weasyprint import HTML

    data = log_data(room=room, reader=reader)
    zone = zoneinfo.ZoneInfo(reader.time_zone)
    for item in data["messages"]:
        item["local_time"] = datetime.datetime.fromisoformat(item["created_at"]).astimezone(zone)
        for version in item["versions"]:
            version["local_time"] = datetime.datetime.fromisoformat(
                version["written_at"]
            ).astimezone(zone)
    support_for_pdf(data, zone)
    html = render_to_string(
        "rooms/export.html",
        {
            "data": data,
            "zone": reader.time_zone,
            "exported": timezone.now().astimezone(zone),
        },
    )
    pdf: bytes = HTML(string=html, base_url=None).write_pdf()
    audit_record(
        actor=reader,
        action="log.export_pdf",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
    )
    return pdf
