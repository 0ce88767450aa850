"""Support between sessions: the care agreement, exercises, the client's journal, measures
(questionnaires) and the therapist's private notes.

What a person wrote is encrypted at rest like message bodies (AES-GCM, bound to the row by its
context string; see each field). Scores and severity bands are kept in the clear so the
caseload can sort and chart them without decrypting anything.

Who sees what follows the room: an exercise and a measure live in one room, and everyone in that
room sees them (a couple's shared room: both partners and the therapist; a partner's private
room: that partner and the therapist). Private notes live in no room: only the therapist side
of the relationship (therapist, covering therapist) can read them, and every read is audited.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Instrument(models.TextChoices):
    PHQ9 = "phq9", "PHQ-9 (mood)"
    GAD7 = "gad7", "GAD-7 (anxiety)"
    CSI4 = "csi4", "CSI-4 (relationship satisfaction)"


class AgreementState(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACCEPTED = "accepted", "Agreed"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"
    SUPERSEDED = "superseded", "Replaced by a later version"


class HomeworkRhythm(models.TextChoices):
    NONE = "none", "No regular homework"
    WEEKLY = "weekly", "One exercise a week"
    TWICE_WEEKLY = "twice_weekly", "Two exercises a week"
    FORTNIGHTLY = "fortnightly", "One exercise every two weeks"


class CareAgreement(models.Model):
    """One version of the care agreement of a relationship (a client, or a couple).

    Either side proposes a version; another person of the relationship (therapist side or
    client side, whichever did not propose) accepts or declines it. The current agreement is the
    latest accepted version; accepting a new one marks the previous one superseded. `goals` is
    encrypted with the context `agreement:<relationship id>:<number>`.
    """

    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="agreements"
    )
    number = models.PositiveIntegerField()
    state = models.CharField(
        max_length=12, choices=AgreementState.choices, default=AgreementState.PROPOSED
    )
    # How many days a week the client means to check in (write in the room).
    checkins_per_week = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(7)]
    )
    # The reply window the therapist promises, in business days.
    reply_window_business_days = models.PositiveSmallIntegerField(
        default=2, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    # Planned live sessions (chat, voice or video) a month.
    live_sessions_per_month = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(8)]
    )
    homework_rhythm = models.CharField(
        max_length=16, choices=HomeworkRhythm.choices, default=HomeworkRhythm.WEEKLY
    )
    goals = models.BinaryField()  # encrypted
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["relationship", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["relationship", "number"], name="one_agreement_number"),
            models.UniqueConstraint(
                fields=["relationship"],
                name="one_open_agreement_proposal",
                condition=Q(state="proposed"),
            ),
            models.UniqueConstraint(
                fields=["relationship"],
                name="one_current_agreement",
                condition=Q(state="accepted"),
            ),
        ]

    def __str__(self) -> str:
        return f"Agreement {self.number} of care #{self.relationship_id} ({self.state})"


class FieldKind(models.TextChoices):
    TEXT = "text", "Written answer"
    SCALE = "scale", "Scale"
    CHOICE = "choice", "Choice"
    DATE = "date", "Date"


class ExerciseTemplate(models.Model):
    """A written exercise: the library's (practice null, `key` set) or a therapist's own.

    `fields` is a list of field definitions, validated by `confide.support.forms_builder`:
    ``{"id": "situation", "kind": "text", "label": "...", "help": "...", "required": true}``,
    scales with ``"min"``/``"max"`` and end labels, choices with ``"choices": [...]``.
    Labels and help are plain text: they are always escaped when shown.
    """

    practice = models.ForeignKey(
        "care.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.SlugField(max_length=64, null=True, blank=True, unique=True)  # library only
    title = models.CharField(max_length=120)
    instructions = models.TextField(max_length=4000, blank=True)
    fields = models.JSONField(default=list)
    for_couples = models.BooleanField(default=False)
    archived = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["title", "pk"]

    def __str__(self) -> str:
        return self.title


class Exercise(models.Model):
    """An exercise assigned in a room. Its title, instructions and fields are copied from the
    template when assigned, so a later change to the template never changes an assignment.

    `for_user` is the client who fills it in; null means every client of the room (both
    partners of a couple, each with their own response). Everyone in the room sees the
    exercise, its responses and its comments.
    """

    room = models.ForeignKey("rooms.Room", on_delete=models.PROTECT, related_name="+")
    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="+"
    )
    template = models.ForeignKey(ExerciseTemplate, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=120)
    instructions = models.TextField(max_length=4000, blank=True)
    fields = models.JSONField(default=list)
    for_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["relationship", "assigned_at"]),
            models.Index(fields=["room", "assigned_at"]),
            # Overdue exercises on the caseload.
            models.Index(fields=["relationship", "due_on"]),
        ]

    def __str__(self) -> str:
        return f"Exercise {self.pk} in room {self.room_id}"


class ResponseState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"


class ExerciseResponse(models.Model):
    """One client's answers to an exercise: a draft until submitted. `answers` is encrypted JSON
    (context `exercise:<exercise id>:<user id>`)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="responses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answers = models.BinaryField()
    state = models.CharField(
        max_length=10, choices=ResponseState.choices, default=ResponseState.DRAFT
    )
    updated_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["exercise", "user"], name="one_response_per_person")
        ]

    def __str__(self) -> str:
        return f"Response of {self.user_id} to exercise {self.exercise_id}"


