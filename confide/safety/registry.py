"""Crisis resources shown to clients who may be at risk, keyed by country.

This registry is safety-critical: a wrong or dead number shown to someone in crisis is a
real harm. Treat every change like a clinical content change and get it reviewed.

Maintaining the registry
------------------------
* Re-check every entry at least once a year (the test suite fails for entries whose
  ``checked`` date is more than a year old) and whenever a service announces a change.
* To re-check an entry, open its ``source`` page (the service's own website, or the
  government page that runs it) and confirm the name, every phone number, the text/SMS
  instructions, the website and the opening hours. Confirm the national emergency number.
* Set ``checked`` to the date you did the check, even when nothing changed. Do not bump
  ``checked`` for entries you did not actually verify.
* ``phone`` is written as it is dialled locally (no country code); ``url`` must be https.
* To add a country, key it by its ISO 3166-1 alpha-2 code (upper case), cite the page you
  checked it against as ``source``, and add the code to the required list in
  ``tests/safety/test_registry.py``.
* Anyone whose country is not listed gets ``INTERNATIONAL``, which points to
  https://findahelpline.com and tells them to use their local emergency number.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "INTERNATIONAL",
    "REGISTRY",
    "SUPPORTED_COUNTRIES",
    "CountryResources",
    "CrisisLine",
    "resources_for",
]


@dataclass(frozen=True, slots=True)
class CrisisLine:
    """One crisis service (helpline, text line or directory)."""

    name: str
    """Service name, e.g. ``"988 Suicide & Crisis Lifeline"``."""
    phone: str | None
    """Number as dialled locally, e.g. ``"988"``; ``None`` if the service has no phone line."""
    text: str | None
    """SMS/text instructions, e.g. ``"Text 988"``; ``None`` if there is no text service."""
    url: str | None
    """The service's own website (https)."""
    hours: str
    """Opening hours, e.g. ``"24/7"``."""


@dataclass(frozen=True, slots=True)
class CountryResources:
    """Everything we show for one country."""

    country: str
    """ISO 3166-1 alpha-2 code in upper case, or ``"INTL"`` for the fallback."""
    country_name: str
    emergency_number: str
    """National emergency number, e.g. ``"911"``."""
    lines: tuple[CrisisLine, ...]
    source: str
    """URL of the page the entry was checked against."""
    checked: datetime.date
    """Date the entry was last checked against ``source``."""


_CHECKED = datetime.date(2026, 11, 24)

_24_7 = "24/7"

