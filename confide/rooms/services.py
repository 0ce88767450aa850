"""Writes for rooms. `message_send` is the only way a message enters a room: web form, API,
WebSocket and email all call it."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import functools
import threading
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from confide import crypto, rawsql
from confide.accounts.models import User
from confide.audit.models import AuditEvent
from confide.audit.services import audit_record, current_ip
from confide.errors import InvalidInput, NotFound, PermissionDenied
from confide.rooms import search, tasks
from confide.rooms.events import publish_on_commit, room_group
from confide.rooms.files import FileKind, RejectedFile, check_upload, safe_filename
from confide.rooms.models import (
    Attachment,
    CrisisFlag,
    MemberRole,
    Message,
    MessageKind,
    MessageVersion,
    ReplyRecord,
    Room,
    RoomMember,
    SearchToken,
)
from confide.rooms.payloads import message_payload
from confide.rooms.schedules import schedule_for_room
from confide.rooms.windows import (
    NoWorkingTime,
    format_due,
    is_working_time,
    next_working_time,
    reply_due,
    working_seconds_between,
)
from confide.safety.detection import CrisisMatch, detect_crisis
from confide.safety.registry import resources_for

MAX_BODY_CHARS = 20_000
# The room columns a send may change (counters, reply window, crisis state).
_ROOM_STATE = [
    "last_seq",
    "last_message_at",
    "waiting_since",
    "reply_due_at",
    "reminded_at",
    "escalated_at",
    "crisis_open",
]


def body_context(room_id: int, seq: int) -> str:
    return f"message:{room_id}:{seq}:body"


def version_context(room_id: int, seq: int, number: int) -> str:
    return f"message:{room_id}:{seq}:version:{number}"


def attachment_context(room_id: int, seq: int, part: str) -> str:
    return f"message:{room_id}:{seq}:attachment:{part}"


@dataclasses.dataclass(frozen=True)
class Upload:
    """An attachment as it arrived: the bytes and the name the sender's device gave it."""

    data: bytes
    name: str = ""
    voice: bool = False
    duration_ms: int | None = None


@dataclasses.dataclass(frozen=True)
class SendResult:
    message: Message
    created: bool  # False when the client id had been used already (an idempotent resend)
    crisis: CrisisMatch | None
    payload: dict[str, Any] | None = None  # what was published, when the message is new


def membership(*, actor: User, room: Room) -> RoomMember:
    """The actor's active membership of `room`, or NotFound (never a hint the room exists)."""
    member = RoomMember.objects.filter(room=room, user=actor, left_at__isnull=True).first()
    if member is None or not actor.is_active:
        raise NotFound("No such room.")
    return member


def _clean_body(body: str, *, required: bool) -> str:
    text = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(
            "The message is too long.",
            field_errors={"body": [f"Messages can be at most {MAX_BODY_CHARS:,} characters."]},
        )
    if required and not text:
        raise InvalidInput("Write something first.", field_errors={"body": ["Write something."]})
    return text


def _check_upload(upload: Upload) -> FileKind:
    try:
        kind = check_upload(upload.data, declared_name=upload.name)
    except RejectedFile as exc:
        raise InvalidInput(str(exc), field_errors={"attachment": [str(exc)]}) from exc
    if upload.voice and kind.category != "audio":
        raise InvalidInput(
            "A voice note must be audio.", field_errors={"attachment": ["Not an audio file."]}
        )
    return kind


def _append(
    *,
    room: Room,
    sender: User | None,
    kind: str,
    text: str,
    now: datetime.datetime,
    client_id: uuid.UUID | None = None,
    crisis: bool = False,
) -> Message:
    """Write the next message of a locked room: sequence number, encrypted body, search tokens."""
    message = _insert_message(
        room=room, sender=sender, kind=kind, text=text, now=now, client_id=client_id, crisis=crisis
    )
    if message is None:  # only a client id can collide, and callers that pass one check first
        raise IntegrityError("A message with this client id is already in the room.")
    return message


_MESSAGE_COLUMNS = ("room_id", "seq", "sender_id", "kind", "client_id", "body", "created_at")


