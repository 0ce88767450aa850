"""Tests for reply windows (pure logic: no database)."""

from __future__ import annotations

import datetime
import time
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.rooms.windows import (
    NoWorkingTime,
    WorkingSchedule,
    format_due,
    is_working_time,
    next_working_time,
    reply_due,
    working_seconds_between,
)

UTC = datetime.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
SYDNEY = ZoneInfo("Australia/Sydney")
HOUR = 3600.0


def at(
    zone: datetime.tzinfo,
    year: int,
    month: int,
    day: int,
    hour: int = 0,
    minute: int = 0,
    second: int = 0,
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=zone)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return at(UTC, year, month, day, hour, minute)


def every_day(zone: str, start: datetime.time, end: datetime.time) -> WorkingSchedule:
    return WorkingSchedule(zone, frozenset(range(7)), start, end)


london = WorkingSchedule.default("Europe/London", "GB")
new_york = WorkingSchedule.default("America/New_York", "US")


# --- the worked examples --------------------------------------------------------------------


def test_it_counts_monday_10_plus_two_days_as_wednesday_10() -> None:
    due = reply_due(at(LONDON, 2026, 6, 1, 10), london, 2)
    assert due == at(LONDON, 2026, 6, 3, 10)
    assert due.tzinfo is UTC


def test_it_counts_friday_evening_plus_two_days_as_tuesday_close_of_day() -> None:
    due = reply_due(at(LONDON, 2026, 6, 5, 20), london, 2)
    assert due == at(LONDON, 2026, 6, 9, 17)


def test_it_works_with_the_default_utc_schedule() -> None:
    schedule = WorkingSchedule.default()
    assert schedule.time_zone == "UTC"
    assert schedule.weekdays == frozenset({0, 1, 2, 3, 4})
    assert (schedule.start, schedule.end) == (datetime.time(9), datetime.time(17))
    assert schedule.day_length == datetime.timedelta(hours=8)
    assert reply_due(utc(2024, 12, 2, 10), schedule, 2) == utc(2024, 12, 4, 10)


def test_it_takes_start_in_any_zone_and_answers_in_utc() -> None:
    start_in_tokyo = at(ZoneInfo("Asia/Tokyo"), 2026, 6, 1, 18)  # 10:00 in London (BST)
    due = reply_due(start_in_tokyo, london, 2)
    assert due == utc(2026, 6, 3, 9)
    assert due.utcoffset() == datetime.timedelta(0)


# --- weekends, holidays, out of office --------------------------------------------------------


def test_it_skips_the_weekend() -> None:
    assert reply_due(at(LONDON, 2026, 6, 4, 15), london, 2) == at(LONDON, 2026, 6, 8, 15)
    assert reply_due(at(LONDON, 2026, 6, 6, 12), london, 1) == at(LONDON, 2026, 6, 8, 17)


def test_it_skips_uk_christmas_and_the_observed_boxing_day() -> None:
    gb = holidays.country_holidays("GB", years=2026)
    assert datetime.date(2026, 12, 25) in gb  # Friday
    assert datetime.date(2026, 12, 28) in gb  # Monday: Boxing Day (observed)
    assert datetime.date(2026, 12, 29) not in gb

    # Thu 24 Dec 10:00: 7 h that day, Tue 29 Dec 8 h, then 1 h on Wed 30 Dec.
    assert reply_due(at(LONDON, 2026, 12, 24, 10), london, 2) == at(LONDON, 2026, 12, 30, 10)
    assert not is_working_time(at(LONDON, 2026, 12, 28, 11), london)
    assert next_working_time(at(LONDON, 2026, 12, 24, 18), london) == at(LONDON, 2026, 12, 29, 9)


def test_it_ignores_holidays_when_the_schedule_has_no_country() -> None:
    no_holidays = WorkingSchedule.default("Europe/London")
    assert is_working_time(at(LONDON, 2026, 12, 25, 11), no_holidays)
    assert reply_due(at(LONDON, 2026, 12, 24, 10), no_holidays, 2) == at(LONDON, 2026, 12, 28, 10)


