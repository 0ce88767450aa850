"""Confirmation and change emails with their calendar files, and reminders that go out only for
a session that is still on at the time they were queued for."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.core import mail

from confide.scheduling import ics, services
from confide.scheduling.models import Booking, SessionType
from tests.conftest import run_tasks
from tests.personas import Personas
from tests.scheduling.conftest import MONDAY, at, calendar_of, mails_to

pytestmark = pytest.mark.django_db


def book(people: Personas, video: SessionType, start: datetime.datetime) -> Booking:
    return services.booking_create(
        actor=people.partner_a,
        relationship_id=people.couple.pk,
        session_type_id=video.pk,
        starts_at=start,
        now=MONDAY,
    )


def fields(calendar: str) -> dict[str, str]:
    """NAME -> value of each unfolded content line (parameters dropped)."""
    values: dict[str, str] = {}
    for line in calendar.replace("\r\n ", "").split("\r\n"):
        if ":" in line and not line.startswith(("BEGIN", "END", "ATTENDEE", "ORGANIZER")):
            name, value = line.split(":", 1)
            values[name.split(";", 1)[0]] = value
    return values


def test_everyone_gets_a_confirmation_with_a_calendar_file(
    people: Personas, video: SessionType
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        booking = book(people, video, at(6, 14))
        run_tasks()
    for person in (people.therapist, people.partner_a, people.partner_b):
        [email] = mails_to(person)
        assert email.subject.startswith("Session booked: Wed 6 Jan 2027, 14:00")
        calendar = calendar_of(email)
        assert calendar.endswith("END:VCALENDAR\r\n") and "\n" not in calendar.replace("\r\n", "")
        values = fields(calendar)
        assert values["METHOD"] == "REQUEST"
        assert values["UID"] == f"{booking.uid}@confide"
        assert values["SEQUENCE"] == "0"
        assert (values["DTSTART"], values["DTEND"]) == ("20270106T140000Z", "20270106T145000Z")
        assert values["STATUS"] == "CONFIRMED"
    # Clients see the discreet default title; nothing clinical, no names, in anyone's copy.
    assert (
        fields(calendar_of(mails_to(people.partner_b)[0]))["SUMMARY"]
        == "Session with your therapist"
    )
    assert (
        fields(calendar_of(mails_to(people.therapist)[0]))["SUMMARY"] == "Client session (Confide)"
    )
    for email in mail.outbox:
        assert "Avery" not in calendar_of(email) and "Blake" not in calendar_of(email)


def test_a_client_sees_the_time_in_their_own_zone(people: Personas, video: SessionType) -> None:
    people.partner_b.time_zone = "America/Los_Angeles"
    people.partner_b.save()
    with time_machine.travel(MONDAY, tick=False):
        book(people, video, at(6, 14))
        run_tasks()
    [email] = mails_to(people.partner_b)
    assert "Wed 6 Jan 2027, 06:00 (America/Los_Angeles)" in email.subject


def test_moving_sends_a_new_sequence_and_cancelling_a_cancel(
    people: Personas, video: SessionType
) -> None:
    with time_machine.travel(MONDAY, tick=False):
        booking = book(people, video, at(6, 14))
        run_tasks()
        mail.outbox.clear()
        services.booking_reschedule(
            actor=people.therapist, booking_id=booking.pk, starts_at=at(7, 9)
        )
        run_tasks()
        [moved] = mails_to(people.partner_a)
        values = fields(calendar_of(moved))
        assert moved.subject.startswith("Session moved")
        assert (values["METHOD"], values["SEQUENCE"], values["DTSTART"]) == (
            "REQUEST",
            "1",
            "20270107T090000Z",
        )
        assert values["UID"] == f"{booking.uid}@confide"
        mail.outbox.clear()
        services.booking_cancel(actor=people.partner_b, booking_id=booking.pk)
        run_tasks()
    [cancelled] = mails_to(people.therapist)
    values = fields(calendar_of(cancelled))
    assert cancelled.subject.startswith("Session cancelled")
    assert (values["METHOD"], values["SEQUENCE"], values["STATUS"]) == ("CANCEL", "2", "CANCELLED")
    assert values["UID"] == f"{booking.uid}@confide"


def test_two_quick_changes_send_only_the_latest(people: Personas, video: SessionType) -> None:
    with time_machine.travel(MONDAY, tick=False):
        booking = book(people, video, at(6, 14))
        services.booking_reschedule(
            actor=people.therapist, booking_id=booking.pk, starts_at=at(7, 9)
        )
        run_tasks()
    [email] = mails_to(people.partner_a)
    assert email.subject.startswith("Session moved") and "Thu 7 Jan" in email.subject


def reminders(person: Any) -> list[Any]:
    return [m for m in mails_to(person) if m.subject.startswith("Reminder")]


def test_reminders_go_out_24_hours_and_1_hour_before(people: Personas, video: SessionType) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        book(people, video, at(6, 14))
        run_tasks()
        traveller.move_to(at(5, 13, 59))
        run_tasks()
        assert reminders(people.partner_a) == []
        traveller.move_to(at(5, 14))
        run_tasks()
        assert [m.subject for m in reminders(people.partner_a)] == [
            "Reminder: your session tomorrow"
        ]
        traveller.move_to(at(6, 13))
        run_tasks()
    assert [m.subject for m in reminders(people.partner_b)] == [
        "Reminder: your session tomorrow",
        "Reminder: your session in 1 hour",
    ]
    assert len(reminders(people.therapist)) == 2
    assert "Wed 6 Jan 2027, 14:00" in reminders(people.partner_b)[1].body


def test_no_reminder_for_a_cancelled_session(people: Personas, video: SessionType) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = book(people, video, at(6, 14))
        services.booking_cancel(actor=people.partner_a, booking_id=booking.pk)
        traveller.move_to(at(6, 13, 30))
        run_tasks()
    assert [m for m in mail.outbox if m.subject.startswith("Reminder")] == []


def test_a_moved_session_is_reminded_at_its_new_time_only(
    people: Personas, video: SessionType
) -> None:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = book(people, video, at(6, 14))
        services.booking_reschedule(
            actor=people.partner_a, booking_id=booking.pk, starts_at=at(8, 10)
        )
        traveller.move_to(at(6, 13, 30))  # the old reminders' times have passed
        run_tasks()
        assert reminders(people.partner_a) == []
        traveller.move_to(at(8, 9, 5))
        run_tasks()
    assert [m.subject for m in reminders(people.partner_a)] == [
        "Reminder: your session tomorrow",
        "Reminder: your session in 1 hour",
    ]
    assert all("Fri 8 Jan 2027, 10:00" in m.body for m in reminders(people.partner_a))


def test_moving_there_and_back_does_not_revive_the_first_reminders(
    people: Personas, video: SessionType
) -> None:
    """Reminders carry the version, not only the time: after 14:00 -> 15:00 -> 14:00 the first
    14:00 reminders stand down and the newest ones send, once each."""
    with time_machine.travel(MONDAY, tick=False) as traveller:
        booking = book(people, video, at(6, 14))
        services.booking_reschedule(
            actor=people.partner_a, booking_id=booking.pk, starts_at=at(6, 15)
        )
        services.booking_reschedule(
            actor=people.partner_a, booking_id=booking.pk, starts_at=at(6, 14)
        )
        traveller.move_to(at(6, 13, 30))
        run_tasks()
    assert len(reminders(people.partner_a)) == 2


def test_calendar_lines_are_folded_and_escaped() -> None:
    stamp = datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC)
    event = ics.Event(
        uid="x@confide",
        sequence=3,
        starts_at=stamp,
        ends_at=stamp + datetime.timedelta(minutes=50),
        summary="Séance, avec; votre\\thérapeute\n" + "é" * 80,
        stamp=stamp,
    )
    text = ics.calendar([event], method="REQUEST")
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
    unfolded = text.replace("\r\n ", "")
    assert "SUMMARY:Séance\\, avec\\; votre\\\\thérapeute\\n" + "é" * 80 in unfolded
    assert "\r\nDTSTAMP:20270101T000000Z\r\n" in unfolded


def test_a_reassignment_cancels_the_former_therapists_sessions_and_says_why(
    people: Personas, video: SessionType
) -> None:
    from confide.audit.models import AuditEvent
    from confide.care.services import relationship_reassign
    from confide.scheduling.models import BookingStatus, Proposal, ProposalStatus

    with time_machine.travel(MONDAY, tick=False):
        upcoming = services.booking_create(
            actor=people.client,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            starts_at=at(6, 14),
            now=MONDAY,
        )
        later = services.booking_create(
            actor=people.therapist,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            starts_at=at(13, 10),
            now=MONDAY,
        )
        couple = book(people, video, at(7, 11))  # another relationship: left alone
        proposal = services.proposal_create(
            actor=people.therapist,
            relationship_id=people.individual.pk,
            session_type_id=video.pk,
            times=[at(8, 10), at(8, 14)],
            now=MONDAY,
        )
        run_tasks()
    mail.outbox.clear()

    moment = at(6, 14, 30)  # the first session has started: it stays as it was
    with time_machine.travel(moment, tick=False):
        relationship_reassign(
            actor=people.admin,
            relationship_id=people.individual.pk,
            therapist_id=people.colleague.pk,
            now=moment,
        )
        run_tasks()
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses[upcoming.pk] == BookingStatus.CONFIRMED
    assert statuses[couple.pk] == BookingStatus.CONFIRMED
    assert statuses[later.pk] == BookingStatus.CANCELLED
    cancelled = Booking.objects.get(pk=later.pk)
    assert cancelled.cancelled_by == people.admin and not cancelled.late_cancellation
    assert Proposal.objects.get(pk=proposal.pk).status == ProposalStatus.WITHDRAWN

    [to_client] = mails_to(people.client)
    assert to_client.subject.startswith("Session cancelled: Wed 13 Jan 2027, 10:00")
    assert "your care has moved to another therapist" in to_client.body
    assert "Join" not in to_client.body
    assert fields(calendar_of(to_client))["METHOD"] == "CANCEL"
    [to_former] = [m for m in mails_to(people.therapist) if "cancelled" in m.subject]
    assert "care has moved to another therapist" in to_former.body
    assert fields(calendar_of(to_former))["UID"] == f"{cancelled.uid}@confide"
    assert mails_to(people.colleague) == []
    reasons = AuditEvent.objects.filter(detail__reason="reassigned").values_list(
        "action", flat=True
    )
    assert sorted(reasons) == ["booking.cancel", "proposal.withdraw"]

    # No reminder of the cancelled session goes out later.
    with time_machine.travel(at(13, 9, 5), tick=False):
        run_tasks()
    assert mails_to(people.client) == [to_client]


def test_a_booking_that_read_the_care_before_a_reassignment_is_refused(
    people: Personas, video: SessionType
) -> None:
    """The relationship is read before the therapist's lock; a reassignment committed in
    between must not leave a new session with the former therapist."""
    from django.db import transaction

    from confide.care.models import CareRelationship
    from confide.care.services import relationship_reassign
    from confide.errors import Conflict
    from confide.scheduling.services.bookings import _book

    stale = CareRelationship.objects.get(pk=people.individual.pk)
    with time_machine.travel(MONDAY, tick=False):
        relationship_reassign(
            actor=people.admin,
            relationship_id=people.individual.pk,
            therapist_id=people.colleague.pk,
            now=MONDAY,
        )
        with pytest.raises(Conflict, match="moved to another therapist"), transaction.atomic():
            _book(
                actor=people.client,
                relationship=stale,
                session_type=video,
                start=at(6, 14),
                now=MONDAY,
                by_client_rules=True,
            )
    assert not Booking.objects.filter(relationship=people.individual).exists()