# One INSERT that is also the idempotency check: a client id the same sender already used in
# the room inserts nothing (the partial unique index `idempotent_send`) and returns no id.
_INSERT_MESSAGE = (
    'INSERT INTO "rooms_message" ("room_id", "seq", "sender_id", "kind", "client_id", "body", '
    '"created_at", "crisis") VALUES (%s, %s, %s, %s, %s, %s, %s, %s) '
    'ON CONFLICT ("room_id", "sender_id", "client_id") WHERE "client_id" IS NOT NULL '
    'DO NOTHING RETURNING "id"'
)


def _insert_message(
    *,
    room: Room,
    sender: User | None,
    kind: str,
    text: str,
    now: datetime.datetime,
    client_id: uuid.UUID | None,
    crisis: bool,
) -> Message | None:
    """Append a message to a locked room (None, and nothing written, when `client_id` was used
    already by this sender in this room). Moves `room.last_seq`; the caller saves the room."""
    seq = room.last_seq + 1
    body = crypto.encrypt_text(text, context=body_context(room.pk, seq))
    values = (room.pk, seq, sender.pk if sender else None, kind, client_id, body, now)
    params = [rawsql.prep(Message, n, v) for n, v in zip(_MESSAGE_COLUMNS, values, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MESSAGE, [*params, crisis])
        row = cursor.fetchone()
    if row is None:
        return None
    room.last_seq = seq
    room.last_message_at = now
    message = Message(
        id=row[0],
        room=room,
        seq=seq,
        sender=sender,
        kind=kind,
        client_id=client_id,
        body=body,
        created_at=now,
        crisis=crisis,
    )
    message._state.adding = False
    message._state.db = connection.alias
    _insert_tokens(room_id=room.pk, message_id=message.pk, text=text)
    return message


_INSERT_TOKENS = 'INSERT INTO "rooms_searchtoken" ("room_id", "message_id", "token") VALUES '


def _insert_tokens(*, room_id: int, message_id: int, text: str) -> None:
    tokens = search.tokens_for_text(text)
    with connection.cursor() as cursor:
        # 300 rows (900 parameters) a statement stays under every SQLite build's limit.
        for start in range(0, len(tokens), 300):
            batch = tokens[start : start + 300]
            placeholders = ", ".join(["(%s, %s, %s)"] * len(batch))
            cursor.execute(
                _INSERT_TOKENS + placeholders,
                [value for token in batch for value in (room_id, message_id, token)],
            )


def _index(message: Message, text: str) -> None:
    """Replace the search tokens of an edited (or deleted) message."""
    SearchToken.objects.filter(message=message).delete()
    _insert_tokens(room_id=message.room_id, message_id=message.pk, text=text)


def message_send(
    *,
    actor: User,
    room: Room,
    body: str,
    client_id: uuid.UUID,
    upload: Upload | None = None,
    now: datetime.datetime | None = None,
) -> SendResult:
    """Send a message (with an optional attachment or voice note) into `room`.

    Idempotent by (room, sender, client_id): a resend returns the original message. Inside one
    transaction, under the room's row lock: the message with its sequence number, the room's
    counters and reply window, the sender's read state, any crisis flag, an out-of-hours notice,
    the notification tasks and the audit row. Published to the room's sockets only after commit.

    Only `room.pk` is read from `room`: the room's state is read again under its lock.
    """
    member_id, role = _active_membership(actor=actor, room_id=room.pk)
    text = _clean_body(body, required=upload is None)
    kind = _check_upload(upload) if upload is not None else None
    moment = now or timezone.now()
    try:
        with _one_writer(), transaction.atomic():
            return _send_locked(
                actor=actor,
                member_id=member_id,
                role=role,
                room_id=room.pk,
                text=text,
                client_id=client_id,
                upload=upload,
                kind=kind,
                now=moment,
            )
    except IntegrityError:
        # A concurrent resend with the same client id won the race: answer with its message.
        existing = _sent_already(actor=actor, room_id=room.pk, client_id=client_id)
        if existing is None:
            raise
        return SendResult(message=existing, created=False, crisis=None)


def _active_membership(*, actor: User, room_id: int) -> tuple[int, str]:
    """(membership id, role) of the actor's active membership, or NotFound, as `membership`."""
    row = None
    if actor.is_active:
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT "id", "role" FROM "rooms_roommember" '
                'WHERE "room_id" = %s AND "user_id" = %s AND "left_at" IS NULL',
                [room_id, actor.pk],
            )
            row = cursor.fetchone()
    if row is None:
        raise NotFound("No such room.")
    return int(row[0]), str(row[1])


