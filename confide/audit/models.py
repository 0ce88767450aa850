from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("The audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only")


class AuditEvent(models.Model):
    """Who did what to which clinical object, when and from where. Never any content.

    Rows are only ever inserted: the ORM refuses updates and deletes, and a database trigger
    (see the migration) refuses UPDATE everywhere and DELETE on PostgreSQL.
    """

    at = models.DateTimeField(default=timezone.now)
    # No foreign-key constraints: the log must outlive anything it mentions.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    practice = models.ForeignKey(
        "care.Practice",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    ip = models.GenericIPAddressField(null=True, blank=True)
    # Identifiers only (e.g. the previous therapist's id), never free text a person wrote.
    detail = models.JSONField(default=dict, blank=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering: ClassVar = ["-at", "-id"]
        indexes: ClassVar = [
            models.Index(fields=["practice", "at"]),
            models.Index(fields=["actor", "at"]),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise TypeError("The audit log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("The audit log is append-only")
