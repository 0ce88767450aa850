"""Pages for exercises: assign one in a room, fill it in, comment, close; a therapist's own
templates and the form builder (a plain HTML form: every button posts back, no JavaScript).
Thin: parse, call one service or selector, render."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import dateparse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.errors import DomainError, InvalidInput, NotFound, http_status
from confide.rooms.selectors import audience
from confide.support import exercises, forms_builder
from confide.support.forms_builder import BuilderRow, FieldDef
from confide.support.models import ExerciseTemplate, FieldKind, ResponseState


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isascii() and raw.isdecimal() and len(raw) < 19 else None


def _date(raw: str | None) -> datetime.date | None:
    try:
        return dateparse.parse_date((raw or "")[:20])
    except ValueError:  # well-formed but impossible, e.g. 2027-02-30
        return None


# --- one exercise --------------------------------------------------------------------------


def _inputs(
    fields: list[FieldDef], values: dict[str, Any], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """What the answer form shows for each field: its value as text, its errors, its scale."""
    out = []
    for field in fields:
        value = values.get(field["id"])
        out.append(
            {
                "field": field,
                "value": "" if value is None else str(value),
                "errors": errors.get(field["id"], []),
                "steps": [str(n) for n in range(field["min"], field["max"] + 1)]
                if field["kind"] == "scale"
                else [],
            }
        )
    return out


def _render_exercise(
    request: HttpRequest,
    page: exercises.ExercisePage,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    error: str = "",
    comment: str = "",
    comment_error: str = "",
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    exercise = page.exercise
    return render(
        request,
        "support/exercises/exercise.html",
        {
            "page": page,
            "exercise": exercise,
            "room": page.room,
            "audience": audience(page.room, user),
            "inputs": _inputs(
                exercise.fields, page.my_answers if values is None else values, errors or {}
            ),
            "error": error,
            "comment": comment,
            "comment_error": comment_error,
            "comment_max": exercises.MAX_COMMENT,
            "text_max": forms_builder.MAX_TEXT_ANSWER,
            "submitted_state": ResponseState.SUBMITTED,
        },
        status=status,
    )


@require_GET
@login_required
def exercise_detail(request: HttpRequest, room_id: int, exercise_id: int) -> HttpResponse:
    page = exercises.exercise_page(user=_user(request), room_id=room_id, exercise_id=exercise_id)
    return _render_exercise(request, page)


@require_POST
@login_required
def exercise_answer(request: HttpRequest, room_id: int, exercise_id: int) -> HttpResponse:
    user = _user(request)
    submit = request.POST.get("action") == "submit"
    try:
        exercises.response_save(
            actor=user,
            room_id=room_id,
            exercise_id=exercise_id,
            posted=request.POST,
            submit=submit,
        )
    except NotFound:
        raise
    except DomainError as exc:
        page = exercises.exercise_page(user=user, room_id=room_id, exercise_id=exercise_id)
        posted = {
            f["id"]: request.POST.get(f"a-{f['id']}", "")[: forms_builder.MAX_TEXT_ANSWER * 2]
            for f in page.exercise.fields
        }
        return _render_exercise(
            request,
            page,
            values=posted,
            errors=exc.field_errors,
            error=exc.message,
            status=http_status(exc),
        )
    if submit:
        messages.success(request, "Sent. Everyone in this room can now read your answers.")
    else:
        messages.success(request, "Draft saved. Only you can see it until you send it.")
    return redirect("exercise", room_id=room_id, exercise_id=exercise_id)


@require_POST
@login_required
def exercise_comment(request: HttpRequest, room_id: int, exercise_id: int) -> HttpResponse:
    user = _user(request)
    body = request.POST.get("body", "")
    try:
        exercises.comment_add(actor=user, room_id=room_id, exercise_id=exercise_id, body=body)
    except NotFound:
        raise
    except DomainError as exc:
        page = exercises.exercise_page(user=user, room_id=room_id, exercise_id=exercise_id)
        return _render_exercise(
            request,
            page,
            comment=body[: exercises.MAX_COMMENT * 2],
            comment_error=exc.message,
            status=http_status(exc),
        )
    messages.success(request, "Comment added.")
    return redirect("exercise", room_id=room_id, exercise_id=exercise_id)


@require_POST
@login_required
def exercise_close(request: HttpRequest, room_id: int, exercise_id: int) -> HttpResponse:
    exercises.exercise_close(actor=_user(request), room_id=room_id, exercise_id=exercise_id)
    messages.success(request, "The exercise is closed. It stays here to read.")
    return redirect("exercise", room_id=room_id, exercise_id=exercise_id)


@require_GET
@login_required
def room_exercises(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room, is_staff, rows = exercises.room_exercises(user=user, room_id=room_id)
    return render(
        request,
        "support/exercises/room_list.html",
        {"room": room, "is_staff": is_staff, "rows": rows, "audience": audience(room, user)},
    )


# --- assigning -----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@login_required
def exercise_assign(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    options = exercises.assign_options(user=user, room_id=room_id)
    data = request.POST if request.method == "POST" else request.GET
    chosen = _int(data.get("template"))
    for_whom = data.get("for_user", options.for_whom[0][0] if options.for_whom else "")[:20]
    due_text = data.get("due_on", "")[:20]
    errors: dict[str, list[str]] = {}
    error = ""
    if request.method == "POST":
        due_on = _date(due_text) if due_text else None
        try:
            if chosen is None:
                raise InvalidInput(
                    "Choose an exercise.", field_errors={"template": ["Choose an exercise."]}
                )
            if for_whom and _int(for_whom) is None:
                raise InvalidInput(
                    "Choose who this exercise is for.",
                    field_errors={"for_user": ["Choose one of the people listed."]},
                )
            if due_text and due_on is None:
                raise InvalidInput(
                    "The due date is not a date.",
                    field_errors={"due_on": ["Give a date as year-month-day."]},
                )
            exercise = exercises.exercise_assign(
                actor=user,
                room_id=room_id,
                template_id=chosen,
                for_user_id=_int(for_whom) if for_whom else None,
                due_on=due_on,
            )
        except NotFound:
            raise
        except DomainError as exc:
            errors, error = exc.field_errors, exc.message
        else:
            messages.success(request, "The exercise is given. Everyone in the room can see it.")
            return redirect("exercise", room_id=room_id, exercise_id=exercise.pk)
    return render(
        request,
        "support/exercises/assign.html",
        {
            "room": options.room,
            "library": [t for t in options.templates if t.practice_id is None],
            "own": [t for t in options.templates if t.practice_id is not None],
            "for_whom": options.for_whom,
            "chosen": chosen,
            "chosen_for": for_whom,
            "due_on": due_text,
            "errors": errors,
            "error": error,
            "audience": audience(options.room, user),
        },
        status=400 if error else 200,
    )


# --- a therapist's own templates and the form builder ------------------------------------


@require_GET
@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "support/exercises/templates.html",
        {
            "library": [
                t for t in exercises.templates_available(user=user) if t.practice_id is None
            ],
            "own": exercises.templates_of_practice(user=user),
            "back": _int(request.GET.get("room")),
        },
    )


@require_GET
@login_required
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _user(request)
    template = exercises.template_view(user=user, template_id=template_id)
    return render(
        request,
        "support/exercises/template.html",
        {
            "template": template,
            "inputs": _inputs(template.fields, {}, {}),
            "can_edit": template.author_id == user.pk,
        },
    )


def _builder(
    request: HttpRequest,
    *,
    template: ExerciseTemplate | None,
    title: str,
    instructions: str,
    for_couples: bool,
    rows: list[BuilderRow],
    row_errors: list[dict[str, list[str]]] | None = None,
    errors: dict[str, list[str]] | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    row_errors = row_errors or [{} for _ in rows]
    data = request.POST if request.method == "POST" else request.GET
    return render(
        request,
        "support/exercises/builder.html",
        {
            "template": template,
            "title": title,
            "instructions": instructions,
            "for_couples": for_couples,
            "rows": [
                {"n": n, "row": row, "errors": row_errors[n] if n < len(row_errors) else {}}
                for n, row in enumerate(rows)
            ],
            "count": len(rows),
            "kinds": FieldKind.choices,
            "errors": errors or {},
            "error": error,
            "max_fields": forms_builder.MAX_FIELDS,
            # The room whose assign page sent the therapist here, to go back there after saving.
            "room": _int(data.get("room")),
            "limits": {
                "title": forms_builder.MAX_TITLE,
                "instructions": forms_builder.MAX_INSTRUCTIONS,
                "label": forms_builder.MAX_LABEL,
                "help": forms_builder.MAX_HELP,
                "end": forms_builder.MAX_END_LABEL,
            },
        },
        status=status,
    )


def _builder_post(request: HttpRequest, template: ExerciseTemplate | None) -> HttpResponse:
    user = _user(request)
    title = request.POST.get("title", "")[: forms_builder.MAX_TITLE * 2]
    instructions = request.POST.get("instructions", "")[: forms_builder.MAX_INSTRUCTIONS * 2]
    for_couples = request.POST.get("for_couples") == "on"
    rows = forms_builder.rows_from_form(request.POST)
    op = request.POST.get("op", "save")[:20]
    state: dict[str, Any] = {
        "template": template,
        "title": title,
        "instructions": instructions,
        "for_couples": for_couples,
    }
    if op != "save":
        return _builder(request, rows=forms_builder.rows_apply(rows, op), **state)
    definitions = forms_builder.definitions_from_rows(rows)
    kept = [r for r in rows if not r.blank]
    try:
        saved = exercises.template_save(
            actor=user,
            template_id=template.pk if template else None,
            title=title,
            instructions=instructions,
            fields=definitions,
            for_couples=for_couples,
        )
    except NotFound:
        raise
    except InvalidInput as exc:
        return _builder(
            request,
            rows=kept or [BuilderRow()],
            row_errors=forms_builder.row_errors(exc, len(kept)),
            errors=exc.field_errors,
            error=exc.message,
            status=400,
            **state,
        )
    messages.success(request, "Template saved. You can give it from any room's assign page.")
    room_id = _int(request.POST.get("room"))
    if room_id is not None:
        return redirect(f"{reverse('exercise_assign', args=[room_id])}?template={saved.pk}")
    return redirect("exercise_template", template_id=saved.pk)


@require_http_methods(["GET", "POST"])
@login_required
def template_new(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    exercises.templates_of_practice(user=user)  # therapists only: everyone else gets 404
    if request.method == "POST":
        return _builder_post(request, None)
    return _builder(
        request, template=None, title="", instructions="", for_couples=False, rows=[BuilderRow()]
    )


@require_http_methods(["GET", "POST"])
@login_required
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _user(request)
    template = exercises.template_for_edit(user=user, template_id=template_id)
    if request.method == "POST":
        return _builder_post(request, template)
    return _builder(
        request,
        template=template,
        title=template.title,
        instructions=template.instructions,
        for_couples=template.for_couples,
        rows=forms_builder.rows_from_fields(template.fields),
    )


@require_POST
@login_required
def template_archive(request: HttpRequest, template_id: int) -> HttpResponse:
    restore = request.POST.get("restore") == "1"
    exercises.template_archive(actor=_user(request), template_id=template_id, archived=not restore)
    messages.success(
        request,
        "The template is back in use." if restore else "Archived. Exercises already given stay.",
    )
    return redirect("exercise_templates")


urlpatterns: list[URLPattern] = [
    path("rooms/<id:room_id>/exercises/", room_exercises, name="room_exercises"),
    path("rooms/<id:room_id>/exercises/assign/", exercise_assign, name="exercise_assign"),
    path("rooms/<id:room_id>/exercises/<id:exercise_id>/", exercise_detail, name="exercise"),
    path(
        "rooms/<id:room_id>/exercises/<id:exercise_id>/answer/",
        exercise_answer,
        name="exercise_answer",
    ),
    path(
        "rooms/<id:room_id>/exercises/<id:exercise_id>/comment/",
        exercise_comment,
        name="exercise_comment",
    ),
    path(
        "rooms/<id:room_id>/exercises/<id:exercise_id>/close/",
        exercise_close,
        name="exercise_close",
    ),
    path("exercises/templates/", template_list, name="exercise_templates"),
    path("exercises/templates/new/", template_new, name="exercise_template_new"),
    path("exercises/templates/<id:template_id>/", template_detail, name="exercise_template"),
    path(
        "exercises/templates/<id:template_id>/edit/", template_edit, name="exercise_template_edit"
    ),
    path(
        "exercises/templates/<id:template_id>/archive/",
        template_archive,
        name="exercise_template_archive",
    ),
]
