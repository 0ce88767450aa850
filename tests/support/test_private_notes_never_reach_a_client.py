"""The therapist's private notes never reach a client, by any path.

A note (free form and SOAP, written and edited) carries a unique canary string. Then, as each
client (`client`, `partner_a`, `partner_b`) and the outsider: every page reachable from their
home page by following links (rooms, journal, exercises, questionnaires, the agreement, the
room exports in JSON and PDF, whatever else links there), every GET endpoint of the API's
OpenAPI schema with their own ids (and others'), the room's WebSocket while notes are written
and edited, and every email sent after notes are written and after the reminder sweep. The
canary must appear nowhere, and not in the database's bytes either (encrypted at rest). As a
control, the therapist's own crawl must find it: the crawler does reach the notes."""

from __future__ import annotations

import datetime
import html
import json
import re
import uuid
import zlib
from collections import deque
from typing import Any

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core import mail
from django.test import Client

from confide.accounts.models import User
from confide.api.api import api
from confide.care.models import CareRelationship
from confide.rooms.models import Room, RoomKind, RoomMember
from confide.rooms.services import message_send
from confide.support import agreements, notes
from confide.support.models import NoteFormat, PrivateNote
from tests.at_rest import database_bytes
from tests.conftest import run_tasks
from tests.live.stream import TIMEOUT, connect, next_event
from tests.personas import Personas, build_personas, sign_in

CANARY = "canary-5b7e21-the-lantern-under-the-stairs"
# A Tuesday in winter, late morning in London: inside working and reminder hours.
TUESDAY = datetime.datetime(2027, 1, 5, 11, 0, tzinfo=datetime.UTC)
CRAWL_LIMIT = 400
CLIENTS = ("client", "partner_a", "partner_b", "outsider")
SKIP = ("/static/", "/logout/", "/operator/", "/api/", "/login/", "/media/")


# --- the world: ordinary work between sessions, and notes with the canary ---------------------


def rooms_of(relationship: CareRelationship) -> list[Room]:
    return list(Room.objects.filter(relationship=relationship).order_by("pk"))


def say(user: User, room: Room, body: str) -> None:
    message_send(actor=user, room=room, body=body, client_id=uuid.uuid4())


def write_notes(people: Personas) -> list[PrivateNote]:
    """Notes with the canary in every part: free form, SOAP about one partner, and an edit."""
    made = [
        notes.note_create(
            actor=people.therapist,
            relationship_id=people.individual.pk,
            format=NoteFormat.FREE,
            content={"text": f"First draft. {CANARY}"},
            session_on=datetime.date(2027, 1, 4),
        ),
        notes.note_create(
            actor=people.therapist,
            relationship_id=people.couple.pk,
            format=NoteFormat.SOAP,
            content={k: f"{k.upper()}: {CANARY}" for k in notes.SOAP_FIELDS},
            about_id=people.partner_a.pk,
        ),
        notes.note_create(
            actor=people.therapist,
            relationship_id=people.couple.pk,
            format=NoteFormat.FREE,
            content={"text": f"About Blake. {CANARY}"},
            about_id=people.partner_b.pk,
        ),
    ]
    notes.note_update(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        note_id=made[0].pk,
        format=NoteFormat.FREE,
        content={"text": f"Edited. {CANARY} and more."},
    )
    return made


