"""The therapist's caseload: one row per client or couple, with the figures of the work between
sessions, read in a fixed number of queries whatever the caseload's size.

Queries (with at least one relationship): the relationships (with the current agreement, the
open invitations and any urgent measure as subqueries), their clients, their rooms (with the
latest client and therapist message as index walks), the reply records of 90 days (median by
window functions), the week's check-ins (`support.adherence`, one per practice time zone: a
therapist works in one practice, so one), the latest two measure responses per respondent and
instrument (hand-written) and the overdue exercises: seven, whatever the caseload's size
(tests/support/test_caseload.py holds the number).
"""

from __future__ import annotations

import dataclasses
import datetime
import zoneinfo
from collections import defaultdict
from typing import Final, Literal, NamedTuple

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber

from confide.accounts.models import Role, User
from confide.care.models import (
    CareKind,
    CareParticipant,
    CareRelationship,
    CoveringTherapist,
    Invitation,
)
from confide.rooms.models import Message, ReplyRecord, Room, RoomKind
from confide.support.adherence import CHECKIN_KINDS, checkins_since, week_start
from confide.support.models import (
    AgreementState,
    CareAgreement,
    Exercise,
    ExerciseResponse,
    Instrument,
    MeasureResponse,
    ResponseState,
)

REPLY_DAYS: Final = 90
URGENT_DAYS: Final = 14
# An exercise flags its relationship while it is overdue by up to four weeks. Older unfinished
# ones have lapsed: they stay in the exercise list, but a flag that never clears would soon be
# on every row and mean nothing.
OVERDUE_EXERCISE_DAYS: Final = 28

# The smallest change of a total score that counts as a change (smaller ones are shown as "no
# clear change"), and which way is better.
# - PHQ-9: 5 points, the minimal clinically important difference of Löwe et al. (2004),
#   "Monitoring depression treatment outcomes with the Patient Health Questionnaire-9",
#   Medical Care 42(12):1194-1201. Lower is better.
# - GAD-7: 4 points, the minimal clinically important difference of Toussaint et al. (2020),
#   "Sensitivity to change and minimal clinically important difference of the 7-item
#   Generalized Anxiety Disorder Questionnaire (GAD-7)", J. Affective Disorders 265:395-401.
#   Lower is better.
# - CSI-4 (0-21): 5 points is Confide's convention (about a quarter of the range), not a
#   published figure. Higher is better.
CHANGE_THRESHOLD: Final = {Instrument.PHQ9: 5, Instrument.GAD7: 4, Instrument.CSI4: 5}
LOWER_IS_BETTER: Final = {Instrument.PHQ9: True, Instrument.GAD7: True, Instrument.CSI4: False}

Trend = Literal["better", "worse", "same", "first"]


class _Care(NamedTuple):
    """A relationship's own facts, read in the first query."""

    pk: int
    kind: str
    therapist_id: int
    zone: str  # the practice's time zone
    checkins_agreed: int | None
    pending_invitations: int
    urgent_measure: bool


@dataclasses.dataclass(frozen=True, slots=True)
class CaseloadRoom:
    room_id: int
    kind: str
    private_for: str  # the partner's name for a private room, else ""
    crisis_open: bool
    reply_due_at: datetime.datetime | None


@dataclasses.dataclass(frozen=True, slots=True)
class CaseloadScore:
    """The latest response of one respondent to one instrument, against their previous one."""

    respondent_id: int
    respondent: str
    instrument: str
    score: int
    band: str
    completed_at: datetime.datetime
    previous: int | None
    trend: Trend

    @property
    def change(self) -> int | None:
        return None if self.previous is None else self.score - self.previous


