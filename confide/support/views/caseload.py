"""The caseload table's display: the page itself is `care.views.caseload` (URL name `caseload`),
which renders `care/home_therapist.html` with the context built here.

Display strings are made here, once per row, so the template only prints them (as the inbox
does): a therapist with 200 clients opens this page often.
"""

from __future__ import annotations

import datetime
import zoneinfo
from html import escape
from typing import Any

from django.urls import URLPattern, reverse
from django.utils.safestring import SafeString, mark_safe

from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.care import selectors as care_selectors
from confide.rooms.models import RoomKind
from confide.rooms.windows import format_due
from confide.support.caseload import CaseloadRow, CaseloadScore, caseload
from confide.support.models import Instrument

urlpatterns: list[URLPattern] = []

SHORT_NAMES = {Instrument.PHQ9: "PHQ-9", Instrument.GAD7: "GAD-7", Instrument.CSI4: "CSI-4"}
TREND_WORDS = {"better": "better", "worse": "worse", "same": "no clear change"}


def _when(moment: datetime.datetime, zone: zoneinfo.ZoneInfo, now: datetime.datetime) -> str:
    local = moment.astimezone(zone)
    if local.year != now.astimezone(zone).year:
        return f"{local:%-d %b %Y}"
    return f"{local:%a %-d %b, %H:%M}"


def _signed(change: int) -> str:
    return f"+{change}" if change > 0 else f"\N{MINUS SIGN}{-change}" if change < 0 else "±0"


def _score(score: CaseloadScore, kind: str, zone: zoneinfo.ZoneInfo) -> SafeString:
    """One line of the scores cell, e.g. "PHQ-9 12 moderate (26 Feb), ↓ better (-6, was 18)":
    the trend in words, its arrow beside them and hidden from screen readers.

    Built as one string (names and bands escaped; the rest are numbers and constants): the
    template's per-value work was half the time of rendering 200 rows.
    """
    label = SHORT_NAMES.get(Instrument(score.instrument), score.instrument)
    if score.previous is None:
        trend = "first score"
    else:
        change = score.score - score.previous
        arrow = "\u2191" if change > 0 else "\u2193" if change < 0 else "\u2192"
        words = f"{TREND_WORDS[score.trend]} ({_signed(change)}, was {score.previous})"
        marked = ' class="flag"' if score.trend == "worse" else ""
        trend = f'<span{marked}><span aria-hidden="true">{arrow}</span> {words}</span>'
    who = f"{escape(score.respondent)}: " if kind == "couple" else ""
    on = f"{score.completed_at.astimezone(zone):%-d %b}"
    return mark_safe(  # noqa: S308 - every value in it is escaped or made here
        f"{who}{label} <strong>{score.score}</strong> {escape(score.band)} "
        f'<span class="small">({on})</span>, {trend}'
    )


def _room_label(kind: str, private_for: str) -> str:
    if kind == RoomKind.PRIVATE:
        return f"Private room: {private_for}" if private_for else "Private room"
    return "Couples room" if kind == RoomKind.COUPLE else "Room"


def present(
    rows: list[CaseloadRow], *, viewer_time_zone: str, now: datetime.datetime
) -> list[dict[str, Any]]:
    """Each row as the strings the table shows."""
    zone = zoneinfo.ZoneInfo(viewer_time_zone)
    relationship_url = reverse("relationship", args=[1]).removesuffix("1/")
    room_url = reverse("room", args=[1]).removesuffix("1/")
    items = []
    for row in rows:
        flags = []
        if row.crisis_open:
            flags.append("Possible crisis")
        if row.reply_overdue:
            flags.append("Reply overdue")
        if row.urgent_measure:
            flags.append("Urgent questionnaire answer")
        if row.exercises_overdue:
            n = row.exercises_overdue
            flags.append(f"{n} exercise{'s' if n != 1 else ''} overdue")
        if row.checkins_agreed is None:
            checkins = f"{row.checkins_this_week}, no agreement yet"
        else:
            checkins = f"{row.checkins_this_week} of {row.checkins_agreed}"
        if row.replies:
            median_hours = (row.median_working_seconds or 0) / 3600
            replies = (
                f"{row.within_window_pct:g}% in the window, median {median_hours:.1f} working "
                f"hours ({row.replies} repl{'ies' if row.replies != 1 else 'y'})"
            )
        else:
            replies = ""
        due = ""
        if row.reply_due_at is not None:
            due = format_due(row.reply_due_at, viewer_time_zone, now).removeprefix("Expected by ")
        items.append(
            {
                "id": row.relationship_id,
                "name": row.name or "Awaiting sign-up",
                "url": "" if row.covering else f"{relationship_url}{row.relationship_id}/",
                "kind": "Couple" if row.kind == "couple" else "Individual",
                "covering": row.covering,
                "pending": row.pending_invitations,
                "rooms": [
                    {
                        "url": f"{room_url}{room.room_id}/",
                        "label": _room_label(room.kind, room.private_for),
                    }
                    for room in row.rooms
                ],
                "flagged": row.flagged,
                "flags": flags,
                "client_last": _when(row.client_last_at, zone, now) if row.client_last_at else "",
                "therapist_last": _when(row.therapist_last_at, zone, now)
                if row.therapist_last_at
                else "",
                "due": due,
                "overdue": row.reply_overdue,
                "replies": replies,
                "checkins": checkins,
                "scores": [_score(s, row.kind, zone) for s in row.scores],
            }
        )
    return items


def caseload_context(*, user: User, now: datetime.datetime, form: Any) -> dict[str, Any]:
    """The therapist's caseload page: the table (audited as `caseload.view`), the invitations
    and the invite form."""
    rows = caseload(therapist=user, now=now)
    audit_record(
        actor=user,
        action="caseload.view",
        object_type="user",
        object_id=user.pk,
        detail={"relationships": len(rows)},
    )
    items = present(rows, viewer_time_zone=user.time_zone, now=now)
    return {
        "own": [item for item in items if not item["covering"]],
        "covering": [item for item in items if item["covering"]],
        "invitations": care_selectors.invitations_visible_to(user=user).filter(
            accepted_at__isnull=True, revoked_at__isnull=True
        ),
        "form": form,
    }
