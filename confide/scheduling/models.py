"""Scheduling: when a therapist can be booked, what can be booked, and the bookings themselves.

Times a therapist enters (weekly hours, exceptions) are wall-clock times in the therapist's own
zone (their `TherapistSchedule.time_zone`, else their account's); bookings are stored in UTC.

A booking occupies `[starts_at, blocked_until)`, where `blocked_until` is its end plus its
session type's buffer. Two bookings of one therapist that are not cancelled never overlap: the
services check under a lock on the therapist's row, a unique constraint refuses two at the same
start on every database, and on PostgreSQL an exclusion constraint (migration 0002) refuses any
overlap at all.
"""

from __future__ import annotations

import datetime
import uuid
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from confide.care.models import LIVE_SESSION_MINUTES
from confide.live.models import LiveMode

SLOT_STEPS = (15, 30, 60)
# No booking blocks more than this (blocked time is at most 14 days; a session with its buffer
# at most a few hours), so overlap queries can bound `starts_at` from below and use the index.
LONGEST_BOOKING = datetime.timedelta(days=14)


class SessionType(models.Model):
    """Something a client can book: a video, voice or live-chat session of a set length."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_types"
    )
    mode = models.CharField(max_length=8, choices=LiveMode.choices, default=LiveMode.VIDEO)
    minutes = models.PositiveSmallIntegerField(
        choices=[(m, f"{m} minutes") for m in LIVE_SESSION_MINUTES], default=50
    )
    # Free time kept after each session of this type (notes, a breath) before the next one.
    buffer_minutes = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(120)]
    )
    # Clients may not book later than this many hours before the start.
    min_notice_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(24 * 30)]
    )
    # Clients may book at most this many days ahead.
    horizon_days = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["pk"]

    def __str__(self) -> str:
        return f"{self.get_mode_display()}, {self.minutes} minutes"


class SchedulingPolicy(models.Model):
    """One therapist's booking rules and calendar feed (created on first use)."""

    therapist = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="scheduling_policy"
    )
    # A client may cancel or move a session for free until this many hours before it starts;
    # a later cancellation is recorded as late.
    free_cancel_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MaxValueValidator(24 * 14)]
    )
    # Offered start times lie on this grid from the start of each available period.
    slot_step_minutes = models.PositiveSmallIntegerField(
        default=30, choices=[(m, f"every {m} minutes") for m in SLOT_STEPS]
    )
    # SHA-256 of the private calendar feed's token (the token itself is shown once).
    feed_token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    feed_created_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Scheduling policy of {self.therapist_id}"


class WeeklyHours(models.Model):
    """A period a therapist can be booked on one weekday, every week (several per day allowed)."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="weekly_hours"
    )
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])  # 0 = Monday
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering: ClassVar = ["weekday", "start"]
        constraints: ClassVar = [
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="weekly_hours_end_after"),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="weekly_hours_weekday"),
        ]

    def __str__(self) -> str:
        return f"Day {self.weekday} {self.start:%H:%M}-{self.end:%H:%M}"


class ExceptionKind(models.TextChoices):
    OFF = "off", "Not available"
    EXTRA = "extra", "Extra hours"


class AvailabilityException(models.Model):
    """One date in the therapist's zone: off (all day, or some hours), or extra hours."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="availability_exceptions"
    )
    day = models.DateField()
    kind = models.CharField(max_length=8, choices=ExceptionKind.choices)
    # Both empty on an "off" exception: the whole day.
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["day", "start"]
        indexes: ClassVar = [models.Index(fields=["therapist", "day"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.day}"


class BookingKind(models.TextChoices):
    SESSION = "session", "Session"
    BLOCK = "block", "Blocked time"


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class Booking(models.Model):
    """A booked session in a room, or time the therapist blocked.

    `uid` and `version` are the calendar's UID and SEQUENCE: the UID never changes, the version
    grows with every change a calendar should show (a new time, a cancellation).
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings"
    )
    kind = models.CharField(max_length=8, choices=BookingKind.choices, default=BookingKind.SESSION)
    relationship = models.ForeignKey(
        "care.CareRelationship",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
    )
    room = models.ForeignKey(
        "rooms.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="bookings"
    )
    session_type = models.ForeignKey(
        SessionType, null=True, blank=True, on_delete=models.SET_NULL, related_name="bookings"
    )
    # Copied from the session type when booked, so changing a type never changes a booking.
    mode = models.CharField(max_length=8, choices=LiveMode.choices, blank=True)
    minutes = models.PositiveSmallIntegerField()
    buffer_minutes = models.PositiveSmallIntegerField(default=0)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=BookingStatus.choices, default=BookingStatus.CONFIRMED
    )
    version = models.PositiveIntegerField(default=0)
    # Blocked time only: the therapist's own words for it, never shown to anyone else.
    label = models.CharField(max_length=80, blank=True)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A client's cancellation inside the therapist's free-cancellation window.
    late_cancellation = models.BooleanField(default=False)
    no_show_at = models.DateTimeField(null=True, blank=True)
    live_session = models.OneToOneField(
        "live.LiveSession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booking",
    )

    class Meta:
        ordering: ClassVar = ["starts_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["therapist", "starts_at"],
                condition=~Q(status="cancelled"),
                name="one_booking_per_start",
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")), name="booking_buffer_after_end"
            ),
        ]
        indexes: ClassVar = [
            models.Index(fields=["therapist", "starts_at"], name="booking_therapist_start"),
            models.Index(fields=["relationship", "starts_at"], name="booking_relationship_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status != BookingStatus.CANCELLED


class ProposalStatus(models.TextChoices):
    OPEN = "open", "Waiting for an answer"
    ACCEPTED = "accepted", "Accepted"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Proposal(models.Model):
    """Times a therapist offers a client; the client accepts one, which books it."""

    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="proposals"
    )
    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="proposals"
    )
    session_type = models.ForeignKey(SessionType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=12, choices=ProposalStatus.choices, default=ProposalStatus.OPEN
    )
    created_at = models.DateTimeField(default=timezone.now)
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="proposal"
    )

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Proposal #{self.pk} ({self.status})"


class ProposedTime(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="times")
    starts_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["starts_at"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["proposal", "starts_at"], name="one_proposed_start")
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M}"