@dataclasses.dataclass(frozen=True, slots=True)
class CaseloadRow:
    relationship_id: int
    kind: str
    covering: bool  # the therapist covers this relationship for a colleague
    names: tuple[str, ...]
    pending_invitations: int
    rooms: tuple[CaseloadRoom, ...]
    # Last contact: the latest message a client wrote (text, voice note or file) in any of the
    # relationship's rooms, and the latest a therapist wrote (theirs or a covering colleague's).
    client_last_at: datetime.datetime | None
    therapist_last_at: datetime.datetime | None
    # Replies of the last 90 days in the relationship's rooms (whoever of the therapist side).
    replies: int
    within_window_pct: float | None
    median_working_seconds: float | None
    # The current agreement's check-ins a week (None: no agreement yet) and this week's so far.
    checkins_agreed: int | None
    checkins_this_week: int
    scores: tuple[CaseloadScore, ...]
    reply_due_at: datetime.datetime | None  # the earliest of its rooms
    crisis_open: bool
    reply_overdue: bool
    urgent_measure: bool  # an urgent answer (PHQ-9 item 9) in the last 14 days
    exercises_overdue: int

    @property
    def flagged(self) -> bool:
        return (
            self.crisis_open
            or self.reply_overdue
            or self.urgent_measure
            or self.exercises_overdue > 0
        )

    @property
    def name(self) -> str:
        return " & ".join(self.names)


def trend_of(instrument: str, score: int, previous: int | None) -> Trend:
    """Better, worse or the same, counting only changes of at least the instrument's threshold."""
    if previous is None:
        return "first"
    change = score - previous
    if abs(change) < CHANGE_THRESHOLD[Instrument(instrument)]:
        return "same"
    lower_is_better = LOWER_IS_BETTER[Instrument(instrument)]
    return "better" if (change < 0) == lower_is_better else "worse"


def caseload(*, therapist: User, now: datetime.datetime) -> list[CaseloadRow]:
    """Every open relationship `therapist` works with (their own, and those they cover), with
    its figures: flagged first, then by the earliest reply due, then by name.

    A read of clinical data: the caller writes the audit row.
    """
    if not therapist.is_active or therapist.role != Role.THERAPIST:
        return []
    relationships = _relationships(therapist, now)
    if not relationships:
        return []
    ids = [r.pk for r in relationships]
    clients = _clients(ids)
    names_by_user = {uid: name for people in clients.values() for uid, name in people}
    rooms = _rooms(ids, names_by_user)
    replies = _reply_figures(ids, now)
    checkins = _checkins(relationships, now)
    scores = _scores(ids, names_by_user)
    overdue = _overdue_exercises(relationships, now)

    rows = []
    for rel in relationships:
        mine = rooms.get(rel.pk, [])
        dues = [r.reply_due_at for r, _, _ in mine if r.reply_due_at is not None]
        client_times = [c for _, c, _ in mine if c is not None]
        staff_times = [s for _, _, s in mine if s is not None]
        count, within, median = replies.get(rel.pk, (0, None, None))
        rows.append(
            CaseloadRow(
                relationship_id=rel.pk,
                kind=rel.kind,
                covering=rel.therapist_id != therapist.pk,
                names=tuple(name for _, name in clients.get(rel.pk, [])),
                pending_invitations=rel.pending_invitations,
                rooms=tuple(r for r, _, _ in mine),
                client_last_at=max(client_times, default=None),
                therapist_last_at=max(staff_times, default=None),
                replies=count,
                within_window_pct=within,
                median_working_seconds=median,
                checkins_agreed=rel.checkins_agreed,
                checkins_this_week=checkins.get(rel.pk, 0),
                scores=tuple(scores.get(rel.pk, [])),
                reply_due_at=min(dues, default=None),
                crisis_open=any(r.crisis_open for r, _, _ in mine),
                reply_overdue=any(due < now for due in dues),
                urgent_measure=rel.urgent_measure,
                exercises_overdue=overdue.get(rel.pk, 0),
            )
        )
    far = datetime.datetime.max.replace(tzinfo=datetime.UTC)
    rows.sort(
        key=lambda row: (
            not row.flagged,
            row.reply_due_at or far,
            not row.names,  # relationships still awaiting sign-up after the named ones
            row.name.casefold(),
            row.relationship_id,
        )
    )
    return rows


# --- the bulk reads ------------------------------------------------------------------------


