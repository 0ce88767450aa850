"""What a room socket needs when it connects, in three hand-written statements.

Through the ORM the connect took eight queries (the room with its members, the consent state,
the person's open sockets, the presence row, the live session), and compiling them
was two thirds of the server's CPU per connect (bench/idle_sockets.py). The rules are those of
`rooms.selectors.room_get` (an active member of the room), `accounts.selectors.
consent_is_current` and `live.presence`; tests/live/test_entry.py holds them side by side.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import connection

from confide import rawsql
from confide.live.presence import fresh_since
from confide.rooms.models import Presence, PresenceState, Room

# The room's sequence, the consent state, the person's fresh sockets and the open live session,
# if the person is an active member of the room (no row otherwise).
_ENTRY = (
    'SELECT r."last_seq", '
    'COALESCE((SELECT EXISTS(SELECT 1 FROM "accounts_consentrecord" c '
    'WHERE c."user_id" = m."user_id" AND c."document_id" = d."id") '
    'FROM "accounts_consentdocument" d ORDER BY d."version" DESC LIMIT 1), TRUE), '
    '(SELECT COUNT(*) FROM "rooms_presence" p WHERE p."user_id" = m."user_id" '
    'AND p."seen_at" >= %s), '
    '(SELECT s."id" FROM "live_livesession" s WHERE s."room_id" = r."id" '
    'AND s."ended_at" IS NULL ORDER BY s."id" LIMIT 1) '
    'FROM "rooms_room" r JOIN "rooms_roommember" m ON m."room_id" = r."id" '
    'WHERE r."id" = %s AND m."user_id" = %s AND m."left_at" IS NULL'
)

_MEMBERS = (
    'SELECT m."user_id", u."display_name", m."delivered_seq", m."last_read_seq", '
    'u."read_receipts" FROM "rooms_roommember" m JOIN "accounts_user" u ON u."id" = m."user_id" '
    'WHERE m."room_id" = %s AND m."left_at" IS NULL ORDER BY m."role", m."joined_at", m."id"'
)

_INSERT_PRESENCE = (
    'INSERT INTO "rooms_presence" ("user_id", "room_id", "channel_name", "state", "seen_at") '
    "VALUES (%s, %s, %s, %s, %s)"
)


@dataclasses.dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    delivered_seq: int
    last_read_seq: int
    read_receipts: bool


@dataclasses.dataclass(frozen=True)
class Entry:
    """An active member's way into a room. `room` holds its id and sequence; any other field is
    read from the database when first used (a deferred field)."""

    room: Room
    consent_current: bool
    connections: int
    live_session_id: int | None


def entry_for(*, user_id: int, room_id: int, now: datetime.datetime) -> Entry | None:
    """The room as `user_id` may enter it, or None when they are not an active member."""
    since = rawsql.prep(Presence, "seen_at", fresh_since(now))
    with connection.cursor() as cursor:
        cursor.execute(_ENTRY, [since, room_id, user_id])
        row = cursor.fetchone()
    if row is None:
        return None
    last_seq, consent, connections, session_id = row
    room = Room.from_db(connection.alias, ["id", "last_seq"], [room_id, int(last_seq)])
    return Entry(
        room=room,
        consent_current=bool(consent),
        connections=int(connections),
        live_session_id=None if session_id is None else int(session_id),
    )


def members_of(room_id: int) -> list[Member]:
    """The room's active members, in the order `rooms.selectors.active_members_of` gives."""
    with connection.cursor() as cursor:
        cursor.execute(_MEMBERS, [room_id])
        return [
            Member(
                user_id=int(user_id),
                name=str(name),
                delivered_seq=int(delivered),
                last_read_seq=int(read),
                read_receipts=bool(receipts),
            )
            for user_id, name, delivered, read, receipts in cursor.fetchall()
        ]


def presence_add(*, channel_name: str, user_id: int, room_id: int, now: datetime.datetime) -> None:
    """The socket's presence row (channel names are new for every socket: no lookup)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_PRESENCE,
            [
                user_id,
                room_id,
                channel_name,
                PresenceState.HERE.value,
                rawsql.prep(Presence, "seen_at", now),
            ],
        )
