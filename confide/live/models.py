"""Live sessions: a room's hour in real time, with a start, a waiting room, a timer and an end.
A session is live text chat, or a voice or video call (with the room's chat beside it).

The transcript is not stored twice: it is the room's messages between the session's start and
end events (`start_seq` .. `end_seq`), which are part of the written log like any others.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from confide.care.models import LIVE_SESSION_MINUTES

PLANNED_MINUTES = LIVE_SESSION_MINUTES


class LiveMode(models.TextChoices):
    CHAT = "chat", "Live chat"
    VOICE = "voice", "Voice call"
    VIDEO = "video", "Video call"


class LiveSession(models.Model):
    room = models.ForeignKey("rooms.Room", on_delete=models.PROTECT, related_name="live_sessions")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(max_length=8, choices=LiveMode.choices, default=LiveMode.CHAT)
    planned_minutes = models.PositiveSmallIntegerField(
        choices=[(m, f"{m} minutes") for m in PLANNED_MINUTES]
    )
    started_at = models.DateTimeField(default=timezone.now)
    start_seq = models.BigIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["room"], condition=Q(ended_at__isnull=True), name="one_open_live_session"
            )
        ]

    def __str__(self) -> str:
        return f"Live session {self.pk} in room {self.room_id}"


class ParticipantState(models.TextChoices):
    WAITING = "waiting", "Waiting to be admitted"
    ADMITTED = "admitted", "In the session"
    LEFT = "left", "Left"


class LiveParticipant(models.Model):
    session = models.ForeignKey(LiveSession, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=16, choices=ParticipantState.choices)
    asked_at = models.DateTimeField(default=timezone.now)
    admitted_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["session", "user"], name="one_place_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in live session {self.session_id} ({self.state})"
