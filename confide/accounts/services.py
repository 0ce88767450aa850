"""Writes for accounts: people, consent, second factors and personal access tokens."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide import rawsql
from confide.accounts.models import (
    ConsentDocument,
    ConsentRecord,
    PersonalAccessToken,
    Role,
    User,
)
from confide.accounts.places import countries, time_zones
from confide.audit.services import audit_record
from confide.care.models import Practice
from confide.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "cfd_"  # noqa: S105 - a public prefix that makes leaked tokens recognisable
# A token's last use is written at most this often (one write per token per minute).
_LAST_USED_EVERY = datetime.timedelta(minutes=1)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def profile_errors(
    *, display_name: str, time_zone: str, country: str, locale: str
) -> dict[str, list[str]]:
    """Field errors for the profile fields every account has (empty when all is well)."""
    errors: dict[str, list[str]] = {}
    if not display_name.strip():
        errors["display_name"] = ["Enter the name you would like to be called."]
    elif len(display_name.strip()) > 80:
        errors["display_name"] = ["Use at most 80 characters."]
    if time_zone not in time_zones():
        errors["time_zone"] = ["Choose a time zone from the list."]
    if country not in countries():
        errors["country"] = ["Choose a country from the list."]
    if locale not in dict(settings.LANGUAGES):
        errors["locale"] = ["Choose a language from the list."]
    return errors


def user_create(
    *,
    email: str,
    password: str,
    display_name: str,
    role: Role,
    practice: Practice,
    time_zone: str = "UTC",
    country: str = "",
    locale: str = "en",
) -> User:
    """Create an account. Callers are invitation acceptance and the demo seed."""
    email = User.objects.normalize_email(email).strip().lower()
    errors = profile_errors(
        display_name=display_name, time_zone=time_zone, country=country or "US", locale=locale
    )
    if country == "":
        errors.pop("country", None)
    candidate = User(email=email, display_name=display_name.strip(), role=role)
    try:
        password_validation.validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise InvalidInput("The account details are not valid.", field_errors=errors)
    if User.objects.filter(email=email).exists():
        raise Conflict(
            "An account with this email address already exists.",
            field_errors={"email": ["An account with this email address already exists."]},
        )
    return User.objects.create_user(
        email=email,
        password=password,
        display_name=display_name.strip(),
        role=role,
        practice=practice,
        time_zone=time_zone,
        country=country,
        locale=locale,
        # Therapists show when they have read a message; clients choose to (off by default).
        read_receipts=role != Role.CLIENT,
    )


def profile_update(
    *, user: User, display_name: str, time_zone: str, country: str, locale: str
) -> User:
    errors = profile_errors(
        display_name=display_name, time_zone=time_zone, country=country, locale=locale
    )
    if errors:
        raise InvalidInput("The profile is not valid.", field_errors=errors)
    user.display_name = display_name.strip()
    user.time_zone = time_zone
    user.country = country
    user.locale = locale
    user.save(update_fields=["display_name", "time_zone", "country", "locale"])
    audit_record(actor=user, action="profile.update", object_type="user", object_id=user.pk)
    return user


def consent_accept(*, user: User, version: int) -> ConsentRecord:
    """Record that `user` accepted consent `version`, which must be the current one."""
    current = ConsentDocument.objects.order_by("-version").first()
    if current is None or current.version != version:
        raise Conflict("That consent version is no longer current; please read the new one.")
    with transaction.atomic():
        record, _ = ConsentRecord.objects.get_or_create(
            user=user,
            document=current,
            defaults={"accepted_at": timezone.now()},
        )
        audit_record(
            actor=user,
            action="consent.accept",
            object_type="consent",
            object_id=record.pk,
            detail={"version": current.version},
        )
    return record


def totp_device_start(*, user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for `user`; earlier unconfirmed ones are discarded."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_device_confirm(*, user: User, device_id: int, token: str) -> TOTPDevice:
    """Confirm an authenticator by a code it shows; raises InvalidInput when the code is wrong."""
    device = TOTPDevice.objects.filter(user=user, pk=device_id, confirmed=False).first()
    if device is None:
        raise NotFound("No authenticator is waiting to be confirmed.")
    if not token.strip().isdigit() or not device.verify_token(token.strip()):
        raise InvalidInput(
            "That code is not right.", field_errors={"token": ["That code is not right."]}
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=user, action="mfa.enable", object_type="user", object_id=user.pk)
    return device


def token_create(
    *, user: User, name: str, ttl_days: int | None = None
) -> tuple[PersonalAccessToken, str]:
    """A new personal access token. The raw token is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise InvalidInput(
            "Name the token.",
            field_errors={"name": ["Give the token a name (1 to 80 characters)."]},
        )
    days = ttl_days if ttl_days is not None else settings.PERSONAL_TOKEN_TTL_DAYS
    if not 1 <= days <= 365:
        raise InvalidInput(
            "Bad lifetime.", field_errors={"ttl_days": ["Choose between 1 and 365 days."]}
        )
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = PersonalAccessToken.objects.create(
            user=user,
            name=name,
            prefix=raw[:10],
            token_hash=_hash_token(raw),
            expires_at=timezone.now() + datetime.timedelta(days=days),
        )
        audit_record(actor=user, action="token.create", object_type="token", object_id=token.pk)
    return token, raw


