"""Measures: questionnaires a therapist assigns on a schedule, a client fills in, and the room
sees as a chart.

Who may do what follows the room. The therapist side of a room (therapist, covering therapist)
assigns and stops schedules for the room's clients; only the respondent answers; everyone in
the room sees the room's answers (a couple's shared room: both partners and the therapist; a
partner's private room: that partner and the therapist). Anyone else gets NotFound, never a
hint that a room or a questionnaire exists. Every read of answers writes an audit row.

A PHQ-9 whose item 9 is above zero flags the room urgent for the therapist exactly as crisis
language in a message does (confide.rooms.services.crisis_flag_raise), on the room event that
records the answer; the client's result page shows the crisis lines at once.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import MemberRole, Room, RoomKind, RoomMember
from confide.rooms.selectors import active_members_of
from confide.rooms.services import crisis_flag_raise, event_append, membership
from confide.support import tasks
from confide.support.instruments import Questionnaire, Result, questionnaire
from confide.support.models import MeasureResponse, MeasureSchedule

EVERY_DAYS = (7, 14, 28)
CRISIS_RULE = "measure.phq9.item9"


def response_context(response_id: int) -> str:
    """The encryption context of a response's answers (models.MeasureResponse)."""
    return f"measure:{response_id}"


def _staff_member(*, actor: User, room: Room) -> RoomMember:
    member = membership(actor=actor, room=room)
    if not member.is_staff_side:
        raise PermissionDenied("Only the therapist can assign or stop questionnaires.")
    return member


def clients_of(room: Room) -> list[User]:
    """The room's current clients, in the order they joined."""
    return [m.user for m in active_members_of(room) if m.role == MemberRole.CLIENT]


def instruments_for(room: Room) -> list[Questionnaire]:
    """What may be assigned in `room`: CSI-4 only in a couple's shared room."""
    keys = ["phq9", "gad7"] + (["csi4"] if room.kind == RoomKind.COUPLE else [])
    return [questionnaire(key) for key in keys]


# --- writes ----------------------------------------------------------------------------------


def measure_schedule_assign(
    *,
    actor: User,
    room: Room,
    respondent_id: int | None,
    instrument: str,
    every_days: int | None,
    now: datetime.datetime | None = None,
) -> MeasureSchedule:
    """The therapist asks a client of `room` to fill in `instrument` every `every_days` days,
    the first time now. One running schedule per client and instrument in a relationship."""
    _staff_member(actor=actor, room=room)
    errors: dict[str, list[str]] = {}
    chosen: Questionnaire | None = None
    try:
        chosen = questionnaire(instrument)
    except InvalidInput as error:
        errors.update(error.field_errors)
    if chosen is not None and chosen.key == "csi4" and room.kind != RoomKind.COUPLE:
        errors["instrument"] = ["The CSI-4 is for couples: assign it in the couple's shared room."]
    if every_days not in EVERY_DAYS:
        errors["every_days"] = ["Choose every 7, 14 or 28 days."]
    respondent = next((c for c in clients_of(room) if c.pk == respondent_id), None)
    if respondent is None:
        errors["respondent"] = ["Choose a client of this room."]
    if errors or chosen is None or respondent is None or every_days is None:
        raise InvalidInput(
            "Please check the questionnaire, the client and how often.", field_errors=errors
        )
    moment = now or timezone.now()
    running = (
        MeasureSchedule.objects.filter(
            relationship_id=room.relationship_id,
            respondent=respondent,
            instrument=chosen.key,
            ended_at__isnull=True,
        )
        .only("room_id")
        .first()
    )
    if running is not None:
        raise Conflict(_already_running(respondent, chosen, here=running.room_id == room.pk))
    try:
        with transaction.atomic():
            schedule = MeasureSchedule.objects.create(
                relationship_id=room.relationship_id,
                room=room,
                respondent=respondent,
                instrument=chosen.key,
                every_days=every_days,
                next_due_at=moment,
                created_by=actor,
                created_at=moment,
            )
            event_append(
                room_id=room.pk,
                text=(
                    f"{respondent.display_name} was asked to fill in the {chosen.name} "
                    f"every {every_days} days."
                ),
                now=moment,
            )
            audit_record(
                actor=actor,
                action="measure.assign",
                object_type="measure_schedule",
                object_id=schedule.pk,
                practice=room.practice,
                detail={"room": room.pk, "respondent": respondent.pk},
            )
            tasks.reminders_ensure_scheduled(now=moment)
    except IntegrityError:
        # Another request assigned the same questionnaire a moment ago.
        raise Conflict(_already_running(respondent, chosen, here=True)) from None
    return schedule