def test_it_skips_a_us_holiday() -> None:
    assert datetime.date(2026, 11, 26) in holidays.country_holidays("US", years=2026)
    # Wed 25 Nov 12:00: 5 h, Thanksgiving skipped, Fri 8 h, Mon 3 h.
    assert reply_due(at(NEW_YORK, 2026, 11, 25, 12), new_york, 2) == at(NEW_YORK, 2026, 11, 30, 12)


def test_it_uses_the_holidays_of_the_subdivision() -> None:
    england = WorkingSchedule.default("Europe/London", "GB")
    scotland = WorkingSchedule(
        "Europe/London",
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        holiday_country="GB",
        holiday_subdivision="SCT",
    )
    start = at(LONDON, 2025, 12, 31, 16)  # New Year's Day is a holiday in both; 2 Jan in Scotland
    assert reply_due(start, england, 1) == at(LONDON, 2026, 1, 2, 16)
    assert reply_due(start, scotland, 1) == at(LONDON, 2026, 1, 5, 16)


def test_it_skips_out_of_office_spanning_days() -> None:
    schedule = WorkingSchedule(
        "Europe/London",
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        away=((at(LONDON, 2026, 6, 2, 0), at(LONDON, 2026, 6, 4, 12)),),
    )
    # Mon 10:00: 7 h Monday, away Tue-Thu noon, Thu 12-17 5 h, Fri 9-13 4 h.
    assert reply_due(at(LONDON, 2026, 6, 1, 10), schedule, 2) == at(LONDON, 2026, 6, 5, 13)
    assert not is_working_time(at(LONDON, 2026, 6, 3, 11), schedule)
    assert is_working_time(at(LONDON, 2026, 6, 4, 12), schedule)
    assert next_working_time(at(LONDON, 2026, 6, 1, 18), schedule) == at(LONDON, 2026, 6, 4, 12)
    week = working_seconds_between(at(LONDON, 2026, 6, 1), at(LONDON, 2026, 6, 8), schedule)
    assert week == (8 + 5 + 8) * HOUR


def test_it_merges_overlapping_away_periods_given_in_any_order_and_zone() -> None:
    schedule = WorkingSchedule(
        "Europe/London",
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        away=(
            (at(NEW_YORK, 2026, 6, 1, 8), at(NEW_YORK, 2026, 6, 1, 10)),  # 13:00-15:00 London
            (at(LONDON, 2026, 6, 1, 10), at(LONDON, 2026, 6, 1, 14)),
            (at(LONDON, 2026, 6, 1, 16), at(LONDON, 2026, 6, 1, 16, 30)),
        ),
    )
    day = working_seconds_between(at(LONDON, 2026, 6, 1), at(LONDON, 2026, 6, 2), schedule)
    assert day == 1 * HOUR + 1 * HOUR + 0.5 * HOUR  # 9-10, 15-16, 16:30-17
    assert is_working_time(at(LONDON, 2026, 6, 1, 15, 30), schedule)
    assert not is_working_time(at(LONDON, 2026, 6, 1, 16, 10), schedule)
    assert reply_due(at(LONDON, 2026, 6, 1, 9), schedule, 1) == at(LONDON, 2026, 6, 2, 14, 30)


# --- during, before and after working hours ----------------------------------------------------


def test_it_treats_a_message_during_working_hours_as_already_in_working_time() -> None:
    sent = at(LONDON, 2026, 6, 1, 13, 15)
    assert is_working_time(sent, london)
    assert next_working_time(sent, london) == sent
    assert reply_due(sent, london, 1) == at(LONDON, 2026, 6, 2, 13, 15)


def test_it_starts_the_clock_at_opening_for_a_message_before_hours() -> None:
    sent = at(LONDON, 2026, 6, 1, 7)
    assert not is_working_time(sent, london)
    assert next_working_time(sent, london) == at(LONDON, 2026, 6, 1, 9)
    assert reply_due(sent, london, 1) == at(LONDON, 2026, 6, 1, 17)


