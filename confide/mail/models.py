"""Reply tokens, the record of email-delivery choices, and inbound mails waiting to be posted."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone

from confide.rooms.models import Delivery, Room


class ReplyToken(models.Model):
    """The secret in reply+<token>@MAIL_DOMAIN: one person, one room, until it expires.

    Only a SHA-256 digest is stored; the token itself exists only in the emails that carry it.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reply_tokens"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="reply_tokens")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(
                fields=["user"], name="live_reply_tokens", condition=models.Q(revoked_at=None)
            )
        ]

    def __str__(self) -> str:
        return f"reply token {self.pk} of user {self.user_id} in room {self.room_id}"


class DeliveryChoice(models.Model):
    """Every change of a person's delivery choice in a room, kept like a consent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delivery_choices"
    )
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="delivery_choices")
    delivery = models.CharField(max_length=8, choices=Delivery.choices)
    # Which version of the "what email does and does not protect" text the person was shown.
    explanation_version = models.PositiveSmallIntegerField()
    chosen_at = models.DateTimeField(default=timezone.now)
    # "web", "unsubscribe link" or "api": where the choice was made.
    via = models.CharField(max_length=16)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "room", "-chosen_at"])]

    def __str__(self) -> str:
        return f"user {self.user_id} chose {self.delivery} in room {self.room_id}"


class InboundStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be posted"
    POSTED = "posted", "Posted to the room"
    BOUNCED = "bounced", "Returned to the sender"


class InboundMail(models.Model):
    """A mail the gateway accepted: stored (encrypted) before it says 250, posted by a task.

    The raw bytes are erased once the mail is posted or bounced; the room's log is the record.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbound_mails"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="inbound_mails")
    token = models.ForeignKey(ReplyToken, on_delete=models.SET_NULL, null=True, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    size = models.PositiveIntegerField()
    raw = models.BinaryField()
    status = models.CharField(
        max_length=8, choices=InboundStatus.choices, default=InboundStatus.QUEUED
    )
    # A plain sentence for the sender when the mail bounced; never any of its content.
    reason = models.CharField(max_length=300, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    first_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "-received_at"])]

    def __str__(self) -> str:
        return f"inbound mail {self.pk} ({self.status})"
