"""Scheduling through the pages (two clicks to book) and through /api/v1, with refusals that
say why, and the outsider and the colleague seeing nothing."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.test import Client

from confide.accounts.services import token_create
from confide.scheduling import services
from confide.scheduling.models import Booking, BookingStatus, SchedulingPolicy, SessionType
from tests.personas import Personas
from tests.scheduling.conftest import MONDAY, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _monday() -> Iterator[None]:
    with time_machine.travel(MONDAY, tick=False):
        yield


def bearer(user: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"})


def book(people: Personas, video: SessionType, start: datetime.datetime) -> Booking:
    return services.booking_create(
        actor=people.client,
        relationship_id=people.individual.pk,
        session_type_id=video.pk,
        starts_at=start,
    )


def test_a_client_books_in_two_clicks_and_the_therapist_sees_it(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    client = as_user(people.client)
    page = client.get("/book/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Europe/London" in html and "Tuesday 5 January" in html
    # Click one: the first open slot (24 hours of notice from Monday 08:00 -> Tuesday 09:00).
    link = re.search(r'href="(/book/confirm/\?[^"]+)"', html)
    assert link is not None
    confirm = client.get(link.group(1).replace("&amp;", "&"))
    assert confirm.status_code == 200
    assert "Tue 5 Jan 2027, 09:00" in confirm.content.decode()
    fields = dict(
        re.findall(r'name="(start|relationship|type)" value="([^"]+)"', confirm.content.decode())
    )
    # Click two: confirm.
    done = client.post("/book/confirm/", fields)
    booking = Booking.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/bookings/{booking.pk}/"
    assert booking.starts_at == at(5, 9) and booking.booked_by == people.client
    therapist_view = as_user(people.therapist).get("/schedule/").content.decode()
    assert "Cam Client" in therapist_view and "Tuesday 5 January, 09:00" in therapist_view
    assert (
        "Tuesday 5 January, 09:00" in as_user(people.therapist).get("/caseload/").content.decode()
    )
    assert "Tuesday 5 January, 09:00" in client.get("/").content.decode()


def test_slots_are_shown_in_the_clients_own_zone(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    people.client.time_zone = "America/Los_Angeles"
    people.client.save()
    html = as_user(people.client).get("/book/").content.decode()
    # 09:00 in London on Tuesday is 01:00 in Los Angeles.
    assert "America/Los_Angeles" in html
    assert re.search(r"Tuesday 5 January</h3>\s*<ul[^>]*>\s*<li><a[^>]*>01:00</a>", html)


def test_the_confirm_page_refuses_a_taken_or_past_time_with_its_reason(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    book(people, video, at(5, 10))
    client = as_user(people.partner_a)
    taken = client.post(
        "/book/confirm/",
        {"start": at(5, 10).isoformat(), "relationship": people.couple.pk, "type": video.pk},
    )
    assert taken.status_code == 400 and "already taken" in taken.content.decode()
    past = client.post(
        "/book/confirm/",
        {"start": at(1, 10).isoformat(), "relationship": people.couple.pk, "type": video.pk},
    )
    assert past.status_code == 400 and "already passed" in past.content.decode()
    assert Booking.objects.count() == 1


def test_pages_show_nothing_to_the_outsider_or_the_colleague(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    booking = book(people, video, at(5, 10))
    for stranger in (people.outsider, people.colleague):
        browser = as_user(stranger)
        for url in (
            f"/bookings/{booking.pk}/",
            f"/bookings/{booking.pk}/session.ics",
            f"/book/?move={booking.pk}",
        ):
            assert browser.get(url).status_code == 404, url
        for url in (
            f"/bookings/{booking.pk}/cancel/",
            f"/bookings/{booking.pk}/join/",
            f"/bookings/{booking.pk}/no-show/",
        ):
            assert browser.post(url).status_code == 404, url
        confirm = browser.get(
            "/book/confirm/",
            {
                "start": at(5, 14).isoformat(),
                "relationship": people.individual.pk,
                "type": video.pk,
            },
        )
        assert confirm.status_code == 404
        home = browser.get("/").content.decode()
        assert "Tuesday 5 January" not in home
    assert "Cam Client" not in as_user(people.colleague).get("/schedule/").content.decode()
    assert as_user(people.client).get("/schedule/").status_code == 404
    assert as_user(people.outsider).get("/schedule/setup/").status_code == 404
    assert Booking.objects.get().status == BookingStatus.CONFIRMED


def test_a_client_cancels_from_the_booking_page(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    booking = book(people, video, at(6, 10))
    client = as_user(people.client)
    page = client.get(f"/bookings/{booking.pk}/").content.decode()
    assert "Free to move or cancel until Tue 5 Jan 2027, 10:00" in page
    client.post(f"/bookings/{booking.pk}/cancel/")
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED and not booking.late_cancellation


def test_the_therapist_sets_up_hours_types_and_rules_with_clear_errors(
    people: Personas, as_user: Any
) -> None:
    therapist = as_user(people.therapist)
    bad = therapist.post("/schedule/setup/", {"form": "hours", "day0": "9-5"})
    assert bad.status_code == 400 and "Write hours like 09:00-12:00" in bad.content.decode()
    overlap = therapist.post(
        "/schedule/setup/", {"form": "hours", "day0": "09:00-12:00, 11:00-13:00"}
    )
    assert overlap.status_code == 400 and "two periods overlap" in overlap.content.decode()
    good = therapist.post("/schedule/setup/", {"form": "hours", "day1": "09:00-12:00, 14:00-18:00"})
    assert good.status_code == 302
    assert "09:00-12:00, 14:00-18:00" in therapist.get("/schedule/setup/").content.decode()
    kind = therapist.post(
        "/schedule/setup/",
        {
            "form": "type",
            "mode": "voice",
            "minutes": "45",
            "buffer_minutes": "15",
            "min_notice_hours": "12",
            "horizon_days": "30",
        },
    )
    assert kind.status_code == 302
    assert SessionType.objects.get(therapist=people.therapist).minutes == 45
    wrong = therapist.post(
        "/schedule/setup/",
        {
            "form": "type",
            "mode": "voice",
            "minutes": "60",
            "buffer_minutes": "15",
            "min_notice_hours": "12",
            "horizon_days": "30",
        },
    )
    assert wrong.status_code == 400
    policy = therapist.post(
        "/schedule/setup/", {"form": "policy", "free_cancel_hours": "48", "slot_step_minutes": "15"}
    )
    assert policy.status_code == 302
    assert SchedulingPolicy.objects.get(therapist=people.therapist).free_cancel_hours == 48
    off = therapist.post(
        "/schedule/setup/", {"form": "exception", "day": "2027-01-05", "kind": "extra"}
    )
    assert off.status_code == 400 and "Extra hours need" in off.content.decode()


def test_the_therapist_books_proposes_and_blocks_from_the_schedule_page(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    therapist = as_user(people.therapist)
    booked = therapist.post(
        "/schedule/",
        {
            "form": "book",
            "relationship": people.individual.pk,
            "session_type": video.pk,
            "starts_at": "2027-01-04T18:00",
        },
    )
    assert booked.status_code == 302
    assert Booking.objects.get().starts_at == at(4, 18)  # London wall time, GMT in January
    clash = therapist.post(
        "/schedule/",
        {
            "form": "block",
            "starts_at": "2027-01-04T18:30",
            "ends_at": "2027-01-04T20:00",
            "label": "Supervision",
        },
    )
    assert clash.status_code == 400 and "Move or cancel it first" in clash.content.decode()
    proposed = therapist.post(
        "/schedule/",
        {
            "form": "propose",
            "relationship": people.couple.pk,
            "session_type": video.pk,
            "time1": "2027-01-12T17:30",
            "time2": "2027-01-13T08:00",
        },
    )
    assert proposed.status_code == 302
    partner = as_user(people.partner_b)
    assert "proposed times" in partner.get("/").content.decode()
    offer = partner.get("/book/").content.decode()
    [proposal_url] = set(re.findall(r'action="(/proposals/\d+/accept/)"', offer))
    accepted = partner.post(proposal_url, {"start": at(12, 17, 30).isoformat()})
    assert accepted.status_code == 302
    assert Booking.objects.filter(relationship=people.couple, starts_at=at(12, 17, 30)).exists()


def test_the_private_calendar_feed_works_until_revoked(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    booking = book(people, video, at(5, 10))
    therapist = as_user(people.therapist)
    page = therapist.post("/schedule/feed/new/").content.decode()
    url = re.search(r"http://testserver(/calendar/[^<\s]+\.ics)", page)
    assert url is not None
    path = unquote(url.group(1))
    raw = path.removeprefix("/calendar/").removesuffix(".ics")
    policy = SchedulingPolicy.objects.get(therapist=people.therapist)
    assert policy.feed_token_hash and raw not in policy.feed_token_hash  # only the hash is kept
    feed = Client().get(path)
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")
    text = feed.content.decode()
    assert f"UID:{booking.uid}@confide" in text and "Cam" not in text
    assert "DTSTART:20270105T100000Z" in text
    assert Client().get("/calendar/cal_not-a-token.ics").status_code == 404
    therapist.post("/schedule/feed/new/")  # a new link: the old one stops working
    assert Client().get(path).status_code == 404
    therapist.post("/schedule/feed/revoke/")
    assert SchedulingPolicy.objects.get(therapist=people.therapist).feed_token_hash is None


def test_the_api_lists_slots_books_moves_cancels_and_lists(
    people: Personas, video: SessionType
) -> None:
    api = bearer(people.client)
    types = api.get(f"/api/v1/scheduling/session-types?relationship={people.individual.pk}")
    assert types.status_code == 200 and types.json()[0]["id"] == video.pk
    slots = api.get(
        "/api/v1/scheduling/slots",
        {
            "relationship": str(people.individual.pk),
            "session_type": str(video.pk),
            "start": "2027-01-05",
            "days": "1",
        },
    )
    assert slots.status_code == 200
    assert slots.json()[0]["starts_at"].startswith("2027-01-05T09:00:00")
    made = api.post(
        "/api/v1/scheduling/bookings",
        {
            "relationship": people.individual.pk,
            "session_type": video.pk,
            "starts_at": "2027-01-05T10:00:00Z",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.json()
    booking_id = made.json()["id"]
    moved = api.post(
        f"/api/v1/scheduling/bookings/{booking_id}/reschedule",
        {"starts_at": "2027-01-06T11:00:00+00:00"},
        content_type="application/json",
    )
    assert moved.status_code == 200 and moved.json()["version"] == 1
    listed = api.get("/api/v1/scheduling/bookings").json()
    assert [b["id"] for b in listed] == [booking_id]
    cancelled = api.post(f"/api/v1/scheduling/bookings/{booking_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = api.post(f"/api/v1/scheduling/bookings/{booking_id}/cancel")
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("starts_at", "status", "reason"),
    [
        ("2027-01-01T10:00:00Z", 400, "already passed"),
        ("2027-01-04T15:00:00Z", 400, "more notice"),
        ("2027-01-09T10:00:00Z", 400, "not available"),
        ("2027-01-05T20:00:00Z", 400, "not available"),
        ("2027-06-01T10:00:00Z", 400, "too far ahead"),
        ("2027-01-05T10:15:00Z", 400, "open slots"),
        ("2027-01-05T10:30:00Z", 409, "already taken"),
        ("2027-01-05T10:00:00", 400, "time zone"),
        ("9999-12-31T23:30:00Z", 400, "outside any calendar"),
    ],
)
def test_the_api_refuses_bad_times_with_a_reason(
    people: Personas, video: SessionType, starts_at: str, status: int, reason: str
) -> None:
    book(people, video, at(5, 10))
    answer = bearer(people.partner_a).post(
        "/api/v1/scheduling/bookings",
        {"relationship": people.couple.pk, "session_type": video.pk, "starts_at": starts_at},
        content_type="application/json",
    )
    assert answer.status_code == status, answer.json()
    assert reason in answer.json()["detail"]
    assert answer.json()["errors"]["starts_at"]


def test_the_api_shows_the_outsider_and_the_colleague_nothing(
    people: Personas, video: SessionType
) -> None:
    booking = book(people, video, at(5, 10))
    for stranger in (people.outsider, people.colleague):
        api = bearer(stranger)
        assert api.get("/api/v1/scheduling/bookings").json() == []
        assert api.get(f"/api/v1/scheduling/bookings/{booking.pk}").status_code == 404
        assert api.post(f"/api/v1/scheduling/bookings/{booking.pk}/cancel").status_code == 404
        moved = api.post(
            f"/api/v1/scheduling/bookings/{booking.pk}/reschedule",
            {"starts_at": "2027-01-06T11:00:00Z"},
            content_type="application/json",
        )
        assert moved.status_code == 404
        slots = api.get(
            "/api/v1/scheduling/slots",
            {"relationship": people.individual.pk, "session_type": video.pk},
        )
        assert slots.status_code == 404 and "no therapist relationship" in slots.json()["detail"]
        made = api.post(
            "/api/v1/scheduling/bookings",
            {
                "relationship": people.individual.pk,
                "session_type": video.pk,
                "starts_at": "2027-01-05T14:00:00Z",
            },
            content_type="application/json",
        )
        assert made.status_code == 404
    assert Client().get("/api/v1/scheduling/bookings").status_code == 401
    assert Booking.objects.get().status == BookingStatus.CONFIRMED


def test_a_client_moves_a_session_in_two_clicks(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    booking = book(people, video, at(6, 10))
    client = as_user(people.client)
    page = client.get(f"/book/?move={booking.pk}").content.decode()
    assert "Now booked: Wed 6 Jan 2027, 10:00" in page
    link = re.search(r'href="(/book/confirm/\?move=[^"]+)"', page)
    assert link is not None
    confirm = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert "Move to this time" in confirm
    start = re.search(r'name="start" value="([^"]+)"', confirm)
    assert start is not None
    moved = client.post("/book/confirm/", {"start": start.group(1), "move": booking.pk})
    assert moved.status_code == 302
    booking.refresh_from_db()
    assert booking.starts_at == at(5, 9) and booking.version == 1
    assert Booking.objects.count() == 1


def test_a_sydney_therapist_and_a_los_angeles_client_across_the_autumn_change(
    people: Personas, as_user: Any
) -> None:
    """Robin works from Sydney, Mondays 09:00-10:00; Cam lives in Los Angeles. Sydney leaves
    daylight saving on 4 April 2027, so the same Monday session is Sunday 15:00 for Cam before
    and Sunday 16:00 after, and the emails say so in Cam's zone."""
    from django.core import mail

    from confide.care.services import schedule_update
    from confide.scheduling import availability
    from tests.conftest import run_tasks

    schedule_update(
        actor=people.therapist,
        time_zone="Australia/Sydney",
        weekdays=[0],
        start=datetime.time(9),
        end=datetime.time(10),
        holiday_country="",
    )
    availability.weekly_hours_set(
        actor=people.therapist, hours=[(0, datetime.time(9), datetime.time(10))]
    )
    video = availability.session_type_save(
        actor=people.therapist,
        mode="video",
        minutes=50,
        buffer_minutes=10,
        min_notice_hours=24,
        horizon_days=120,
    )
    people.client.time_zone = "America/Los_Angeles"
    people.client.save()
    with time_machine.travel(at(20, 0, month=3), tick=False):
        client = as_user(people.client)
        week = client.get("/book/", {"from": "2027-03-28"}).content.decode()
        assert re.search(r"Sunday 28 March</h3>\s*<ul[^>]*>\s*<li><a[^>]*>15:00</a>", week)
        after = client.get("/book/", {"from": "2027-04-04"}).content.decode()
        assert re.search(r"Sunday 4 April</h3>\s*<ul[^>]*>\s*<li><a[^>]*>16:00</a>", after)
        made = services.booking_create(
            actor=people.client,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            starts_at=datetime.datetime(2027, 4, 4, 23, 0, tzinfo=datetime.UTC),
        )
        run_tasks()
    assert made.starts_at.isoformat() == "2027-04-04T23:00:00+00:00"  # Monday 09:00 AEST
    [email] = [m for m in mail.outbox if people.client.email in m.to]
    assert "Sun 4 Apr 2027, 16:00 (America/Los_Angeles)" in email.subject
    [therapists] = [m for m in mail.outbox if people.therapist.email in m.to]
    assert "Mon 5 Apr 2027, 00:00 (Europe/London)" in therapists.subject