def seed(people: Personas) -> None:
    """What clients normally see: messages, an agreement, exercises and questionnaires."""
    from confide.support.exercises import exercise_assign
    from confide.support.library import library_ensure
    from confide.support.measures import measure_schedule_assign

    for relationship in (people.individual, people.couple):
        proposal = agreements.agreement_propose(
            actor=people.therapist,
            relationship_id=relationship.pk,
            checkins_per_week=3,
            reply_window_business_days=2,
            live_sessions_per_month=2,
            homework_rhythm="weekly",
            goals="Fictional shared goals.",
        )
        decider = people.client if relationship == people.individual else people.partner_a
        agreements.agreement_decide(
            actor=decider, relationship_id=relationship.pk, agreement_id=proposal.pk, accept=True
        )
    library = library_ensure()
    for room in rooms_of(people.individual) + rooms_of(people.couple):
        clients = [m.user for m in room.members.select_related("user") if m.role == "client"]
        say(clients[0], room, "A fictional message from a client.")
        say(people.therapist, room, "A fictional answer from the therapist.")
        couple = room.kind == RoomKind.COUPLE
        template = library["couples-weekly-check-in" if couple else "thought-record"]
        exercise_assign(actor=people.therapist, room_id=room.pk, template_id=template.pk)
        measure_schedule_assign(
            actor=people.therapist,
            room=room,
            respondent_id=clients[0].pk,
            instrument="csi4" if couple else "phq9",
            every_days=7,
        )
    say(people.outsider, Room.objects.get(relationship=people.elsewhere), "Elsewhere, fictional.")


# --- PDFs: what they are made from -------------------------------------------------------------


class PdfSources:
    """Keeps the HTML every PDF is made from (WeasyPrint), so a test can read a PDF's words."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import weasyprint

        self.html: list[str] = []
        real = weasyprint.HTML

        def capture(*, string: str, base_url: Any = None) -> Any:
            self.html.append(string)
            return real(string=string, base_url=base_url)

        monkeypatch.setattr(weasyprint, "HTML", capture)


def pdf_streams(pdf: bytes) -> bytes:
    """Every stream of a PDF, inflated where it is compressed."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, flags=re.DOTALL):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return b"".join(out)


def assert_clean(content: bytes, where: str) -> None:
    assert CANARY.encode() not in content, where
    assert b"lantern-under-the-stairs" not in content, where
    # JSON escapes nothing in the canary, but an HTML page might: check the unescaped text too.
    assert CANARY not in html.unescape(content.decode("utf-8", "replace")), where


def check_answer(answer: Any, where: str, pdfs: PdfSources) -> None:
    assert answer.status_code < 500, where
    content: bytes = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert_clean(content, where)
    if content.startswith(b"%PDF"):
        assert_clean(pdf_streams(content), where + " (PDF streams)")
        assert pdfs.html, f"{where}: a PDF was made without HTML being captured"
        assert_clean(pdfs.html[-1].encode(), where + " (PDF source)")


# --- pages ---------------------------------------------------------------------------------


def links(page: bytes) -> list[str]:
    found = re.findall(r'href="(/[^"#]*)', page.decode("utf-8", "replace"))
    return [html.unescape(link) for link in found]


def crawl(browser: Client, start: list[str], pdfs: PdfSources) -> dict[str, int]:
    """GET every same-site link reachable from `start` (each once); {url: status}."""
    seen: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < CRAWL_LIMIT:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP):
            continue
        answer = browser.get(url)
        seen[url] = answer.status_code
        check_answer(answer, url, pdfs)
        if answer.status_code == 200 and "text/html" in answer.get("Content-Type", ""):
            queue.extend(link for link in links(answer.content) if link not in seen)
    return seen


def starts_for(user: User) -> list[str]:
    rooms = RoomMember.objects.filter(user=user, left_at__isnull=True).values_list(
        "room_id", flat=True
    )
    # Search by the canary's words (the search page repeats the query, so not the canary).
    starts = ["/", "/journal/", "/account/", "/search/?q=lantern", "/search/?q=lantern+stairs"]
    for relationship_id in CareRelationship.objects.filter(participants__client=user).values_list(
        "pk", flat=True
    ):
        starts += [f"/care/{relationship_id}/", f"/care/{relationship_id}/agreement/"]
    for room_id in rooms:
        starts += [f"/rooms/{room_id}/", f"/rooms/{room_id}/export.json"]
        starts.append(f"/rooms/{room_id}/export.pdf")
    return starts


def notes_urls(people: Personas) -> list[str]:
    urls = []
    for note in PrivateNote.objects.all():
        base = f"/care/{note.relationship_id}/notes/"
        urls += [base, f"{base}{note.pk}/", f"{base}{note.pk}/edit/", base + "new/"]
        urls += [base + "export.json", base + "export.pdf"]
    return urls


