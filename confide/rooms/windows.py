"""Reply windows: when a therapist has promised to answer an asynchronous message.

Pure logic (standard library plus ``holidays``); no Django models. A therapist works to a
:class:`WorkingSchedule` -- wall-clock hours on some weekdays in their own time zone, minus the
public holidays of their country and any out-of-office periods. :func:`reply_due` adds a number of
*business days* of working time to the moment a message was sent; :func:`format_due` renders the
result for the client in the client's own zone.

Time rules, applied the same way by every function here:

* Every datetime taken or returned is timezone-aware (naive input raises ``ValueError``). Results
  are in UTC.
* Working hours are local wall-clock times. A working day runs from ``start`` to ``end`` on the
  local calendar, so on a DST change day its real length differs from the nominal one (London's
  00:30-03:00 lasts 1.5 h on the spring-forward night and 3.5 h on the fall-back night). The
  everyday 09:00-17:00 is never touched by London's or New York's transitions.
* A wall time that occurs twice (clocks go back) means its first occurrence. A wall time that
  never occurs (clocks go forward over it) means the instant the clocks jumped.
* "One business day" is the *nominal* ``end - start`` (8 h for 09:00-17:00). :func:`reply_due`
  counts real elapsed seconds of working time until ``business_days`` x that length have passed,
  so the due time may land at a different wall time after a short or long DST day.
* An out-of-office period ``[from, to)`` removes working time exactly; the remainder of a partly
  away day still counts.
* A search for working time gives up with :class:`NoWorkingTime` once 400 consecutive days have
  passed without any.
"""

from __future__ import annotations

import bisect
import datetime
import functools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "MAX_BUSINESS_DAYS",
    "NoWorkingTime",
    "WorkingSchedule",
    "format_due",
    "is_working_time",
    "next_working_time",
    "reply_due",
    "working_seconds_between",
]

UTC = datetime.UTC
MAX_BUSINESS_DAYS = 30
SEARCH_HORIZON_DAYS = 400

_ONE_DAY = datetime.timedelta(days=1)
_ZERO = datetime.timedelta(0)
_WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Interval = tuple[datetime.datetime, datetime.datetime]


class NoWorkingTime(ValueError):
    """The schedule has no working time within the search horizon (400 consecutive days)."""


@dataclass(frozen=True, slots=True)
class WorkingSchedule:
    """When a therapist works. Validated on construction (``ValueError`` on anything invalid)."""

    time_zone: str  # IANA, e.g. "Europe/London"
    weekdays: frozenset[int]  # 0=Monday ... 6=Sunday
    start: datetime.time  # local wall-clock time, no tzinfo
    end: datetime.time  # local wall-clock time, after start
    holiday_country: str | None = None  # ISO 3166 alpha-2 for holidays.country_holidays
    holiday_subdivision: str | None = None
    away: tuple[tuple[datetime.datetime, datetime.datetime], ...] = ()  # out of office [from, to)

    def __post_init__(self) -> None:
        _zone(self.time_zone)
        weekdays = frozenset(self.weekdays)
        if any(type(day) is not int or not 0 <= day <= 6 for day in weekdays):
            raise ValueError(f"weekdays must be integers 0 (Monday) to 6 (Sunday): {weekdays!r}")
        object.__setattr__(self, "weekdays", weekdays)
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, datetime.time):
                raise ValueError(f"{name} must be a datetime.time")
            if value.tzinfo is not None:
                raise ValueError(f"{name} is a wall-clock time in time_zone; give it no tzinfo")
            object.__setattr__(self, name, value.replace(fold=0))
        if self.end <= self.start:
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise ValueError("holiday_subdivision needs a holiday_country")
        if self.holiday_country is not None:
            _check_holiday_region(self.holiday_country, self.holiday_subdivision)
        away = tuple((_aware(a, "away from"), _aware(b, "away to")) for a, b in self.away)
        for away_from, away_to in away:
            if away_to <= away_from:
                raise ValueError(f"an away period must end after it starts: {away_from}..{away_to}")
        object.__setattr__(self, "away", away)

    @classmethod
    def default(cls, time_zone: str = "UTC", holiday_country: str | None = None) -> WorkingSchedule:
        """Monday to Friday, 09:00-17:00 local."""
        return cls(
            time_zone=time_zone,
            weekdays=frozenset(range(5)),
            start=datetime.time(9),
            end=datetime.time(17),
            holiday_country=holiday_country,
        )

    @property
    def day_length(self) -> datetime.timedelta:
        """The nominal length of one working day: ``end - start`` on the wall clock."""
        return _time_offset(self.end) - _time_offset(self.start)