_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def _one_writer() -> Iterator[None]:
    """On SQLite, let this process's sends take the database's write lock one at a time.

    SQLite has one writer at a time; a connection that finds the lock taken sleeps in its busy
    handler (1, 2, 5, 10 ms, ...) however soon the lock is free again. Queued on a lock in
    this process, the next send starts the moment the previous one commits. (Only around a
    transaction of our own: inside a caller's transaction the write lock may be ours already.)
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_writer:
        yield


@functools.cache
def _lock_room_sql() -> str:
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    # Every column of the model, in field order, as `rawsql.instance` reads them.
    return f'SELECT {rawsql.select_list(Room)} FROM "rooms_room" WHERE "id" = %s{lock}'  # noqa: S608


def _lock_room(room_id: int) -> Room:
    """The room, read and row-locked inside the caller's transaction (SQLite: the transaction
    itself is the lock, taken at BEGIN IMMEDIATE)."""
    with connection.cursor() as cursor:
        cursor.execute(_lock_room_sql(), [room_id])
        row = cursor.fetchone()
    if row is None:
        raise NotFound("No such room.")
    return rawsql.instance(Room, row)


def _sent_already(*, actor: User, room_id: int, client_id: uuid.UUID) -> Message | None:
    return (
        Message.objects.filter(room_id=room_id, sender=actor, client_id=client_id)
        .select_related("sender")
        .first()
    )


def _send_locked(
    *,
    actor: User,
    member_id: int,
    role: str,
    room_id: int,
    text: str,
    client_id: uuid.UUID,
    upload: Upload | None,
    kind: FileKind | None,
    now: datetime.datetime,
) -> SendResult:
    room = _lock_room(room_id)
    is_client = role == MemberRole.CLIENT
    match = detect_crisis(text) if is_client and text else None
    message_kind = MessageKind.TEXT
    if upload is not None:
        message_kind = MessageKind.VOICE if upload.voice else MessageKind.FILE
    message = _insert_message(
        room=room,
        sender=actor,
        kind=message_kind,
        text=text,
        now=now,
        client_id=client_id,
        crisis=match is not None,
    )
    if message is None:
        # The client id was used already: a resend. Nothing was written.
        existing = _sent_already(actor=actor, room_id=room_id, client_id=client_id)
        if existing is None:  # pragma: no cover - the conflicting row is visible to us
            raise IntegrityError("The client id clashed with a message that cannot be read.")
        return SendResult(message=existing, created=False, crisis=None)
    if upload is not None and kind is not None:
        Attachment.objects.create(
            message=message,
            content_type=kind.content_type,
            category=kind.category,
            size=len(upload.data),
            name=crypto.encrypt_text(
                safe_filename(upload.name, kind),
                context=attachment_context(room.pk, message.seq, "name"),
            ),
            data=crypto.encrypt(
                upload.data, context=attachment_context(room.pk, message.seq, "data").encode()
            ),
            duration_ms=upload.duration_ms,
        )
    notices: list[Message] = []
    if is_client:
        notices = _client_wrote(room=room, actor=actor, now=now)
    else:
        _staff_wrote(room=room, actor=actor, now=now)
    if match is not None:
        _raise_crisis(room=room, message=message, match=match, now=now)
    _mark_read(member_id=member_id, seq=room.last_seq, now=now)
    _save_room_state(room)
    tasks.notify_members_later(room=room, sender=actor, now=now)
    _audit_send(actor=actor, message=message, practice_id=room.practice_id)
    payload = message_payload(message, text)
    publish_on_commit(room_group(room.pk), {"type": "room.message", "message": payload})
    for notice in notices:
        publish_on_commit(
            room_group(room.pk), {"type": "room.message", "message": message_payload(notice)}
        )
    return SendResult(message=message, created=True, crisis=match, payload=payload)


def _mark_read(*, member_id: int, seq: int, now: datetime.datetime) -> None:
    """The sender has read everything up to their own message."""
    with connection.cursor() as cursor:
        cursor.execute(
            'UPDATE "rooms_roommember" SET "last_read_seq" = %s, "last_read_at" = %s '
            'WHERE "id" = %s',
            [seq, rawsql.prep(RoomMember, "last_read_at", now), member_id],
        )


_SAVE_ROOM = (
    'UPDATE "rooms_room" SET "last_seq" = %s, "last_message_at" = %s, "waiting_since" = %s, '
    '"reply_due_at" = %s, "reminded_at" = %s, "escalated_at" = %s, "crisis_open" = %s '
    'WHERE "id" = %s'
)


def _save_room_state(room: Room) -> None:
    """`room.save(update_fields=_ROOM_STATE)` as one prepared statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SAVE_ROOM,
            [rawsql.prep(Room, name, getattr(room, name)) for name in _ROOM_STATE] + [room.pk],
        )