class ExerciseComment(models.Model):
    """The therapist's (or a client's) comment on an exercise. `body` is encrypted (context
    `exercise-comment:<exercise id>:<comment id>`; the row is created first, then sealed)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on exercise {self.exercise_id}"


class JournalEntry(models.Model):
    """A client's private journal entry. Nobody else can read it unless the client shares it
    into one of their rooms, which posts it there as a message (`shared_room`, `shared_seq`).
    `body` is encrypted (context `journal:<entry id>`)."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="journal_entries"
    )
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    shared_room = models.ForeignKey(
        "rooms.Room", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_seq = models.BigIntegerField(null=True, blank=True)
    shared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["author", "created_at"])]

    def __str__(self) -> str:
        return f"Journal entry {self.pk}"


class MeasureSchedule(models.Model):
    """A questionnaire assigned to one client on a schedule, shown in one room."""

    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey("rooms.Room", on_delete=models.PROTECT, related_name="+")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    every_days = models.PositiveSmallIntegerField(
        default=14, validators=[MinValueValidator(7), MaxValueValidator(90)]
    )
    next_due_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["relationship", "respondent", "instrument"],
                name="one_running_measure_schedule",
                condition=Q(ended_at__isnull=True),
            )
        ]
        indexes: ClassVar = [models.Index(fields=["ended_at", "next_due_at"])]

    def __str__(self) -> str:
        return f"{self.instrument} every {self.every_days} days for {self.respondent_id}"


class MeasureResponse(models.Model):
    """One completed questionnaire. `answers` (the item scores) is encrypted JSON (context
    `measure:<response id>`; created first, then sealed); `score` and `band` are in the clear
    for charts and the caseload. `urgent` marks an answer that raised a crisis flag (PHQ-9
    item 9 above zero)."""

    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="+"
    )
    room = models.ForeignKey("rooms.Room", on_delete=models.PROTECT, related_name="+")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    schedule = models.ForeignKey(
        MeasureSchedule, null=True, blank=True, on_delete=models.PROTECT, related_name="responses"
    )
    instrument = models.CharField(max_length=8, choices=Instrument.choices)
    answers = models.BinaryField()
    score = models.PositiveSmallIntegerField()
    band = models.CharField(max_length=24)
    urgent = models.BooleanField(default=False)
    completed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["relationship", "instrument", "completed_at"]),
            models.Index(fields=["respondent", "instrument", "completed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.score} for {self.respondent_id}"


class NoteFormat(models.TextChoices):
    FREE = "free", "Free form"
    SOAP = "soap", "SOAP (subjective, objective, assessment, plan)"


class PrivateNote(models.Model):
    """The therapist's private note about a relationship (optionally about one partner).

    Never shown to a client by any path. `body` is encrypted JSON (context
    `note:<note id>`; created first, then sealed): ``{"text": ...}`` for free form,
    ``{"s": ..., "o": ..., "a": ..., "p": ...}`` for SOAP. Every read is audited.
    """

    relationship = models.ForeignKey(
        "care.CareRelationship", on_delete=models.PROTECT, related_name="+"
    )
    about = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    format = models.CharField(max_length=8, choices=NoteFormat.choices, default=NoteFormat.FREE)
    session_on = models.DateField(null=True, blank=True)
    body = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [models.Index(fields=["relationship", "created_at"])]

    def __str__(self) -> str:
        return f"Private note {self.pk} for care #{self.relationship_id}"