def _relationships(therapist: User, now: datetime.datetime) -> list[_Care]:
    """Open relationships of the therapist or covered by them, with the one-value figures."""
    agreed = CareAgreement.objects.filter(
        relationship=OuterRef("pk"), state=AgreementState.ACCEPTED
    ).values("checkins_per_week")[:1]
    invitations = (
        Invitation.objects.filter(
            relationship=OuterRef("pk"),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by()
        .values("relationship")
        .annotate(n=Count("pk"))
        .values("n")
    )
    urgent = MeasureResponse.objects.filter(
        relationship=OuterRef("pk"),
        # Every instrument, spelled out so that the (relationship, instrument, completed_at)
        # index serves the time range too.
        instrument__in=Instrument.values,
        urgent=True,
        completed_at__gte=now - datetime.timedelta(days=URGENT_DAYS),
    )
    covered = CoveringTherapist.objects.filter(therapist=therapist, ended_at__isnull=True).values(
        "relationship_id"
    )
    rows = (
        CareRelationship.objects.filter(
            Q(therapist=therapist) | Q(pk__in=Subquery(covered)), ended_at__isnull=True
        )
        .annotate(
            checkins_agreed=Subquery(agreed, output_field=IntegerField()),
            pending_invitations=Coalesce(
                Subquery(invitations, output_field=IntegerField()), Value(0)
            ),
            urgent_measure=Exists(urgent, output_field=BooleanField()),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "kind",
            "therapist_id",
            "practice__time_zone",
            "checkins_agreed",
            "pending_invitations",
            "urgent_measure",
        )
    )
    return [
        _Care(pk, kind, therapist_id, zone or "UTC", agreed_n, pending, bool(urgent_flag))
        for pk, kind, therapist_id, zone, agreed_n, pending, urgent_flag in rows
    ]


def _clients(ids: list[int]) -> dict[int, list[tuple[int, str]]]:
    """{relationship id: [(client id, name), ...]} in the order they joined."""
    found: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for rel_id, client_id, name in (
        CareParticipant.objects.filter(relationship_id__in=ids)
        .order_by("joined_at", "pk")
        .values_list("relationship_id", "client_id", "client__display_name")
    ):
        found[rel_id].append((client_id, name))
    return found


def _latest_message(who: Q) -> Subquery:
    # Walks the room's (room, seq) index from the newest message back to the first one written
    # by one of `who`: a few rows, however long the log. (Senders are matched by id, not by a
    # join to their role, which PostgreSQL planned as a scan of all of a therapist's messages.)
    return Subquery(
        Message.objects.filter(who, room=OuterRef("pk"), kind__in=CHECKIN_KINDS)
        .order_by("-seq")
        .values("created_at")[:1]
    )


def _rooms(
    ids: list[int], names_by_user: dict[int, str]
) -> dict[int, list[tuple[CaseloadRoom, datetime.datetime | None, datetime.datetime | None]]]:
    """{relationship id: [(room, client's latest message, therapist's latest message)]}."""
    found: dict[
        int, list[tuple[CaseloadRoom, datetime.datetime | None, datetime.datetime | None]]
    ] = defaultdict(list)
    kind_order: dict[str, int] = {RoomKind.INDIVIDUAL: 0, RoomKind.COUPLE: 0, RoomKind.PRIVATE: 1}
    client_ids = list(names_by_user)
    rows = (
        Room.objects.filter(relationship_id__in=ids)
        .annotate(
            # A room's clients are clients of its relationship; everyone else who writes there
            # (not an automatic notice) is on the therapist side: the therapist, a covering
            # colleague, or a therapist before a reassignment.
            client_last=_latest_message(Q(sender_id__in=client_ids)),
            staff_last=_latest_message(Q(sender__isnull=False) & ~Q(sender_id__in=client_ids)),
        )
        .order_by("pk")
        .values_list(
            "pk",
            "relationship_id",
            "kind",
            "private_for_id",
            "crisis_open",
            "reply_due_at",
            "client_last",
            "staff_last",
        )
    )
    for room_id, rel_id, kind, private_for, crisis, due, client_last, staff_last in rows:
        room = CaseloadRoom(
            room_id=room_id,
            kind=kind,
            private_for=names_by_user.get(private_for, "") if private_for else "",
            crisis_open=bool(crisis),
            reply_due_at=due,
        )
        found[rel_id].append((room, client_last, staff_last))
    for rooms in found.values():
        rooms.sort(key=lambda item: (kind_order.get(item[0].kind, 2), item[0].room_id))
    return found


def _reply_figures(
    ids: list[int], now: datetime.datetime
) -> dict[int, tuple[int, float | None, float | None]]:
    """{relationship id: (replies, % inside the window, median working seconds)} over 90 days.

    The median comes from the database: each relationship's records are numbered by their
    seconds, and only the middle one (odd count) or two (even count) come back.
    """
    partition = [F("room__relationship_id")]
    numbered = (
        ReplyRecord.objects.filter(
            room__relationship_id__in=ids,
            replied_at__gte=now - datetime.timedelta(days=REPLY_DAYS),
        )
        .annotate(
            rel=F("room__relationship_id"),
            position=Window(RowNumber(), partition_by=partition, order_by=[F("seconds"), F("pk")]),
            total=Window(Count("pk"), partition_by=partition),
            inside=Window(
                Count("pk", filter=Q(within_window=True)),
                partition_by=partition,
            ),
        )
        .filter(
            position__gte=(F("total") + 1) / 2,
            position__lte=(F("total") + 2) / 2,
        )
        .values_list("rel", "seconds", "total", "inside")
    )
    middles: dict[int, list[float]] = defaultdict(list)
    counts: dict[int, tuple[int, int]] = {}
    for rel_id, seconds, total, inside in numbered:
        middles[rel_id].append(seconds)
        counts[rel_id] = (total, inside)
    return {
        rel_id: (
            total,
            round(100 * inside / total, 1),
            sum(middles[rel_id]) / len(middles[rel_id]),
        )
        for rel_id, (total, inside) in counts.items()
    }


def _checkins(relationships: list[_Care], now: datetime.datetime) -> dict[int, int]:
    by_zone: dict[str, list[int]] = defaultdict(list)
    for rel in relationships:
        by_zone[rel.zone].append(rel.pk)
    found: dict[int, int] = {}
    for zone, ids in by_zone.items():
        found.update(checkins_since(ids, week_start(now, zone), zone))
    return found


# The latest answer of each client of each relationship to each instrument, and the score of
# the one before, written out: built with the ORM (correlated subqueries, then a second query
# for the rows) the same read took 10 ms on SQLite, 1.3 ms of it in the database, and joining
# the latest rows back by id made PostgreSQL hash the whole answers table (bench/caseload.py).
#
# Each value is an index walk that stops after a row or two, however long the history: an
# individual relationship has one respondent, so its (relationship, instrument, completed_at)
# index gives its answers newest first; a couple's walk also skips the other partner's answers.
# That respondent condition is wrapped in COALESCE so that the planners keep to the index:
# with a plain `respondent_id = ...` PostgreSQL expected one row and read and sorted every
# answer of the relationship instead (five times slower). Only the CASE branch a row takes runs.
_WALK = """(SELECT {value} FROM support_measureresponse u
        WHERE u.relationship_id = p.relationship_id AND u.instrument = i.instrument{who}
        ORDER BY u.completed_at DESC LIMIT 1{offset})"""
_SCORES_SQL = """
SELECT p.relationship_id, p.client_id, i.instrument, {score}, {band}, {completed_at}, {previous}
FROM care_careparticipant p
JOIN care_carerelationship r ON r.id = p.relationship_id
CROSS JOIN ({instruments}) i
WHERE p.relationship_id IN ({ids})
"""


def _latest(value: str, offset: str = "") -> str:
    """`value` of the latest answer (or, with offset " OFFSET 1", the one before)."""
    individual = _WALK.format(value=value, who="", offset=offset)
    couple = _WALK.format(
        value=value, who=" AND COALESCE(u.respondent_id = p.client_id, FALSE)", offset=offset
    )
    return f"CASE WHEN r.kind = '{CareKind.INDIVIDUAL.value}' THEN {individual} ELSE {couple} END"


def _scores_sql(count: int) -> str:
    instruments = " UNION ALL ".join(f"SELECT '{code}' AS instrument" for code in Instrument.values)
    # Timestamps as text (SQLite) or epoch seconds (PostgreSQL), read by C code (as the inbox).
    completed_at = (
        "CAST(u.completed_at AS TEXT)"
        if connection.vendor == "sqlite"
        else "EXTRACT(EPOCH FROM u.completed_at)::float8"
    )
    return _SCORES_SQL.format(
        score=_latest("u.score"),
        band=_latest("u.band"),
        completed_at=_latest(completed_at),
        previous=_latest("u.score", " OFFSET 1"),
        instruments=instruments,
        ids=", ".join(["%s"] * count),
    )


def _moment(value: str | float | datetime.datetime) -> datetime.datetime:
    """A timestamp read as text (SQLite) or epoch seconds (PostgreSQL), as aware UTC."""
    if isinstance(value, float):
        return datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
    parsed = (
        value if isinstance(value, datetime.datetime) else datetime.datetime.fromisoformat(value)
    )
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _scores(ids: list[int], names_by_user: dict[int, str]) -> dict[int, list[CaseloadScore]]:
    """{relationship id: the latest score of each client and instrument, with its trend}."""
    with connection.cursor() as cursor:
        cursor.execute(_scores_sql(len(ids)), ids)
        rows = cursor.fetchall()
    latest: dict[tuple[int, int, str], tuple[int, str, datetime.datetime, int | None]] = {}
    for rel_id, respondent_id, instrument, score, band, completed_at, before in rows:
        if score is not None:
            latest[rel_id, respondent_id, instrument] = (score, band, _moment(completed_at), before)
    order = {value: index for index, value in enumerate(Instrument.values)}
    found: dict[int, list[CaseloadScore]] = defaultdict(list)
    for (rel_id, respondent_id, instrument), (score, band, completed_at, before) in sorted(
        latest.items(), key=lambda item: (item[0][0], item[0][1], order[item[0][2]])
    ):
        found[rel_id].append(
            CaseloadScore(
                respondent_id=respondent_id,
                respondent=names_by_user.get(respondent_id, ""),
                instrument=instrument,
                score=score,
                band=band,
                completed_at=completed_at,
                previous=before,
                trend=trend_of(instrument, score, before),
            )
        )
    return found


def _overdue_exercises(relationships: list[_Care], now: datetime.datetime) -> dict[int, int]:
    """{relationship id: exercises past their due day (practice time) by up to four weeks, open,
    and not yet submitted by everyone they are for (one client, or each client of the room)}."""
    today = {rel.pk: now.astimezone(zoneinfo.ZoneInfo(rel.zone)).date() for rel in relationships}
    seats = (
        CareParticipant.objects.filter(relationship=OuterRef("relationship"))
        .order_by()
        .values("relationship")
        .annotate(n=Count("pk"))
        .values("n")
    )
    expected = Case(
        When(for_user__isnull=False, then=Value(1)),
        When(room__kind=RoomKind.COUPLE, then=Subquery(seats, output_field=IntegerField())),
        default=Value(1),
        output_field=IntegerField(),
    )
    # Counted per exercise (an index probe each), not joined and grouped: PostgreSQL hashed
    # every response of the practice for the join.
    submitted = (
        ExerciseResponse.objects.filter(
            exercise=OuterRef("pk"),
            state=ResponseState.SUBMITTED,
            # The client it is for, or (for_user null) anyone.
            user=Coalesce(OuterRef("for_user"), F("user")),
        )
        .order_by()
        .values("exercise")
        .annotate(n=Count("pk"))
        .values("n")
    )
    candidates = (
        Exercise.objects.filter(
            relationship_id__in=list(today),
            closed_at__isnull=True,
            due_on__lt=max(today.values()),
            due_on__gte=min(today.values()) - datetime.timedelta(days=OVERDUE_EXERCISE_DAYS),
        )
        .annotate(
            submitted=Coalesce(Subquery(submitted, output_field=IntegerField()), Value(0)),
            expected=expected,
        )
        .filter(submitted__lt=F("expected"))
        .values_list("relationship_id", "due_on")
    )
    found: dict[int, int] = defaultdict(int)
    for rel_id, due_on in candidates:
        lapsed = today[rel_id] - datetime.timedelta(days=OVERDUE_EXERCISE_DAYS)
        if due_on is not None and lapsed <= due_on < today[rel_id]:
            found[rel_id] += 1
    return found
