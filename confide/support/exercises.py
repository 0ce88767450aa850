"""Exercises: therapists' own templates, assigning one in a room, answering, commenting, closing.

Who sees what follows the room (confide.support.models): every active member of an
exercise's room sees the exercise, every submitted response and every comment; a draft is seen
by its author alone. Anyone who is not a member gets NotFound, never a hint that it exists.
A submitted response is final (comments carry the conversation on); a closed exercise takes no
more answers or comments. Every read and write leaves an audit row with ids only.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import zoneinfo
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import MemberRole, Room, RoomKind, RoomMember
from confide.rooms.selectors import active_members_of, room_get
from confide.rooms.services import event_append
from confide.support import forms_builder
from confide.support.forms_builder import Answers, FieldDef
from confide.support.library import library_ensure
from confide.support.models import (
    Exercise,
    ExerciseComment,
    ExerciseResponse,
    ExerciseTemplate,
    ResponseState,
)
from confide.support.tasks import reminders_ensure_scheduled

MAX_COMMENT = 5000
MAX_DUE_DAYS = 366

NOT_STARTED = "not started"


def answers_context(exercise_id: int, user_id: int) -> str:
    return f"exercise:{exercise_id}:{user_id}"


def comment_context(exercise_id: int, comment_id: int) -> str:
    return f"exercise-comment:{exercise_id}:{comment_id}"


def answers_seal(answers: Answers, *, exercise_id: int, user_id: int) -> bytes:
    text = json.dumps(answers, ensure_ascii=False, sort_keys=True)
    return crypto.encrypt_text(text, context=answers_context(exercise_id, user_id))


def answers_open(blob: Any, *, exercise_id: int, user_id: int) -> Answers:
    text = crypto.decrypt_text(bytes(blob), context=answers_context(exercise_id, user_id))
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def comment_text(comment: ExerciseComment) -> str:
    return crypto.decrypt_text(
        bytes(comment.body), context=comment_context(comment.exercise_id, comment.pk)
    )


# --- templates --------------------------------------------------------------------------


def _therapist_only(user: User) -> None:
    if not user.is_active or not user.is_therapist:
        raise NotFound("No such page.")


def templates_available(*, user: User) -> list[ExerciseTemplate]:
    """What a therapist can assign: the library, then their practice's own (not archived)."""
    _therapist_only(user)
    library = sorted(library_ensure().values(), key=lambda t: (t.for_couples, t.title))
    own = [t for t in templates_of_practice(user=user) if not t.archived]
    return [*library, *own]


def templates_of_practice(*, user: User) -> list[ExerciseTemplate]:
    """The practice's own templates, archived ones included (for the templates page)."""
    _therapist_only(user)
    if user.practice_id is None:
        return []
    return list(
        ExerciseTemplate.objects.filter(practice_id=user.practice_id)
        .select_related("author")
        .order_by("archived", "title", "pk")
    )


def template_get(*, user: User, template_id: int) -> ExerciseTemplate:
    """A template a therapist may use: the library's, or one of their practice's."""
    _therapist_only(user)
    template = (
        ExerciseTemplate.objects.filter(pk=template_id)
        .filter(Q(practice__isnull=True, key__isnull=False) | Q(practice_id=user.practice_id))
        .select_related("author")
        .first()
    )
    if template is None:
        raise NotFound("No such exercise template.")
    return template


def template_for_edit(*, user: User, template_id: int) -> ExerciseTemplate:
    """A template `user` may change: one they wrote (library: 403, a colleague's: 403)."""
    return _own_template(actor=user, template_id=template_id)


def _own_template(*, actor: User, template_id: int) -> ExerciseTemplate:
    template = template_get(user=actor, template_id=template_id)
    if template.practice_id is None:
        raise PermissionDenied("The library's exercises cannot be changed; write your own.")
    if template.author_id != actor.pk:
        raise PermissionDenied("Only the therapist who wrote this template can change it.")
    return template


