from __future__ import annotations

import datetime
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from confide.accounts.places import validate_country, validate_time_zone

# The planned lengths a live session (chat or call) may have, in minutes.
LIVE_SESSION_MINUTES = (30, 45, 50)


class Practice(models.Model):
    """A therapy practice: its therapists, its clients and its promises (the reply window)."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(unique=True)
    country = models.CharField(max_length=2, validators=[validate_country])
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # The default reply window for asynchronous messages, in business days.
    reply_window_business_days = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # After a reply is overdue by this long, the practice admin is told.
    escalation_grace_hours = models.PositiveSmallIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(240)]
    )
    # The planned length of a live session (chat or call), unless the therapist picks another.
    live_session_minutes = models.PositiveSmallIntegerField(
        default=50, choices=[(m, f"{m} minutes") for m in LIVE_SESSION_MINUTES]
    )
    is_demo = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class CareKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COUPLE = "couple", "Couple"


class CareRelationship(models.Model):
    """One therapist working with one client, or with a couple (two clients)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="relationships")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="caseload"
    )
    kind = models.CharField(max_length=16, choices=CareKind.choices)
    clients = models.ManyToManyField(  # type: ignore[var-annotated]
        settings.AUTH_USER_MODEL, through="CareParticipant", related_name="care"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["therapist", "ended_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} care #{self.pk}"

    @property
    def capacity(self) -> int:
        return 2 if self.kind == CareKind.COUPLE else 1


class CareParticipant(models.Model):
    relationship = models.ForeignKey(
        CareRelationship, on_delete=models.CASCADE, related_name="participants"
    )
    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_participations"
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["relationship", "client"], name="one_seat_per_client")
        ]

    def __str__(self) -> str:
        return f"Client {self.client_id} in care #{self.relationship_id}"


class TherapistAssignment(models.Model):
    """History of who has been the therapist of a relationship, and who decided it."""

    relationship = models.ForeignKey(
        CareRelationship, on_delete=models.CASCADE, related_name="assignments"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["started_at"]

    def __str__(self) -> str:
        return f"Therapist {self.therapist_id} for care #{self.relationship_id}"


class Invitation(models.Model):
    """A single-use, expiring link that lets a person create their account.

    Clients are invited by their therapist into a relationship; therapists by a practice admin.
    The link's token is derived from `nonce` with the server's secret key, and only its SHA-256
    is stored: a database reader cannot accept an invitation, and no queued task holds the token.
    """

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16)
    email = models.EmailField()
    relationship = models.ForeignKey(
        CareRelationship,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="invitations",
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation #{self.pk} ({self.role})"

    def status(self, now: datetime.datetime | None = None) -> str:
        moment = now or timezone.now()
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= moment:
            return "expired"
        return "pending"


class TherapistSchedule(models.Model):
    """When a therapist works: the reply window counts only this time."""

    therapist = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="schedule"
    )
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # Working weekdays as digits, 0 = Monday … 6 = Sunday.
    weekdays = models.CharField(max_length=7, default="01234")
    start = models.TimeField(default=datetime.time(9, 0))
    end = models.TimeField(default=datetime.time(17, 0))
    holiday_country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    holiday_subdivision = models.CharField(max_length=8, blank=True)

    def __str__(self) -> str:
        return f"Schedule of {self.therapist_id}"


class OutOfOffice(models.Model):
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="away_periods"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering: ClassVar = ["starts_at"]

    def __str__(self) -> str:
        return f"Away {self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d}"


class CoveringTherapist(models.Model):
    """A therapist who covers a relationship for a while (e.g. during leave): from `started_at`
    they see its rooms; until then they saw nothing, and the audit log says who decided."""

    relationship = models.ForeignKey(
        CareRelationship, on_delete=models.CASCADE, related_name="covers"
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="covering"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["started_at"]

    def __str__(self) -> str:
        return f"Therapist {self.therapist_id} covering care #{self.relationship_id}"
