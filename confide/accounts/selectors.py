"""Reads for accounts."""

from __future__ import annotations

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