def _already_running(respondent: User, chosen: Questionnaire, *, here: bool) -> str:
    where = "in this room" if here else "in another room of this relationship"
    return (
        f"{respondent.display_name} already has a running {chosen.name} {where}. "
        "Stop that one first to change it."
    )


def measure_schedule_stop(
    *, actor: User, room: Room, schedule_id: int, now: datetime.datetime | None = None
) -> MeasureSchedule:
    """The therapist stops a schedule: nothing more is due, no reminder goes out; the answers
    given so far stay in the room."""
    _staff_member(actor=actor, room=room)
    moment = now or timezone.now()
    with transaction.atomic():
        schedule = (
            MeasureSchedule.objects.select_for_update()
            .filter(pk=schedule_id, room=room)
            .select_related("respondent")
            .first()
        )
        if schedule is None:
            raise NotFound("No such questionnaire.")
        if schedule.ended_at is not None:
            raise Conflict("This questionnaire was stopped already.")
        schedule.ended_at = moment
        schedule.save(update_fields=["ended_at"])
        name = questionnaire(schedule.instrument).name
        event_append(
            room_id=room.pk,
            text=f"The {name} for {schedule.respondent.display_name} was stopped.",
            now=moment,
        )
        audit_record(
            actor=actor,
            action="measure.stop",
            object_type="measure_schedule",
            object_id=schedule.pk,
            practice=room.practice,
            detail={"room": room.pk},
        )
    return schedule


def measure_complete(
    *,
    actor: User,
    room: Room,
    schedule_id: int,
    answers: Sequence[object],
    now: datetime.datetime | None = None,
) -> MeasureResponse:
    """The respondent answers a running questionnaire (due or not): validated strictly,
    scored, stored encrypted, the next one due `every_days` from now, a content-free event in
    the room's log, and, for PHQ-9 item 9 above zero, the room flagged urgent."""
    schedule = schedule_for_answering(user=actor, room=room, schedule_id=schedule_id)
    chosen = questionnaire(schedule.instrument)
    result = chosen.score(answers)
    moment = now or timezone.now()
    with transaction.atomic():
        locked = MeasureSchedule.objects.select_for_update().get(pk=schedule.pk)
        if locked.ended_at is not None:
            raise Conflict("Your therapist stopped this questionnaire.")
        response = _store(schedule=locked, actor=actor, result=result, now=moment)
        locked.next_due_at = moment + datetime.timedelta(days=locked.every_days)
        locked.save(update_fields=["next_due_at"])
        event = event_append(
            room_id=room.pk, text=f"{actor.display_name} completed a {chosen.name}.", now=moment
        )
        audit_record(
            actor=actor,
            action="measure.complete",
            object_type="measure_response",
            object_id=response.pk,
            practice=room.practice,
            detail={"room": room.pk, "schedule": locked.pk},
        )
        if result.urgent:
            crisis_flag_raise(
                room=room, message=event, rule=CRISIS_RULE, category="suicide", now=moment
            )
    return response


def _store(
    *, schedule: MeasureSchedule, actor: User, result: Result, now: datetime.datetime
) -> MeasureResponse:
    """Create the row, then seal its answers with a context that names the row itself."""
    response = MeasureResponse.objects.create(
        relationship_id=schedule.relationship_id,
        room_id=schedule.room_id,
        respondent=actor,
        schedule=schedule,
        instrument=schedule.instrument,
        answers=b"",
        score=result.score,
        band=result.band.key,
        urgent=result.urgent,
        completed_at=now,
    )
    response.answers = crypto.encrypt_text(
        json.dumps(list(result.answers)), context=response_context(response.pk)
    )
    response.save(update_fields=["answers"])
    return response


# --- reads -----------------------------------------------------------------------------------


def schedule_for_answering(*, user: User, room: Room, schedule_id: int) -> MeasureSchedule:
    """A running schedule of `room` that `user` is the respondent of.

    Not a member of the room, or no such schedule in it: NotFound. Someone else's
    questionnaire in a room the user is in: PermissionDenied. Stopped: Conflict.
    """
    membership(actor=user, room=room)
    schedule = (
        MeasureSchedule.objects.filter(pk=schedule_id, room=room)
        .select_related("respondent")
        .first()
    )
    if schedule is None:
        raise NotFound("No such questionnaire.")
    if schedule.respondent_id != user.pk:
        raise PermissionDenied("This questionnaire is for someone else in this room.")
    if schedule.ended_at is not None:
        raise Conflict("Your therapist stopped this questionnaire.")
    return schedule


