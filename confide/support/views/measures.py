"""Pages for measures: the therapist assigns and stops questionnaires (forms on the room's
measures panel), the client fills one in and sees the result. Thin: parse, call one service or
selector, shape the answer."""

from __future__ import annotations

import re
import zoneinfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide.accounts.models import User
from confide.errors import InvalidInput
from confide.rooms.models import Room
from confide.rooms.selectors import audience, room_get
from confide.support import measures
from confide.support.instruments import Questionnaire, questionnaire

_ITEM_KEY = re.compile(r"item([0-9]{1,3})")


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _int(raw: str | None) -> int | None:
    # isdecimal alone accepts other scripts' digits, which int() reads but an id never has.
    return int(raw) if raw and raw.isascii() and raw.isdecimal() and len(raw) < 19 else None


def _answers(request: HttpRequest, chosen: Questionnaire) -> list[object]:
    """The posted answers in item order: a whole number where the field holds one, else the
    raw text (which the service refuses with a field error), None where it is missing; extra
    item fields are passed on so the service refuses them too."""
    answers: list[object] = []
    for item in chosen.items:
        raw = request.POST.get(item.key)
        if raw is None or raw == "":
            answers.append(None)
        elif raw.isascii() and raw.isdecimal() and len(raw) <= 2:
            answers.append(int(raw))
        else:
            answers.append(raw[:20])
    extra = [
        key
        for key in request.POST
        if (match := _ITEM_KEY.fullmatch(key)) and int(match.group(1)) > len(chosen.items)
    ]
    answers.extend(request.POST.get(key) for key in extra)
    return answers


def _questionnaire_page(
    request: HttpRequest,
    *,
    room: Room,
    user: User,
    schedule_id: int,
    chosen: Questionnaire,
    chosen_answers: dict[str, str] | None = None,
    error: InvalidInput | None = None,
) -> HttpResponse:
    picked = chosen_answers or {}
    errors = error.field_errors if error else {}
    return render(
        request,
        "support/measures/answer.html",
        {
            "room": room,
            "schedule_id": schedule_id,
            "q": chosen,
            "who": audience(room, user),
            "rows": [
                {
                    "item": item,
                    "options": [
                        {"option": o, "checked": picked.get(item.key) == str(o.value)}
                        for o in item.options
                    ],
                    "errors": errors.get(item.key, []),
                }
                for item in chosen.items
            ],
            "error": error,
            "other_errors": errors.get("answers", []),
        },
        status=400 if error else 200,
    )


@require_http_methods(["GET", "POST"])
@login_required
def measure_answer(request: HttpRequest, room_id: int, schedule_id: int) -> HttpResponse:
    """The questionnaire: one form, a fieldset per item."""
    user = _user(request)
    room = room_get(user=user, room_id=room_id)
    schedule = measures.schedule_for_answering(user=user, room=room, schedule_id=schedule_id)
    chosen = questionnaire(schedule.instrument)
    if request.method == "GET":
        return _questionnaire_page(
            request, room=room, user=user, schedule_id=schedule.pk, chosen=chosen
        )
    try:
        response = measures.measure_complete(
            actor=user, room=room, schedule_id=schedule.pk, answers=_answers(request, chosen)
        )
    except InvalidInput as error:
        kept = {
            item.key: value[:2]
            for item in chosen.items
            if (value := request.POST.get(item.key, ""))
        }
        return _questionnaire_page(
            request,
            room=room,
            user=user,
            schedule_id=schedule.pk,
            chosen=chosen,
            chosen_answers=kept,
            error=error,
        )
    return redirect("measure_result", room_id=room.pk, response_id=response.pk)


@require_GET
@login_required
def measure_result(request: HttpRequest, room_id: int, response_id: int) -> HttpResponse:
    """One completed questionnaire: the total, its band, the answers; for the client who gave
    a PHQ-9 item 9 answer above zero, the crisis lines first."""
    user = _user(request)
    room = room_get(user=user, room_id=room_id)
    view = measures.response_get(viewer=user, room=room, response_id=response_id)
    band = view.questionnaire.band_by_key(view.response.band)
    local = view.response.completed_at.astimezone(zoneinfo.ZoneInfo(user.time_zone))
    return render(
        request,
        "support/measures/result.html",
        {
            "room": room,
            "view": view,
            "q": view.questionnaire,
            "band": band,
            "completed": f"{local.day} {local:%b %Y, %H:%M}",
            "who": audience(room, user),
            # The crisis lines are the viewer's own (the page's `crisis`, from the context
            # processor): only the person who answered sees them here at once.
            "crisis_now": view.response.urgent and view.is_mine,
        },
    )


@require_POST
@login_required
def measure_assign(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = room_get(user=user, room_id=room_id)
    schedule = measures.measure_schedule_assign(
        actor=user,
        room=room,
        respondent_id=_int(request.POST.get("respondent")),
        instrument=request.POST.get("instrument", "")[:8],
        every_days=_int(request.POST.get("every_days")),
    )
    chosen = questionnaire(schedule.instrument)
    messages.success(
        request,
        f"{chosen.name} assigned to {schedule.respondent.display_name}, "
        f"every {schedule.every_days} days. The first one is due now.",
    )
    return redirect(reverse("room", args=[room.pk]) + "#measures")


@require_POST
@login_required
def measure_stop(request: HttpRequest, room_id: int, schedule_id: int) -> HttpResponse:
    user = _user(request)
    room = room_get(user=user, room_id=room_id)
    schedule = measures.measure_schedule_stop(actor=user, room=room, schedule_id=schedule_id)
    messages.success(
        request,
        f"Stopped the {questionnaire(schedule.instrument).name} for "
        f"{schedule.respondent.display_name}. Earlier answers stay in the room.",
    )
    return redirect(reverse("room", args=[room.pk]) + "#measures")


urlpatterns: list[URLPattern] = [
    path("rooms/<id:room_id>/measures/assign/", measure_assign, name="measure_assign"),
    path("rooms/<id:room_id>/measures/<id:schedule_id>/stop/", measure_stop, name="measure_stop"),
    path("rooms/<id:room_id>/measures/<id:schedule_id>/", measure_answer, name="measure_answer"),
    path(
        "rooms/<id:room_id>/measures/answers/<id:response_id>/",
        measure_result,
        name="measure_result",
    ),
]