def token_revoke(*, user: User, token_id: int) -> PersonalAccessToken:
    token = PersonalAccessToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        with transaction.atomic():
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=user, action="token.revoke", object_type="token", object_id=token.pk)
    return token


@dataclasses.dataclass(frozen=True)
class TokenCaller:
    """Who a valid personal access token speaks for, and what the API checks about them."""

    user: User
    consent_current: bool  # the user accepted the newest consent version (or none is published)


# The token, its user and the user's consent state in one statement: the ORM's three queries
# cost more CPU than the rest of an API request (docs/performance.md). It runs on every request,
# so a revoked token or a deactivated account is refused at once, in every process.
_TOKEN_CALLER = (
    'SELECT t."id", (t."last_used_at" IS NULL OR t."last_used_at" < %s), '
    'COALESCE((SELECT EXISTS(SELECT 1 FROM "accounts_consentrecord" r '
    'WHERE r."user_id" = u."id" AND r."document_id" = d."id") '
    'FROM "accounts_consentdocument" d ORDER BY d."version" DESC LIMIT 1), TRUE), ',
    # ... every column of the user, in field order (rawsql.select_list), then:
    ' FROM "accounts_personalaccesstoken" t JOIN "accounts_user" u ON u."id" = t."user_id" '
    'WHERE t."token_hash" = %s AND t."revoked_at" IS NULL AND t."expires_at" > %s',
)


@functools.cache
def _token_caller_sql() -> str:
    return _TOKEN_CALLER[0] + rawsql.select_list(User, "u") + _TOKEN_CALLER[1]


def token_caller(*, raw: str, now: datetime.datetime | None = None) -> TokenCaller | None:
    """The active user behind a raw personal access token (with their consent state), or None.

    Same rules as `consent_is_current` for the consent state. Stamps the token's last use, at
    most once a minute.
    """
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    moment = now or timezone.now()
    prepared = rawsql.prep(PersonalAccessToken, "expires_at", moment)
    stale = rawsql.prep(PersonalAccessToken, "last_used_at", moment - _LAST_USED_EVERY)
    with connection.cursor() as cursor:
        cursor.execute(_token_caller_sql(), [stale, _hash_token(raw), prepared])
        row = cursor.fetchone()
        if row is None:
            return None
        user = rawsql.instance(User, row[3:])
        if not user.is_active:
            return None
        if row[1]:
            cursor.execute(
                'UPDATE "accounts_personalaccesstoken" SET "last_used_at" = %s WHERE "id" = %s',
                [rawsql.prep(PersonalAccessToken, "last_used_at", moment), row[0]],
            )
    return TokenCaller(user=user, consent_current=bool(row[2]))


def token_authenticate(*, raw: str, now: datetime.datetime | None = None) -> User | None:
    """The active user behind a raw personal access token, or None."""
    caller = token_caller(raw=raw, now=now)
    return caller.user if caller is not None else None


def preferences_update(
    *,
    user: User,
    email_notifications: bool,
    read_receipts: bool,
    quiet_hours_start: datetime.time | None,
    quiet_hours_end: datetime.time | None,
    hide_network_address: bool | None = None,
) -> User:
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        raise InvalidInput(
            "Give both ends of the quiet hours, or neither.",
            field_errors={"quiet_hours_end": ["Give both ends of the quiet hours, or neither."]},
        )
    user.email_notifications = email_notifications
    user.read_receipts = read_receipts
    user.quiet_hours_start = quiet_hours_start
    user.quiet_hours_end = quiet_hours_end
    if hide_network_address is not None:
        user.hide_network_address = hide_network_address
    user.save(
        update_fields=[
            "email_notifications",
            "read_receipts",
            "quiet_hours_start",
            "quiet_hours_end",
            "hide_network_address",
        ]
    )
    audit_record(actor=user, action="preferences.update", object_type="user", object_id=user.pk)
    return user
