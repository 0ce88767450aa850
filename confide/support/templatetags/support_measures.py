"""The measures panel of a room page and the "due" card of the client's home page."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString

from confide.accounts.models import User
from confide.rooms.models import Room
from confide.rooms.selectors import audience
from confide.support import charts, measures
from confide.support.instruments import PHQ9, Questionnaire, questionnaire

register = template.Library()


def _viewer(context: template.Context) -> User | None:
    user = context.get("user")
    if user is None and context.get("request") is not None:
        user = context["request"].user
    return user if isinstance(user, User) and user.is_active else None


def _chart(view: measures.InstrumentView, viewer: User, room: Room) -> dict[str, Any]:
    """One instrument's chart, its legend in words, the latest scores and the table rows."""
    q = view.questionnaire
    series = [
        charts.Series(
            name=one.name,
            points=tuple(
                charts.Point(
                    at=r.completed_at,
                    score=r.score,
                    label=(q.band_by_key(r.band) or q.band_for(r.score)).label,
                )
                for r in one.responses
            ),
        )
        for one in view.series
    ]
    multi = len(series) > 1
    zone = viewer.time_zone
    rows = sorted(
        (
            {
                "at": r.completed_at,
                "day": charts.day_label(r.completed_at, zone),
                "name": one.name,
                "score": r.score,
                "band": (q.band_by_key(r.band) or q.band_for(r.score)).label,
                "urgent": r.urgent and r.instrument == PHQ9.key,
                "response": r,
            }
            for one in view.series
            for r in one.responses
        ),
        key=lambda row: (row["at"], row["name"]),
        reverse=True,
    )
    return {
        "q": q,
        "id": f"chart-{room.pk}-{q.key}",
        "svg": charts.line_chart(
            questionnaire=q, series=series, time_zone=zone, chart_id=f"chart-{room.pk}-{q.key}"
        ),
        "multi": multi,
        "legend": [
            {
                "name": one.name,
                "shape": charts.SHAPE_NAMES[i % len(charts.SHAPE_NAMES)],
                "line": charts.DASH_NAMES[i % len(charts.DASH_NAMES)],
            }
            for i, one in enumerate(view.series)
        ],
        "latest": [
            {
                "name": one.name,
                "score": one.latest.score,
                "band": (q.band_by_key(one.latest.band) or q.band_for(one.latest.score)).label,
                "day": charts.day_label(one.latest.completed_at, zone),
                "response": one.latest,
            }
            for one in view.series
        ],
        "rows": rows,
    }


def footnote(shown: list[Questionnaire]) -> str:
    """Where each questionnaire comes from, and each licence once."""
    licences = list(dict.fromkeys(q.licence for q in shown))
    return " ".join([*(q.source for q in shown), *licences])


@register.simple_tag(takes_context=True)
def measures_panel(context: template.Context, room: Room) -> str:
    """Charts of the room's questionnaires; what is due for a client; assigning and stopping
    for the therapist. A client with nothing assigned and nothing answered reads a line that
    says so (the room's "questionnaires" link leads here)."""
    viewer = _viewer(context)
    if viewer is None:
        return ""
    data = measures.room_measures(viewer=viewer, room=room)
    now = timezone.now()
    zone = viewer.time_zone
    mine = [
        {
            "schedule": s,
            "q": questionnaire(s.instrument),
            "due": s.next_due_at <= now,
            "day": charts.day_label(s.next_due_at, zone),
        }
        for s in data.mine
    ]
    running = [
        {
            "schedule": s,
            "q": questionnaire(s.instrument),
            "day": charts.day_label(s.next_due_at, zone),
            "due": s.next_due_at <= now,
        }
        for s in data.running
    ]
    shown = {c.questionnaire.key for c in data.instruments} | {s.instrument for s in data.mine}
    if data.is_staff:
        shown |= {q.key for q in data.assignable}
    return render_to_string(
        "support/measures/_panel.html",
        {
            "room": room,
            "is_staff": data.is_staff,
            "mine": mine,
            "running": running,
            "charts": [_chart(view, viewer, room) for view in data.instruments],
            "clients": data.clients,
            "assignable": data.assignable,
            "every_days": measures.EVERY_DAYS,
            "who": audience(room, viewer),
            "footnote": footnote(
                [questionnaire(k) for k in ("phq9", "gad7", "csi4") if k in shown]
            ),
        },
        request=context.get("request"),
    )


@register.simple_tag(takes_context=True)
def measures_due(context: template.Context) -> SafeString | str:
    """The client's due questionnaires, with a link to each; nothing when none is due."""
    viewer = _viewer(context)
    if viewer is None or not viewer.is_client:
        return ""
    due = measures.measures_due_for(user=viewer, now=timezone.now())
    if not due:
        return ""
    return render_to_string(
        "support/measures/_due.html",
        {
            "items": [
                {
                    "schedule": s,
                    "q": questionnaire(s.instrument),
                    "room": s.room,
                    "day": charts.day_label(s.next_due_at, viewer.time_zone),
                }
                for s in due
            ]
        },
        request=context.get("request"),
    )
