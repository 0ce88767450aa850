"""The client's private journal: write, edit, delete, list, and share an entry into a room."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from confide.audit.models import AuditEvent
from confide.errors import Conflict, InvalidInput, NotFound
from confide.rooms.models import Message, MessageKind, Room
from confide.rooms.payloads import message_text
from confide.support import journal
from confide.support.models import JournalEntry
from tests.personas import Personas
from tests.support.test_exercises import rooms  # noqa: F401 - fixture

CANARY = "canary-91d2-the-kettle-hums-at-dawn"


def write(user: Any, body: str, **kwargs: Any) -> JournalEntry:
    return journal.journal_write(actor=user, body=body, **kwargs)


def row_bytes(entry: JournalEntry) -> bytes:
    """Every column of the entry's row, as the database returns it."""
    with connection.cursor() as cursor:
        cursor.execute('SELECT * FROM "support_journalentry" WHERE "id" = %s', [entry.pk])
        row = cursor.fetchone()
    assert row is not None
    return b"".join(
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in row
    )


@pytest.mark.django_db
def test_a_client_writes_edits_lists_and_deletes_entries(people: Personas) -> None:
    now = timezone.now()
    first = write(people.client, "  First thoughts\r\n", now=now - datetime.timedelta(days=1))
    second = write(people.client, "Second thoughts", now=now)
    page = journal.journal_page(user=people.client)
    assert [(v.entry.pk, v.text) for v in page.entries] == [
        (second.pk, "Second thoughts"),
        (first.pk, "First thoughts"),
    ]
    journal.journal_edit(actor=people.client, entry_id=first.pk, body="First, edited")
    assert journal.journal_entry(user=people.client, entry_id=first.pk).text == "First, edited"
    journal.journal_delete(actor=people.client, entry_id=first.pk)
    assert not JournalEntry.objects.filter(pk=first.pk).exists()
    actions = list(
        AuditEvent.objects.filter(actor=people.client, object_type__startswith="journal")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "journal.write",
        "journal.write",
        "journal.list",
        "journal.edit",
        "journal.view",
        "journal.delete",
    ]


@pytest.mark.django_db
def test_entries_are_encrypted_at_rest(people: Personas) -> None:
    entry = write(people.client, f"{CANARY} in my journal")
    assert CANARY.encode() not in row_bytes(entry)
    journal.journal_edit(actor=people.client, entry_id=entry.pk, body=f"{CANARY} again")
    assert CANARY.encode() not in row_bytes(entry)
    assert CANARY not in str(list(AuditEvent.objects.values_list("detail", flat=True)))


@pytest.mark.django_db
def test_the_journal_pages_a_long_journal(people: Personas) -> None:
    start = timezone.now() - datetime.timedelta(days=60)
    for n in range(journal.PAGE + 3):
        write(people.client, f"Entry {n}", now=start + datetime.timedelta(days=n))
    first = journal.journal_page(user=people.client)
    assert first.has_more and len(first.entries) == journal.PAGE
    assert first.entries[0].text == f"Entry {journal.PAGE + 2}"
    second = journal.journal_page(user=people.client, page=2)
    assert [v.text for v in second.entries] == ["Entry 2", "Entry 1", "Entry 0"]
    assert not second.has_more
    assert journal.journal_page(user=people.client, page=10**12).entries == []


@pytest.mark.django_db
def test_it_refuses_empty_and_over_long_entries(people: Personas) -> None:
    for body in ("", "  \n\t", "x" * (journal.MAX_ENTRY + 1)):
        with pytest.raises(InvalidInput) as caught:
            write(people.client, body)
        assert "body" in caught.value.field_errors
    entry = write(people.client, "Fine")
    with pytest.raises(InvalidInput):
        journal.journal_edit(actor=people.client, entry_id=entry.pk, body="")
    assert write(people.client, "x" * journal.MAX_ENTRY).pk


