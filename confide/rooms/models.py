"""Rooms, their members and the written log: messages, versions, attachments, search tokens."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class RoomKind(models.TextChoices):
    INDIVIDUAL = "individual", "Individual room"
    COUPLE = "couple", "Couples room"
    PRIVATE = "private", "Private room"  # one partner of a couple with the therapist


class Room(models.Model):
    """Where a therapist and a client (or a couple) write to each other.

    The counters (`last_seq`, `last_message_at`) and the reply window (`waiting_since`,
    `reply_due_at`) are kept up to date by `message_send` under the room's row lock, so the
    inbox reads them without touching the messages table.
    """

    practice = models.ForeignKey("care.Practice", on_delete=models.PROTECT, related_name="rooms")
    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="rooms"
    )
    kind = models.CharField(max_length=16, choices=RoomKind.choices)
    # For a private room of a couple: the partner it belongs to (the other can never read it).
    private_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seq = models.BigIntegerField(default=0)
    last_message_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    crisis_open = models.BooleanField(default=False)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["relationship", "kind"],
                name="one_shared_room_per_kind",
                condition=Q(private_for__isnull=True),
            ),
            models.UniqueConstraint(
                fields=["relationship", "private_for"],
                name="one_private_room_per_partner",
                condition=Q(private_for__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class MemberRole(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"
    COVERING = "covering", "Covering therapist"


class Delivery(models.TextChoices):
    NOTIFY = "notify", "Notify me"
    EMAIL = "email", "Email therapy"
    NONE = "none", "No email"


class RoomMember(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="room_memberships"
    )
    role = models.CharField(max_length=16, choices=MemberRole.choices)
    joined_at = models.DateTimeField(default=timezone.now)
    left_at = models.DateTimeField(null=True, blank=True)
    last_read_seq = models.BigIntegerField(default=0)
    last_read_at = models.DateTimeField(null=True, blank=True)
    # Up to which sequence number this member has been told about by email.
    notified_seq = models.BigIntegerField(default=0)
    # Up to which sequence number this member's device has received (delivery ticks).
    delivered_seq = models.BigIntegerField(default=0)
    # How this member hears of new messages by email (confide.mail keeps the history of choices).
    delivery = models.CharField(max_length=8, choices=Delivery.choices, default=Delivery.NOTIFY)
    # Up to which sequence number messages have been emailed in full (email therapy).
    emailed_seq = models.BigIntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["room", "user"], name="one_membership_per_room")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["user"], name="active_memberships", condition=Q(left_at__isnull=True)
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in room {self.room_id} ({self.role})"

    @property
    def is_staff_side(self) -> bool:
        return self.role in (MemberRole.THERAPIST, MemberRole.COVERING)


class MessageKind(models.TextChoices):
    TEXT = "text", "Message"
    VOICE = "voice", "Voice note"
    FILE = "file", "Attachment"
    NOTICE = "notice", "Automatic notice"
    EVENT = "event", "Room event"


class Message(models.Model):
    """One entry of the written log. The body is encrypted (context: room id and sequence)."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="messages")
    seq = models.BigIntegerField()
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    client_id = models.UUIDField(null=True, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    crisis = models.BooleanField(default=False)
    # Which live session this message belongs to, once live sessions exist (null: async).
    live_session_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["room", "seq"], name="one_message_per_seq"),
            models.UniqueConstraint(
                fields=["room", "sender", "client_id"],
                name="idempotent_send",
                condition=Q(client_id__isnull=False),
            ),
        ]
        # Agreement adherence (check-in days this week) and last contact, by room and time.
        indexes: ClassVar = [models.Index(fields=["room", "created_at"])]

    def __str__(self) -> str:
        return f"Message {self.room_id}#{self.seq}"


class MessageVersion(models.Model):
    """An earlier text of an edited (or deleted) message: the log never changes silently."""

    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.BinaryField()
    written_at = models.DateTimeField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["message", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"Version {self.number} of message {self.message_id}"


class Attachment(models.Model):
    """A file or voice note, encrypted in the database with the message it belongs to."""

    message = models.OneToOneField(Message, on_delete=models.PROTECT, related_name="attachment")
    content_type = models.CharField(max_length=64)
    category = models.CharField(max_length=16)
    size = models.PositiveIntegerField()
    name = models.BinaryField()  # encrypted: a file name can say as much as a message
    data = models.BinaryField()
    duration_ms = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Attachment of message {self.message_id}"


class SearchToken(models.Model):
    """Blind index for full-text search: keyed hashes of a message's words, never the words."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=32)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["token", "room"])]

    def __str__(self) -> str:
        return f"Token of message {self.message_id}"


class CrisisFlag(models.Model):
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="crisis_flags")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="crisis_flags")
    rule = models.CharField(max_length=64)
    category = models.CharField(max_length=16)
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    clear_reason = models.BinaryField(null=True, blank=True)  # encrypted clinical text

    def __str__(self) -> str:
        return f"Crisis flag {self.pk} in room {self.room_id}"


class ReplyRecord(models.Model):
    """One answered wait: how long a client waited for their therapist, and whether the reply
    came inside the promised window. The response-time figures are computed from these."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    waited_from = models.DateTimeField()
    due_at = models.DateTimeField()
    replied_at = models.DateTimeField()
    within_window = models.BooleanField()
    seconds = models.FloatField()

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["therapist", "replied_at"]),
            # The caseload's reply figures per relationship (its rooms) over 90 days.
            models.Index(fields=["room", "replied_at"]),
        ]

    def __str__(self) -> str:
        return f"Reply in room {self.room_id} at {self.replied_at:%Y-%m-%d}"


class PresenceState(models.TextChoices):
    HERE = "here", "Here"
    AWAY = "away", "Away"


class Presence(models.Model):
    """An open WebSocket of a person; a person with none (or only stale ones) is offline.

    Each server process refreshes `seen_at` of its own sockets every minute, so rows left by a
    process that died go stale and stop counting.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.CASCADE, related_name="presences"
    )
    channel_name = models.CharField(max_length=200, unique=True)
    state = models.CharField(
        max_length=8, choices=PresenceState.choices, default=PresenceState.HERE
    )
    seen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [models.Index(fields=["user", "seen_at"], name="presence_by_user")]

    def __str__(self) -> str:
        return f"Presence of {self.user_id}"
