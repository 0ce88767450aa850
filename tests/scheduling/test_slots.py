"""Open slots, as pure arithmetic: grid, buffers, notice, horizon, exceptions, and time zones
around the daylight-saving changes of the US, the EU and the southern hemisphere."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from confide.scheduling.slots import Availability, Busy, Refusal, Rules, open_slots, refusal

UTC = datetime.UTC
T = datetime.time
NINE_TO_FIVE = tuple((d, T(9), T(17)) for d in range(5))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(moment: datetime.datetime, zone: str) -> str:
    return moment.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%a %d %b %H:%M")


def day_slots(
    availability: Availability,
    day: datetime.date,
    rules: Rules,
    busy: Busy | None = None,
    zone: str | None = None,
) -> list[datetime.datetime]:
    """The slots of one local day (of `zone`, default the therapist's), with no notice rules."""
    tz = zoneinfo.ZoneInfo(zone or availability.time_zone)
    start = datetime.datetime.combine(day, T(0), tzinfo=tz)
    return open_slots(
        availability=availability,
        rules=rules,
        busy=busy or Busy([]),
        start=start,
        end=start + datetime.timedelta(days=1),
        now=start - datetime.timedelta(days=1),
    )


HOURLY = Rules(minutes=50, buffer_minutes=10, step_minutes=60, horizon=datetime.timedelta(days=400))


def test_it_offers_start_times_on_the_grid_inside_the_hours() -> None:
    london = Availability(time_zone="Europe/London", weekly=((0, T(9), T(12)),))
    slots = day_slots(london, datetime.date(2027, 1, 4), Rules(minutes=50, step_minutes=30))
    assert [s.strftime("%H:%M") for s in slots] == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    # 11:30 + 50 minutes would end after 12:00.


def test_bookings_and_their_buffers_close_the_slots_they_touch() -> None:
    london = Availability(time_zone="Europe/London", weekly=((0, T(9), T(13)),))
    # A session 10:00-10:50 with 10 minutes of buffer occupies 10:00-11:00.
    busy = Busy([(utc(2027, 1, 4, 10), utc(2027, 1, 4, 11))])
    rules = Rules(minutes=50, buffer_minutes=10, step_minutes=30)
    slots = day_slots(london, datetime.date(2027, 1, 4), rules, busy)
    # 09:00 (+50+10 = 10:00) still fits; 09:30 would run into the session; 11:00 is free again.
    assert [s.strftime("%H:%M") for s in slots] == ["09:00", "11:00", "11:30", "12:00"]


def test_notice_and_horizon_limit_the_offer() -> None:
    london = Availability(time_zone="Europe/London", weekly=NINE_TO_FIVE)
    now = utc(2027, 1, 4, 10, 15)
    rules = Rules(
        minutes=50,
        step_minutes=60,
        notice=datetime.timedelta(hours=24),
        horizon=datetime.timedelta(days=2),
    )
    slots = open_slots(
        availability=london,
        rules=rules,
        busy=Busy([]),
        start=now,
        end=now + datetime.timedelta(days=30),
        now=now,
    )
    assert slots[0] == utc(2027, 1, 5, 11)  # the first whole hour after 24 h of notice
    assert slots[-1] == utc(2027, 1, 6, 10)  # the last before the two-day horizon
    assert (
        refusal(availability=london, rules=rules, busy=Busy([]), start=utc(2027, 1, 5, 9), now=now)
        is Refusal.INSIDE_NOTICE
    )
    assert (
        refusal(availability=london, rules=rules, busy=Busy([]), start=utc(2027, 1, 6, 11), now=now)
        is Refusal.BEYOND_HORIZON
    )
    assert (
        refusal(availability=london, rules=rules, busy=Busy([]), start=utc(2027, 1, 4, 9), now=now)
        is Refusal.IN_THE_PAST
    )


def test_days_off_hours_off_extra_hours_and_away_periods() -> None:
    monday, tuesday, saturday = (
        datetime.date(2027, 1, 4),
        datetime.date(2027, 1, 5),
        datetime.date(2027, 1, 9),
    )
    london = Availability(
        time_zone="Europe/London",
        weekly=((0, T(9), T(12)), (1, T(9), T(12)), (2, T(9), T(12))),
        off_days=frozenset({monday}),
        off_hours=((tuesday, T(10), T(11)),),
        extra=((saturday, T(10), T(12)),),
        away=((utc(2027, 1, 6, 0), utc(2027, 1, 7, 0)),),
    )
    rules = Rules(minutes=50, step_minutes=60)
    assert day_slots(london, monday, rules) == []
    assert [s.hour for s in day_slots(london, tuesday, rules)] == [9, 11]
    assert day_slots(london, datetime.date(2027, 1, 6), rules) == []  # away all Wednesday
    assert [s.hour for s in day_slots(london, saturday, rules)] == [10, 11]


def test_a_new_york_therapist_seen_from_london_while_only_the_us_has_changed_clocks() -> None:
    """Between the US change (14 March 2027) and the EU one (28 March) New York is 4 hours
    behind London, not 5: a 09:00 New York session is at 13:00 in London, then 14:00 again."""
    new_york = Availability(time_zone="America/New_York", weekly=((0, T(9), T(10)),))
    rules = Rules(minutes=50, step_minutes=60, horizon=datetime.timedelta(days=400))
    seen = {
        day: [
            local(s, "Europe/London")
            for s in day_slots(new_york, datetime.date(2027, 3, day), rules)
        ]
        for day in (8, 15, 22, 29)
    }
    assert seen == {
        8: ["Mon 08 Mar 14:00"],
        15: ["Mon 15 Mar 13:00"],
        22: ["Mon 22 Mar 13:00"],
        29: ["Mon 29 Mar 14:00"],
    }
    # And in the autumn, the EU changes first (31 October), the US a week later (7 November).
    autumn = {
        day: [
            local(s, "Europe/Paris")
            for s in day_slots(new_york, datetime.date(2027, month, day), rules)
        ]
        for month, day in ((10, 25), (11, 1), (11, 8))
    }
    assert autumn == {25: ["Mon 25 Oct 15:00"], 1: ["Mon 01 Nov 14:00"], 8: ["Mon 08 Nov 15:00"]}


def test_the_eu_spring_forward_night_has_no_slot_at_a_time_that_does_not_exist() -> None:
    """Berlin, Sunday 28 March 2027: 02:00 becomes 03:00. Hours 01:00-05:00 are 3 real hours."""
    berlin = Availability(time_zone="Europe/Berlin", weekly=((6, T(1), T(5)),))
    slots = day_slots(berlin, datetime.date(2027, 3, 28), HOURLY)
    assert [local(s, "Europe/Berlin") for s in slots] == [
        "Sun 28 Mar 01:00",
        "Sun 28 Mar 03:00",
        "Sun 28 Mar 04:00",
    ]
    assert slots == [utc(2027, 3, 28, 0), utc(2027, 3, 28, 1), utc(2027, 3, 28, 2)]


def test_the_eu_fall_back_night_offers_the_repeated_hour_twice() -> None:
    """Berlin, Sunday 31 October 2027: 03:00 becomes 02:00 again. 01:00-05:00 is 5 real hours,
    and five sessions fit, none overlapping another."""
    berlin = Availability(time_zone="Europe/Berlin", weekly=((6, T(1), T(5)),))
    slots = day_slots(berlin, datetime.date(2027, 10, 31), HOURLY)
    assert slots == [utc(2027, 10, 30, 23) + datetime.timedelta(hours=h) for h in range(5)]
    zone = zoneinfo.ZoneInfo("Europe/Berlin")
    assert [s.astimezone(zone).strftime("%H:%M %Z") for s in slots] == [
        "01:00 CEST",
        "02:00 CEST",
        "02:00 CET",
        "03:00 CET",
        "04:00 CET",
    ]


def test_a_sydney_therapist_across_the_southern_autumn_change() -> None:
    """Sydney leaves daylight saving on Sunday 4 April 2027 (03:00 AEDT becomes 02:00 AEST).
    Hours 01:00-04:00 that night are 4 real hours; Monday 09:00 moves from 22:00 to 23:00 UTC,
    which a client in Los Angeles sees as Sunday afternoon, 15:00 then 16:00."""
    sydney = Availability(time_zone="Australia/Sydney", weekly=((6, T(1), T(4)), (0, T(9), T(10))))
    night = day_slots(sydney, datetime.date(2027, 4, 4), HOURLY)
    assert len(night) == 4 and night[0] == utc(2027, 4, 3, 14) and night[-1] == utc(2027, 4, 3, 17)
    mondays = [
        day_slots(sydney, datetime.date(2027, 3, 29), HOURLY),
        day_slots(sydney, datetime.date(2027, 4, 5), HOURLY),
    ]
    assert [[local(s, "America/Los_Angeles") for s in d] for d in mondays] == [
        ["Sun 28 Mar 15:00"],
        ["Sun 04 Apr 16:00"],
    ]


def test_a_sydney_therapist_across_the_southern_spring_change() -> None:
    """Sydney starts daylight saving on Sunday 3 October 2027 (02:00 becomes 03:00): hours
    01:00-05:00 are 3 real hours, and a London client sees Monday 09:00 Sydney move from 00:00
    to 23:00 (Sunday) between the two Mondays."""
    sydney = Availability(time_zone="Australia/Sydney", weekly=((6, T(1), T(5)), (0, T(9), T(10))))
    night = day_slots(sydney, datetime.date(2027, 10, 3), HOURLY)
    assert [local(s, "Australia/Sydney") for s in night] == [
        "Sun 03 Oct 01:00",
        "Sun 03 Oct 03:00",
        "Sun 03 Oct 04:00",
    ]
    before = day_slots(sydney, datetime.date(2027, 9, 27), HOURLY)
    after = day_slots(sydney, datetime.date(2027, 10, 4), HOURLY)
    assert local(before[0], "Europe/London") == "Mon 27 Sep 00:00"
    assert local(after[0], "Europe/London") == "Sun 03 Oct 23:00"


def test_a_slot_that_runs_into_the_jump_keeps_its_real_length() -> None:
    """New York, Sunday 14 March 2027: 02:00 becomes 03:00. With hours 01:00-04:00 (2 real
    hours) and 50-minute sessions every 30 minutes, no session ends after 04:00 EDT."""
    new_york = Availability(time_zone="America/New_York", weekly=((6, T(1), T(4)),))
    slots = day_slots(
        new_york,
        datetime.date(2027, 3, 14),
        Rules(minutes=50, step_minutes=30, horizon=datetime.timedelta(days=400)),
    )
    end_of_hours = utc(2027, 3, 14, 8)  # 04:00 EDT
    assert slots[0] == utc(2027, 3, 14, 6)  # 01:00 EST
    assert all(s + datetime.timedelta(minutes=50) <= end_of_hours for s in slots)
    assert len(slots) == 3  # 01:00, 01:30 EST, 03:00 EDT (= 02:00 EST + 1 h)


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Berlin", "Australia/Sydney"])
def test_no_offered_slot_ever_starts_at_a_wall_time_that_does_not_exist(zone: str) -> None:
    availability = Availability(
        time_zone=zone, weekly=tuple((d, T(0), T(23, 59)) for d in range(7))
    )
    rules = Rules(minutes=30, step_minutes=15, horizon=datetime.timedelta(days=800))
    start = utc(2027, 1, 1)
    slots = open_slots(
        availability=availability,
        rules=rules,
        busy=Busy([]),
        start=start,
        end=utc(2028, 1, 1),
        now=start - datetime.timedelta(days=1),
    )
    tz = zoneinfo.ZoneInfo(zone)
    for slot in slots:
        wall = slot.astimezone(tz).replace(tzinfo=None)
        assert wall.replace(tzinfo=tz).astimezone(UTC) in (
            slot,
            slot + datetime.timedelta(hours=1),
            slot - datetime.timedelta(hours=1),
        )
    assert len(slots) == len(set(slots)) and slots == sorted(slots)


moments = st.integers(min_value=0, max_value=14 * 24 * 4).map(
    lambda q: utc(2027, 3, 22) + datetime.timedelta(minutes=15 * q)
)


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]),
    busy=st.lists(st.tuples(moments, st.integers(min_value=15, max_value=300)), max_size=8),
    now=moments,
    step=st.sampled_from([15, 30, 60]),
    minutes=st.sampled_from([30, 45, 50]),
    buffer=st.sampled_from([0, 10, 15]),
)
def test_open_slots_are_exactly_the_times_nothing_refuses(
    zone: str,
    busy: list[tuple[datetime.datetime, int]],
    now: datetime.datetime,
    step: int,
    minutes: int,
    buffer: int,
) -> None:
    availability = Availability(
        time_zone=zone, weekly=((0, T(9), T(12, 30)), (2, T(14), T(19)), (6, T(1), T(4)))
    )
    rules = Rules(
        minutes=minutes,
        buffer_minutes=buffer,
        step_minutes=step,
        notice=datetime.timedelta(hours=3),
        horizon=datetime.timedelta(days=9),
    )
    taken = Busy([(s, s + datetime.timedelta(minutes=m)) for s, m in busy])
    start, end = utc(2027, 3, 21), utc(2027, 4, 10)
    slots = open_slots(
        availability=availability, rules=rules, busy=taken, start=start, end=end, now=now
    )
    offered = set(slots)
    for slot in slots:
        assert (
            refusal(availability=availability, rules=rules, busy=taken, start=slot, now=now) is None
        )
        assert not taken.overlaps(slot, slot + rules.blocking)
    # Every 5-minute instant that nothing refuses is offered.
    moment = start
    while moment < end:
        if (
            refusal(availability=availability, rules=rules, busy=taken, start=moment, now=now)
            is None
        ):
            assert moment in offered, moment
        moment += datetime.timedelta(minutes=5)
