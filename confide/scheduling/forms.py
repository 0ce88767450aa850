"""Forms for scheduling pages: they parse the shape of input; the rules live in the services."""

from __future__ import annotations

import datetime
import re
import zoneinfo
from typing import Any

from django import forms
from django.utils import timezone

from confide.care.models import LIVE_SESSION_MINUTES
from confide.errors import InvalidInput
from confide.live.models import LiveMode
from confide.scheduling.models import SLOT_STEPS, ExceptionKind

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_PERIOD = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*[-\u2013]\s*(\d{1,2})[:.](\d{2})\s*$")


def parse_periods(text: str) -> list[tuple[datetime.time, datetime.time]]:
    """'09:00-12:00, 14:00-18:00' -> periods; ValueError with a readable message."""
    result = []
    for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
        match = _PERIOD.match(part)
        if match is None:
            raise ValueError(f"Write hours like 09:00-12:00, not “{part[:20]}”.")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h2 == 24 and m2 == 0:
            h2, m2 = 23, 59
        try:
            start, end = datetime.time(h1, m1), datetime.time(h2, m2)
        except ValueError:
            raise ValueError(f"“{part}” is not a time of day.") from None
        if end <= start:
            raise ValueError(f"In “{part}” the end must be after the start.")
        result.append((start, end))
    return result


def format_periods(periods: list[tuple[datetime.time, datetime.time]]) -> str:
    return ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in periods)


class WeeklyHoursForm(forms.Form):
    """One text field per weekday: '09:00-12:00, 14:00-18:00', empty for a day off."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index, name in enumerate(DAYS):
            self.fields[f"day{index}"] = forms.CharField(
                label=name,
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "e.g. 09:00-12:00, 14:00-18:00"}),
            )

    def clean(self) -> dict[str, Any] | None:
        data = super().clean() or {}
        hours: list[tuple[int, datetime.time, datetime.time]] = []
        for index in range(7):
            try:
                hours += [(index, s, e) for s, e in parse_periods(data.get(f"day{index}") or "")]
            except ValueError as error:
                self.add_error(f"day{index}", str(error))
        data["hours"] = hours
        return data


class ExceptionForm(forms.Form):
    day = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(
        label="What changes", choices=ExceptionKind.choices, widget=forms.RadioSelect
    )
    start = forms.TimeField(
        label="From", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    end = forms.TimeField(
        label="Until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text="Leave both times empty for a whole day off.",
    )


class SessionTypeForm(forms.Form):
    mode = forms.ChoiceField(label="Kind of session", choices=LiveMode.choices)
    minutes = forms.TypedChoiceField(
        label="Length", choices=[(m, f"{m} minutes") for m in LIVE_SESSION_MINUTES], coerce=int
    )
    buffer_minutes = forms.IntegerField(
        label="Free time after each session (minutes)", min_value=0, max_value=120, initial=10
    )
    min_notice_hours = forms.IntegerField(
        label="Minimum notice (hours)", min_value=0, max_value=720, initial=24
    )
    horizon_days = forms.IntegerField(
        label="Clients may book up to (days ahead)", min_value=1, max_value=366, initial=60
    )


class PolicyForm(forms.Form):
    free_cancel_hours = forms.IntegerField(
        label="Free cancellation until (hours before)",
        min_value=0,
        max_value=336,
        help_text="Later cancellations by a client are recorded as late.",
    )
    slot_step_minutes = forms.TypedChoiceField(
        label="Offer start times",
        choices=[(m, f"every {m} minutes") for m in SLOT_STEPS],
        coerce=int,
    )


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time; `aware` places it in the person's zone and explains clock changes."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def to_python(self, value: Any) -> datetime.datetime | None:
        # Read in UTC, which has no clock changes, so Django does not refuse a skipped or
        # repeated local time with a generic message before `aware` can say what happened.
        with timezone.override(datetime.UTC):
            return super().to_python(value)


def aware(moment: datetime.datetime, time_zone: str, field: str = "starts_at") -> datetime.datetime:
    """A wall-clock time from a form, read in the viewer's zone.

    A time that does not exist there (skipped when the clocks go forward) or exists twice
    (when they go back) is refused with a reason rather than silently moved.
    """
    wall = moment.replace(tzinfo=None)
    zone = zoneinfo.ZoneInfo(time_zone)
    first, second = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != wall
        reason = (
            f"{wall:%H:%M} does not exist on that day in {time_zone}: the clocks go forward."
            if skipped
            else f"{wall:%H:%M} happens twice on that day in {time_zone}: the clocks go back. "
            "Choose a time outside that hour."
        )
        raise InvalidInput(reason, field_errors={field: [reason]})
    return first


class BookForClientForm(forms.Form):
    relationship = forms.TypedChoiceField(label="Client", coerce=int)
    session_type = forms.TypedChoiceField(label="Session", coerce=int)
    starts_at = LocalDateTimeField(label="Starts at")


class ProposeForm(forms.Form):
    relationship = forms.TypedChoiceField(label="Client", coerce=int)
    session_type = forms.TypedChoiceField(label="Session", coerce=int)
    time1 = LocalDateTimeField(label="First time")
    time2 = LocalDateTimeField(label="Second time", required=False)
    time3 = LocalDateTimeField(label="Third time", required=False)


class BlockForm(forms.Form):
    starts_at = LocalDateTimeField(label="Block from")
    ends_at = LocalDateTimeField(label="until")
    label = forms.CharField(label="Note for yourself", max_length=80, required=False)