def test_impossible_dates_in_the_address_are_answered_calmly(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    client = as_user(people.client)
    assert client.get("/book/", {"from": "2027-02-30"}).status_code == 200
    answer = client.get(
        "/book/confirm/",
        {
            "start": "2027-13-45T10:00:00+00:00",
            "relationship": people.individual.pk,
            "type": video.pk,
        },
    )
    assert answer.status_code == 200 and "Choose a time from the list" in answer.content.decode()
    assert client.post(
        "/book/confirm/", {"start": "x", "relationship": "1", "type": "1"}
    ).status_code in (400, 404)
    assert client.get("/book/", {"from": "9999-12-31"}).status_code == 200
    api = bearer(people.client)
    far = api.get(
        "/api/v1/scheduling/slots",
        {
            "relationship": str(people.individual.pk),
            "session_type": str(video.pk),
            "start": "9999-12-31",
        },
    )
    assert far.status_code == 200 and far.json() == []


def test_odd_ids_and_far_away_times_get_an_answer_not_an_error(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    client = as_user(people.client)
    for path in (
        "/book/?move=\u00b2",
        f"/book/confirm/?type=\u00b2&start=2027-01-05T10:00:00%2B00:00&relationship={people.individual.pk}",
        f"/book/confirm/?type={video.pk}&start=9999-12-31T23:59:00%2B00:00",
        f"/book/confirm/?type={video.pk}&start=0001-01-01T00:00:00%2B01:00",
    ):
        assert client.get(path).status_code in (200, 302, 400, 404), path


def test_a_therapist_time_in_the_clock_change_hour_is_refused_with_the_reason(
    people: Personas, video: SessionType, as_user: Any
) -> None:
    therapist = as_user(people.therapist)
    # London's clocks go from 01:00 to 02:00 on 28 March 2027: 01:30 never happens.
    skipped = therapist.post(
        "/schedule/",
        {"form": "block", "starts_at": "2027-03-28T01:30", "ends_at": "2027-03-28T03:00"},
    )
    assert skipped.status_code == 400 and "does not exist" in skipped.content.decode()
    # ...and on 31 October 2027 01:30 happens twice.
    twice = therapist.post(
        "/schedule/",
        {"form": "block", "starts_at": "2027-10-31T00:00", "ends_at": "2027-10-31T01:30"},
    )
    assert twice.status_code == 400 and "happens twice" in twice.content.decode()
    assert not Booking.objects.exists()
