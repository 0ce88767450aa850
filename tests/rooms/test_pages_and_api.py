"""Rooms through the web pages and the API: send, attach, edit, history, export, search."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from confide.accounts.services import token_create
from confide.audit.models import AuditEvent
from confide.rooms.models import Attachment, Message, Room
from tests.personas import Personas
from tests.rooms.conftest import send

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 200


def bearer(user: Any) -> Client:
    return Client(headers={"Authorization": f"Bearer {token_create(user=user, name='t')[1]}"})


@pytest.mark.django_db
def test_a_client_writes_in_the_page_without_javascript(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    client = as_user(people.client)
    room = rooms["individual"]
    page = client.get(f"/rooms/{room.pk}/")
    text = page.content.decode()
    assert "Only you and Robin Therapist can read what is written here." in text
    assert "Not for emergencies." in text and "116 123" in text
    client_id = str(uuid.uuid4())
    response = client.post(
        f"/rooms/{room.pk}/send/", {"body": "**Hard** day", "client_id": client_id}
    )
    assert response.status_code == 302 and response["Location"].endswith("#m1")
    client.post(f"/rooms/{room.pk}/send/", {"body": "**Hard** day", "client_id": client_id})
    assert Message.objects.filter(room=room).exclude(kind="notice").count() == 1
    page = client.get(f"/rooms/{room.pk}/").content.decode()
    assert "<strong>Hard</strong> day" in page
    assert "Expected by" in page
    bad = client.post(
        f"/rooms/{room.pk}/send/",
        {"body": "hi", "client_id": "nope"},
        HTTP_ACCEPT="application/json",
    )
    assert bad.status_code == 400 and "client_id" in bad.json()["errors"]


@pytest.mark.django_db
def test_markup_in_a_message_is_escaped(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    send(people.client, rooms["individual"], "<script>alert(1)</script> [x](javascript:alert(1))")
    page = as_user(people.therapist).get(f"/rooms/{rooms['individual'].pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page and 'href="javascript' not in page


@pytest.mark.django_db
def test_attachments_are_checked_by_content_encrypted_and_served_to_members(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    client = as_user(people.client)
    room = rooms["individual"]
    ok = client.post(
        f"/rooms/{room.pk}/send/",
        {
            "body": "my worksheet",
            "client_id": str(uuid.uuid4()),
            "attachment": SimpleUploadedFile("worksheet.exe", PDF, "application/x-msdownload"),
        },
        HTTP_ACCEPT="application/json",
    )
    assert ok.status_code == 201, ok.content
    url = ok.json()["message"]["attachment"]["url"]
    stored = Attachment.objects.get()
    assert stored.content_type == "application/pdf" and PDF not in bytes(stored.data)
    download = as_user(people.therapist).get(url)
    assert download.status_code == 200 and download.content == PDF
    assert "worksheet.pdf" in download["Content-Disposition"]
    assert download["X-Content-Type-Options"] == "nosniff"
    for stranger in (people.partner_a, people.outsider):
        assert as_user(stranger).get(url).status_code == 404
    refused = client.post(
        f"/rooms/{room.pk}/send/",
        {
            "body": "",
            "client_id": str(uuid.uuid4()),
            "attachment": SimpleUploadedFile("evil.pdf", b"MZ\x90\x00" + b"\x00" * 100),
        },
        HTTP_ACCEPT="application/json",
    )
    assert refused.status_code == 400 and "attachment" in refused.json()["errors"]
    voice = client.post(
        f"/rooms/{room.pk}/send/",
        {
            "body": "",
            "client_id": str(uuid.uuid4()),
            "voice": "1",
            "duration_ms": "4200",
            "attachment": SimpleUploadedFile("voice-note.webm", WEBM, "audio/webm"),
        },
        HTTP_ACCEPT="application/json",
    )
    assert voice.status_code == 201 and voice.json()["message"]["kind"] == "voice"
    assert AuditEvent.objects.filter(action="attachment.read", actor=people.therapist).exists()


@pytest.mark.django_db
def test_edit_and_history_pages(people: Personas, rooms: dict[str, Room], as_user: Any) -> None:
    room = rooms["individual"]
    sent = send(people.client, room, "first version").message
    client = as_user(people.client)
    assert client.get(f"/rooms/{room.pk}/messages/{sent.seq}/edit/").status_code == 200
    assert (
        as_user(people.therapist).get(f"/rooms/{room.pk}/messages/{sent.seq}/edit/").status_code
        == 404
    )
    client.post(f"/rooms/{room.pk}/messages/{sent.seq}/edit/", {"body": "second version"})
    history = as_user(people.therapist).get(f"/rooms/{room.pk}/messages/{sent.seq}/history/")
    assert "first version" in history.content.decode()
    assert "second version" in history.content.decode()
    assert (
        as_user(people.outsider).get(f"/rooms/{room.pk}/messages/{sent.seq}/history/").status_code
        == 404
    )


@pytest.mark.django_db
def test_the_log_exports_as_json_and_pdf_for_members_only(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    room = rooms["couple"]
    send(people.partner_a, room, "We talked on Sunday")
    edited = send(people.partner_b, room, "It went well").message
    from confide.rooms.services import message_edit

    message_edit(actor=people.partner_b, room=room, seq=edited.seq, body="It went quite well")
    data = json.loads(as_user(people.partner_a).get(f"/rooms/{room.pk}/export.json").content)
    # Outside the therapist's working hours an automatic notice joins the log: count messages.
    written = [m for m in data["messages"] if m["kind"] == "text"]
    assert data["format"] == "confide.room-log" and len(written) == 2
    assert written[1]["versions"][0]["body"] == "It went well"
    pdf = as_user(people.partner_b).get(f"/rooms/{room.pk}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Content-Type"] == "application/pdf"
    assert as_user(people.client).get(f"/rooms/{room.pk}/export.pdf").status_code == 404
    assert {"log.export_json", "log.export_pdf"} <= set(
        AuditEvent.objects.values_list("action", flat=True)
    )


@pytest.mark.django_db
@pytest.mark.usefixtures("at_work")  # counts messages on the real clock
def test_the_api_sends_lists_and_resumes_messages(people: Personas, rooms: dict[str, Room]) -> None:
    room = rooms["private_a"]
    api = bearer(people.partner_a)
    listed = api.get("/api/v1/rooms").json()
    assert {r["id"] for r in listed} >= {room.pk}
    client_id = str(uuid.uuid4())
    sent = api.post(
        f"/api/v1/rooms/{room.pk}/messages",
        {"body": "through the API", "client_id": client_id},
        content_type="application/json",
    )
    assert sent.status_code == 201 and sent.json()["message"]["seq"] >= 1
    again = api.post(
        f"/api/v1/rooms/{room.pk}/messages",
        {"body": "through the API", "client_id": client_id},
        content_type="application/json",
    )
    assert again.status_code == 200 and again.json()["created"] is False
    after = api.get(f"/api/v1/rooms/{room.pk}/messages?after=0").json()
    assert AuditEvent.objects.filter(action="room.read_api", actor=people.partner_a).exists()
    assert [m["body"] for m in after if m["kind"] == "text"] == ["through the API"]
    too_long = api.post(
        f"/api/v1/rooms/{room.pk}/messages",
        {"body": "x" * 20_001, "client_id": str(uuid.uuid4())},
        content_type="application/json",
    )
    assert too_long.status_code == 422
    for stranger in (people.partner_b, people.outsider):
        assert bearer(stranger).get(f"/api/v1/rooms/{room.pk}/messages").status_code == 404
        assert (
            bearer(stranger)
            .post(
                f"/api/v1/rooms/{room.pk}/messages",
                {"body": "x", "client_id": client_id},
                content_type="application/json",
            )
            .status_code
            == 404
        )
    inbox = bearer(people.therapist).get("/api/v1/inbox").json()
    assert inbox[0]["room"]["id"] == room.pk and inbox[0]["room"]["unread"] == 1
    assert bearer(people.client).get("/api/v1/inbox").status_code == 403
    pdf = api.get(f"/api/v1/rooms/{room.pk}/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf["Cache-Control"] == "private, no-store"
    exported = api.get(f"/api/v1/rooms/{room.pk}/export").json()
    assert exported["format"] == "confide.room-log"
    assert bearer(people.partner_b).get(f"/api/v1/rooms/{room.pk}/export.pdf").status_code == 404
    found = api.get("/api/v1/search?q=api").json()
    assert [m["body"] for m in found] == ["through the API"]


@pytest.mark.django_db
@pytest.mark.usefixtures("at_work")  # counts messages on the real clock
def test_the_inbox_page_lists_rooms_in_order_with_due_times(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    send(people.partner_a, rooms["private_a"], "first")
    send(people.client, rooms["individual"], "second")
    page = as_user(people.therapist).get("/").content.decode()
    assert page.count('class="inbox-row') == 4
    first, second = page.index("Avery Partner</span>"), page.index("Cam Client</span>")
    assert first < second  # Avery's reply is due first
    assert page.count("Reply due") == 2 and page.count("1 new") == 2
    assert "Private room" in page and "Couples room" in page
    assert as_user(people.client).get("/").status_code == 200