def test_it_starts_the_clock_next_working_day_for_a_message_after_hours() -> None:
    sent = at(LONDON, 2026, 6, 1, 18)
    assert not is_working_time(sent, london)
    assert next_working_time(sent, london) == at(LONDON, 2026, 6, 2, 9)
    assert reply_due(sent, london, 1) == at(LONDON, 2026, 6, 2, 17)


def test_it_treats_opening_as_working_and_closing_as_not() -> None:
    assert is_working_time(at(LONDON, 2026, 6, 1, 9), london)
    assert not is_working_time(at(LONDON, 2026, 6, 1, 17), london)
    assert next_working_time(at(LONDON, 2026, 6, 5, 17), london) == at(LONDON, 2026, 6, 8, 9)


def test_it_gives_the_next_working_time_for_the_out_of_hours_notice() -> None:
    saturday = at(LONDON, 2026, 6, 6, 11)
    opens = next_working_time(saturday, london)
    assert opens == at(LONDON, 2026, 6, 8, 9)
    assert opens.tzinfo is UTC
    assert format_due(opens, "Europe/London", saturday) == "Expected by Mon 8 Jun, 09:00"


def test_it_measures_working_seconds_between_two_moments() -> None:
    monday, next_monday = at(LONDON, 2026, 6, 1), at(LONDON, 2026, 6, 8)
    assert working_seconds_between(monday, next_monday, london) == 5 * 8 * HOUR
    assert working_seconds_between(next_monday, monday, london) == 0.0
    assert working_seconds_between(monday, monday, london) == 0.0
    assert working_seconds_between(
        at(LONDON, 2026, 6, 1, 16), at(LONDON, 2026, 6, 2, 10), london
    ) == (2 * HOUR)
    christmas_week = working_seconds_between(
        at(LONDON, 2026, 12, 21), at(LONDON, 2026, 12, 28), london
    )
    assert christmas_week == 4 * 8 * HOUR
    assert working_seconds_between(utc(2020, 1, 1), utc(2030, 1, 1), london) > 0


# --- viewing in another zone ------------------------------------------------------------------


def test_it_shows_a_new_york_due_time_to_a_client_in_sydney() -> None:
    sent = at(SYDNEY, 2024, 12, 2, 10)  # Sun 1 Dec 18:00 in New York
    due = reply_due(sent, new_york, 2)
    assert due == at(NEW_YORK, 2024, 12, 3, 17)
    assert format_due(due, "America/New_York", sent) == "Expected by Tue 3 Dec, 17:00"
    assert format_due(due, "Australia/Sydney", sent) == "Expected by Wed 4 Dec, 09:00"


def test_it_says_today_and_tomorrow_in_the_viewers_zone() -> None:
    now = at(LONDON, 2026, 6, 1, 10)
    assert (
        format_due(at(LONDON, 2026, 6, 1, 17), "Europe/London", now) == "Expected by today, 17:00"
    )
    assert (
        format_due(at(LONDON, 2026, 6, 2, 9, 30), "Europe/London", now)
        == "Expected by tomorrow, 09:30"
    )
    # 17:00 Mon in London is 02:00 Tue in Sydney, where `now` is still Monday (19:00).
    assert format_due(at(LONDON, 2026, 6, 1, 17), "Australia/Sydney", now) == (
        "Expected by tomorrow, 02:00"
    )
    assert (
        format_due(at(LONDON, 2026, 6, 3, 9), "Europe/London", now)
        == "Expected by Wed 3 Jun, 09:00"
    )


def test_it_shows_the_year_only_when_it_differs_from_now() -> None:
    now = at(LONDON, 2026, 12, 30, 10)
    assert (
        format_due(at(LONDON, 2027, 1, 4, 9), "Europe/London", now)
        == "Expected by Mon 4 Jan 2027, 09:00"
    )
    assert format_due(at(LONDON, 2026, 12, 24, 9), "Europe/London", now) == (
        "Expected by Thu 24 Dec, 09:00"
    )


