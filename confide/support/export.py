"""What the work between sessions adds to a room's export (JSON and PDF).

For the room: the relationship's care agreement (every version, with its goals), the room's
exercises with their comments and every submitted response, and the room's completed
questionnaires with their item answers. A draft response belongs to its writer until it is
submitted: the reader's own drafts are exported (marked as drafts), nobody else's. Shared
journal entries are messages already, so they are in the log. The therapist's private notes are
never part of a room's export: they live in no room, and this module does not read them.

The caller has checked that the reader is a member of the room and writes the audit row.
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from typing import Any

from django.db.models import Prefetch, Q

from confide import crypto
from confide.accounts.models import User
from confide.rooms.models import Room
from confide.support.agreements import versions_of
from confide.support.models import (
    AgreementState,
    Exercise,
    ExerciseComment,
    ExerciseResponse,
    HomeworkRhythm,
    Instrument,
    MeasureResponse,
    ResponseState,
)


def _person(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.pk, "name": user.display_name}


def exercise_answers(response: ExerciseResponse) -> dict[str, Any]:
    """A response's answers: {"<field id>": value}."""
    text = crypto.decrypt_text(
        bytes(response.answers), context=f"exercise:{response.exercise_id}:{response.user_id}"
    )
    answers = json.loads(text) if text else {}
    return answers if isinstance(answers, dict) else {}


def comment_text(comment: ExerciseComment) -> str:
    return crypto.decrypt_text(
        bytes(comment.body), context=f"exercise-comment:{comment.exercise_id}:{comment.pk}"
    )


def measure_answers(response: MeasureResponse) -> list[int]:
    answers = json.loads(
        crypto.decrypt_text(bytes(response.answers), context=f"measure:{response.pk}")
    )
    return [int(a) for a in answers] if isinstance(answers, list) else []


def exercises_of(*, room: Room, reader: User) -> list[dict[str, Any]]:
    visible = ExerciseResponse.objects.filter(
        Q(state=ResponseState.SUBMITTED) | Q(user=reader)
    ).select_related("user")
    exercises = (
        Exercise.objects.filter(room=room)
        .select_related("for_user", "assigned_by")
        .prefetch_related(
            Prefetch("responses", queryset=visible.order_by("user_id"), to_attr="visible"),
            Prefetch(
                "comments",
                queryset=ExerciseComment.objects.select_related("author").order_by(
                    "created_at", "pk"
                ),
            ),
        )
        .order_by("assigned_at", "pk")
    )
    items = []
    for exercise in exercises:
        items.append(
            {
                "id": exercise.pk,
                "title": exercise.title,
                "instructions": exercise.instructions,
                "fields": exercise.fields,
                "for": _person(exercise.for_user),
                "assigned_by": _person(exercise.assigned_by),
                "assigned_at": exercise.assigned_at.isoformat(),
                "due_on": exercise.due_on.isoformat() if exercise.due_on else None,
                "closed_at": exercise.closed_at.isoformat() if exercise.closed_at else None,
                "responses": [
                    {
                        "by": _person(r.user),
                        "state": r.state,
                        "updated_at": r.updated_at.isoformat(),
                        "submitted_at": r.submitted_at.isoformat() if r.submitted_at else None,
                        "answers": exercise_answers(r),
                    }
                    for r in exercise.visible
                ],
                "comments": [
                    {
                        "id": c.pk,
                        "by": _person(c.author),
                        "created_at": c.created_at.isoformat(),
                        "body": comment_text(c),
                    }
                    for c in exercise.comments.all()
                ],
            }
        )
    return items


def measures_of(*, room: Room) -> list[dict[str, Any]]:
    return [
        {
            "id": r.pk,
            "instrument": r.instrument,
            "instrument_name": Instrument(r.instrument).label
            if r.instrument in Instrument.values
            else r.instrument,
            "respondent": _person(r.respondent),
            "score": r.score,
            "band": r.band,
            "urgent": r.urgent,
            "completed_at": r.completed_at.isoformat(),
            "answers": measure_answers(r),
        }
        for r in MeasureResponse.objects.filter(room=room)
        .select_related("respondent")
        .order_by("completed_at", "pk")
    ]


def support_data(*, room: Room, reader: User) -> dict[str, Any]:
    """The keys a room's export gains: "agreements", "exercises", "measures"."""
    return {
        "agreements": [v.as_dict() for v in versions_of(room.relationship_id)],
        "exercises": exercises_of(room=room, reader=reader),
        "measures": measures_of(room=room),
    }


def _shown(value: Any) -> str:
    """An exercise answer as text for the PDF (a list of choices, a number, a date...)."""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is None or value == "":
        return "(no answer)"
    return str(value)


def _label(choices: Any, value: str) -> str:
    return str(choices(value).label) if value in choices.values else value


def _local(moment: str | None, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(moment).astimezone(zone) if moment else None


def support_for_pdf(data: dict[str, Any], zone: zoneinfo.ZoneInfo) -> None:
    """Add what the PDF template shows to `support_data`'s keys in place: local times, and
    each response's answers as (field label, text) in the exercise's field order."""
    for version in data["agreements"]:
        version["state_label"] = _label(AgreementState, version["state"])
        version["homework_label"] = _label(HomeworkRhythm, version["homework_rhythm"])
        version["proposed_local"] = _local(version["proposed_at"], zone)
        version["decided_local"] = _local(version["decided_at"], zone)
    for exercise in data["exercises"]:
        fields = [f for f in exercise["fields"] if isinstance(f, dict)]
        labels = {str(f.get("id")): str(f.get("label") or f.get("id")) for f in fields}
        exercise["assigned_local"] = _local(exercise["assigned_at"], zone)
        for response in exercise["responses"]:
            answers = response["answers"]
            response["submitted_local"] = _local(response["submitted_at"], zone)
            response["shown"] = [
                (label, _shown(answers[key])) for key, label in labels.items() if key in answers
            ] + [(key, _shown(value)) for key, value in answers.items() if key not in labels]
        for comment in exercise["comments"]:
            comment["local_time"] = _local(comment["created_at"], zone)
    for measure in data["measures"]:
        measure["local_time"] = _local(measure["completed_at"], zone)