def template_save(
    *,
    actor: User,
    template_id: int | None,
    title: str,
    instructions: str,
    fields: object,
    for_couples: bool = False,
) -> ExerciseTemplate:
    """Create (template_id None) or change a therapist's own template.

    Exercises already assigned keep the fields they were given.
    """
    _therapist_only(actor)
    template = (
        _own_template(actor=actor, template_id=template_id) if template_id is not None else None
    )
    clean_title, clean_instructions = forms_builder.validate_template(
        title=title, instructions=instructions, fields=fields
    )
    clean_fields = forms_builder.validate_fields(fields)
    with transaction.atomic():
        if template is None:
            template = ExerciseTemplate.objects.create(
                practice_id=actor.practice_id,
                author=actor,
                title=clean_title,
                instructions=clean_instructions,
                fields=clean_fields,
                for_couples=for_couples,
            )
        else:
            template.title = clean_title
            template.instructions = clean_instructions
            template.fields = clean_fields
            template.for_couples = for_couples
            template.save(update_fields=["title", "instructions", "fields", "for_couples"])
        audit_record(
            actor=actor,
            action="exercise_template.save",
            object_type="exercise_template",
            object_id=template.pk,
        )
    return template


def template_archive(*, actor: User, template_id: int, archived: bool = True) -> ExerciseTemplate:
    """Archive (or bring back) a therapist's own template; assigned exercises are untouched."""
    _therapist_only(actor)
    template = _own_template(actor=actor, template_id=template_id)
    template.archived = archived
    template.save(update_fields=["archived"])
    audit_record(
        actor=actor,
        action="exercise_template.archive" if archived else "exercise_template.restore",
        object_type="exercise_template",
        object_id=template.pk,
    )
    return template


def template_view(*, user: User, template_id: int) -> ExerciseTemplate:
    """A template to preview, audited."""
    template = template_get(user=user, template_id=template_id)
    audit_record(
        actor=user,
        action="exercise_template.view",
        object_type="exercise_template",
        object_id=template.pk,
    )
    return template


# --- who answers ------------------------------------------------------------------------


def clients_of(room: Room) -> list[User]:
    return [m.user for m in active_members_of(room) if m.role == MemberRole.CLIENT]


def respondents(exercise: Exercise, room: Room) -> list[User]:
    """The clients who fill this exercise in: `for_user`, or every client of the room."""
    clients = clients_of(room)
    if exercise.for_user_id is None:
        return clients
    return [c for c in clients if c.pk == exercise.for_user_id]


def _member(room: Room, user: User) -> RoomMember:
    for member in active_members_of(room):
        if member.user_id == user.pk:
            return member
    raise NotFound("No such room.")  # pragma: no cover - room_get checked membership


def for_whom_choices(room: Room) -> list[tuple[str, str]]:
    """("", "Both partners") and each client, for the assign form of a couples room."""
    clients = clients_of(room)
    if room.kind == RoomKind.COUPLE and len(clients) > 1:
        return [
            ("", "Both partners, each on their own"),
            *((str(c.pk), c.display_name) for c in clients),
        ]
    return [(str(c.pk), c.display_name) for c in clients]


# --- assigning --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class AssignOptions:
    room: Room
    templates: list[ExerciseTemplate]
    for_whom: list[tuple[str, str]]


def assign_options(*, user: User, room_id: int) -> AssignOptions:
    """What the assign page offers: the room's staff only (a client of the room: 403)."""
    room = room_get(user=user, room_id=room_id)
    if not _member(room, user).is_staff_side:
        raise PermissionDenied("Only the therapist can give an exercise.")
    return AssignOptions(
        room=room, templates=templates_available(user=user), for_whom=for_whom_choices(room)
    )


def _today(user: User, now: datetime.datetime) -> datetime.date:
    return now.astimezone(zoneinfo.ZoneInfo(user.time_zone)).date()


