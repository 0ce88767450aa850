"""Reads for accounts."""

from __future__ import annotations

import datetime
import hashlib

from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide.accounts.models import ConsentDocument, ConsentRecord, PersonalAccessToken, User


def consent_current() -> ConsentDocument | None:
    return ConsentDocument.objects.order_by("-version").first()


def consent_is_current(*, user: User) -> bool:
    """Whether `user` has accepted the newest consent version (one query; true when none is
    published)."""
    accepted = (
        ConsentDocument.objects.order_by("-version")
        .annotate(accepted=Exists(ConsentRecord.objects.filter(user=user, document=OuterRef("pk"))))
        .values_list("accepted", flat=True)
        .first()
    )
    return True if accepted is None else bool(accepted)


def consent_history(*, user: User) -> QuerySet[ConsentRecord]:
    return (
        ConsentRecord.objects.filter(user=user).select_related("document").order_by("-accepted_at")
    )


def user_has_mfa(*, user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def tokens_for(*, user: User) -> QuerySet[PersonalAccessToken]:
    return PersonalAccessToken.objects.filter(user=user)


def token_digest(raw: str) -> str:
    """What is stored of a personal access token: its SHA-256, never the token."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def valid_token_digests(digests: list[str], *, now: datetime.datetime) -> set[str]:
    """Which of these token digests still belong to a live token of an active account."""
    return set(
        PersonalAccessToken.objects.filter(
            token_hash__in=digests,
            revoked_at__isnull=True,
            expires_at__gt=now,
            user__is_active=True,
        ).values_list("token_hash", flat=True)
    )
