from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from confide.accounts.places import validate_country, validate_time_zone


class Role(models.TextChoices):
    CLIENT = "client", "Client"
    THERAPIST = "therapist", "Therapist"
    ADMIN = "admin", "Practice admin"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        """For operators (Django admin); the product's own roles come from invitations."""
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("display_name", "Operator")
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in: a client, a therapist or a practice admin. Login is by email."""

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=80)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    country = models.CharField(max_length=2, blank=True, validators=[validate_country])
    locale = models.CharField(max_length=8, choices=settings.LANGUAGES, default="en")
    role = models.CharField(max_length=16, choices=Role.choices)
    practice = models.ForeignKey(
        "care.Practice", null=True, blank=True, on_delete=models.PROTECT, related_name="members"
    )
    # Notification and privacy preferences (each person's own).
    email_notifications = models.BooleanField(default=True)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    # Whether others in a room may see when this person has read a message.
    read_receipts = models.BooleanField(default=False)
    # Calls go through the TURN relay only, so the others never learn this person's address.
    hide_network_address = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        indexes: ClassVar = [models.Index(fields=["practice", "role"])]

    def __str__(self) -> str:
        return self.display_name or self.email

    @property
    def requires_mfa(self) -> bool:
        """Therapists and admins must use a second factor; clients may choose to."""
        return self.role in (Role.THERAPIST, Role.ADMIN)

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_practice_admin(self) -> bool:
        return self.role == Role.ADMIN


class ConsentDocument(models.Model):
    """A published version of the informed-consent text. Versions are never edited, only added."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    body = models.TextField()
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering: ClassVar = ["-version"]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"


class ConsentRecord(models.Model):
    """A client's acceptance of one consent version: when, which version, from where."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="consents")
    document = models.ForeignKey(ConsentDocument, on_delete=models.PROTECT, related_name="+")
    accepted_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "document"], name="consent_once_per_version")
        ]

    def __str__(self) -> str:
        return f"Consent v{self.document_id} by user {self.user_id}"


class PersonalAccessToken(models.Model):
    """A token for scripts using /api/v1. Only a SHA-256 of the token is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