def exercise_assign(
    *,
    actor: User,
    room_id: int,
    template_id: int,
    for_user_id: int | None = None,
    due_on: datetime.date | None = None,
    now: datetime.datetime | None = None,
) -> Exercise:
    """Give an exercise in a room: the template's title, instructions and fields are copied.

    In a couples room it is for one partner or (for_user_id None) for both; in a private or
    individual room it is for that room's client, whatever was asked.
    """
    moment = now or timezone.now()
    room = room_get(user=actor, room_id=room_id)
    if not _member(room, actor).is_staff_side:
        raise PermissionDenied("Only the therapist can give an exercise.")
    template = template_get(user=actor, template_id=template_id)
    if template.archived:
        raise InvalidInput(
            "This template is archived.", field_errors={"template": ["Choose another exercise."]}
        )
    clients = clients_of(room)
    if not clients:
        raise Conflict("There is no client in this room to give an exercise to.")
    for_user: User | None
    if room.kind == RoomKind.COUPLE and len(clients) > 1:
        if for_user_id is None:
            for_user = None
        else:
            for_user = next((c for c in clients if c.pk == for_user_id), None)
            if for_user is None:
                raise InvalidInput(
                    "Choose who this exercise is for.",
                    field_errors={"for_user": ["Choose one partner, or both."]},
                )
    else:
        owner = room.private_for_id if room.kind == RoomKind.PRIVATE else clients[0].pk
        for_user = next((c for c in clients if c.pk == owner), clients[0])
        if for_user_id is not None and for_user_id != for_user.pk:
            raise InvalidInput(
                "Choose who this exercise is for.",
                field_errors={"for_user": [f"Only {for_user.display_name} is in this room."]},
            )
    if due_on is not None:
        today = _today(actor, moment)
        if due_on < today:
            raise InvalidInput(
                "The due date has passed.",
                field_errors={"due_on": ["Choose today or a later day."]},
            )
        if due_on > today + datetime.timedelta(days=MAX_DUE_DAYS):
            raise InvalidInput(
                "The due date is too far ahead.",
                field_errors={"due_on": ["Choose a day within the next year."]},
            )
    with transaction.atomic():
        exercise = Exercise.objects.create(
            room=room,
            relationship_id=room.relationship_id,
            template=template,
            title=template.title,
            instructions=template.instructions,
            fields=template.fields,
            for_user=for_user,
            assigned_by=actor,
            assigned_at=moment,
            due_on=due_on,
        )
        whom = f" for {for_user.display_name}" if room.kind == RoomKind.COUPLE and for_user else ""
        event_append(
            room_id=room.pk,
            text=f"{actor.display_name} assigned an exercise{whom}: {exercise.title}",
            now=moment,
        )
        if due_on is not None:
            # The reminder sweep (confide.support.tasks) emails the client, without content,
            # from the due day; make sure one is queued.
            reminders_ensure_scheduled(now=moment)
        audit_record(
            actor=actor,
            action="exercise.assign",
            object_type="exercise",
            object_id=exercise.pk,
            practice=room.practice,
            detail={"room": room.pk, "template": template.pk},
        )
    return exercise


# --- reading one exercise ----------------------------------------------------------------


def _exercise_in(*, user: User, room_id: int, exercise_id: int) -> tuple[Exercise, Room]:
    """The exercise of a room `user` is a member of; anything else is NotFound."""
    room = room_get(user=user, room_id=room_id)
    exercise = (
        Exercise.objects.filter(pk=exercise_id, room_id=room.pk)
        .select_related("assigned_by", "for_user")
        .first()
    )
    if exercise is None:
        raise NotFound("No such exercise.")
    return exercise, room


@dataclasses.dataclass(frozen=True)
class AnswerRow:
    field: FieldDef
    value: str | int | None

    @property
    def display(self) -> str:
        if self.value is None:
            return ""
        if self.field["kind"] == "scale":
            return f"{self.value} (on a scale of {self.field['min']} to {self.field['max']})"
        if self.field["kind"] == "date":
            day = datetime.date.fromisoformat(str(self.value))
            return f"{day:%A} {day.day} {day:%B %Y}"
        return str(self.value)