def test_it_rounds_a_due_time_with_seconds_up_to_the_next_minute() -> None:
    now = at(LONDON, 2026, 6, 1, 10)
    due = at(LONDON, 2026, 6, 3, 10, 0, 30)
    assert format_due(due, "Europe/London", now) == "Expected by Wed 3 Jun, 10:01"
    assert format_due(at(LONDON, 2026, 6, 3, 23, 59, 1), "Europe/London", now) == (
        "Expected by Thu 4 Jun, 00:00"
    )


# --- daylight saving time ----------------------------------------------------------------------


def test_it_handles_the_london_spring_forward_week() -> None:
    # Clocks go forward at 01:00 UTC on Sun 29 Mar 2026; 09:00-17:00 keeps its local meaning.
    due = reply_due(at(LONDON, 2026, 3, 27, 16), london, 2)
    assert due == at(LONDON, 2026, 3, 31, 16)
    assert due == utc(2026, 3, 31, 15)
    week = working_seconds_between(at(LONDON, 2026, 3, 23), at(LONDON, 2026, 3, 30), london)
    assert week == 5 * 8 * HOUR


def test_it_handles_the_london_fall_back_week() -> None:
    # Clocks go back at 01:00 UTC on Sun 25 Oct 2026.
    due = reply_due(at(LONDON, 2026, 10, 23, 16), london, 2)
    assert due == at(LONDON, 2026, 10, 27, 16)
    assert due == utc(2026, 10, 27, 16)
    assert next_working_time(utc(2026, 10, 24, 12), london) == utc(2026, 10, 26, 9)


def test_it_handles_a_new_york_spring_forward_weekend() -> None:
    due = reply_due(at(NEW_YORK, 2026, 3, 6, 16), new_york, 1)
    # Fri 16-17 EST, then 7 h on Monday, which is already on EDT.
    assert due == at(NEW_YORK, 2026, 3, 9, 16)
    assert due == utc(2026, 3, 9, 20)


def test_it_counts_real_seconds_on_a_short_spring_forward_night() -> None:
    nights = every_day("Europe/London", datetime.time(0, 30), datetime.time(3))
    assert nights.day_length == datetime.timedelta(hours=2, minutes=30)
    # 00:30 GMT to 03:00 BST is only 1.5 h of real time.
    short = working_seconds_between(at(LONDON, 2026, 3, 29), at(LONDON, 2026, 3, 29, 12), nights)
    assert short == 1.5 * HOUR
    # Sat 2.5 h + Sun 1.5 h + 1 h on Monday = 2 nominal days of 2.5 h.
    due = reply_due(at(LONDON, 2026, 3, 28, 0, 30), nights, 2)
    assert due == at(LONDON, 2026, 3, 30, 1, 30)
    assert due == utc(2026, 3, 30, 0, 30)


def test_it_counts_real_seconds_on_a_long_fall_back_night() -> None:
    nights = every_day("Europe/London", datetime.time(0, 30), datetime.time(3))
    # 00:30 BST (23:30 UTC on Saturday) to 03:00 GMT is 3.5 h of real time.
    long = working_seconds_between(
        at(LONDON, 2026, 10, 24, 12), at(LONDON, 2026, 10, 25, 12), nights
    )
    assert long == 3.5 * HOUR
    assert is_working_time(utc(2026, 10, 25, 1, 30), nights)  # the repeated 01:30, second time
    # Sat 2.5 h, then 2.5 h more from 23:30 UTC on Saturday.
    due = reply_due(at(LONDON, 2026, 10, 24, 0, 30), nights, 2)
    assert due == utc(2026, 10, 25, 2)


