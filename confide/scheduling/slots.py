"""Open slots: pure arithmetic on a therapist's availability and what is already booked.

Standard library only; no Django. Rules, the same for every function here:

* Every datetime taken or returned is timezone-aware; results are in UTC.
* Availability is wall-clock time in the therapist's zone: weekly periods, minus whole days off
  and hours off, plus extra hours, on the therapist's local calendar; then minus away periods
  (UTC). A wall time that occurs twice (clocks go back) means its first occurrence; one that
  never occurs (clocks go forward over it) means the instant the clocks jumped -- the same rule
  as the reply windows (`confide.rooms.windows`). So on a DST night a period's real length
  differs from its nominal one, and offered sessions always last their real `minutes`.
* Start times lie on a grid of `step` minutes of real time from the start of each available
  period. A session fits when `[start, start + minutes)` lies inside one available period.
* A session blocks `[start, start + minutes + buffer)`; it may not overlap any busy interval
  (other bookings, each with its own buffer). The buffer may run past the end of availability.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
import enum
import functools
from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from confide.rooms.windows import wall_to_utc

UTC = datetime.UTC
Interval = tuple[datetime.datetime, datetime.datetime]
WallPeriod = tuple[datetime.time, datetime.time]

_ONE_DAY = datetime.timedelta(days=1)


class Refusal(enum.Enum):
    """Why a start time cannot be booked (the value is the message people read)."""

    IN_THE_PAST = "That time has already passed."
    INSIDE_NOTICE = "That is too soon: your therapist needs more notice for a booking."
    BEYOND_HORIZON = "That is too far ahead: bookings open a limited time in advance."
    OUTSIDE_AVAILABILITY = "Your therapist is not available at that time."
    NOT_A_START_TIME = "Sessions start on the times offered; choose one of the open slots."
    OVERLAPPING = "That time is already taken. Please choose another slot."


@dataclasses.dataclass(frozen=True, slots=True)
class Availability:
    """When a therapist can be booked. Hashable, so its daily periods can be cached."""

    time_zone: str
    weekly: tuple[tuple[int, datetime.time, datetime.time], ...]  # weekday 0=Mon, start, end
    off_days: frozenset[datetime.date] = frozenset()
    off_hours: tuple[tuple[datetime.date, datetime.time, datetime.time], ...] = ()
    extra: tuple[tuple[datetime.date, datetime.time, datetime.time], ...] = ()
    away: tuple[Interval, ...] = ()  # UTC, [from, to)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # raises on an unknown zone
        for periods in (self.weekly, self.off_hours, self.extra):
            for _key, start, end in periods:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError("wall-clock times carry no tzinfo")
                if end <= start:
                    raise ValueError(f"a period must end after it starts: {start}-{end}")
        for begin, finish in self.away:
            _aware(begin), _aware(finish)


@dataclasses.dataclass(frozen=True, slots=True)
class Rules:
    """What one kind of session needs."""

    minutes: int
    buffer_minutes: int = 0
    step_minutes: int = 30
    notice: datetime.timedelta = datetime.timedelta(0)
    horizon: datetime.timedelta = datetime.timedelta(days=60)

    def __post_init__(self) -> None:
        if self.minutes <= 0 or self.step_minutes <= 0 or self.buffer_minutes < 0:
            raise ValueError("minutes and step must be positive, buffer not negative")

    @property
    def length(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.minutes)

    @property
    def blocking(self) -> datetime.timedelta:
        return datetime.timedelta(minutes=self.minutes + self.buffer_minutes)


class Busy:
    """Busy intervals, merged and sorted once, for fast overlap questions."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        merged: list[Interval] = []
        # Rows from the database are in UTC already; converting 10^3 of them is measurable.
        utc = ((_in_utc(a), _in_utc(b)) for a, b in intervals)
        for begin, finish in sorted(utc):
            if finish <= begin:
                continue
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
            else:
                merged.append((begin, finish))
        self._starts = [a for a, _ in merged]
        self._ends = [b for _, b in merged]

    def overlaps(self, begin: datetime.datetime, finish: datetime.datetime) -> bool:
        index = bisect.bisect_right(self._ends, begin)
        return index < len(self._starts) and self._starts[index] < finish


def periods(
    availability: Availability, start: datetime.datetime, end: datetime.datetime
) -> list[Interval]:
    """The available periods (UTC, sorted, disjoint) that overlap `[start, end)`."""
    start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
    zone = ZoneInfo(availability.time_zone)
    day = start.astimezone(zone).date() - _ONE_DAY
    last = end.astimezone(zone).date() + _ONE_DAY
    result: list[Interval] = []
    while day <= last:
        for begin, finish in _day_periods(availability, day):
            if finish > start and begin < end:
                result.append((begin, finish))
        day += _ONE_DAY
    return _subtract(_merge(sorted(result)), sorted(availability.away))


