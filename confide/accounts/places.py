"""Countries and time zones, from the IANA tz database shipped by the `tzdata` package."""

from __future__ import annotations

import zoneinfo
from functools import cache
from importlib import resources

from django.core.exceptions import ValidationError


@cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English short name, sorted by name."""
    text = resources.files("tzdata").joinpath("zoneinfo", "iso3166.tab").read_text("utf-8")
    pairs = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name = line.split("\t", 1)
        pairs.append((code.strip(), name.strip()))
    return dict(sorted(pairs, key=lambda pair: pair[1]))


@cache
def time_zones() -> tuple[str, ...]:
    return tuple(
        sorted(zone for zone in zoneinfo.available_timezones() if "/" in zone or zone == "UTC")
    )


def validate_country(value: str) -> None:
    if value and value not in countries():
        raise ValidationError("Choose a country from the list.", code="invalid_country")


def validate_time_zone(value: str) -> None:
    if value not in time_zones():
        raise ValidationError("Choose a time zone from the list.", code="invalid_time_zone")