@pytest.mark.django_db
def test_nobody_but_the_author_reaches_a_journal(people: Personas) -> None:
    entry = write(people.client, "Mine")
    for other in (people.therapist, people.colleague, people.admin):
        with pytest.raises(NotFound):
            journal.journal_page(user=other)
        with pytest.raises(NotFound):
            write(other, "Staff have no journal")
    for other in (
        people.therapist,
        people.admin,
        people.partner_a,
        people.partner_b,
        people.outsider,
    ):
        with pytest.raises(NotFound):
            journal.journal_entry(user=other, entry_id=entry.pk)
        with pytest.raises(NotFound):
            journal.journal_edit(actor=other, entry_id=entry.pk, body="Changed")
        with pytest.raises(NotFound):
            journal.journal_delete(actor=other, entry_id=entry.pk)
        with pytest.raises(NotFound):
            journal.journal_share(actor=other, entry_id=entry.pk, room_id=1)
    assert journal.journal_page(user=people.partner_a).entries == []
    assert journal.journal_entry(user=people.client, entry_id=entry.pk).text == "Mine"


# --- sharing ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sharing_posts_the_entry_into_the_room_once(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    room = rooms["individual"]
    entry = write(people.client, "Noticed I felt calmer after the walk.")
    result = journal.journal_share(actor=people.client, entry_id=entry.pk, room_id=room.pk)
    message = result.message
    assert message.sender_id == people.client.pk and message.kind == MessageKind.TEXT
    assert message_text(message) == ("From my journal:\n\nNoticed I felt calmer after the walk.")
    entry.refresh_from_db()
    assert (entry.shared_room_id, entry.shared_seq) == (room.pk, message.seq)
    assert entry.shared_at is not None
    # The therapist reads it in the room, as a message.
    page = as_user(people.therapist).get(reverse("room", args=[room.pk])).content.decode()
    assert "Noticed I felt calmer after the walk." in page
    room.refresh_from_db()
    assert room.waiting_since is not None  # a client's message: the reply window runs
    with pytest.raises(Conflict) as caught:
        journal.journal_share(actor=people.client, entry_id=entry.pk, room_id=room.pk)
    assert "already shared" in caught.value.message
    assert Message.objects.filter(room=room, sender=people.client).count() == 1
    audit = AuditEvent.objects.get(action="journal.share")
    assert audit.detail == {"room": room.pk, "seq": message.seq}


@pytest.mark.django_db
def test_a_client_shares_only_into_their_own_rooms(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
) -> None:
    entry = write(people.partner_a, "For my private room only")
    for room in (rooms["individual"], rooms["private_b"]):
        with pytest.raises(NotFound):
            journal.journal_share(actor=people.partner_a, entry_id=entry.pk, room_id=room.pk)
    with pytest.raises(NotFound):
        journal.journal_share(actor=people.partner_a, entry_id=entry.pk, room_id=10**15)
    entry.refresh_from_db()
    assert entry.shared_room_id is None
    targets = journal.share_targets(user=people.partner_a)
    by_room = {t.room.pk: t for t in targets}
    assert set(by_room) == {rooms["couple"].pk, rooms["private_a"].pk}
    assert "Your partner can never read this room." in by_room[rooms["private_a"].pk].audience
    assert "Blake Partner" in by_room[rooms["couple"].pk].audience
    journal.journal_share(actor=people.partner_a, entry_id=entry.pk, room_id=rooms["private_a"].pk)
    assert Message.objects.filter(room=rooms["couple"]).count() == 0


@pytest.mark.django_db
def test_editing_or_deleting_a_shared_entry_leaves_the_rooms_message(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
) -> None:
    room = rooms["individual"]
    entry = write(people.client, "As it was shared")
    seq = journal.journal_share(actor=people.client, entry_id=entry.pk, room_id=room.pk).message.seq
    journal.journal_edit(actor=people.client, entry_id=entry.pk, body="Changed later")
    journal.journal_delete(actor=people.client, entry_id=entry.pk)
    message = Message.objects.get(room=room, seq=seq)
    assert message_text(message) == "From my journal:\n\nAs it was shared"
    assert message.deleted_at is None