def test_it_starts_a_day_whose_opening_falls_in_the_dst_gap_when_the_clocks_jump() -> None:
    nights = every_day("Europe/London", datetime.time(1, 30), datetime.time(3))
    # 01:30 does not exist on 29 Mar 2026: the day opens at the jump, 01:00 UTC (02:00 BST).
    assert next_working_time(utc(2026, 3, 28, 12), nights) == utc(2026, 3, 29, 1)
    assert not is_working_time(utc(2026, 3, 29, 0, 59), nights)
    day = working_seconds_between(utc(2026, 3, 29), utc(2026, 3, 30), nights)
    assert day == 1 * HOUR


def test_it_opens_at_the_first_occurrence_of_a_repeated_wall_time() -> None:
    nights = every_day("Europe/London", datetime.time(1, 30), datetime.time(3))
    # 01:30 happens twice on 25 Oct 2026: 00:30 UTC (BST) and 01:30 UTC (GMT).
    assert next_working_time(utc(2026, 10, 24, 12), nights) == utc(2026, 10, 25, 0, 30)
    day = working_seconds_between(utc(2026, 10, 25), utc(2026, 10, 26), nights)
    assert day == 2.5 * HOUR


def test_it_skips_a_day_that_never_happened() -> None:
    # Samoa skipped Friday 30 Dec 2011 when it crossed the date line.
    apia = WorkingSchedule.default("Pacific/Apia")
    thursday = at(ZoneInfo("Pacific/Apia"), 2011, 12, 29, 10)
    assert reply_due(thursday, apia, 1) == at(ZoneInfo("Pacific/Apia"), 2012, 1, 2, 10)


# --- invalid input -----------------------------------------------------------------------------


NAIVE = datetime.datetime(2026, 6, 1, 10)  # noqa: DTZ001 - deliberately naive


def test_it_rejects_naive_datetimes() -> None:
    aware = at(LONDON, 2026, 6, 1, 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_working_time(NAIVE, london)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_working_time(NAIVE, london)
    with pytest.raises(ValueError, match="timezone-aware"):
        reply_due(NAIVE, london, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds_between(NAIVE, aware, london)
    with pytest.raises(ValueError, match="timezone-aware"):
        working_seconds_between(aware, NAIVE, london)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_due(NAIVE, "Europe/London", aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        format_due(aware, "Europe/London", NAIVE)
    with pytest.raises(ValueError, match="timezone-aware"):
        WorkingSchedule(
            "UTC", frozenset({0}), datetime.time(9), datetime.time(17), away=((NAIVE, aware),)
        )


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime.time(17), datetime.time(9)),
        (datetime.time(9), datetime.time(9)),
        (datetime.time(9, 0, 1), datetime.time(9)),
    ],
)
def test_it_rejects_an_end_not_after_the_start(start: datetime.time, end: datetime.time) -> None:
    with pytest.raises(ValueError, match="must be after start"):
        WorkingSchedule("UTC", frozenset(range(5)), start, end)


@pytest.mark.parametrize("business_days", [0, 31, -1, True])
def test_it_rejects_business_days_outside_1_to_30(business_days: int) -> None:
    with pytest.raises(ValueError, match="business_days"):
        reply_due(at(LONDON, 2026, 6, 1, 10), london, business_days)


def test_it_accepts_1_and_30_business_days() -> None:
    start = at(LONDON, 2026, 6, 1, 9)
    assert reply_due(start, london, 1) == at(LONDON, 2026, 6, 1, 17)
    assert reply_due(start, london, 30) == at(LONDON, 2026, 7, 10, 17)


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../../etc/passwd", "not a zone"])
def test_it_rejects_an_unknown_time_zone(zone: str) -> None:
    with pytest.raises(ValueError, match="time zone"):
        WorkingSchedule.default(zone)
    with pytest.raises(ValueError, match="time zone"):
        format_due(at(LONDON, 2026, 6, 1, 10), zone, at(LONDON, 2026, 6, 1, 9))