_AUDIT_COLUMNS = ("at", "actor_id", "practice_id", "action", "object_type", "object_id", "ip")


_INSERT_AUDIT = (
    'INSERT INTO "audit_auditevent" ("at", "actor_id", "practice_id", "action", "object_type", '
    '"object_id", "ip", "detail") VALUES (%s, %s, %s, %s, %s, %s, %s, %s)'
)


def _audit_send(*, actor: User, message: Message, practice_id: int) -> None:
    """The row `audit_record(actor=actor, action="message.send", object_type="message",
    object_id=message.pk, practice=room.practice)` writes, as one prepared statement (the ORM
    insert cost a third of a millisecond on every send). tests/rooms/test_send_path.py holds
    the two rows side by side."""
    values = (
        timezone.now(),
        actor.pk,
        practice_id,
        "message.send",
        "message",
        str(message.pk),
        current_ip.get(),
    )
    params = [rawsql.prep(AuditEvent, n, v) for n, v in zip(_AUDIT_COLUMNS, values, strict=True)]
    params.append(rawsql.prep(AuditEvent, "detail", {}))
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_AUDIT, params)


def event_append(*, room_id: int, text: str, now: datetime.datetime | None = None) -> Message:
    """Write a room event into the log (a live session started or ended, a call, ...).

    Events have no sender, start no wait and send no notification; they take the next sequence
    number under the room's lock like any message and reach the room's sockets after commit.
    """
    moment = now or timezone.now()
    with transaction.atomic():
        room = Room.objects.select_for_update().get(pk=room_id)
        event = _append(room=room, sender=None, kind=MessageKind.EVENT, text=text, now=moment)
        room.save(update_fields=["last_seq", "last_message_at"])
        publish_on_commit(
            room_group(room.pk), {"type": "room.message", "message": message_payload(event, text)}
        )
    return event


def _client_wrote(*, room: Room, actor: User, now: datetime.datetime) -> list[Message]:
    """A client's message starts a wait (unless one is running) and, out of hours, a notice."""
    if room.waiting_since is not None:
        return []
    schedule = schedule_for_room(room, now=now)
    room.waiting_since = now
    room.reminded_at = None
    room.escalated_at = None
    try:
        room.reply_due_at = reply_due(now, schedule, room.practice.reply_window_business_days)
    except NoWorkingTime:
        room.reply_due_at = now + datetime.timedelta(days=room.practice.reply_window_business_days)
    tasks.schedule_reply_check(room=room)
    if is_working_time(now, schedule):
        return []
    try:
        back = next_working_time(now, schedule)
    except NoWorkingTime:
        back = room.reply_due_at
    crisis = resources_for(actor.country)
    line = crisis.lines[0] if crisis.lines else None
    help_now = f"call {crisis.emergency_number}"
    if line is not None and line.phone:
        help_now += f" or {line.name} on {line.phone}"
    text = (
        "Your message has arrived. Your therapist is outside their working hours now and will "
        f"be back {format_due(back, actor.time_zone, now).removeprefix('Expected by ')} "
        f"(your time). {format_due(room.reply_due_at, actor.time_zone, now)}. "
        f"This room is not for emergencies: if you need help now, {help_now}."
    )
    return [_append(room=room, sender=None, kind=MessageKind.NOTICE, text=text, now=now)]


