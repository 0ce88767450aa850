"""The shape of a message for sockets, the API and pages: decrypted, rendered, no secrets."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from confide import crypto
from confide.rooms.markdown import render_markdown
from confide.rooms.models import Attachment, Message, MessageKind


def message_text(message: Message) -> str:
    return crypto.decrypt_text(
        bytes(message.body), context=f"message:{message.room_id}:{message.seq}:body"
    )


def message_payload(message: Message, text: str | None = None) -> dict[str, Any]:
    """Everything a reader of the room sees of one message."""
    body = "" if message.deleted_at else (text if text is not None else message_text(message))
    sender = message.sender
    # Only files and voice notes have an attachment: a text message costs no query here.
    attachment: Attachment | None = (
        getattr(message, "attachment", None)
        if message.kind in (MessageKind.FILE, MessageKind.VOICE)
        else None
    )
    return {
        "id": message.pk,
        "room": message.room_id,
        "seq": message.seq,
        "kind": message.kind,
        "client_id": str(message.client_id) if message.client_id else None,
        "sender": {"id": sender.pk, "name": sender.display_name} if sender else None,
        "body": body,
        "html": str(render_markdown(body)) if body else "",
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted_at": message.deleted_at.isoformat() if message.deleted_at else None,
        "crisis": message.crisis,
        "attachment": None
        if attachment is None or message.deleted_at
        else {
            "content_type": attachment.content_type,
            "category": attachment.category,
            "size": attachment.size,
            "duration_ms": attachment.duration_ms,
            "url": reverse("room_attachment", args=[message.room_id, message.seq]),
        },
    }
