"""Key rotation of everything encrypted at rest, end to end through the services."""

from __future__ import annotations

import base64
import os
import uuid
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from confide import crypto
from confide.rooms.models import Attachment, Message, MessageVersion, Room
from confide.rooms.payloads import message_text
from confide.rooms.services import Upload, attachment_read, message_edit, message_send
from tests.personas import Personas
from tests.rooms.conftest import send

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def key(name: str) -> str:
    return f"{name}:{base64.b64encode(os.urandom(32)).decode()}"


@pytest.mark.django_db
def test_rotating_the_key_re_encrypts_every_field_and_the_old_key_can_go(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    old, new = key("old"), key("new")
    settings.ENCRYPTION_KEYS = old
    crypto.reset_keyring()
    room = rooms["individual"]
    first = send(people.client, room, "written under the old key").message
    message_edit(actor=people.client, room=room, seq=first.seq, body="edited under the old key")
    message_send(
        actor=people.client,
        room=room,
        body="",
        client_id=uuid.uuid4(),
        upload=Upload(data=PDF, name="notes.pdf"),
    )

    settings.ENCRYPTION_KEYS = f"{new},{old}"
    crypto.reset_keyring()
    dry = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=dry)
    assert "rooms.Message.body: 0" not in dry.getvalue()
    call_command("rotate_encryption_keys", stdout=StringIO())
    for blob in [
        *Message.objects.values_list("body", flat=True),
        *MessageVersion.objects.values_list("body", flat=True),
        *Attachment.objects.values_list("data", flat=True),
        *Attachment.objects.values_list("name", flat=True),
    ]:
        assert crypto.key_id_of(bytes(blob)) == "new"
    again = StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=again)
    assert all(
        line.endswith(": 0 to re-encrypt")
        for line in again.getvalue().splitlines()
        if line.startswith("rooms.")
    )

    settings.ENCRYPTION_KEYS = new  # the old key is gone
    crypto.reset_keyring()
    first.refresh_from_db()
    assert message_text(first) == "edited under the old key"
    seq = Attachment.objects.select_related("message").get().message.seq
    _, data, name = attachment_read(actor=people.therapist, room=room, seq=seq)
    assert data == PDF and name == "notes.pdf"


@pytest.mark.django_db
def test_a_body_moved_to_another_message_does_not_decrypt(
    people: Personas, rooms: dict[str, Room]
) -> None:
    one = send(people.client, rooms["individual"], "first").message
    two = send(people.client, rooms["individual"], "second").message
    Message.objects.filter(pk=two.pk).update(body=one.body)
    two.refresh_from_db()
    with pytest.raises(crypto.DecryptionError):
        message_text(two)