@dataclasses.dataclass(frozen=True)
class Submitted:
    user: User
    submitted_at: datetime.datetime | None
    rows: list[AnswerRow]


@dataclasses.dataclass(frozen=True)
class CommentView:
    author: User
    created_at: datetime.datetime
    body: str


@dataclasses.dataclass(frozen=True)
class ExercisePage:
    exercise: Exercise
    room: Room
    is_staff: bool
    states: list[tuple[User, str]]  # each respondent and "not started" / "draft" / "submitted"
    can_answer: bool
    my_answers: Answers
    my_state: str
    submitted: list[Submitted]
    comments: list[CommentView]

    @property
    def is_open(self) -> bool:
        return self.exercise.closed_at is None


def _rows(fields: list[FieldDef], answers: Answers) -> list[AnswerRow]:
    return [AnswerRow(f, answers.get(f["id"])) for f in fields]


def exercise_page(*, user: User, room_id: int, exercise_id: int) -> ExercisePage:
    """Everything the exercise page shows `user`: drafts only their own."""
    exercise, room = _exercise_in(user=user, room_id=room_id, exercise_id=exercise_id)
    member = _member(room, user)
    people = respondents(exercise, room)
    responses = {
        r.user_id: r for r in ExerciseResponse.objects.filter(exercise=exercise).order_by("pk")
    }
    states = [(p, responses[p.pk].state if p.pk in responses else NOT_STARTED) for p in people]
    mine = responses.get(user.pk)
    my_answers: Answers = {}
    if mine is not None:
        my_answers = answers_open(mine.answers, exercise_id=exercise.pk, user_id=user.pk)
    submitted = [
        Submitted(
            user=p,
            submitted_at=responses[p.pk].submitted_at,
            rows=_rows(
                exercise.fields,
                my_answers
                if p.pk == user.pk
                else answers_open(responses[p.pk].answers, exercise_id=exercise.pk, user_id=p.pk),
            ),
        )
        for p in people
        if p.pk in responses and responses[p.pk].state == ResponseState.SUBMITTED
    ]
    comments = [
        CommentView(author=c.author, created_at=c.created_at, body=comment_text(c))
        for c in ExerciseComment.objects.filter(exercise=exercise).select_related("author")
    ]
    is_respondent = any(p.pk == user.pk for p in people)
    my_state = mine.state if mine is not None else NOT_STARTED
    audit_record(
        actor=user,
        action="exercise.view",
        object_type="exercise",
        object_id=exercise.pk,
        practice=room.practice,
        detail={
            "room": room.pk,
            "responses": [r.pk for r in responses.values() if r.state == ResponseState.SUBMITTED]
            + ([mine.pk] if mine is not None and mine.state == ResponseState.DRAFT else []),
        },
    )
    return ExercisePage(
        exercise=exercise,
        room=room,
        is_staff=member.is_staff_side,
        states=states,
        can_answer=is_respondent
        and exercise.closed_at is None
        and my_state != ResponseState.SUBMITTED,
        my_answers=my_answers if my_state == ResponseState.DRAFT else {},
        my_state=my_state,
        submitted=submitted,
        comments=comments,
    )


# --- answering, commenting, closing -----------------------------------------------------


