"""Calendar files (RFC 5545), written by hand: they are small and their rules are few.

- Lines end in CRLF and are folded at 75 octets (a continuation line starts with one space),
  never inside a UTF-8 sequence.
- TEXT values escape backslash, semicolon, comma and newline.
- Times are UTC ("Z"), so no VTIMEZONE is needed and every calendar shows them in its own zone.
- A booking's UID never changes; SEQUENCE is its version, so a calendar replaces the event it
  already has when the time changes, and removes it on METHOD:CANCEL.
- The summary says nothing clinical: "Session with your therapist" unless configured.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from django.conf import settings

PRODID = "-//Confide//Scheduling//EN"


def event_title() -> str:
    return str(settings.SCHEDULING_EVENT_TITLE)


@dataclasses.dataclass(frozen=True)
class Event:
    uid: str
    sequence: int
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    summary: str
    stamp: datetime.datetime
    cancelled: bool = False
    url: str = ""
    description: str = ""
    organizer: tuple[str, str] | None = None  # (name, email)
    attendees: tuple[tuple[str, str], ...] = ()


def escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value (CN=...): quoted, without the characters a quoted value cannot hold."""
    cleaned = "".join(ch for ch in value if ch not in '"\r\n' and (ch >= " " or ch == "\t"))
    return f'"{cleaned}"'


def fold(line: str) -> str:
    """Fold one content line at 75 octets, never splitting a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = ch, width, 74  # continuation lines start with a space
        else:
            current += ch
            size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _utc(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("calendar times must be timezone-aware")
    return moment.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: Event) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{event.uid}",
        f"SEQUENCE:{event.sequence}",
        f"DTSTAMP:{_utc(event.stamp)}",
        f"DTSTART:{_utc(event.starts_at)}",
        f"DTEND:{_utc(event.ends_at)}",
        f"SUMMARY:{escape(event.summary)}",
        f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
        "TRANSP:OPAQUE",
    ]
    if event.url:
        lines.append(f"URL:{event.url}")
        lines.append(f"LOCATION:{escape(event.url)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape(event.description)}")
    if event.organizer:
        name, email = event.organizer
        lines.append(f"ORGANIZER;CN={_param(name)}:mailto:{email}")
    for name, email in event.attendees:
        lines.append(
            f"ATTENDEE;CN={_param(name)};ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT={'DECLINED' if event.cancelled else 'ACCEPTED'}:mailto:{email}"
        )
    lines.append("END:VEVENT")
    return lines


def calendar(events: Iterable[Event], *, method: str | None = None, name: str = "") -> str:
    """A VCALENDAR of `events`. `method` is REQUEST or CANCEL for email (iTIP), none for a feed."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{escape(name)}")
    for event in events:
        lines.extend(_event_lines(event))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
