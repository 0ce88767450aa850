"""The therapist's caseload page, against a naive one-relationship-at-a-time version, in one run.

A therapist with 200 clients (160 individual clients and 20 couples: 180 relationships, 220
rooms) and two years of work with each: PHQ-9 and GAD-7 every 14 days for every client (CSI-4
too for the partners of a couple), one exercise a week with its responses (most submitted, some
drafts, some never started), a handful of messages a week with the replies they started and
their reply records, and care agreements (a superseded version and the current one). Rows are
bulk-loaded directly, encrypted with `confide.crypto` where the column is encrypted.

`p50_ms`/`p95_ms` are the selector (`support.caseload.caseload`) with the table's display
strings and the table's template rendered (`support/caseload/_table.html`): the server's work
for the table, timed in this process with the interpreter settings `serve` uses (after a
warm-up, `confide.threads.tune_interpreter`). `selector_*` is the selector alone; `page_*` is
the whole page through Django (session, second factor, upcoming sessions, invitations, audit
row, template). `queries` is the selector's count. `baseline_*` is the naive way, with the
same display and template: for each relationship, its clients, its rooms and each room's last
messages, its replies, its agreement, its check-ins, each respondent's measures and its
exercises, one query at a time (`baseline_queries`).
The run asserts that both give the same rows.

    python bench/caseload.py [--quick] [--db sqlite|postgres]

Without `--db`, PostgreSQL is used when DATABASE_URL is set (a fresh database is created next
to the one it names, and dropped at the end), SQLite otherwise.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import configure, machine, percentile

UTC = datetime.UTC
# A Thursday afternoon: the week's check-ins have begun, some replies are due, some overdue.
NOW = datetime.datetime(2027, 1, 14, 15, 0, tzinfo=UTC)
INDIVIDUALS, COUPLES = 160, 20


def build(weeks: int) -> tuple[int, dict[str, int]]:
    """Bulk-load the caseload. Returns the therapist's id and the row counts."""
    from django.db import connection, transaction

    from confide.accounts.models import Role, User
    from confide.care.models import CareParticipant, CareRelationship, Practice
    from confide.crypto import encrypt_text
    from confide.rooms.models import (
        MemberRole,
        Message,
        ReplyRecord,
        Room,
        RoomKind,
        RoomMember,
    )
    from confide.rooms.services import body_context
    from confide.support.models import (
        AgreementState,
        CareAgreement,
        Exercise,
        ExerciseResponse,
        ExerciseTemplate,
        Instrument,
        MeasureResponse,
        ResponseState,
    )

    rng = random.Random(7)
    start = NOW - datetime.timedelta(weeks=weeks)
    counts: dict[str, int] = {}
    with transaction.atomic():
        practice = Practice.objects.create(
            name="Bench", slug="bench", country="GB", time_zone="Europe/London"
        )
        therapist = User.objects.create(
            email="t@bench.example",
            display_name="Bench Therapist",
            role=Role.THERAPIST,
            practice=practice,
            time_zone="Europe/London",
            password="!",  # noqa: S106 - an unusable password marker
        )
        clients = User.objects.bulk_create(
            [
                User(
                    email=f"c{i}@bench.example",
                    display_name=f"Client {i:03d}",
                    role=Role.CLIENT,
                    practice=practice,
                    time_zone="Europe/London",
                    password="!",  # noqa: S106 - an unusable password marker
                )
                for i in range(INDIVIDUALS + 2 * COUPLES)
            ]
        )
        kinds = ["individual"] * INDIVIDUALS + ["couple"] * COUPLES
        rels = CareRelationship.objects.bulk_create(
            [
                CareRelationship(
                    practice=practice, therapist=therapist, kind=kind, created_at=start
                )
                for kind in kinds
            ]
        )
        people: dict[int, list[User]] = {}
        for index, rel in enumerate(rels):
            if rel.kind == "individual":
                people[rel.pk] = [clients[index]]
            else:
                first = INDIVIDUALS + 2 * (index - INDIVIDUALS)
                people[rel.pk] = [clients[first], clients[first + 1]]
        CareParticipant.objects.bulk_create(
            [
                CareParticipant(relationship=rel, client=client, joined_at=start)
                for rel in rels
                for client in people[rel.pk]
            ]
        )
        room_rows = []
        for rel in rels:
            if rel.kind == "individual":
                room_rows.append(
                    Room(practice=practice, relationship=rel, kind=RoomKind.INDIVIDUAL)
                )
            else:
                room_rows.append(Room(practice=practice, relationship=rel, kind=RoomKind.COUPLE))
                room_rows.extend(
                    Room(practice=practice, relationship=rel, kind=RoomKind.PRIVATE, private_for=c)
                    for c in people[rel.pk]
                )
        rooms = Room.objects.bulk_create(room_rows)
        RoomMember.objects.bulk_create(
            [RoomMember(room=r, user=therapist, role=MemberRole.THERAPIST) for r in rooms]
            + [
                RoomMember(room=r, user=c, role=MemberRole.CLIENT)
                for r in rooms
                for c in (
                    [r.private_for] if r.private_for is not None else people[r.relationship_id]
                )
                if c is not None
            ]
        )

        # Messages: each week, in each room, a few client messages and the therapist's replies
        # (each reply ends a wait and leaves a reply record); the last wait may still run.
        messages: list[Message] = []
        records: list[ReplyRecord] = []
        for room in rooms:
            writers = [room.private_for] if room.private_for else people[room.relationship_id]
            per_week = 3 if room.kind != RoomKind.PRIVATE else 1
            seq = 0
            moment = start
            waiting: datetime.datetime | None = None
            while True:
                moment += datetime.timedelta(hours=rng.uniform(0.5, 2 * 24 * 7 / per_week))
                if moment >= NOW:
                    break
                client_turn = rng.random() < 0.6
                sender = (
                    rng.choice([w for w in writers if w is not None]) if client_turn else therapist
                )
                seq += 1
                messages.append(
                    Message(
                        room=room,
                        seq=seq,
                        sender=sender,
                        kind="text",
                        body=encrypt_text(
                            "A fictional message.", context=body_context(room.pk, seq)
                        ),
                        created_at=moment,
                    )
                )
                if client_turn and waiting is None:
                    waiting = moment
                elif not client_turn and waiting is not None:
                    due = waiting + datetime.timedelta(days=2)
                    records.append(
                        ReplyRecord(
                            room=room,
                            therapist=therapist,
                            waited_from=waiting,
                            due_at=due,
                            replied_at=moment,
                            within_window=moment <= due,
                            seconds=(moment - waiting).total_seconds() / 3,
                        )
                    )
                    waiting = None
            room.last_seq = seq
            room.last_message_at = messages[-1].created_at if seq else None
            room.waiting_since = waiting
            room.reply_due_at = waiting + datetime.timedelta(days=2) if waiting else None
            room.crisis_open = rng.random() < 0.02
        Room.objects.bulk_update(
            rooms,
            ["last_seq", "last_message_at", "waiting_since", "reply_due_at", "crisis_open"],
        )
        Message.objects.bulk_create(messages, batch_size=5000)
        ReplyRecord.objects.bulk_create(records, batch_size=5000)
        counts["messages"] = len(messages)
        counts["reply_records"] = len(records)

        # Agreements: a first version, superseded, and the current one (a few have none yet).
        agreements = []
        for rel in rels:
            if rng.random() < 0.05:
                continue
            for number, state in ((1, AgreementState.SUPERSEDED), (2, AgreementState.ACCEPTED)):
                agreements.append(
                    CareAgreement(
                        relationship=rel,
                        number=number,
                        state=state,
                        checkins_per_week=rng.randint(2, 5),
                        goals=encrypt_text(
                            "Fictional goals.", context=f"agreement:{rel.pk}:{number}"
                        ),
                        proposed_by=therapist,
                        proposed_at=start,
                    )
                )
        CareAgreement.objects.bulk_create(agreements)

        # Measures every 14 days (ids given here: the answers are sealed with the row's id).
        room_of = {(r.relationship_id, r.kind, r.private_for_id): r for r in rooms}
        measures = []
        next_id = 1
        for rel in rels:
            for client in people[rel.pk]:
                own_room = (
                    room_of[(rel.pk, RoomKind.INDIVIDUAL, None)]
                    if rel.kind == "individual"
                    else room_of[(rel.pk, RoomKind.PRIVATE, client.pk)]
                )
                plan = [(Instrument.PHQ9, own_room, 27), (Instrument.GAD7, own_room, 21)]
                if rel.kind == "couple":
                    plan.append((Instrument.CSI4, room_of[(rel.pk, RoomKind.COUPLE, None)], 21))
                for instrument, where, top in plan:
                    day = start + datetime.timedelta(days=rng.randint(0, 13))
                    score = rng.randint(top // 3, top)
                    while day < NOW:
                        score = max(0, min(top, score + rng.randint(-4, 3)))
                        measures.append(
                            MeasureResponse(
                                id=next_id,
                                relationship=rel,
                                room=where,
                                respondent=client,
                                instrument=instrument,
                                answers=encrypt_text("[]", context=f"measure:{next_id}"),
                                score=score,
                                band="fictional band",
                                urgent=instrument == Instrument.PHQ9 and rng.random() < 0.01,
                                completed_at=day,
                            )
                        )
                        next_id += 1
                        day += datetime.timedelta(days=14)
        MeasureResponse.objects.bulk_create(measures, batch_size=5000)
        counts["measures"] = len(measures)

        # One exercise a week (for both partners of a couple, in their shared room), due a week
        # later; most submitted, some drafted, some never started.
        template = ExerciseTemplate.objects.create(
            practice=practice, author=therapist, title="Fictional weekly exercise"
        )
        exercises = []
        responses = []
        exercise_id = 1
        for rel in rels:
            where = room_of[
                (rel.pk, RoomKind.INDIVIDUAL if rel.kind == "individual" else RoomKind.COUPLE, None)
            ]
            assigned = start + datetime.timedelta(days=rng.randint(0, 6), hours=10)
            while assigned < NOW:
                exercises.append(
                    Exercise(
                        id=exercise_id,
                        room=where,
                        relationship=rel,
                        template=template,
                        title=template.title,
                        fields=[],
                        assigned_by=therapist,
                        assigned_at=assigned,
                        due_on=(assigned + datetime.timedelta(days=7)).date(),
                    )
                )
                for client in people[rel.pk]:
                    luck = rng.random()
                    if luck < 0.1:
                        continue
                    submitted = luck >= 0.15
                    responses.append(
                        ExerciseResponse(
                            exercise_id=exercise_id,
                            user=client,
                            answers=encrypt_text(
                                "{}", context=f"exercise:{exercise_id}:{client.pk}"
                            ),
                            state=ResponseState.SUBMITTED if submitted else ResponseState.DRAFT,
                            updated_at=assigned,
                            submitted_at=assigned + datetime.timedelta(days=3)
                            if submitted
                            else None,
                        )
                    )
                exercise_id += 1
                assigned += datetime.timedelta(days=7)
        Exercise.objects.bulk_create(exercises, batch_size=5000)
        ExerciseResponse.objects.bulk_create(responses, batch_size=5000)
        counts["exercises"] = len(exercises)
        counts["exercise_responses"] = len(responses)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # Rows were given their ids here: move the sequences past them.
            for table in ("support_measureresponse", "support_exercise"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT MAX(id) FROM {table}))"
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return therapist.pk, counts