def response_save(
    *,
    actor: User,
    room_id: int,
    exercise_id: int,
    answers: object = None,
    posted: Mapping[str, Any] | None = None,
    submit: bool,
    now: datetime.datetime | None = None,
) -> ExerciseResponse:
    """Save the actor's draft (partial answers are fine) or submit it (complete, and final).

    The answers come typed (`answers`, the API's shape) or as a browser posted them (`posted`,
    read with `forms_builder.answers_from_form`).
    """
    moment = now or timezone.now()
    exercise, room = _exercise_in(user=actor, room_id=room_id, exercise_id=exercise_id)
    if posted is not None:
        answers = forms_builder.answers_from_form(exercise.fields, posted)
    if not any(p.pk == actor.pk for p in respondents(exercise, room)):
        raise PermissionDenied("This exercise is for someone else to fill in.")
    if exercise.closed_at is not None:
        raise Conflict("This exercise is closed, so it takes no more answers.")
    clean = forms_builder.validate_answers(exercise.fields, answers, complete=submit)
    blob = answers_seal(clean, exercise_id=exercise.pk, user_id=actor.pk)
    try:
        return _write_response(
            actor=actor, exercise=exercise, room=room, blob=blob, submit=submit, now=moment
        )
    except IntegrityError:
        # Two first saves at once (two tabs): the other one made the row; this one goes over
        # it (or, if that one was a submission, is refused), once.
        return _write_response(
            actor=actor, exercise=exercise, room=room, blob=blob, submit=submit, now=moment
        )


def _write_response(
    *,
    actor: User,
    exercise: Exercise,
    room: Room,
    blob: bytes,
    submit: bool,
    now: datetime.datetime,
) -> ExerciseResponse:
    with transaction.atomic():
        response = (
            ExerciseResponse.objects.select_for_update()
            .filter(exercise=exercise, user=actor)
            .first()
        )
        if response is not None and response.state == ResponseState.SUBMITTED:
            raise Conflict(
                "You have already sent this in, and sent answers stay as they are. "
                "You can still add a comment."
            )
        if response is None:
            response = ExerciseResponse(exercise=exercise, user=actor)
        response.answers = blob
        response.state = ResponseState.SUBMITTED if submit else ResponseState.DRAFT
        response.updated_at = now
        response.submitted_at = now if submit else None
        response.save()
        if submit:
            event_append(
                room_id=room.pk,
                text=f"{actor.display_name} submitted: {exercise.title}",
                now=now,
            )
        audit_record(
            actor=actor,
            action="exercise.submit" if submit else "exercise.draft",
            object_type="exercise_response",
            object_id=response.pk,
            practice=room.practice,
            detail={"exercise": exercise.pk, "room": room.pk},
        )
    return response


