"""Fictional support between sessions for the demo practice, made through the real services:
an agreed care agreement, twelve weeks of questionnaires that show a trend, exercises in each
state, a journal with one shared entry, and a private note."""

from __future__ import annotations

import datetime

from django.utils import timezone

from confide.accounts.models import User
from confide.rooms.models import Room, RoomKind
from confide.support import agreements, exercises, journal, measures, notes
from confide.support.library import library_ensure

# Scores every two weeks, oldest first: a client who is slowly feeling better.
PHQ9_HISTORY = [16, 14, 13, 11, 9, 7]
GAD7_HISTORY = [13, 12, 10, 10, 8, 6]
CSI4_HISTORY = {"kit": [10, 12, 14], "lee": [9, 11, 12]}


def _spread(total: int, items: int, top: int, *, keep_last_zero: bool = False) -> list[int]:
    """Item scores that add up to `total` (each at most `top`), for a plausible answer sheet."""
    answers = [0] * items
    slots = items - 1 if keep_last_zero else items
    left = total
    for round_ in range(top):
        for i in range(slots):
            if left == 0:
                return answers
            if answers[i] == round_:
                answers[i] += 1
                left -= 1
    return answers


def _csi4(total: int) -> list[int]:
    first = min(6, max(0, total - 12))
    rest = total - first
    return [
        first,
        rest // 3 + (1 if rest % 3 > 0 else 0),
        rest // 3 + (1 if rest % 3 > 1 else 0),
        rest // 3,
    ]


def seed_demo_support(therapist: User, *, now: datetime.datetime | None = None) -> None:
    moment = now or timezone.now()
    start = moment - datetime.timedelta(weeks=12)
    jamie = User.objects.get(email="jamie@confide.example")
    kit = User.objects.get(email="kit@confide.example")
    lee = User.objects.get(email="lee@confide.example")
    solo = Room.objects.get(members__user=jamie, kind=RoomKind.INDIVIDUAL)
    couple = Room.objects.get(members__user=kit, kind=RoomKind.COUPLE)

    # The care agreement, proposed by the therapist and accepted by the client.
    proposal = agreements.agreement_propose(
        actor=therapist,
        relationship_id=solo.relationship_id,
        checkins_per_week=3,
        reply_window_business_days=2,
        live_sessions_per_month=2,
        homework_rhythm="weekly",
        goals="Speak up once in each team meeting.\nSleep before midnight on weekdays.",
        now=start,
    )
    agreements.agreement_decide(
        actor=jamie,
        relationship_id=solo.relationship_id,
        agreement_id=proposal.pk,
        accept=True,
        now=start + datetime.timedelta(hours=3),
    )

    # Questionnaires every two weeks, answered in the order they happened.
    schedules = {
        instrument: measures.measure_schedule_assign(
            actor=therapist,
            room=solo,
            respondent_id=jamie.pk,
            instrument=instrument,
            every_days=14,
            now=start,
        )
        for instrument in ("phq9", "gad7")
    }
    for n, (phq9, gad7) in enumerate(zip(PHQ9_HISTORY, GAD7_HISTORY, strict=True)):
        for instrument, total, items in (("phq9", phq9, 9), ("gad7", gad7, 7)):
            measures.measure_complete(
                actor=jamie,
                room=solo,
                schedule_id=schedules[instrument].pk,
                answers=_spread(total, items, 3, keep_last_zero=instrument == "phq9"),
                now=start + datetime.timedelta(days=14 * n, hours=20),
            )
    couple_schedules = {
        key: measures.measure_schedule_assign(
            actor=therapist,
            room=couple,
            respondent_id=person.pk,
            instrument="csi4",
            every_days=28,
            now=start,
        )
        for person, key in ((kit, "kit"), (lee, "lee"))
    }
    for n in range(3):
        for person, key in ((kit, "kit"), (lee, "lee")):
            measures.measure_complete(
                actor=person,
                room=couple,
                schedule_id=couple_schedules[key].pk,
                answers=_csi4(CSI4_HISTORY[key][n]),
                now=start + datetime.timedelta(days=28 * n, hours=21),
            )

    # Exercises: a submitted thought record with a comment; a couples check-in in progress.
    library = library_ensure()
    last_week = moment - datetime.timedelta(days=6)
    record = exercises.exercise_assign(
        actor=therapist,
        room_id=solo.pk,
        template_id=library["thought-record"].pk,
        due_on=(moment + datetime.timedelta(days=1)).date(),
        now=last_week,
    )
    exercises.response_save(
        actor=jamie,
        room_id=solo.pk,
        exercise_id=record.pk,
        answers={
            "situation": "Team meeting on Tuesday; it was my turn to give the update.",
            "automatic_thought": "Everyone will notice I have nothing useful to say.",
            "emotion": "Anxious",
            "intensity": 8,
            "evidence_for": "I lost my place once last month.",
            "evidence_against": "My manager thanked me for the last two updates.",
            "balanced_thought": "I usually have something useful; losing my place once is normal.",
            "emotion_after": 5,
        },
        submit=True,
        now=last_week + datetime.timedelta(days=2),
    )
    exercises.comment_add(
        actor=therapist,
        room_id=solo.pk,
        exercise_id=record.pk,
        body="Thank you, Jamie. Notice how the evidence against came from what really happened.",
        now=last_week + datetime.timedelta(days=3),
    )
    check_in = exercises.exercise_assign(
        actor=therapist,
        room_id=couple.pk,
        template_id=library["couples-weekly-check-in"].pk,
        due_on=(moment + datetime.timedelta(days=3)).date(),
        now=last_week,
    )
    exercises.response_save(
        actor=kit,
        room_id=couple.pk,
        exercise_id=check_in.pk,
        answers={"appreciations": "Lee made dinner when I came home late."},
        submit=False,
        now=last_week + datetime.timedelta(days=1),
    )

    # A journal: one entry kept private, one shared into the room.
    journal.journal_write(
        actor=jamie,
        body="Walked by the river after work. Quieter in my head than yesterday.",
        now=moment - datetime.timedelta(days=2),
    )
    shared = journal.journal_write(
        actor=jamie,
        body="I noticed I apologise before I say anything in meetings. Want to talk about it.",
        now=moment - datetime.timedelta(days=1),
    )
    journal.journal_share(actor=jamie, entry_id=shared.pk, room_id=solo.pk, now=moment)

    # The therapist's private note (never shown to a client).
    notes.note_create(
        actor=therapist,
        relationship_id=solo.relationship_id,
        format="soap",
        content={
            "s": "Reports freezing when speaking in meetings; sleep improving.",
            "o": "Engaged, completed the thought record in full.",
            "a": "Scores falling steadily (PHQ-9 16 to 7 over twelve weeks).",
            "p": "Behavioural experiment: one contribution per meeting; review in two weeks.",
        },
        session_on=(moment - datetime.timedelta(days=7)).date(),
        now=moment,
    )