def open_slots(
    *,
    availability: Availability,
    rules: Rules,
    busy: Busy,
    start: datetime.datetime,
    end: datetime.datetime,
    now: datetime.datetime,
) -> list[datetime.datetime]:
    """Bookable start times in `[start, end)`, in order (UTC)."""
    start, end, now = (_aware(x).astimezone(UTC) for x in (start, end, now))
    earliest = max(start, now + rules.notice)
    latest = min(end, now + rules.horizon)
    if latest <= earliest:
        return []
    step = datetime.timedelta(minutes=rules.step_minutes)
    length, blocking = rules.length, rules.blocking
    slots: list[datetime.datetime] = []
    for begin, finish in periods(availability, earliest, latest + length):
        moment = begin
        if moment < earliest:  # skip to the first grid point at or after `earliest`
            moment += step * -((begin - earliest) // step)
        while moment + length <= finish and moment < latest:
            if not busy.overlaps(moment, moment + blocking):
                slots.append(moment)
            moment += step
    return slots


def refusal(
    *,
    availability: Availability,
    rules: Rules,
    busy: Busy,
    start: datetime.datetime,
    now: datetime.datetime,
) -> Refusal | None:
    """Why a client could not book `start`, or None if they can. The most basic reason wins."""
    start, now = _aware(start).astimezone(UTC), _aware(now).astimezone(UTC)
    if start <= now:
        return Refusal.IN_THE_PAST
    if start < now + rules.notice:
        return Refusal.INSIDE_NOTICE
    if start >= now + rules.horizon:
        return Refusal.BEYOND_HORIZON
    period = next(
        (
            (begin, finish)
            for begin, finish in periods(availability, start, start + rules.length)
            if begin <= start and start + rules.length <= finish
        ),
        None,
    )
    if period is None:
        return Refusal.OUTSIDE_AVAILABILITY
    if (start - period[0]) % datetime.timedelta(minutes=rules.step_minutes):
        return Refusal.NOT_A_START_TIME
    if busy.overlaps(start, start + rules.blocking):
        return Refusal.OVERLAPPING
    return None


def local_day_bounds(day: datetime.date, time_zone: str) -> Interval:
    """The UTC instants at which local date `day` begins and the next one begins."""
    zone = ZoneInfo(time_zone)
    return (
        wall_to_utc(day, datetime.time(0), zone),
        wall_to_utc(day + _ONE_DAY, datetime.time(0), zone),
    )


# --- internals ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def _day_periods(availability: Availability, day: datetime.date) -> tuple[Interval, ...]:
    """Local date `day`'s available periods in UTC (before away periods)."""
    zone = ZoneInfo(availability.time_zone)
    wall: list[WallPeriod] = []
    if day not in availability.off_days:
        wall = [(s, e) for weekday, s, e in availability.weekly if weekday == day.weekday()]
        off = [(s, e) for d, s, e in availability.off_hours if d == day]
        if off:
            wall = _subtract_wall(wall, off)
    wall += [(s, e) for d, s, e in availability.extra if d == day]
    intervals = sorted(
        (wall_to_utc(day, s, zone), wall_to_utc(day, e, zone)) for s, e in wall if e > s
    )
    return tuple(_merge((a, b) for a, b in intervals if b > a))


def _subtract_wall(periods_: list[WallPeriod], holes: Sequence[WallPeriod]) -> list[WallPeriod]:
    result = periods_
    for hole_start, hole_end in holes:
        cut: list[WallPeriod] = []
        for start, end in result:
            if hole_end <= start or end <= hole_start:
                cut.append((start, end))
                continue
            if start < hole_start:
                cut.append((start, hole_start))
            if hole_end < end:
                cut.append((hole_end, end))
        result = cut
    return result


def _merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for begin, finish in intervals:
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
        else:
            merged.append((begin, finish))
    return merged


def _subtract(intervals: list[Interval], holes: list[Interval]) -> list[Interval]:
    if not holes:
        return intervals
    result: list[Interval] = []
    for begin, finish in intervals:
        for hole_start, hole_end in holes:
            if hole_end <= begin or finish <= hole_start:
                continue
            if hole_start > begin:
                result.append((begin, hole_start))
            begin = max(begin, hole_end)
            if begin >= finish:
                break
        if begin < finish:
            result.append((begin, finish))
    return result


def _in_utc(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo is UTC else _aware(value).astimezone(UTC)


def _aware(value: datetime.datetime) -> datetime.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"timezone-aware datetimes only: {value!r}")
    return value
