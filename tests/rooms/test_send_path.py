"""The send path's hand-written statements store what the ORM would, and no more of them."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from confide import crypto
from confide.audit.models import AuditEvent
from confide.audit.services import audit_record, current_ip
from confide.rooms.models import Message, Room, RoomMember, SearchToken
from confide.rooms.selectors import search_messages
from confide.rooms.services import body_context, message_send
from tests.personas import Personas
from tests.rooms.conftest import send

TUESDAY_10 = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)
_TRANSACTION = ("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK", "BEGIN", "COMMIT")


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(_TRANSACTION)]


@pytest.mark.django_db
def test_a_send_into_a_waiting_room_takes_eight_statements(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    with time_machine.travel(TUESDAY_10, tick=False):
        send(people.client, room, "the first one starts the wait and queues the email")
        with CaptureQueriesContext(connection) as queries:
            send(people.client, room, "the second one only adds to the log")
    statements = _statements(queries)
    # membership, room (locked), message, search tokens, read state, room state,
    # notifications, audit row
    assert len(statements) == 8, "\n".join(statements)


@pytest.mark.django_db
def test_a_message_written_by_the_send_path_reads_back_through_the_orm(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    client_id = uuid.uuid4()
    with time_machine.travel(TUESDAY_10, tick=False):
        result = message_send(
            actor=people.client, room=room, body="  the lighthouse keeper  ", client_id=client_id
        )
    stored = Message.objects.select_related("sender").get(pk=result.message.pk)
    assert (stored.room_id, stored.seq, stored.kind) == (room.pk, 1, "text")
    assert stored.sender == people.client and stored.client_id == client_id
    assert stored.created_at == TUESDAY_10 and stored.crisis is False
    assert stored.edited_at is None and stored.deleted_at is None
    text = crypto.decrypt_text(bytes(stored.body), context=body_context(room.pk, 1))
    assert text == "the lighthouse keeper"
    assert result.message.pk == stored.pk and result.message.sender == people.client
    assert SearchToken.objects.filter(message=stored).count() == 3
    assert [m.pk for m in search_messages(user=people.therapist, query="lighthouse")] == [stored.pk]
    fresh = Room.objects.get(pk=room.pk)
    assert fresh.last_seq == 1 and fresh.last_message_at == TUESDAY_10
    assert fresh.waiting_since == TUESDAY_10 and fresh.reply_due_at is not None
    mine = RoomMember.objects.get(room=room, user=people.client)
    assert mine.last_read_seq == 1 and mine.last_read_at == TUESDAY_10


@pytest.mark.django_db
@pytest.mark.usefixtures("at_work")  # counts messages on the real clock
def test_a_resend_writes_nothing_at_all(people: Personas, rooms: dict[str, Room]) -> None:
    room = rooms["individual"]
    client_id = uuid.uuid4()
    first = message_send(actor=people.client, room=room, body="once", client_id=client_id)

    def counts() -> tuple[int, ...]:
        return (
            Message.objects.count(),
            SearchToken.objects.count(),
            AuditEvent.objects.count(),
            DBTaskResult.objects.count(),
            Room.objects.get(pk=room.pk).last_seq,
        )

    before = counts()
    again = message_send(actor=people.client, room=room, body="once", client_id=client_id)
    assert not again.created and again.message.pk == first.message.pk
    assert again.message.sender == people.client
    assert counts() == before
    # The same client id from another sender, or in another room, is a new message.
    other = message_send(actor=people.therapist, room=room, body="once", client_id=client_id)
    assert other.created and other.message.seq == first.message.seq + 1


@pytest.mark.django_db
def test_the_send_audit_row_is_the_row_audit_record_writes(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    token = current_ip.set("192.0.2.7")
    try:
        sent = send(people.client, room, "audited").message
        audit_record(
            actor=people.client,
            action="message.send",
            object_type="message",
            object_id=sent.pk,
            practice=room.practice,
        )
    finally:
        current_ip.reset(token)
    fields = ("actor_id", "practice_id", "action", "object_type", "object_id", "ip", "detail")
    written, reference = (
        AuditEvent.objects.filter(action="message.send", object_id=str(sent.pk))
        .order_by("id")
        .values(*fields, "at")
    )
    assert {k: written[k] for k in fields} == {k: reference[k] for k in fields}
    assert written["ip"] == "192.0.2.7" and written["detail"] == {}
    assert abs(written["at"] - reference["at"]) < datetime.timedelta(seconds=5)


@pytest.mark.django_db
def test_each_member_is_queued_one_notification_until_it_runs(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    room = rooms["couple"]
    with time_machine.travel(TUESDAY_10, tick=False):
        send(people.partner_a, room, "one")
        send(people.partner_a, room, "two")
        send(people.therapist, room, "three")
    queued = sorted(
        row.args_kwargs["kwargs"]["user_id"]
        for row in DBTaskResult.objects.filter(task_path__endswith="notify_user")
    )
    # partner_a's messages: the therapist and partner_b once each; the therapist's reply:
    # partner_a (partner_b and the therapist already have one queued).
    assert queued == sorted([people.therapist.pk, people.partner_b.pk, people.partner_a.pk])
    members = {m.user_id: m for m in RoomMember.objects.filter(room=room)}
    assert members[people.therapist.pk].notified_seq == 1
    assert members[people.partner_b.pk].notified_seq == 1
    assert members[people.partner_a.pk].notified_seq == 3
