"""Re-encrypt every encrypted field with the current key (the first of ENCRYPTION_KEYS).

Rotation: put the new key first in ENCRYPTION_KEYS (keep the old one after it), restart, run
this command until it reports 0 rows left, then remove the old key.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from django.core.management.base import BaseCommand
from django.db import models, transaction

from confide import crypto
from confide.mail.models import InboundMail
from confide.mail.services import inbound_raw_context
from confide.rooms.models import Attachment, CrisisFlag, Message, MessageVersion
from confide.support.agreements import goals_context
from confide.support.exercises import answers_context, comment_context
from confide.support.journal import entry_context
from confide.support.measures import response_context
from confide.support.models import (
    CareAgreement,
    ExerciseComment,
    ExerciseResponse,
    JournalEntry,
    MeasureResponse,
    PrivateNote,
)
from confide.support.notes import note_context

BATCH = 500


def _fields() -> Iterator[tuple[type[models.Model], str, Callable[[Any], str]]]:
    """(model, field, context for a row). Contexts must match the services that wrote them."""
    yield Message, "body", lambda m: f"message:{m.room_id}:{m.seq}:body"
    yield (
        MessageVersion,
        "body",
        lambda v: f"message:{v.message.room_id}:{v.message.seq}:version:{v.number}",
    )
    yield (
        Attachment,
        "name",
        lambda a: f"message:{a.message.room_id}:{a.message.seq}:attachment:name",
    )
    yield (
        Attachment,
        "data",
        lambda a: f"message:{a.message.room_id}:{a.message.seq}:attachment:data",
    )
    yield CrisisFlag, "clear_reason", lambda f: f"crisis:{f.pk}:reason"
    yield InboundMail, "raw", lambda m: inbound_raw_context(m.pk).decode()
    yield CareAgreement, "goals", lambda a: goals_context(a.relationship_id, a.number)
    yield ExerciseResponse, "answers", lambda r: answers_context(r.exercise_id, r.user_id)
    yield ExerciseComment, "body", lambda c: comment_context(c.exercise_id, c.pk)
    yield JournalEntry, "body", lambda e: entry_context(e.pk)
    yield MeasureResponse, "answers", lambda r: response_context(r.pk)
    yield PrivateNote, "body", lambda n: note_context(n.pk)


def rotate(*, dry_run: bool = False) -> dict[str, int]:
    """Re-encrypt what an old key encrypted; returns rows changed (or to change) per field."""
    counts: dict[str, int] = {}
    for model, field, context in _fields():
        label = f"{model._meta.label}.{field}"
        counts[label] = 0
        rows = model._default_manager.exclude(**{f"{field}__isnull": True}).order_by("pk")
        if model in (MessageVersion, Attachment):
            rows = rows.select_related("message")
        last = 0
        while True:
            batch = list(rows.filter(pk__gt=last)[:BATCH])
            if not batch:
                break
            last = batch[-1].pk
            # An erased value (a posted mail's raw bytes) is empty: nothing to re-encrypt.
            stale = [
                row
                for row in batch
                if getattr(row, field) and crypto.needs_rotation(bytes(getattr(row, field)))
            ]
            counts[label] += len(stale)
            if dry_run or not stale:
                continue
            with transaction.atomic():
                for row in stale:
                    blob = bytes(getattr(row, field))
                    setattr(row, field, crypto.reencrypt(blob, context=context(row).encode()))
                    row.save(update_fields=[field])
    return counts


class Command(BaseCommand):
    help = "Re-encrypt message bodies, versions, attachments and notes with the current key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the rows an old key encrypted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = rotate(dry_run=options["dry_run"])
        for label, count in counts.items():
            self.stdout.write(
                f"{label}: {count} {'to re-encrypt' if options['dry_run'] else 're-encrypted'}"
            )
        self.stdout.write(f"current key: {crypto.keyring().current_id}")