def measures_due_for(*, user: User, now: datetime.datetime) -> list[MeasureSchedule]:
    """The user's running questionnaires that are due, in rooms they are still in."""
    return list(
        MeasureSchedule.objects.filter(
            respondent=user,
            ended_at__isnull=True,
            next_due_at__lte=now,
            room__members__user=user,
            room__members__left_at__isnull=True,
        )
        .select_related("room")
        .order_by("next_due_at", "pk")
    )


@dataclasses.dataclass(frozen=True)
class Series:
    """One person's answers to one instrument in one room, oldest first."""

    respondent_id: int
    name: str
    responses: tuple[MeasureResponse, ...]

    @property
    def latest(self) -> MeasureResponse:
        return self.responses[-1]


@dataclasses.dataclass(frozen=True)
class InstrumentView:
    questionnaire: Questionnaire
    series: tuple[Series, ...]


@dataclasses.dataclass(frozen=True)
class RoomMeasures:
    """What the room's measures panel shows to one viewer."""

    is_staff: bool
    running: tuple[MeasureSchedule, ...]  # every running schedule of the room
    mine: tuple[MeasureSchedule, ...]  # the viewer's own running schedules here
    instruments: tuple[InstrumentView, ...]  # charts, in PHQ-9, GAD-7, CSI-4 order
    clients: tuple[User, ...]
    assignable: tuple[Questionnaire, ...]


def room_measures(*, viewer: User, room: Room) -> RoomMeasures:
    """The room's schedules and every answer given in it, for a member of the room (audited
    when answers are shown). Three queries whatever the number of answers."""
    member = membership(actor=viewer, room=room)
    running = tuple(
        MeasureSchedule.objects.filter(room=room, ended_at__isnull=True)
        .select_related("respondent")
        .order_by("instrument", "respondent__display_name", "pk")
    )
    responses = list(
        MeasureResponse.objects.filter(room=room)
        .defer("answers")
        .select_related("respondent")
        .order_by("completed_at", "pk")
    )
    grouped: dict[str, dict[int, list[MeasureResponse]]] = {}
    for response in responses:
        grouped.setdefault(response.instrument, {}).setdefault(response.respondent_id, []).append(
            response
        )
    instruments = []
    for key in ("phq9", "gad7", "csi4"):
        people = grouped.get(key)
        if not people:
            continue
        series = tuple(
            Series(
                respondent_id=respondent_id,
                name=rows[0].respondent.display_name,
                responses=tuple(rows),
            )
            for respondent_id, rows in sorted(
                people.items(), key=lambda pair: (pair[1][0].completed_at, pair[0])
            )
        )
        instruments.append(InstrumentView(questionnaire=questionnaire(key), series=series))
    if responses:
        audit_record(
            actor=viewer,
            action="measure.list",
            object_type="room",
            object_id=room.pk,
            practice=room.practice,
            detail={"responses": len(responses)},
        )
    return RoomMeasures(
        is_staff=member.is_staff_side,
        running=running,
        mine=tuple(s for s in running if s.respondent_id == viewer.pk),
        instruments=tuple(instruments),
        clients=tuple(clients_of(room)),
        assignable=tuple(instruments_for(room)),
    )


@dataclasses.dataclass(frozen=True)
class AnsweredItem:
    number: int
    text: str
    value: int
    label: str


@dataclasses.dataclass(frozen=True)
class ResponseView:
    response: MeasureResponse
    questionnaire: Questionnaire
    items: tuple[AnsweredItem, ...]
    is_mine: bool
    is_staff: bool


def response_get(*, viewer: User, room: Room, response_id: int) -> ResponseView:
    """One completed questionnaire with its answers, for a member of its room (audited)."""
    member = membership(actor=viewer, room=room)
    response = (
        MeasureResponse.objects.filter(pk=response_id, room=room)
        .select_related("respondent")
        .first()
    )
    if response is None:
        raise NotFound("No such questionnaire.")
    chosen = questionnaire(response.instrument)
    values = json.loads(
        crypto.decrypt_text(bytes(response.answers), context=response_context(response.pk))
    )
    items = tuple(
        AnsweredItem(
            number=item.number,
            text=item.text,
            value=int(value),
            label=item.options[int(value)].label,
        )
        for item, value in zip(chosen.items, values, strict=True)
    )
    audit_record(
        actor=viewer,
        action="measure.read",
        object_type="measure_response",
        object_id=response.pk,
        practice=room.practice,
        detail={"room": room.pk},
    )
    return ResponseView(
        response=response,
        questionnaire=chosen,
        items=items,
        is_mine=response.respondent_id == viewer.pk,
        is_staff=member.is_staff_side,
    )
