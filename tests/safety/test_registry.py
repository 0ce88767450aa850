"""Tests for the crisis resources registry (plain functions, no database)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

import pytest

from confide.safety.registry import (
    INTERNATIONAL,
    REGISTRY,
    SUPPORTED_COUNTRIES,
    CountryResources,
    CrisisLine,
    resources_for,
)

REQUIRED_COUNTRIES = ("US", "CA", "GB", "IE", "AU", "NZ", "DE", "FR", "ES", "NL", "IN")

# The date the registry was last reviewed as a whole; entries may not claim a later check
# and may not be more than a year older than it. Move this forward when re-checking.
REVIEW_DATE = datetime.date(2026, 11, 24)
MAX_AGE = datetime.timedelta(days=365)

EXPECTED_EMERGENCY_NUMBERS = {
    "US": "911",
    "CA": "911",
    "GB": "999",
    "IE": "112",
    "AU": "000",
    "NZ": "111",
    "DE": "112",
    "FR": "112",
    "ES": "112",
    "NL": "112",
    "IN": "112",
}


def _all_entries() -> list[CountryResources]:
    return [*REGISTRY.values(), INTERNATIONAL]


def _all_lines() -> Iterator[tuple[str, CrisisLine]]:
    for entry in _all_entries():
        for line in entry.lines:
            yield entry.country, line


def test_it_has_an_entry_for_every_required_country() -> None:
    missing = [code for code in REQUIRED_COUNTRIES if code not in REGISTRY]
    assert missing == []


def test_it_lists_supported_countries_as_the_sorted_registry_keys() -> None:
    assert sorted(REGISTRY) == list(SUPPORTED_COUNTRIES)
    assert tuple(sorted(SUPPORTED_COUNTRIES)) == SUPPORTED_COUNTRIES


@pytest.mark.parametrize("code", REQUIRED_COUNTRIES)
def test_it_uses_the_correct_national_emergency_number(code: str) -> None:
    assert REGISTRY[code].emergency_number == EXPECTED_EMERGENCY_NUMBERS[code]


@pytest.mark.parametrize("query", ["us", "US", "Us", "uS", " gb ", "nz"])
def test_it_looks_countries_up_case_insensitively(query: str) -> None:
    assert resources_for(query) is REGISTRY[query.strip().upper()]


@pytest.mark.parametrize("query", [None, "", "   ", "XX", "ZZ", "USA", "international"])
def test_it_falls_back_to_international_for_none_blank_or_unknown(query: str | None) -> None:
    assert resources_for(query) is INTERNATIONAL


def test_it_points_the_international_fallback_at_findahelpline() -> None:
    assert INTERNATIONAL.country == "INTL"
    assert INTERNATIONAL.emergency_number == "your local emergency number"
    assert INTERNATIONAL.source == "https://findahelpline.com"
    assert any(line.url == "https://findahelpline.com" for line in INTERNATIONAL.lines)
    assert "INTL" not in REGISTRY


def test_it_gives_every_entry_a_line_with_a_phone_or_url() -> None:
    without_contact = [
        entry.country
        for entry in _all_entries()
        if not any(line.phone or line.url for line in entry.lines)
    ]
    assert without_contact == []


def test_it_uses_https_for_every_url() -> None:
    urls = [(entry.country, entry.source) for entry in _all_entries()]
    urls += [(country, line.url) for country, line in _all_lines() if line.url is not None]
    insecure = [(country, url) for country, url in urls if not url.startswith("https://")]
    assert insecure == []


def test_it_gives_every_line_a_name_and_hours() -> None:
    incomplete = [
        (country, line) for country, line in _all_lines() if not line.name or not line.hours
    ]
    assert incomplete == []


def test_it_has_no_checked_date_in_the_future() -> None:
    future = [entry.country for entry in _all_entries() if entry.checked > REVIEW_DATE]
    assert future == []


def test_it_has_no_checked_date_older_than_one_year() -> None:
    stale = [entry.country for entry in _all_entries() if REVIEW_DATE - entry.checked > MAX_AGE]
    assert stale == []


def test_it_keys_entries_by_their_own_upper_case_alpha_2_code() -> None:
    for key, entry in REGISTRY.items():
        assert re.fullmatch(r"[A-Z]{2}", key), key
        assert entry.country == key


def test_it_is_read_only() -> None:
    with pytest.raises(TypeError):
        REGISTRY["XX"] = INTERNATIONAL  # type: ignore[index]