def comment_add(
    *,
    actor: User,
    room_id: int,
    exercise_id: int,
    body: str,
    now: datetime.datetime | None = None,
) -> ExerciseComment:
    """A comment by anyone in the room (the therapist, a client), encrypted at rest."""
    moment = now or timezone.now()
    exercise, room = _exercise_in(user=actor, room_id=room_id, exercise_id=exercise_id)
    text = (body or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise InvalidInput("Write a comment first.", field_errors={"body": ["Write something."]})
    if len(text) > MAX_COMMENT:
        raise InvalidInput(
            "The comment is too long.",
            field_errors={"body": [f"Comments can be at most {MAX_COMMENT:,} characters."]},
        )
    if exercise.closed_at is not None:
        raise Conflict("This exercise is closed, so it takes no more comments.")
    with transaction.atomic():
        comment = ExerciseComment.objects.create(
            exercise=exercise, author=actor, body=b"", created_at=moment
        )
        comment.body = crypto.encrypt_text(text, context=comment_context(exercise.pk, comment.pk))
        comment.save(update_fields=["body"])
        event_append(
            room_id=room.pk,
            text=f"{actor.display_name} commented on an exercise: {exercise.title}",
            now=moment,
        )
        audit_record(
            actor=actor,
            action="exercise.comment",
            object_type="exercise_comment",
            object_id=comment.pk,
            practice=room.practice,
            detail={"exercise": exercise.pk, "room": room.pk},
        )
    return comment


def exercise_close(
    *, actor: User, room_id: int, exercise_id: int, now: datetime.datetime | None = None
) -> Exercise:
    """The therapist closes an exercise: it stays readable, and takes no more answers."""
    moment = now or timezone.now()
    exercise, room = _exercise_in(user=actor, room_id=room_id, exercise_id=exercise_id)
    if not _member(room, actor).is_staff_side:
        raise PermissionDenied("Only the therapist can close an exercise.")
    with transaction.atomic():
        updated = Exercise.objects.filter(pk=exercise.pk, closed_at__isnull=True).update(
            closed_at=moment
        )
        if not updated:
            raise Conflict("This exercise is closed already.")
        exercise.closed_at = moment
        event_append(
            room_id=room.pk,
            text=f"{actor.display_name} closed an exercise: {exercise.title}",
            now=moment,
        )
        audit_record(
            actor=actor,
            action="exercise.close",
            object_type="exercise",
            object_id=exercise.pk,
            practice=room.practice,
            detail={"room": room.pk},
        )
    return exercise


# --- lists: the room panel, the room's list, the client's home ------------------------------


@dataclasses.dataclass(frozen=True)
class ExerciseRow:
    exercise: Exercise
    states: list[tuple[User, str]]
    my_state: str | None  # the viewer's own state when they fill it in, else None


def _rows_for(exercises: list[Exercise], room: Room, viewer: User) -> list[ExerciseRow]:
    states: dict[tuple[int, int], str] = {
        (exercise_id, user_id): state
        for exercise_id, user_id, state in ExerciseResponse.objects.filter(
            exercise__in=exercises
        ).values_list("exercise_id", "user_id", "state")
    }
    rows = []
    for exercise in exercises:
        people = respondents(exercise, room)
        pairs = [(p, states.get((exercise.pk, p.pk), NOT_STARTED)) for p in people]
        mine = next((state for p, state in pairs if p.pk == viewer.pk), None)
        rows.append(ExerciseRow(exercise=exercise, states=pairs, my_state=mine))
    return rows


def panel_rows(*, room: Room, viewer: User) -> list[ExerciseRow]:
    """The room's open exercises with each client's state (two queries; titles only)."""
    exercises = list(
        Exercise.objects.filter(room=room, closed_at__isnull=True).order_by(
            F("due_on").asc(nulls_last=True), "assigned_at", "pk"
        )
    )
    return _rows_for(exercises, room, viewer)


def room_exercises(*, user: User, room_id: int) -> tuple[Room, bool, list[ExerciseRow]]:
    """Every exercise of a room, newest first, for its members (audited)."""
    room = room_get(user=user, room_id=room_id)
    member = _member(room, user)
    exercises = list(
        Exercise.objects.filter(room=room)
        .select_related("assigned_by", "for_user")
        .order_by("-assigned_at", "-pk")
    )
    audit_record(
        actor=user,
        action="exercise.list",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
    )
    return room, member.is_staff_side, _rows_for(exercises, room, user)


@dataclasses.dataclass(frozen=True)
class DueRow:
    exercise: Exercise
    state: str


def due_for(*, user: User) -> list[DueRow]:
    """The client's open exercises not yet sent in, soonest due first (one query)."""
    if not user.is_active or not user.is_client:
        return []
    mine = ExerciseResponse.objects.filter(exercise=OuterRef("pk"), user=user)
    exercises = (
        Exercise.objects.filter(
            closed_at__isnull=True,
            room__members__user=user,
            room__members__left_at__isnull=True,
            room__members__role=MemberRole.CLIENT,
        )
        .filter(Q(for_user=user) | Q(for_user__isnull=True))
        .annotate(
            sent=Exists(mine.filter(state=ResponseState.SUBMITTED)),
            drafted=Exists(mine.filter(state=ResponseState.DRAFT)),
        )
        .filter(sent=False)
        .select_related("room")
        .order_by(F("due_on").asc(nulls_last=True), "assigned_at", "pk")
    )
    return [
        DueRow(exercise=e, state=ResponseState.DRAFT if e.drafted else NOT_STARTED)
        for e in exercises
    ]
