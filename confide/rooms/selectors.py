"""Reads for rooms: who may see which room, the log, the therapist's inbox, the figures."""

from __future__ import annotations

import dataclasses
import datetime
import statistics
from typing import Any

from django.db import connection
from django.db.models import F, Prefetch

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import NotFound
from confide.rooms import search
from confide.rooms.models import (
    Message,
    MessageVersion,
    ReplyRecord,
    Room,
    RoomKind,
    RoomMember,
    SearchToken,
)

MAX_PAGE = 200


def _active_members() -> Prefetch[Any]:
    return Prefetch(
        "members",
        queryset=RoomMember.objects.filter(left_at__isnull=True)
        .select_related("user")
        .order_by("role", "joined_at"),
        to_attr="active_members",
    )


def room_get(*, user: User, room_id: int) -> Room:
    """A room `user` is an active member of, with its members; anyone else gets NotFound."""
    room = (
        Room.objects.filter(pk=room_id, members__user=user, members__left_at__isnull=True)
        .select_related("practice", "relationship__therapist")
        .prefetch_related(_active_members())
        .first()
    )
    if room is None or not user.is_active:
        raise NotFound("No such room.")
    return room


def room_for_send(*, user: User, room_id: int) -> Room:
    """The room alone (the send service checks membership itself, under the room's lock)."""
    room = Room.objects.filter(pk=room_id).first()
    if room is None or not user.is_active:
        raise NotFound("No such room.")
    return room


def rooms_for(*, user: User) -> list[Room]:
    """The rooms `user` is in, most recent activity first, with members and unread counts."""
    rooms = list(
        Room.objects.filter(members__user=user, members__left_at__isnull=True)
        .select_related("practice", "relationship__therapist")
        .prefetch_related(_active_members())
        .order_by(F("last_message_at").desc(nulls_last=True), "pk")
    )
    for room in rooms:
        mine = next(m for m in room.active_members if m.user_id == user.pk)  # type: ignore[attr-defined]
        room.unread = room.last_seq - mine.last_read_seq  # type: ignore[attr-defined]
        room.me = mine  # type: ignore[attr-defined]
    return rooms


def active_members_of(room: Room) -> list[RoomMember]:
    """The room's current members: prefetched by `room_get`/`rooms_for`, else one query."""
    members = getattr(room, "active_members", None)
    if members is None:
        members = list(
            room.members.filter(left_at__isnull=True)
            .select_related("user")
            .order_by("role", "joined_at")
        )
        room.active_members = members  # type: ignore[attr-defined]
    return list(members)


def audience(room: Room, viewer: User) -> str:
    """The sentence shown next to the composer: exactly who can read what is written here."""
    others = [m.user.display_name for m in active_members_of(room) if m.user_id != viewer.pk]
    names = " and ".join([", ".join(others[:-1]), others[-1]] if len(others) > 1 else others)
    if room.kind == RoomKind.PRIVATE:
        partner_note = (
            " Your partner can never read this room."
            if viewer.is_client
            else " The other partner can never read this room."
        )
        return f"Only you and {names} can read what is written here.{partner_note}"
    if room.kind == RoomKind.COUPLE:
        return f"Everyone in this couples room can read this: you, {names}."
    return f"Only you and {names} can read what is written here."


def messages_page(
    *, room: Room, after: int = 0, before: int | None = None, limit: int = 50
) -> list[Message]:
    """Messages of `room` with seq > after (ascending), or the last `limit` before `before`."""
    limit = max(1, min(limit, MAX_PAGE))
    messages = Message.objects.filter(room=room).select_related("sender", "attachment")
    if before is not None:
        page = list(messages.filter(seq__lt=before, seq__gt=after).order_by("-seq")[:limit])
        page.reverse()
        return page
    return list(messages.filter(seq__gt=after).order_by("seq")[:limit])


def message_versions(*, room: Room, seq: int) -> list[MessageVersion]:
    message = Message.objects.filter(room=room, seq=seq).first()
    if message is None:
        raise NotFound("No such message.")
    return list(message.versions.all())


@dataclasses.dataclass(frozen=True, slots=True)
class InboxRow:
    room_id: int
    kind: str
    role: str
    unread: int
    crisis_open: bool
    reply_due_at: datetime.datetime | None
    last_message_at: datetime.datetime | None
    overdue: bool
    clients: tuple[str, ...] = ()