def is_working_time(moment: datetime.datetime, schedule: WorkingSchedule) -> bool:
    """Whether ``moment`` falls inside the schedule's working time (start inclusive, end not)."""
    moment = _aware(moment, "moment").astimezone(UTC)
    calendar = _calendar(schedule)
    today = calendar.local_date(moment)
    for day in {_day_before(today), today, _next_day(today) or today}:
        for begin, finish in calendar.pieces(day):
            if begin <= moment < finish:
                return True
    return False


def next_working_time(moment: datetime.datetime, schedule: WorkingSchedule) -> datetime.datetime:
    """``moment`` itself (in UTC) if it is working time, else the start of the next working period.

    Raises :class:`NoWorkingTime` if there is none within 400 days.
    """
    moment = _aware(moment, "moment").astimezone(UTC)
    for begin, _finish in _pieces_after(_calendar(schedule), moment):
        return max(begin, moment)
    raise AssertionError("unreachable")  # pragma: no cover - _pieces_after never runs dry


def reply_due(
    start: datetime.datetime, schedule: WorkingSchedule, business_days: int
) -> datetime.datetime:
    """When a reply is due: ``business_days`` nominal working days of working time after ``start``.

    Only working time counts (Mon 10:00 + 2 days with 09:00-17:00 is Wed 10:00; Fri 20:00 + 2 days
    is Tue 17:00). If the count runs out exactly at the end of a working period, that end is the
    due time. ``business_days`` must be 1..30. Returns an aware UTC datetime; raises
    :class:`NoWorkingTime` if 400 consecutive days pass without working time.
    """
    start = _aware(start, "start").astimezone(UTC)
    if (
        isinstance(business_days, bool)
        or not isinstance(business_days, int)
        or not 1 <= business_days <= MAX_BUSINESS_DAYS
    ):
        raise ValueError(f"business_days must be 1..{MAX_BUSINESS_DAYS}, not {business_days!r}")
    remaining = schedule.day_length * business_days
    for begin, finish in _pieces_after(_calendar(schedule), start):
        begin = max(begin, start)
        available = finish - begin
        if available >= remaining:
            return begin + remaining
        remaining -= available
    raise AssertionError("unreachable")  # pragma: no cover - _pieces_after never runs dry


def working_seconds_between(
    a: datetime.datetime, b: datetime.datetime, schedule: WorkingSchedule
) -> float:
    """Seconds of working time in ``[a, b)``; 0 if ``b <= a``. For response-time statistics."""
    a = _aware(a, "a").astimezone(UTC)
    b = _aware(b, "b").astimezone(UTC)
    if b <= a:
        return 0.0
    calendar = _calendar(schedule)
    total = _ZERO
    day: datetime.date | None = _day_before(calendar.local_date(a))
    last = _next_day(calendar.local_date(b)) or datetime.date.max
    while day is not None and day <= last:
        for begin, finish in calendar.pieces(day):
            overlap = min(finish, b) - max(begin, a)
            if overlap > _ZERO:
                total += overlap
        day = _next_day(day)
    return total.total_seconds()


def format_due(due: datetime.datetime, viewer_time_zone: str, now: datetime.datetime) -> str:
    """``"Expected by Tue 3 Dec, 17:00"`` in the viewer's zone.

    "today"/"tomorrow" replace the date when it is the viewer's today/tomorrow relative to ``now``;
    the year appears only when it differs from ``now``'s year. A due time with seconds is shown
    rounded *up* to the next minute, so the displayed promise is never earlier than the real one.
    """
    zone = _zone(viewer_time_zone)
    due = _aware(due, "due").astimezone(UTC)
    local = due.astimezone(zone)
    if local.second or local.microsecond:
        due += datetime.timedelta(seconds=60 - local.second, microseconds=-local.microsecond)
        local = due.astimezone(zone)
    today = _aware(now, "now").astimezone(zone).date()
    day = local.date()
    if day == today:
        when = "today"
    elif day.toordinal() == today.toordinal() + 1:
        when = "tomorrow"
    else:
        when = f"{_WEEKDAY_NAMES[day.weekday()]} {day.day} {_MONTH_NAMES[day.month - 1]}"
        if day.year != today.year:
            when += f" {day.year}"
    return f"Expected by {when}, {local:%H:%M}"


# --- internals ---------------------------------------------------------------------------------


