"""Mail tasks: emailing messages to people who chose email therapy, and posting inbound mail."""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from confide import crypto
from confide.mail.outbound import MailAttachment, deliver, room_email, room_label
from confide.rooms.markdown import render_markdown
from confide.rooms.models import Delivery, Message, MessageKind, Room, RoomMember
from confide.rooms.payloads import message_text
from confide.rooms.selectors import audience

log = logging.getLogger("confide.mail")

# One task sends at most this many messages; a longer backlog continues in the next task.
BATCH = 50
# A room email that could not be sent is tried again after this long.
RETRY_AFTER = datetime.timedelta(minutes=5)
# Attachments larger than this are linked, not attached: mail servers refuse big mails.
MAX_ATTACHED_BYTES = 10 * 1024 * 1024

_EMAILED_KINDS = (MessageKind.TEXT, MessageKind.VOICE, MessageKind.FILE, MessageKind.NOTICE)


def _attachment_of(message: Message) -> tuple[MailAttachment | None, str]:
    """(the file to attach, or None when too big; its name)."""
    attachment = message.attachment
    context = f"message:{message.room_id}:{message.seq}:attachment"
    name = crypto.decrypt_text(bytes(attachment.name), context=f"{context}:name")
    if attachment.size > MAX_ATTACHED_BYTES:
        return None, name
    data = crypto.decrypt(bytes(attachment.data), context=f"{context}:data".encode())
    return MailAttachment(filename=name, content_type=attachment.content_type, data=data), name


@task()
def email_member(*, member_id: int) -> str:
    """Email each message this member has neither read nor been emailed, one email per message."""
    now = timezone.now()
    with transaction.atomic():
        member = (
            RoomMember.objects.select_for_update()
            .select_related("user")
            .filter(pk=member_id)
            .first()
        )
        if member is None or member.left_at is not None or not member.user.is_active:
            return "gone"
        if member.delivery != Delivery.EMAIL:
            return "off"
        room = Room.objects.get(pk=member.room_id)
        batch = list(
            Message.objects.filter(
                room_id=room.pk, seq__gt=member.emailed_seq, seq__lte=room.last_seq
            )
            .select_related("sender", "attachment")
            .order_by("seq")[:BATCH]
        )
        if not batch:
            return "nothing"
        user = member.user
        label = room_label(room, user)
        who_reads = audience(room, user)
        emails = []
        for message in batch:
            if (
                message.sender_id == user.pk
                or message.kind not in _EMAILED_KINDS
                or message.deleted_at is not None
                or message.seq <= member.last_read_seq
            ):
                continue
            attachments: tuple[MailAttachment, ...] = ()
            file_name = ""
            if message.kind in (MessageKind.FILE, MessageKind.VOICE):
                attached, file_name = _attachment_of(message)
                attachments = (attached,) if attached is not None else ()
            sender = message.sender.display_name if message.sender else "Confide"
            text = message_text(message)
            emails.append(
                room_email(
                    user=user,
                    room=room,
                    subject=f"Confide: your {label}",
                    template="message",
                    context={
                        "sender": sender,
                        "text": text,
                        "html": render_markdown(text),
                        "kind": message.kind,
                        "file_name": file_name,
                        "file_attached": bool(attachments),
                        "audience": who_reads,
                        "label": label,
                        "sent_at": message.created_at,
                    },
                    now=now,
                    delivery=Delivery.EMAIL,
                    attachments=attachments,
                )
            )
        previous, member.emailed_seq = member.emailed_seq, batch[-1].seq
        member.save(update_fields=["emailed_seq"])
        if len(batch) == BATCH:
            email_member.enqueue(member_id=member.pk)
    # Sent after the commit (no network inside a transaction). If sending fails, the mark goes
    # back, unless another task moved it meanwhile, and a retry is queued: the messages are
    # emailed late rather than never.
    try:
        deliver(emails)
    except Exception:
        RoomMember.objects.filter(pk=member_id, emailed_seq=batch[-1].seq).update(
            emailed_seq=previous
        )
        email_member.using(run_after=now + RETRY_AFTER).enqueue(member_id=member_id)
        log.warning("room emails: member %s, sending failed; retry queued", member_id)
        raise
    log.info("room emails: member %s, %d sent", member_id, len(emails))
    return f"sent {len(emails)}"


@task()
def ingest(*, inbound_id: int) -> str:
    """Post one accepted mail into its room (or return it with the reason)."""
    from confide.mail.ingest import inbound_post  # imports rooms.services, which imports us

    inbound = inbound_post(inbound_id=inbound_id)
    return "gone" if inbound is None else str(inbound.status)