# The inbox is the hot path of a therapist's day, so its one query is written out and parsed by
# hand: the ORM spent 2 ms per call building the query and converting 400 datetimes for 200
# rows (bench/inbox.py). It reads only the rooms' counters, never the messages table. Order:
# crisis-flagged first, then by reply due time (overdue rooms are due earliest, so they come
# first), then rooms with no reply due, newest activity first.
_INBOX_SQL = """
SELECT m.room_id, r.kind, m.role, r.last_seq - m.last_read_seq, r.crisis_open,
       {due}, {last}
FROM rooms_roommember m
JOIN rooms_room r ON r.id = m.room_id
WHERE m.user_id = %s AND m.left_at IS NULL
ORDER BY r.crisis_open DESC,
         CASE WHEN r.reply_due_at IS NULL THEN 1 ELSE 0 END,
         r.reply_due_at,
         CASE WHEN r.last_message_at IS NULL THEN 1 ELSE 0 END,
         r.last_message_at DESC,
         m.room_id
"""


def _inbox_sql() -> str:
    # SQLite's declared-type converters parse timestamps with a regex, and psycopg converts each
    # timestamptz to the session's zone: as text (SQLite) or epoch seconds (PostgreSQL) they are
    # read by C code instead (bench/inbox.py).
    if connection.vendor == "sqlite":
        return _INBOX_SQL.format(
            due="CAST(r.reply_due_at AS TEXT)", last="CAST(r.last_message_at AS TEXT)"
        )
    return _INBOX_SQL.format(
        due="EXTRACT(EPOCH FROM r.reply_due_at)::float8",
        last="EXTRACT(EPOCH FROM r.last_message_at)::float8",
    )


def _moment(value: datetime.datetime | str | float | None) -> datetime.datetime | None:
    """A database timestamp (text from SQLite, epoch seconds from PostgreSQL) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    parsed = (
        value if isinstance(value, datetime.datetime) else (datetime.datetime.fromisoformat(value))
    )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def inbox_rows(*, therapist: User, now: datetime.datetime) -> list[InboxRow]:
    """The therapist's rooms in the order they should be answered, as plain rows."""
    with connection.cursor() as cursor:
        cursor.execute(_inbox_sql(), [therapist.pk])
        raw = cursor.fetchall()
    rows = []
    for room_id, kind, role, unread, crisis, due_raw, last_raw in raw:
        due = _moment(due_raw)
        rows.append(
            InboxRow(
                room_id,
                kind,
                role,
                unread,
                bool(crisis),
                due,
                _moment(last_raw),
                due is not None and due < now,
            )
        )
    return rows


def inbox(*, therapist: User, now: datetime.datetime) -> list[InboxRow]:
    """Inbox rows with the clients' names, in two queries."""
    rows = inbox_rows(therapist=therapist, now=now)
    names: dict[int, list[str]] = {}
    for room_id, name in (
        RoomMember.objects.filter(
            room_id__in=[r.room_id for r in rows], left_at__isnull=True, role="client"
        )
        .order_by("joined_at")
        .values_list("room_id", "user__display_name")
    ):
        names.setdefault(room_id, []).append(name)
    return [dataclasses.replace(row, clients=tuple(names.get(row.room_id, ()))) for row in rows]


@dataclasses.dataclass(frozen=True)
class ResponseFigures:
    replies: int
    median_hours: float | None
    p90_hours: float | None
    within_window_pct: float | None


def response_figures(*, therapist: User, now: datetime.datetime, days: int = 30) -> ResponseFigures:
    """Median and 90th percentile of working time to reply, and the share inside the window."""
    records = list(
        ReplyRecord.objects.filter(
            therapist=therapist, replied_at__gte=now - datetime.timedelta(days=days)
        ).values_list("seconds", "within_window")
    )
    if not records:
        return ResponseFigures(0, None, None, None)
    hours = sorted(seconds / 3600 for seconds, _ in records)
    p90 = hours[0] if len(hours) == 1 else statistics.quantiles(hours, n=10, method="inclusive")[8]
    within = sum(1 for _, inside in records if inside)
    return ResponseFigures(
        len(records),
        round(statistics.median(hours), 1),
        round(p90, 1),
        round(100 * within / len(records), 1),
    )


def search_messages(*, user: User, query: str, limit: int = 50) -> list[Message]:
    """Messages containing every word of `query`, in the rooms `user` may read (audited)."""
    words = search.words(query)[:10]
    if not words:
        return []
    rooms = Room.objects.filter(members__user=user, members__left_at__isnull=True)
    matches = Message.objects.filter(room__in=rooms, deleted_at__isnull=True)
    for word in words:
        matches = matches.filter(
            pk__in=SearchToken.objects.filter(token=search.token(word), room__in=rooms).values(
                "message_id"
            )
        )
    found = list(matches.select_related("sender", "room").order_by("-created_at")[:limit])
    audit_record(
        actor=user,
        action="log.search",
        object_type="user",
        object_id=user.pk,
        detail={"results": len(found)},
    )
    return found
