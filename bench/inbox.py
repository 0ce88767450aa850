"""Opening the therapist's inbox, against the naive GROUP BY/COUNT(*) inbox, in one run.

A therapist with 200 rooms in a database of 10,000 rooms and 1,000,000 messages (--quick:
1,000 rooms, 100,000 messages). The selector reads only room counters; the baseline computes
unread counts and last-message times from the messages table at read time.

    python bench/inbox.py [--quick] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import configure, machine, summary


def build(rooms_n: int, per_room: int, mine: int) -> int:
    """Bulk-load rows directly (a benchmark's data, not a test's): returns the therapist id."""
    from django.db import connection, transaction

    from confide.accounts.models import Role, User
    from confide.care.models import CareParticipant, CareRelationship, Practice

    now = datetime.datetime(2026, 11, 2, 12, 0, tzinfo=datetime.UTC)
    rng = random.Random(7)
    with transaction.atomic():
        practice = Practice.objects.create(name="Bench", slug="bench", country="GB")
        therapists = User.objects.bulk_create(
            [
                User(
                    email=f"t{i}@bench.example",
                    display_name=f"T{i}",
                    role=Role.THERAPIST,
                    practice=practice,
                    password="!",  # noqa: S106 - an unusable password marker
                )
                for i in range(max(1, rooms_n // mine))
            ]
        )
        clients = User.objects.bulk_create(
            [
                User(
                    email=f"c{i}@bench.example",
                    display_name=f"C{i}",
                    role=Role.CLIENT,
                    practice=practice,
                    password="!",  # noqa: S106 - an unusable password marker
                )
                for i in range(rooms_n)
            ]
        )
        target = therapists[0]
        owners = [
            target if i < mine else therapists[1 + i % (len(therapists) - 1)]
            for i in range(rooms_n)
        ]
        rels = CareRelationship.objects.bulk_create(
            [
                CareRelationship(practice=practice, therapist=owners[i], kind="individual")
                for i in range(rooms_n)
            ]
        )
        CareParticipant.objects.bulk_create(
            [CareParticipant(relationship=rels[i], client=clients[i]) for i in range(rooms_n)]
        )
    room_rows: list[tuple[Any, ...]] = []
    member_rows: list[tuple[Any, ...]] = []
    for i in range(rooms_n):
        room_id = i + 1
        last_at = now - datetime.timedelta(minutes=rng.randint(0, 60 * 24 * 30))
        due = (last_at + datetime.timedelta(days=2)) if rng.random() < 0.3 else None
        room_rows.append(
            (
                room_id,
                practice.pk,
                rels[i].pk,
                "individual",
                now,
                per_room,
                last_at,
                last_at if due else None,
                due,
                rng.random() < 0.01,
            )
        )
        member_rows.append(
            (room_id, owners[i].pk, "therapist", now, rng.randint(per_room // 2, per_room), 0)
        )
        member_rows.append((room_id, clients[i].pk, "client", now, per_room, 0))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO rooms_room (id, practice_id, relationship_id, kind, created_at, "
            "last_seq, last_message_at, waiting_since, reply_due_at, crisis_open) "
            "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
            room_rows,
        )
        cursor.executemany(
            "INSERT INTO rooms_roommember (room_id, user_id, role, joined_at, last_read_seq, "
            "notified_seq, delivered_seq, delivery, emailed_seq) "
            "VALUES (%s,%s,%s,%s,%s,%s,0,'notify',0)",
            member_rows,
        )
    body = os.urandom(48)
    batch = 50_000
    with connection.cursor() as cursor:
        for start in range(0, rooms_n, max(1, batch // per_room)):
            message_rows: list[tuple[Any, ...]] = []
            for room_id in range(start + 1, min(rooms_n, start + batch // per_room) + 1):
                for seq in range(1, per_room + 1):
                    sender = clients[room_id - 1].pk if seq % 2 else owners[room_id - 1].pk
                    message_rows.append(
                        (
                            room_id,
                            seq,
                            sender,
                            "text",
                            body,
                            now - datetime.timedelta(minutes=per_room - seq),
                            False,
                        )
                    )
            with transaction.atomic():
                cursor.executemany(
                    "INSERT INTO rooms_message (room_id, seq, sender_id, kind, body, created_at, "
                    "crisis) VALUES (%s,%s,%s,%s,%s,%s,%s)",
                    message_rows,
                )
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('rooms_room', 'id'), %s)", [rooms_n]
            )
            cursor.execute("ANALYZE")
        else:
            cursor.execute("ANALYZE")
    return target.pk


NAIVE = """
SELECT r.id,
       SUM(CASE WHEN m.seq > rm.last_read_seq THEN 1 ELSE 0 END) AS unread,
       MAX(m.created_at) AS last_at,
       COUNT(m.id) AS total
FROM rooms_roommember rm
JOIN rooms_room r ON r.id = rm.room_id
LEFT JOIN rooms_message m ON m.room_id = r.id
WHERE rm.user_id = %s AND rm.left_at IS NULL
GROUP BY r.id
ORDER BY MAX(m.created_at) DESC
"""


def timed(fn: object, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    rooms_n, per_room = (1_000, 100) if args.quick else (10_000, 100)
    env = configure(args.db)
    try:
        started = time.perf_counter()
        therapist_id = build(rooms_n, per_room, 200)
        load_s = time.perf_counter() - started
        from django.db import connection
        from django.test import Client
        from django.utils import timezone

        from confide.accounts.models import User
        from confide.rooms.selectors import inbox_rows
        from tests.personas import sign_in

        therapist = User.objects.get(pk=therapist_id)
        now = timezone.now()

        def selector() -> None:
            rows = inbox_rows(therapist=therapist, now=now)
            assert len(rows) == 200

        def naive() -> None:
            with connection.cursor() as cursor:
                cursor.execute(NAIVE, [therapist_id])
                assert len(cursor.fetchall()) == 200

        from django_otp.plugins.otp_totp.models import TOTPDevice

        TOTPDevice.objects.create(user=therapist, name="bench", confirmed=True)
        browser = sign_in(Client(), therapist)

        def page() -> None:
            assert browser.get("/").status_code == 200

        runs = 200 if args.quick else 1000
        for warm in (selector, naive, page):
            timed(warm, 5)
        fast = summary(timed(selector, runs))
        slow = summary(timed(naive, max(20, runs // 10)))
        pages = summary(timed(page, max(20, runs // 5)))
        print(
            json.dumps(
                {
                    "bench": "inbox",
                    "db": connection.vendor,
                    "quick": args.quick,
                    "rooms": rooms_n,
                    "messages": rooms_n * per_room,
                    "therapist_rooms": 200,
                    "p50_ms": fast["p50"],
                    "p99_ms": fast["p99"],
                    "page_p50_ms": pages["p50"],
                    "page_p99_ms": pages["p99"],
                    "baseline_p50_ms": slow["p50"],
                    "baseline_p99_ms": slow["p99"],
                    "speedup_p99": round(slow["p99"] / fast["p99"], 1),
                    "load_s": round(load_s, 1),
                    "machine": machine(),
                }
            )
        )
    finally:
        env["cleanup"]()


if __name__ == "__main__":
    main()