_ENTRIES: tuple[CountryResources, ...] = (
    CountryResources(
        country="US",
        country_name="United States",
        emergency_number="911",
        lines=(
            CrisisLine(
                name="988 Suicide & Crisis Lifeline",
                phone="988",
                text="Text 988",
                url="https://988lifeline.org",
                hours=_24_7,
            ),
        ),
        source="https://988lifeline.org",
        checked=_CHECKED,
    ),
    CountryResources(
        country="CA",
        country_name="Canada",
        emergency_number="911",
        lines=(
            CrisisLine(
                name="9-8-8: Suicide Crisis Helpline",
                phone="988",
                text="Text 988",
                url="https://988.ca",
                hours=_24_7,
            ),
        ),
        source="https://988.ca",
        checked=_CHECKED,
    ),
    CountryResources(
        country="GB",
        country_name="United Kingdom",
        emergency_number="999",  # 112 also works
        lines=(
            CrisisLine(
                name="Samaritans",
                phone="116 123",
                text=None,
                url="https://www.samaritans.org",
                hours=_24_7,
            ),
            CrisisLine(
                name="Shout",
                phone=None,
                text="Text SHOUT to 85258",
                url="https://giveusashout.org",
                hours=_24_7,
            ),
        ),
        source="https://www.samaritans.org",
        checked=_CHECKED,
    ),
    CountryResources(
        country="IE",
        country_name="Ireland",
        emergency_number="112",  # 999 also works
        lines=(
            CrisisLine(
                name="Samaritans Ireland",
                phone="116 123",
                text=None,
                url="https://www.samaritans.org/ireland/",
                hours=_24_7,
            ),
            CrisisLine(
                name="50808",
                phone=None,
                text="Text HELLO to 50808",
                url="https://text50808.ie",
                hours=_24_7,
            ),
        ),
        source="https://www.samaritans.org/ireland/",
        checked=_CHECKED,
    ),
    CountryResources(
        country="AU",
        country_name="Australia",
        emergency_number="000",
        lines=(
            CrisisLine(
                name="Lifeline",
                phone="13 11 14",
                text="Text 0477 13 11 14",
                url="https://www.lifeline.org.au",
                hours=_24_7,
            ),
        ),
        source="https://www.lifeline.org.au",
        checked=_CHECKED,
    ),
    CountryResources(
        country="NZ",
        country_name="New Zealand",
        emergency_number="111",
        lines=(
            CrisisLine(
                name="1737 Need to Talk?",
                phone="1737",
                text="Text 1737",
                url="https://1737.org.nz",
                hours=_24_7,
            ),
            CrisisLine(
                name="Lifeline Aotearoa",
                phone="0800 543 354",
                text="Text HELP to 4357",
                url="https://www.lifeline.org.nz",
                hours=_24_7,
            ),
        ),
        source="https://1737.org.nz",
        checked=_CHECKED,
    ),
    CountryResources(
        country="DE",
        country_name="Germany",
        emergency_number="112",
        lines=(
            CrisisLine(
                name="TelefonSeelsorge",
                phone="0800 111 0 111",
                text=None,
                url="https://www.telefonseelsorge.de",
                hours=_24_7,
            ),
            CrisisLine(
                name="TelefonSeelsorge (alternative number)",
                phone="0800 111 0 222",
                text=None,
                url="https://www.telefonseelsorge.de",
                hours=_24_7,
            ),
        ),
        source="https://www.telefonseelsorge.de",
        checked=_CHECKED,
    ),
    CountryResources(
        country="FR",
        country_name="France",
        emergency_number="112",
        lines=(
            CrisisLine(
                name="3114 - Numéro national de prévention du suicide",
                phone="3114",
                text=None,
                url="https://3114.fr",
                hours=_24_7,
            ),
        ),
        source="https://3114.fr",
        checked=_CHECKED,
    ),
    CountryResources(
        country="ES",
        country_name="Spain",
        emergency_number="112",
        lines=(
            CrisisLine(
                name="024 - Línea de atención a la conducta suicida",
                phone="024",
                text=None,
                url="https://www.sanidad.gob.es/linea024/home.htm",
                hours=_24_7,
            ),
            CrisisLine(
                name="Teléfono de la Esperanza",
                phone="717 003 717",
                text=None,
                url="https://telefonodelaesperanza.org",
                hours=_24_7,
            ),
        ),
        source="https://www.sanidad.gob.es/linea024/home.htm",
        checked=_CHECKED,
    ),
    CountryResources(
        country="NL",
        country_name="Netherlands",
        emergency_number="112",
        lines=(
            CrisisLine(
                name="113 Zelfmoordpreventie",
                phone="113",
                text=None,
                url="https://www.113.nl",
                hours=_24_7,
            ),
            CrisisLine(
                name="113 Zelfmoordpreventie (free number)",
                phone="0800-0113",
                text=None,
                url="https://www.113.nl",
                hours=_24_7,
            ),
        ),
        source="https://www.113.nl",
        checked=_CHECKED,
    ),
    CountryResources(
        country="IN",
        country_name="India",
        emergency_number="112",
        lines=(
            CrisisLine(
                name="Tele-MANAS",
                phone="14416",
                text=None,
                url="https://telemanas.mohfw.gov.in",
                hours=_24_7,
            ),
            CrisisLine(
                name="Tele-MANAS (toll-free alternative)",
                phone="1-800-891-4416",
                text=None,
                url="https://telemanas.mohfw.gov.in",
                hours=_24_7,
            ),
        ),
        source="https://telemanas.mohfw.gov.in",
        checked=_CHECKED,
    ),
)

REGISTRY: Mapping[str, CountryResources] = MappingProxyType(
    {entry.country: entry for entry in _ENTRIES}
)
"""Crisis resources keyed by ISO 3166-1 alpha-2 code (upper case). Read-only."""

INTERNATIONAL: CountryResources = CountryResources(
    country="INTL",
    country_name="International",
    emergency_number="your local emergency number",
    lines=(
        CrisisLine(
            name="Find A Helpline",
            phone=None,
            text=None,
            url="https://findahelpline.com",
            hours="Directory available 24/7; each helpline's hours vary",
        ),
    ),
    source="https://findahelpline.com",
    checked=_CHECKED,
)
"""Fallback for countries not in ``REGISTRY``."""

SUPPORTED_COUNTRIES: tuple[str, ...] = tuple(sorted(REGISTRY))
"""Sorted alpha-2 codes present in ``REGISTRY``."""


def resources_for(country: str | None) -> CountryResources:
    """Return the crisis resources for ``country`` (an alpha-2 code, any case).

    Falls back to ``INTERNATIONAL`` for ``None``, blank or unknown codes, so callers always
    have something to show.
    """
    if country is None:
        return INTERNATIONAL
    return REGISTRY.get(country.strip().upper(), INTERNATIONAL)