def _staff_wrote(*, room: Room, actor: User, now: datetime.datetime) -> None:
    """A therapist's (or covering therapist's) message answers a running wait."""
    if room.waiting_since is None or room.reply_due_at is None:
        return
    schedule = schedule_for_room(room, now=now)
    ReplyRecord.objects.create(
        room=room,
        therapist=actor,
        waited_from=room.waiting_since,
        due_at=room.reply_due_at,
        replied_at=now,
        within_window=now <= room.reply_due_at,
        seconds=working_seconds_between(room.waiting_since, now, schedule),
    )
    room.waiting_since = None
    room.reply_due_at = None


def _raise_crisis(
    *, room: Room, message: Message, match: CrisisMatch, now: datetime.datetime
) -> None:
    flag = CrisisFlag.objects.create(
        room=room, message=message, rule=match.rule, category=match.category, raised_at=now
    )
    room.crisis_open = True
    audit_record(
        actor=None,
        action="crisis.flag",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
        detail={"flag": flag.pk, "rule": match.rule},
    )
    tasks.notify_crisis.enqueue(flag_id=flag.pk)


def crisis_flag_raise(
    *,
    room: Room,
    message: Message,
    rule: str,
    category: str,
    now: datetime.datetime | None = None,
) -> None:
    """Flag `room` urgent for its therapists for something other than a message's words (a
    questionnaire answer, confide.support.measures), exactly as crisis language in a message
    does: a CrisisFlag on `message` (an entry of this room's log), the room's crisis state,
    an audit row and the therapists' alert, under the room's lock; the room's sockets hear of
    it after commit. `rule` and `category` say why, never what was answered."""
    moment = now or timezone.now()
    with transaction.atomic():
        locked = Room.objects.select_for_update().select_related("practice").get(pk=room.pk)
        if message.room_id != locked.pk:
            raise NotFound("No such message.")
        match = CrisisMatch(category=category, language="", rule=rule)
        _raise_crisis(room=locked, message=message, match=match, now=moment)
        locked.save(update_fields=["crisis_open"])
        Message.objects.filter(pk=message.pk).update(crisis=True)
        message.crisis = True
        publish_on_commit(room_group(locked.pk), {"type": "room.crisis", "open": True})


def crisis_clear(
    *, actor: User, room: Room, reason: str, now: datetime.datetime | None = None
) -> int:
    """A therapist clears the room's open crisis flags, with a reason (kept encrypted)."""
    member = membership(actor=actor, room=room)
    if not member.is_staff_side:
        raise PermissionDenied("Only the therapist can clear a crisis flag.")
    text = reason.strip()
    if not 3 <= len(text) <= 2000:
        raise InvalidInput(
            "Give a reason.",
            field_errors={
                "reason": ["Say briefly why the flag can be cleared (3 to 2,000 characters)."]
            },
        )
    moment = now or timezone.now()
    with transaction.atomic():
        locked = Room.objects.select_for_update().get(pk=room.pk)
        flags = list(CrisisFlag.objects.filter(room=locked, cleared_at__isnull=True))
        for flag in flags:
            flag.cleared_at = moment
            flag.cleared_by = actor
            flag.clear_reason = crypto.encrypt_text(text, context=f"crisis:{flag.pk}:reason")
            flag.save(update_fields=["cleared_at", "cleared_by", "clear_reason"])
            audit_record(
                actor=actor,
                action="crisis.clear",
                object_type="room",
                object_id=locked.pk,
                practice=locked.practice,
                detail={"flag": flag.pk},
            )
        locked.crisis_open = False
        locked.save(update_fields=["crisis_open"])
        publish_on_commit(room_group(locked.pk), {"type": "room.crisis", "open": False})
    return len(flags)


def _own_message(*, actor: User, room: Room, seq: int) -> Message:
    membership(actor=actor, room=room)
    message = Message.objects.select_for_update().filter(room=room, seq=seq).first()
    if message is None:
        raise NotFound("No such message.")
    if message.sender_id != actor.pk or message.kind not in (
        MessageKind.TEXT,
        MessageKind.FILE,
        MessageKind.VOICE,
    ):
        raise PermissionDenied("Only the person who wrote a message can change it.")
    if message.deleted_at is not None:
        raise PermissionDenied("This message was deleted.")
    return message


