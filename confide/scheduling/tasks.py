"""Background work for bookings: the confirmation or change notice with its calendar file, the
reminders before a session, and the note about proposed times.

Tasks are queued inside the booking's transaction and carry the booking's version (and, for
reminders, its start). When one runs it reads the booking again and does nothing if the booking
has changed since (a newer task was queued with the change) or was cancelled: a reminder never
goes out for a cancelled or moved session. Emails say when and where, never anything clinical.
"""

from __future__ import annotations

import datetime
import zoneinfo
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from confide.scheduling import ics

if TYPE_CHECKING:
    from confide.accounts.models import User
    from confide.scheduling.models import Booking, Proposal

THERAPIST_TITLE = "Client session (Confide)"
NOTICE_KINDS = ("booked", "moved", "cancelled", "reassigned")


def queue_notice(booking: Booking, what: str) -> None:
    """Called inside the booking's transaction, after its version changed."""
    send_booking_notice.enqueue(booking_id=booking.pk, version=booking.version, what=what)


def queue_reminders(booking: Booking, *, now: datetime.datetime) -> None:
    """One task per reminder still ahead; older ones see the new version and stand down."""
    # Reminders go out this many hours before a session (24 h and 1 h by default).
    for hours in settings.SCHEDULING_REMINDER_HOURS:
        run_after = booking.starts_at - datetime.timedelta(hours=hours)
        if run_after > now:
            send_reminder.using(run_after=run_after).enqueue(
                booking_id=booking.pk,
                version=booking.version,
                starts_at=booking.starts_at.isoformat(),
                hours=hours,
            )


def queue_proposal_notice(proposal: Proposal) -> None:
    send_proposal_notice.enqueue(proposal_id=proposal.pk)


def when_text(moment: datetime.datetime, time_zone: str) -> str:
    """'Tue 5 Jan 2027, 14:00 (Europe/London)' in the reader's own zone."""
    local = moment.astimezone(zoneinfo.ZoneInfo(time_zone))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} ({time_zone})"


def _title_for(person: User, booking: Booking) -> str:
    return THERAPIST_TITLE if person.pk == booking.therapist_id else ics.event_title()


def booking_event(booking: Booking, *, summary: str, stamp: datetime.datetime) -> ics.Event:
    link = settings.SITE_URL + reverse("booking", args=[booking.pk])
    return ics.Event(
        uid=f"{booking.uid}@confide",
        sequence=booking.version,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        summary=summary,
        stamp=stamp,
        cancelled=booking.status == "cancelled",
        url=link,
        description=f"Join on Confide: {link}",
    )


def _email(
    person: User, subject: str, body: str, calendar: str | None, method: str
) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(subject=subject, body=body, to=[person.email])
    if calendar is not None:
        content_type = f"text/calendar; method={method}; charset=UTF-8"
        message.attach_alternative(calendar, content_type)
        message.attach("session.ics", calendar.encode("utf-8"), content_type)
    return message


def _load(booking_id: int) -> Booking | None:
    from confide.scheduling.models import Booking

    return (
        Booking.objects.select_related("therapist", "relationship", "room")
        .filter(pk=booking_id)
        .first()
    )


@task()
def send_booking_notice(*, booking_id: int, version: int, what: str) -> str:
    """Tell everyone a session was booked, moved or cancelled, with a calendar file."""
    from confide.scheduling.selectors import people_of

    booking = _load(booking_id)
    if booking is None:
        return "gone"
    if booking.version != version:
        return "superseded"  # a later change queued its own notice
    cancelled = booking.status == "cancelled"
    method = "CANCEL" if cancelled else "REQUEST"
    now = timezone.now()
    headline = {
        "booked": "Session booked",
        "moved": "Session moved",
        "cancelled": "Session cancelled",
        "reassigned": "Session cancelled",
    }[what if what in NOTICE_KINDS else "booked"]
    link = settings.SITE_URL + reverse("booking", args=[booking.pk])
    sent = 0
    for person in people_of(booking):
        when = when_text(booking.starts_at, person.time_zone)
        calendar = ics.calendar(
            [booking_event(booking, summary=_title_for(person, booking), stamp=now)],
            method=method,
        )
        if cancelled and what == "reassigned":
            line = (
                f"The session on {when} is cancelled: this client's care has moved to "
                "another therapist of the practice."
                if person.pk == booking.therapist_id
                else f"The session on {when} is cancelled, because your care has moved to "
                "another therapist of your practice. You can book a time with them in Confide."
            )
        elif cancelled:
            line = f"The session on {when} is cancelled."
        elif what == "moved":
            line = f"The session is now on {when}."
        else:
            line = f"A session is booked for {when}."
        body = (
            f"Hello {person.display_name},\n\n{line}\n\n"
            + (
                f"Details:\n{link}\n\n"
                if cancelled
                else "The attached calendar file adds it to your calendar. Details, and the "
                f"Join button a few minutes before the start:\n{link}\n\n"
            )
            + "Confide is not for emergencies. If you are in danger, call your local emergency "
            "number.\n"
        )
        _email(person, f"{headline}: {when}", body, calendar, method).send()
        sent += 1
    return f"sent {sent}"


@task()
def send_reminder(*, booking_id: int, version: int, starts_at: str, hours: int) -> str:
    """A reminder, if the session is still on at the time it was queued for."""
    from confide.scheduling.selectors import people_of

    booking = _load(booking_id)
    if booking is None or booking.status != "confirmed":
        return "cancelled"
    if booking.version != version or booking.starts_at.isoformat() != starts_at:
        return "moved"
    if booking.starts_at <= timezone.now():
        return "late"
    link = settings.SITE_URL + reverse("booking", args=[booking.pk])
    soon = "in 1 hour" if hours == 1 else ("tomorrow" if hours == 24 else f"in {hours} hours")
    for person in people_of(booking):
        when = when_text(booking.starts_at, person.time_zone)
        _email(
            person,
            f"Reminder: your session {soon}",
            f"Hello {person.display_name},\n\nA reminder: your session is on {when}.\n\n"
            f"The Join button appears a few minutes before the start:\n{link}\n",
            None,
            "REQUEST",
        ).send()
    return "sent"


@task()
def send_proposal_notice(*, proposal_id: int) -> str:
    from confide.scheduling.models import Proposal, ProposalStatus

    proposal = (
        Proposal.objects.select_related("therapist", "relationship")
        .prefetch_related("times", "relationship__participants__client")
        .filter(pk=proposal_id)
        .first()
    )
    if proposal is None or proposal.status != ProposalStatus.OPEN:
        return "answered"
    link = settings.SITE_URL + reverse("book")
    for participant in proposal.relationship.participants.all():
        person = participant.client
        times = "\n".join(
            f"- {when_text(t.starts_at, person.time_zone)}" for t in proposal.times.all()
        )
        _email(
            person,
            "Your therapist proposed times for a session",
            f"Hello {person.display_name},\n\n{proposal.therapist.display_name} proposed these "
            f"times:\n{times}\n\nChoose one here:\n{link}\n",
            None,
            "REQUEST",
        ).send()
    return "sent"