def naive_caseload(therapist: Any, now: datetime.datetime) -> list[Any]:
    """The same rows, one relationship at a time, written the obvious way with the ORM."""
    from confide.accounts.models import Role
    from confide.care.models import CareRelationship
    from confide.rooms.models import Message, ReplyRecord
    from confide.support.adherence import CHECKIN_KINDS, checkins_since, week_start
    from confide.support.caseload import (
        OVERDUE_EXERCISE_DAYS,
        REPLY_DAYS,
        URGENT_DAYS,
        CaseloadRoom,
        CaseloadRow,
        CaseloadScore,
        trend_of,
    )
    from confide.support.models import (
        AgreementState,
        CareAgreement,
        Exercise,
        Instrument,
        MeasureResponse,
        ResponseState,
    )

    rows = []
    relationships = CareRelationship.objects.filter(
        therapist=therapist, ended_at__isnull=True
    ).select_related("practice")
    for rel in relationships:
        zone = rel.practice.time_zone
        clients = [
            p.client for p in rel.participants.select_related("client").order_by("joined_at", "pk")
        ]
        rooms, client_times, staff_times = [], [], []
        for room in rel.rooms.order_by("pk"):
            private_for = room.private_for.display_name if room.private_for else ""
            rooms.append(
                CaseloadRoom(room.pk, room.kind, private_for, room.crisis_open, room.reply_due_at)
            )
            sent = Message.objects.filter(room=room, kind__in=CHECKIN_KINDS)
            last = sent.filter(sender__role=Role.CLIENT).order_by("-created_at").first()
            if last:
                client_times.append(last.created_at)
            last = sent.filter(sender__role=Role.THERAPIST).order_by("-created_at").first()
            if last:
                staff_times.append(last.created_at)
        rooms.sort(key=lambda r: (r.kind == "private", r.room_id))
        records = list(
            ReplyRecord.objects.filter(
                room__relationship=rel,
                replied_at__gte=now - datetime.timedelta(days=REPLY_DAYS),
            )
        )
        agreement = CareAgreement.objects.filter(
            relationship=rel, state=AgreementState.ACCEPTED
        ).first()
        checkins = checkins_since([rel.pk], week_start(now, zone), zone).get(rel.pk, 0)
        scores = []
        for client in clients:
            for instrument in Instrument.values:
                two = list(
                    MeasureResponse.objects.filter(
                        relationship=rel, respondent=client, instrument=instrument
                    ).order_by("-completed_at", "-pk")[:2]
                )
                if two:
                    before = two[1].score if len(two) > 1 else None
                    scores.append(
                        CaseloadScore(
                            client.pk,
                            client.display_name,
                            instrument,
                            two[0].score,
                            two[0].band,
                            two[0].completed_at,
                            before,
                            trend_of(instrument, two[0].score, before),
                        )
                    )
        urgent = MeasureResponse.objects.filter(
            relationship=rel,
            urgent=True,
            completed_at__gte=now - datetime.timedelta(days=URGENT_DAYS),
        ).exists()
        today = now.astimezone(zoneinfo.ZoneInfo(zone)).date()
        overdue = 0
        for item in Exercise.objects.filter(
            relationship=rel,
            closed_at__isnull=True,
            due_on__lt=today,
            due_on__gte=today - datetime.timedelta(days=OVERDUE_EXERCISE_DAYS),
        ).select_related("room"):
            done = set(
                item.responses.filter(state=ResponseState.SUBMITTED).values_list(
                    "user_id", flat=True
                )
            )
            if item.for_user_id is not None:
                owed = {item.for_user_id}
            elif item.room.kind == "couple":
                owed = {c.pk for c in clients}
            else:
                owed = {item.room.private_for_id or clients[0].pk}
            if owed - done:
                overdue += 1
        dues = [r.reply_due_at for r in rooms if r.reply_due_at]
        rows.append(
            CaseloadRow(
                relationship_id=rel.pk,
                kind=rel.kind,
                covering=False,
                names=tuple(c.display_name for c in clients),
                pending_invitations=rel.invitations.filter(
                    accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
                ).count(),
                rooms=tuple(rooms),
                client_last_at=max(client_times, default=None),
                therapist_last_at=max(staff_times, default=None),
                replies=len(records),
                within_window_pct=round(
                    100 * sum(r.within_window for r in records) / len(records), 1
                )
                if records
                else None,
                median_working_seconds=statistics.median(r.seconds for r in records)
                if records
                else None,
                checkins_agreed=agreement.checkins_per_week if agreement else None,
                checkins_this_week=checkins,
                scores=tuple(scores),
                reply_due_at=min(dues, default=None),
                crisis_open=any(r.crisis_open for r in rooms),
                reply_overdue=any(d < now for d in dues),
                urgent_measure=urgent,
                exercises_overdue=overdue,
            )
        )
    far = datetime.datetime.max.replace(tzinfo=UTC)
    rows.sort(
        key=lambda row: (
            not row.flagged,
            row.reply_due_at or far,
            not row.names,
            row.name.casefold(),
            row.relationship_id,
        )
    )
    return rows


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def figures(samples: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(samples), 3),
        "p95": round(percentile(samples, 95), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--db",
        choices=["sqlite", "postgres"],
        default="postgres" if os.environ.get("DATABASE_URL") else "sqlite",
    )
    args = parser.parse_args()
    if args.db == "postgres" and os.environ.get("DATABASE_URL"):
        os.environ.setdefault("BENCH_POSTGRES_URL", os.environ["DATABASE_URL"])
    weeks = 26 if args.quick else 104  # --quick: half a year of history instead of two
    env = configure(args.db)
    try:
        started = time.perf_counter()
        therapist_id, counts = build(weeks)
        load_s = time.perf_counter() - started
        load_before = os.getloadavg()[0]
        import time_machine
        from django.db import connection
        from django.template.loader import render_to_string
        from django.test import Client
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from confide.accounts.models import User
        from confide.support.caseload import caseload
        from confide.support.views.caseload import present
        from confide.threads import tune_interpreter
        from tests.personas import sign_in

        therapist = User.objects.get(pk=therapist_id)

        def table(rows: list[Any]) -> str:
            items = present(rows, viewer_time_zone=therapist.time_zone, now=NOW)
            return render_to_string(
                "support/caseload/_table.html",
                {"items": items, "caption": "Your clients and couples", "table_id": "t"},
            )

        def fast() -> str:
            return table(caseload(therapist=therapist, now=NOW))

        def slow() -> str:
            return table(naive_caseload(therapist, NOW))

        rows = caseload(therapist=therapist, now=NOW)
        expected = naive_caseload(therapist, NOW)
        assert rows == expected, "the selector and the naive version disagree"
        assert len(rows) == INDIVIDUALS + COUPLES
        assert table(rows) == table(expected) == fast()
        flagged = sum(row.flagged for row in rows)
        queries = 0

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            caseload(therapist=therapist, now=NOW)
        selector_queries = queries
        queries = 0
        with connection.execute_wrapper(count):
            naive_caseload(therapist, NOW)
        baseline_queries = queries

        # The page as the therapist sees it at the benchmark's moment (sessions expire in
        # real hours, so the clock runs from there).
        traveller = time_machine.travel(NOW, tick=True)
        traveller.start()
        TOTPDevice.objects.create(user=therapist, name="bench", confirmed=True)
        browser = sign_in(Client(), therapist)

        def page() -> None:
            answer = browser.get("/caseload/")
            assert answer.status_code == 200 and answer.content.count(b"data-relationship=") == len(
                rows
            )

        runs = 40 if args.quick else 300
        for warm in (fast, page):
            timed(warm, 3)
        # As `serve` does after its first request: what is loaded stays out of the garbage
        # collector's way, and its first generation is larger (confide/threads.py).
        tune_interpreter()
        table_ms = figures(timed(fast, runs))
        selector_ms = figures(timed(lambda: caseload(therapist=therapist, now=NOW), runs))
        page_ms = figures(timed(page, max(10, runs // 3)))
        traveller.stop()
        baseline_ms = figures(timed(slow, 2 if args.quick else 30))
        print(
            json.dumps(
                {
                    "bench": "caseload",
                    "db": connection.vendor,
                    "quick": args.quick,
                    "clients": INDIVIDUALS + 2 * COUPLES,
                    "relationships": len(rows),
                    "weeks": weeks,
                    **counts,
                    "flagged": flagged,
                    "queries": selector_queries,
                    "p50_ms": table_ms["p50"],
                    "p95_ms": table_ms["p95"],
                    "selector_p50_ms": selector_ms["p50"],
                    "selector_p95_ms": selector_ms["p95"],
                    "page_p50_ms": page_ms["p50"],
                    "page_p95_ms": page_ms["p95"],
                    "baseline_queries": baseline_queries,
                    "baseline_p50_ms": baseline_ms["p50"],
                    "baseline_p95_ms": baseline_ms["p95"],
                    "speedup_p95": round(baseline_ms["p95"] / table_ms["p95"], 1),
                    "load_s": round(load_s, 1),
                    # The machine is shared: its 1-minute load average before and after timing.
                    "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                    "machine": machine(),
                }
            )
        )
    finally:
        env["cleanup"]()


if __name__ == "__main__":
    main()