@pytest.mark.django_db
def test_no_page_a_client_can_reach_shows_a_note(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(people)
    write_notes(people)
    pdfs = PdfSources(monkeypatch)
    everyone = people.all()
    for name in CLIENTS:
        user = everyone[name]
        browser = sign_in(Client(), user)
        visited = crawl(browser, starts_for(user), pdfs)
        own_rooms = RoomMember.objects.filter(user=user, left_at__isnull=True)
        for room_id in own_rooms.values_list("room_id", flat=True):
            # The crawl did reach the client's rooms and their exports.
            assert visited.get(f"/rooms/{room_id}/") == 200, name
            assert visited.get(f"/rooms/{room_id}/export.pdf") == 200, name
        assert any("/agreement/" in url for url in visited), name
        # The notes' own URLs are 404 for them, and say nothing.
        for url in notes_urls(people):
            answer = browser.get(url)
            assert answer.status_code == 404, (name, url)
            check_answer(answer, url, pdfs)
            answer = browser.post(url, {"format": "free", "text": "x"})
            assert answer.status_code in (404, 405), (name, url)
    # Control: the same crawl as the therapist, from their rooms, does find the notes (the
    # room's agreement panel links them).
    therapist = sign_in(Client(), people.therapist)
    found = False
    queue = deque(f"/rooms/{room.pk}/" for room in rooms_of(people.individual))
    seen: set[str] = set()
    while queue and not found and len(seen) < CRAWL_LIMIT:
        url = queue.popleft()
        if url in seen or url.startswith(SKIP):
            continue
        seen.add(url)
        answer = therapist.get(url)
        if answer.status_code == 200 and "text/html" in answer.get("Content-Type", ""):
            found = CANARY in answer.content.decode()
            queue.extend(links(answer.content))
    assert found, "the crawler never reached the notes as the therapist"


# --- the API -------------------------------------------------------------------------------


def api_urls(user: User) -> list[str]:
    """Every GET path of the schema, filled with the user's own ids and with others'."""
    schema = api.get_openapi_schema()
    own_rooms = list(
        RoomMember.objects.filter(user=user, left_at__isnull=True).values_list("room_id", flat=True)
    )
    every_room = list(Room.objects.values_list("pk", flat=True))
    own_relationships = list(
        CareRelationship.objects.filter(participants__client=user).values_list("pk", flat=True)
    )
    every_relationship = list(CareRelationship.objects.values_list("pk", flat=True))
    values = {
        "room_id": own_rooms + every_room,
        "relationship_id": own_relationships + every_relationship,
    }
    queries = {
        "q": ["lantern", "lantern stairs", "fictional"],
        "relationship": [str(r) for r in own_relationships + every_relationship],
        "room": [str(r) for r in own_rooms + every_room],
    }
    urls = []
    prefix = "/api/v1"
    for path, operations in schema["paths"].items():
        if "get" not in operations:
            continue
        parameters = operations["get"].get("parameters", [])
        filled = [path]
        for parameter in parameters:
            if parameter.get("in") != "path":
                continue
            name = parameter["name"]
            options = values.get(name) or [user.pk, *own_rooms, *own_relationships, 1]
            filled = [f.replace("{" + name + "}", str(v)) for f in filled for v in set(options)]
        query_names = [p["name"] for p in parameters if p.get("in") == "query"]
        for url in filled:
            full = url if url.startswith(prefix) else prefix + url
            urls.append(full)
            for name in query_names:
                for value in queries.get(name, []):
                    urls.append(f"{full}?{name}={value}")
    return sorted(set(urls))


@pytest.mark.django_db
def test_no_api_endpoint_gives_a_client_a_note(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(people)
    write_notes(people)
    pdfs = PdfSources(monkeypatch)
    everyone = people.all()
    for name in CLIENTS:
        user = everyone[name]
        browser = sign_in(Client(), user)
        answered = {}
        for url in api_urls(user):
            answer = browser.get(url)
            answered[url] = answer.status_code
            check_answer(answer, f"{name} {url}", pdfs)
        room_id = RoomMember.objects.filter(user=user).values_list("room_id", flat=True).first()
        # The endpoints did answer with the client's own data.
        assert answered[f"/api/v1/rooms/{room_id}/export"] == 200, name
        assert answered[f"/api/v1/rooms/{room_id}/messages"] == 200, name
        assert answered["/api/v1/me"] == 200, name


# --- the WebSocket -----------------------------------------------------------------------------


@pytest.fixture
def world(transactional_db: None) -> Personas:
    return build_personas()


async def test_the_room_stream_never_carries_a_note(world: Personas) -> None:
    people = world
    listeners = []
    for user, relationship in (
        (people.client, people.individual),
        (people.partner_a, people.couple),
        (people.partner_b, people.couple),
    ):
        for room in await sync_to_async(rooms_of)(relationship):
            member = await sync_to_async(
                RoomMember.objects.filter(room=room, user=user, left_at__isnull=True).exists
            )()
            if not member:
                continue
            ws, connected, _ = await connect(user, room.pk)
            assert connected
            await next_event(ws, "hello")
            listeners.append((user, room, ws))
    assert len(listeners) == 5  # the client's room; each partner's shared and private room
    await sync_to_async(write_notes)(people)
    # Then something that does reach every socket: the therapist writes in each room.
    for _, room, _ in listeners:
        await sync_to_async(say)(people.therapist, room, f"marker {room.pk}")
    for user, room, ws in listeners:
        received = []
        while True:
            event: dict[str, Any] = await ws.receive_json_from(timeout=TIMEOUT)
            received.append(event)
            body = (event.get("message") or {}).get("body", "")
            if event["type"] == "message" and body == f"marker {room.pk}":
                break
        for event in received:
            assert CANARY not in json.dumps(event), (user.display_name, event)
        # Nothing was published for the notes: only the marker (and presence chatter) came.
        kinds = {e["type"] for e in received} - {"presence", "typing", "delivered"}
        assert kinds == {"message"}, (user.display_name, received)
        await ws.disconnect()


# --- email -----------------------------------------------------------------------------------


def all_mail_text() -> str:
    parts = []
    for message in mail.outbox:
        parts += [str(message.subject), str(message.body), " ".join(message.to)]
        for alternative in getattr(message, "alternatives", []):
            parts.append(str(alternative[0]))
        for attachment in message.attachments:
            content = attachment[1] if isinstance(attachment, tuple) else attachment
            parts.append(
                content.decode("utf-8", "replace") if isinstance(content, bytes) else str(content)
            )
    return "\n".join(parts)


@pytest.mark.django_db
def test_no_email_carries_a_note(people: Personas) -> None:
    from confide.support import tasks as support_tasks

    with time_machine.travel(TUESDAY, tick=False):
        seed(people)
        write_notes(people)
        run_tasks()
    # The next day, in reminder hours: notifications, the reminder sweep, whatever is queued.
    later = TUESDAY + datetime.timedelta(days=1)
    with time_machine.travel(later, tick=False):
        run_tasks()
        support_tasks.send_due_reminders(now=later)
        write_notes(people)
        run_tasks()
    assert mail.outbox, "no email was sent at all: the check would prove nothing"
    assert any(people.client.email in m.to for m in mail.outbox)
    text = all_mail_text()
    assert CANARY not in text and "lantern-under-the-stairs" not in text


# --- at rest ---------------------------------------------------------------------------------


def test_notes_are_encrypted_at_rest(world: Personas) -> None:
    # Committed (a transactional test): uncommitted rows may not have reached SQLite's files.
    people = world
    write_notes(people)
    stored = database_bytes()
    assert CANARY.encode() not in stored
    assert b"lantern-under-the-stairs" not in stored
    # Control: the same check finds text that is stored in the clear (a display name).
    assert people.partner_b.display_name.encode() in stored