def test_it_rejects_other_invalid_schedules() -> None:
    nine, five = datetime.time(9), datetime.time(17)
    with pytest.raises(ValueError, match="weekdays"):
        WorkingSchedule("UTC", frozenset({7}), nine, five)
    with pytest.raises(ValueError, match="weekdays"):
        WorkingSchedule("UTC", frozenset({-1}), nine, five)
    with pytest.raises(ValueError, match="tzinfo"):
        WorkingSchedule("UTC", frozenset({0}), datetime.time(9, tzinfo=UTC), five)
    with pytest.raises(ValueError, match="holiday calendar"):
        WorkingSchedule.default("UTC", "XX")
    with pytest.raises(ValueError, match="holiday calendar"):
        WorkingSchedule("UTC", frozenset({0}), nine, five, "GB", "ZZZ")
    with pytest.raises(ValueError, match="needs a holiday_country"):
        WorkingSchedule("UTC", frozenset({0}), nine, five, None, "SCT")
    with pytest.raises(ValueError, match="end after it starts"):
        WorkingSchedule(
            "UTC", frozenset({0}), nine, five, away=((utc(2026, 6, 2), utc(2026, 6, 1)),)
        )


def test_it_normalises_weekdays_and_stays_hashable() -> None:
    schedule = WorkingSchedule("UTC", {0, 1, 2}, datetime.time(9), datetime.time(17))  # type: ignore[arg-type]
    assert schedule.weekdays == frozenset({0, 1, 2})
    assert hash(schedule) == hash(
        WorkingSchedule("UTC", frozenset({2, 1, 0}), datetime.time(9), datetime.time(17))
    )


# --- no working time ---------------------------------------------------------------------------


def test_it_raises_no_working_time_for_a_schedule_without_weekdays() -> None:
    never = WorkingSchedule("UTC", frozenset(), datetime.time(9), datetime.time(17))
    with pytest.raises(NoWorkingTime):
        reply_due(utc(2026, 6, 1, 10), never, 2)
    with pytest.raises(NoWorkingTime):
        next_working_time(utc(2026, 6, 1, 10), never)
    assert not is_working_time(utc(2026, 6, 1, 10), never)
    assert working_seconds_between(utc(2026, 6, 1), utc(2026, 7, 1), never) == 0.0
    assert issubclass(NoWorkingTime, ValueError)


def test_it_raises_no_working_time_when_away_for_more_than_the_horizon() -> None:
    away_a_year = WorkingSchedule(
        "Europe/London",
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        away=((utc(2026, 6, 1), utc(2027, 8, 1)),),
    )
    with pytest.raises(NoWorkingTime):
        reply_due(utc(2026, 6, 1, 10), away_a_year, 2)
    with pytest.raises(ValueError, match="no working time"):
        next_working_time(utc(2026, 6, 1, 10), away_a_year)


def test_it_finds_working_time_after_a_long_absence_inside_the_horizon() -> None:
    away_most_of_a_year = WorkingSchedule(
        "Europe/London",
        frozenset(range(5)),
        datetime.time(9),
        datetime.time(17),
        away=((utc(2026, 6, 1), at(LONDON, 2027, 5, 3)),),  # back on Mon 3 May 2027
    )
    assert reply_due(utc(2026, 6, 1, 10), away_most_of_a_year, 1) == at(LONDON, 2027, 5, 3, 17)


# --- speed ---------------------------------------------------------------------------------------


def test_it_computes_a_due_time_in_well_under_a_millisecond() -> None:
    starts = [at(LONDON, 2026, 1, 1) + datetime.timedelta(minutes=37 * i) for i in range(2000)]
    reply_due(starts[0], london, 2)  # warm the holiday cache
    began = time.perf_counter()
    for start in starts:
        reply_due(start, london, 2)
    per_call = (time.perf_counter() - began) / len(starts)
    assert per_call < 0.005  # generous: a loaded CI machine, and still far from a slow loop


# --- properties ----------------------------------------------------------------------------------