@pytest.mark.django_db
def test_a_shared_entry_with_crisis_language_shows_the_crisis_lines(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    room = rooms["individual"]
    entry = write(people.client, "Honestly I just want to die, nothing helps")
    response = as_user(people.client).post(
        reverse("journal_share", args=[entry.pk]), {"room": room.pk}
    )
    assert response.status_code == 302
    assert "crisis=1" in response["Location"]
    room.refresh_from_db()
    assert room.crisis_open


# --- pages -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_journal_pages(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    client = as_user(people.client)
    page = client.get(reverse("journal")).content.decode()
    assert "Only you can read your journal." in page and "No entries yet" in page
    assert client.post(reverse("journal"), {"body": "A good day <b>really</b>"}).status_code == 302
    entry = JournalEntry.objects.get(author=people.client)
    page = client.get(reverse("journal")).content.decode()
    assert "A good day &lt;b&gt;really&lt;/b&gt;" in page
    assert reverse("journal_share", args=[entry.pk]) in page

    for bad in ({}, {"body": ""}, {"body": "x" * (journal.MAX_ENTRY + 5)}):
        response = client.post(reverse("journal"), bad)
        assert response.status_code == 400, bad
    assert JournalEntry.objects.filter(author=people.client).count() == 1

    edit = reverse("journal_entry", args=[entry.pk])
    assert client.post(edit, {"body": ""}).status_code == 400
    assert client.post(edit, {"body": "A good day, edited"}).status_code == 302

    share = reverse("journal_share", args=[entry.pk])
    form = client.get(share).content.decode()
    assert "Only you and Robin Therapist can read what is written here." in form
    assert 'name="room"' in form
    for bad in ({}, {"room": "abc"}, {"room": "-1"}):
        assert client.post(share, bad).status_code == 400, bad
    assert client.post(share, {"room": rooms["couple"].pk}).status_code == 404
    shared = client.post(share, {"room": rooms["individual"].pk})
    assert shared.status_code == 302
    assert shared["Location"].startswith(reverse("room", args=[rooms["individual"].pk]))
    again = client.post(share, {"room": rooms["individual"].pk})
    assert again.status_code == 409 and "already shared" in again.content.decode()
    page = client.get(reverse("journal")).content.decode()
    assert "shared into Your room with Robin Therapist" in page

    assert client.post(reverse("journal_delete", args=[entry.pk])).status_code == 302
    assert not JournalEntry.objects.filter(pk=entry.pk).exists()
    assert client.get(edit).status_code == 404


@pytest.mark.django_db
def test_the_therapist_gets_404_for_every_journal_page(people: Personas, as_user: Any) -> None:
    entry = write(people.client, "Mine")
    therapist = as_user(people.therapist)
    for url in (
        reverse("journal"),
        reverse("journal_entry", args=[entry.pk]),
        reverse("journal_share", args=[entry.pk]),
    ):
        assert therapist.get(url).status_code == 404, url
        assert "Mine" not in therapist.get(url).content.decode()
    assert therapist.post(reverse("journal_delete", args=[entry.pk])).status_code == 404
    assert JournalEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.django_db
def test_a_client_exports_their_whole_journal_and_nobody_else_can(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    kept = write(people.client, "Kept to myself: the long walk home")
    shared = write(people.client, "Shared: I want to talk about mornings")
    journal.journal_share(actor=people.client, entry_id=shared.pk, room_id=rooms["individual"].pk)
    write(people.partner_a, "Avery's own page")

    mine = as_user(people.client)
    data = mine.get(reverse("journal_export_json")).json()
    assert data["format"] == "confide.journal"
    assert [e["id"] for e in data["entries"]] == [kept.pk, shared.pk]  # oldest first
    assert data["entries"][0]["shared"] is None
    assert data["entries"][1]["shared"]["room"] == rooms["individual"].pk
    assert "Avery's own page" not in str(data)
    pdf = mine.get(reverse("journal_export_pdf"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    actions = set(AuditEvent.objects.filter(actor=people.client).values_list("action", flat=True))
    assert {"journal.export_json", "journal.export_pdf"} <= actions

    # Another client gets only their own journal; the therapist side has none to export.
    other = as_user(people.partner_a).get(reverse("journal_export_json")).json()
    assert [e["text"] for e in other["entries"]] == ["Avery's own page"]
    assert as_user(people.outsider).get(reverse("journal_export_json")).json()["entries"] == []
    for staff in (people.therapist, people.colleague, people.admin):
        for name in ("journal_export_json", "journal_export_pdf"):
            assert as_user(staff).get(reverse(name)).status_code == 404
    assert as_user(people.client).post(reverse("journal_export_json")).status_code == 405