def _keep_version(message: Message, now: datetime.datetime) -> None:
    number = message.versions.count() + 1
    text = crypto.decrypt_text(
        bytes(message.body), context=body_context(message.room_id, message.seq)
    )
    MessageVersion.objects.create(
        message=message,
        number=number,
        written_at=message.edited_at or message.created_at,
        replaced_at=now,
        body=crypto.encrypt_text(
            text, context=version_context(message.room_id, message.seq, number)
        ),
    )


def _amend(
    *, actor: User, room: Room, seq: int, body: str | None, now: datetime.datetime | None
) -> Message:
    """Replace the text of one's own message (None: delete it), keeping the earlier text as a
    version: the log never changes silently, and a clinical record keeps what was amended."""
    moment = now or timezone.now()
    with transaction.atomic():
        message = _own_message(actor=actor, room=room, seq=seq)
        text = "" if body is None else _clean_body(body, required=message.kind == MessageKind.TEXT)
        _keep_version(message, moment)
        message.body = crypto.encrypt_text(text, context=body_context(room.pk, seq))
        if body is None:
            message.deleted_at = moment
        else:
            message.edited_at = moment
        message.save(update_fields=["body", "deleted_at" if body is None else "edited_at"])
        _index(message, text)
        audit_record(
            actor=actor,
            action="message.delete" if body is None else "message.edit",
            object_type="message",
            object_id=message.pk,
            practice=room.practice,
        )
        publish_on_commit(
            room_group(room.pk), {"type": "room.message", "message": message_payload(message)}
        )
    return message


def message_edit(
    *, actor: User, room: Room, seq: int, body: str, now: datetime.datetime | None = None
) -> Message:
    """Change one's own message; the room sees "edited" and can read the earlier text."""
    return _amend(actor=actor, room=room, seq=seq, body=body, now=now)


def message_delete(
    *, actor: User, room: Room, seq: int, now: datetime.datetime | None = None
) -> Message:
    """Delete one's own message: the log shows a tombstone and its history."""
    return _amend(actor=actor, room=room, seq=seq, body=None, now=now)


def room_mark_read(
    *, actor: User, room: Room, seq: int, now: datetime.datetime | None = None
) -> RoomMember:
    """Move the actor's read marker forward (never back, never past the last message)."""
    member = membership(actor=actor, room=room)
    last_seq = Room.objects.filter(pk=room.pk).values_list("last_seq", flat=True).get()
    target = min(max(seq, 0), last_seq)
    if target <= member.last_read_seq:
        return member
    moment = now or timezone.now()
    RoomMember.objects.filter(pk=member.pk, last_read_seq__lt=target).update(
        last_read_seq=target, last_read_at=moment
    )
    member.last_read_seq = target
    if actor.read_receipts:
        publish_on_commit(
            room_group(room.pk),
            {"type": "room.read", "user": actor.pk, "name": actor.display_name, "seq": target},
        )
    return member


def attachment_read(*, actor: User, room: Room, seq: int) -> tuple[Attachment, bytes, str]:
    """The decrypted attachment of message `seq`, for a member of the room (audited)."""
    membership(actor=actor, room=room)
    attachment = Attachment.objects.filter(
        message__room=room, message__seq=seq, message__deleted_at__isnull=True
    ).first()
    if attachment is None:
        raise NotFound("No such attachment.")
    data = crypto.decrypt(
        bytes(attachment.data), context=attachment_context(room.pk, seq, "data").encode()
    )
    name = crypto.decrypt_text(
        bytes(attachment.name), context=attachment_context(room.pk, seq, "name")
    )
    audit_record(
        actor=actor,
        action="attachment.read",
        object_type="message",
        object_id=attachment.message_id,
        practice=room.practice,
    )
    return attachment, data, name


def settings_snapshot() -> dict[str, Any]:
    """Limits a client (web page, API user) may want to know before sending."""
    return {"max_body_chars": MAX_BODY_CHARS, "notify_delay_minutes": settings.NOTIFY_DELAY_MINUTES}