ZONES = (
    "UTC",
    "Europe/London",
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45/+13:45
    "America/Havana",  # transitions at midnight
    "America/Santiago",  # transitions at 24:00
    "America/St_Johns",
    "Pacific/Apia",  # skipped a whole day in 2011
    "Asia/Tehran",
)
EPOCH = datetime.datetime(2000, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 40 * 365 * 86400

minutes_of_day = st.integers(min_value=0, max_value=24 * 60 - 1)


@st.composite
def schedules(
    draw: st.DrawFn,
    zones: tuple[str, ...] = ZONES,
    minutes: st.SearchStrategy[int] = minutes_of_day,
) -> WorkingSchedule:
    first, second = draw(minutes), draw(minutes)
    if first == second:
        second = first + 1 if first < 24 * 60 - 1 else first - 1
    start, end = sorted((first, second))
    away = draw(
        st.lists(
            st.tuples(
                st.integers(min_value=0, max_value=SPAN_SECONDS // 60),
                st.integers(min_value=1, max_value=20 * 24 * 60),
            ),
            max_size=3,
        )
    )
    return WorkingSchedule(
        time_zone=draw(st.sampled_from(zones)),
        weekdays=draw(st.frozensets(st.integers(min_value=0, max_value=6), min_size=1)),
        start=datetime.time(start // 60, start % 60),
        end=datetime.time(end // 60, end % 60),
        holiday_country=draw(st.sampled_from([None, "GB", "US", "AU"])),
        away=tuple(
            (
                EPOCH + datetime.timedelta(minutes=offset),
                EPOCH + datetime.timedelta(minutes=offset + length),
            )
            for offset, length in away
        ),
    )


@st.composite
def moments(draw: st.DrawFn) -> datetime.datetime:
    """Whole-second aware datetimes in 2000-2040, in a random zone."""
    instant = EPOCH + datetime.timedelta(seconds=draw(st.integers(0, SPAN_SECONDS)))
    return instant.astimezone(ZoneInfo(draw(st.sampled_from(ZONES))))


def clock_changes(
    zone_name: str, first_year: int = 2010, last_year: int = 2030
) -> list[datetime.datetime]:
    """The instants (to the second) at which the zone's UTC offset changed in those years."""
    zone = ZoneInfo(zone_name)
    changes = []
    noon = datetime.datetime(first_year, 1, 1, 12, tzinfo=UTC)
    while noon.year <= last_year:
        tomorrow = noon + datetime.timedelta(days=1)
        if noon.astimezone(zone).utcoffset() != tomorrow.astimezone(zone).utcoffset():
            lo, hi = 0, 86400
            while lo < hi:
                mid = (lo + hi) // 2
                moment = noon + datetime.timedelta(seconds=mid)
                if moment.astimezone(zone).utcoffset() == noon.astimezone(zone).utcoffset():
                    lo = mid + 1
                else:
                    hi = mid
            changes.append(noon + datetime.timedelta(seconds=lo))
        noon = tomorrow
    return changes


CLOCK_CHANGES = {
    name: clock_changes(name) for name in ZONES if name != "UTC" and clock_changes(name)
}


@st.composite
def near_clock_changes(draw: st.DrawFn) -> tuple[datetime.datetime, WorkingSchedule]:
    """A moment within two days of a clock change, and a schedule in that zone (small hours)."""
    zone = draw(st.sampled_from(sorted(CLOCK_CHANGES)))
    change = draw(st.sampled_from(CLOCK_CHANGES[zone]))
    moment = change + datetime.timedelta(seconds=draw(st.integers(-2 * 86400, 2 * 86400)))
    small_hours = st.integers(min_value=0, max_value=5 * 60).map(lambda m: m * 10 % (24 * 60))
    schedule = draw(schedules(zones=(zone,), minutes=st.one_of(small_hours, minutes_of_day)))
    return moment.astimezone(ZoneInfo(zone)), schedule


business_days = st.integers(min_value=1, max_value=30)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(start=moments(), schedule=schedules(), days=business_days)
def test_it_puts_the_due_time_after_exactly_the_promised_working_time(
    start: datetime.datetime, schedule: WorkingSchedule, days: int
) -> None:
    due = reply_due(start, schedule, days)
    assert due.tzinfo is UTC
    assert due > start
    assert is_working_time(due - datetime.timedelta(seconds=1), schedule)
    promised = (schedule.day_length * days).total_seconds()
    assert abs(working_seconds_between(start, due, schedule) - promised) <= 1


@PROPERTY_SETTINGS
@given(
    start=moments(),
    later_by=st.integers(min_value=0, max_value=10 * 86400),
    schedule=schedules(),
    days=business_days,
)
def test_it_never_moves_the_due_time_earlier_for_a_later_message(
    start: datetime.datetime, later_by: int, schedule: WorkingSchedule, days: int
) -> None:
    # Add in UTC: arithmetic on a zoned datetime is wall-clock arithmetic and can go backwards.
    later = start.astimezone(UTC) + datetime.timedelta(seconds=later_by)
    assert later >= start
    assert reply_due(start, schedule, days) <= reply_due(later, schedule, days)


@PROPERTY_SETTINGS
@given(moment=moments(), schedule=schedules())
def test_it_finds_the_next_working_time_at_or_after_the_moment(
    moment: datetime.datetime, schedule: WorkingSchedule
) -> None:
    opens = next_working_time(moment, schedule)
    assert opens >= moment
    assert opens.tzinfo is UTC
    assert is_working_time(opens, schedule)
    assert working_seconds_between(moment, opens, schedule) == 0.0
    if is_working_time(moment, schedule):
        assert opens == moment


@PROPERTY_SETTINGS
@given(
    moment=moments(),
    schedule=schedules(zones=("Europe/London", "America/New_York", "Australia/Sydney")).filter(
        lambda s: s.start >= datetime.time(4)
    ),
)
def test_it_agrees_with_the_wall_clock_away_from_dst_transitions(
    moment: datetime.datetime, schedule: WorkingSchedule
) -> None:
    # These zones change their clocks between 01:00 and 03:00, before any of these schedules open.
    local = moment.astimezone(ZoneInfo(schedule.time_zone))
    holiday = schedule.holiday_country is not None and local.date() in holidays.country_holidays(
        schedule.holiday_country, years=local.year
    )
    away = any(begin <= moment < end for begin, end in schedule.away)
    expected = (
        local.weekday() in schedule.weekdays
        and not holiday
        and not away
        and schedule.start <= local.time() < schedule.end
    )
    assert is_working_time(moment, schedule) is expected


@PROPERTY_SETTINGS
@given(case=near_clock_changes(), days=st.integers(min_value=1, max_value=3))
def test_it_keeps_its_promises_around_clock_changes(
    case: tuple[datetime.datetime, WorkingSchedule], days: int
) -> None:
    start, schedule = case
    due = reply_due(start, schedule, days)
    assert due > start
    assert is_working_time(due - datetime.timedelta(seconds=1), schedule)
    promised = (schedule.day_length * days).total_seconds()
    assert abs(working_seconds_between(start, due, schedule) - promised) <= 1
    later = reply_due(start.astimezone(UTC) + datetime.timedelta(minutes=30), schedule, days)
    assert due <= later
    opens = next_working_time(start, schedule)
    assert opens >= start
    assert is_working_time(opens, schedule)
    assert working_seconds_between(start, opens, schedule) == 0.0


def test_it_knows_the_clock_changes_it_tests_around() -> None:
    assert utc(2026, 3, 29, 1) in CLOCK_CHANGES["Europe/London"]
    assert utc(2026, 10, 25, 1) in CLOCK_CHANGES["Europe/London"]
    assert set(CLOCK_CHANGES) >= {"Pacific/Apia", "Australia/Lord_Howe", "America/Santiago"}