class _Calendar:
    """A schedule prepared for fast day-by-day lookups (zone, holidays, merged away periods)."""

    __slots__ = ("_away_ends", "_away_starts", "_country", "_subdivision", "_zone", "schedule")

    def __init__(self, schedule: WorkingSchedule) -> None:
        self.schedule = schedule
        self._zone = _zone(schedule.time_zone)
        self._country = schedule.holiday_country
        self._subdivision = schedule.holiday_subdivision
        merged = _merge(sorted((a.astimezone(UTC), b.astimezone(UTC)) for a, b in schedule.away))
        self._away_starts = [a for a, _ in merged]
        self._away_ends = [b for _, b in merged]

    def local_date(self, moment: datetime.datetime) -> datetime.date:
        return moment.astimezone(self._zone).date()

    def pieces(self, day: datetime.date) -> list[Interval]:
        """The working time of local date ``day`` as ordered, disjoint UTC intervals."""
        schedule = self.schedule
        if day.weekday() not in schedule.weekdays:
            return []
        if self._country is not None and day in _holiday_dates(
            self._country, self._subdivision, day.year
        ):
            return []
        begin = wall_to_utc(day, schedule.start, self._zone)
        finish = wall_to_utc(day, schedule.end, self._zone)
        if finish <= begin:  # possible only when a DST gap swallows the whole working day
            return []
        if not self._away_starts:
            return [(begin, finish)]
        return self._subtract_away(begin, finish)

    def _subtract_away(self, begin: datetime.datetime, finish: datetime.datetime) -> list[Interval]:
        result: list[Interval] = []
        index = bisect.bisect_right(self._away_ends, begin)
        while index < len(self._away_starts) and self._away_starts[index] < finish:
            away_from, away_to = self._away_starts[index], self._away_ends[index]
            if away_from > begin:
                result.append((begin, away_from))
            begin = max(begin, away_to)
            index += 1
        if begin < finish:
            result.append((begin, finish))
        return result


@functools.lru_cache(maxsize=256)
def _calendar(schedule: WorkingSchedule) -> _Calendar:
    return _Calendar(schedule)


def _pieces_after(calendar: _Calendar, moment: datetime.datetime) -> Iterator[Interval]:
    """Working intervals ending after ``moment``, in order, without end.

    Raises :class:`NoWorkingTime` once 400 consecutive local days pass without working time.
    """
    last_worked = calendar.local_date(moment)
    day: datetime.date | None = _day_before(last_worked)
    while day is not None:
        for begin, finish in calendar.pieces(day):
            if finish > moment:
                last_worked = day
                yield begin, finish
        if (day - last_worked).days >= SEARCH_HORIZON_DAYS:
            break
        day = _next_day(day)
    raise NoWorkingTime(
        f"no working time in {SEARCH_HORIZON_DAYS} days from {last_worked} "
        f"(time zone {calendar.schedule.time_zone})"
    )


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, finish in intervals:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def wall_to_utc(day: datetime.date, wall: datetime.time, zone: ZoneInfo) -> datetime.datetime:
    """The UTC instant of wall time ``wall`` on ``day`` in ``zone`` (reply windows and slots).

    Ambiguous wall times take their first occurrence (fold=0). A wall time inside a DST gap maps
    to the instant the clocks jumped, which keeps the mapping monotonic.
    """
    local = datetime.datetime.combine(day, wall.replace(fold=0), tzinfo=zone)
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant
    # In a gap: fold=0 read it with the offset before the jump (`instant` is after the jump),
    # fold=1 with the offset after (before the jump). Find the jump to the second.
    low = local.replace(fold=1).astimezone(UTC)
    before = low.astimezone(zone).utcoffset()
    lo, hi = 0, int((instant - low).total_seconds())
    while lo < hi:
        mid = (lo + hi) // 2
        if (low + datetime.timedelta(seconds=mid)).astimezone(zone).utcoffset() == before:
            lo = mid + 1
        else:
            hi = mid
    return low + datetime.timedelta(seconds=lo)


def _next_day(day: datetime.date) -> datetime.date | None:
    return None if day == datetime.date.max else day + _ONE_DAY


def _day_before(day: datetime.date) -> datetime.date:
    return day if day == datetime.date.min else day - _ONE_DAY


def _time_offset(wall: datetime.time) -> datetime.timedelta:
    return datetime.timedelta(
        hours=wall.hour, minutes=wall.minute, seconds=wall.second, microseconds=wall.microsecond
    )


def _aware(value: datetime.datetime, name: str) -> datetime.datetime:
    if not isinstance(value, datetime.datetime):
        raise ValueError(f"{name} must be a datetime.datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware: {value!r}")
    return value


@functools.lru_cache(maxsize=128)
def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"not an IANA time zone: {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(f"unknown time zone: {name!r}") from error


@functools.lru_cache(maxsize=128)
def _check_holiday_region(country: str, subdivision: str | None) -> None:
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as error:
        raise ValueError(f"no holiday calendar for {country!r}/{subdivision!r}") from error


@functools.lru_cache(maxsize=2048)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[datetime.date]:
    """Public holidays (observed days included) of one country/subdivision in one year."""
    table = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(day for day in table if day.year == year)
