from __future__ import annotations

import datetime
import threading
import uuid
from typing import Any

import pytest
import time_machine
from django.db import connections
from django.test import Client

from confide.audit.models import AuditEvent
from confide.care.services import covering_add, covering_end, relationship_reassign
from confide.errors import InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import Message, MessageKind, ReplyRecord, Room, RoomMember
from confide.rooms.payloads import message_text
from confide.rooms.selectors import audience, inbox, message_versions, search_messages
from confide.rooms.services import (
    message_delete,
    message_edit,
    message_send,
    room_mark_read,
)
from tests.at_rest import database_bytes
from tests.personas import Personas
from tests.rooms.conftest import send

# A Tuesday morning in London: inside the default working hours (Mon-Fri 09:00-17:00).
TUESDAY_10 = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_each_care_relationship_gets_its_rooms_with_the_right_people(
    people: Personas, rooms: dict[str, Room]
) -> None:
    def members(room: Room) -> set[int]:
        return set(room.members.filter(left_at__isnull=True).values_list("user_id", flat=True))

    t, c, a, b = people.therapist, people.client, people.partner_a, people.partner_b
    assert members(rooms["individual"]) == {t.pk, c.pk}
    assert members(rooms["couple"]) == {t.pk, a.pk, b.pk}
    assert members(rooms["private_a"]) == {t.pk, a.pk}
    assert members(rooms["private_b"]) == {t.pk, b.pk}
    assert "Your partner can never read this room" in audience(rooms["private_a"], a)
    assert "Everyone in this couples room" in audience(rooms["couple"], a)


@pytest.mark.django_db
def test_a_partner_an_outsider_and_a_colleague_cannot_reach_a_private_room(
    people: Personas, rooms: dict[str, Room]
) -> None:
    for stranger in (people.partner_b, people.outsider, people.colleague, people.admin):
        with pytest.raises(NotFound):
            send(stranger, rooms["private_a"], "hello")


@pytest.mark.django_db
def test_sending_numbers_messages_in_order_and_is_idempotent(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    first = send(people.client, room, "first thought")
    client_id = uuid.uuid4()
    second = message_send(actor=people.therapist, room=room, body="a reply", client_id=client_id)
    again = message_send(actor=people.therapist, room=room, body="a reply", client_id=client_id)
    assert (first.message.seq, second.message.seq) == (
        1,
        2,
    ) or first.message.seq < second.message.seq
    assert again.created is False and again.message.pk == second.message.pk
    assert Message.objects.filter(room=room, client_id=client_id).count() == 1
    room.refresh_from_db()
    assert room.last_seq == Message.objects.filter(room=room).count()


@pytest.mark.django_db
def test_it_rejects_empty_and_oversized_messages(people: Personas, rooms: dict[str, Room]) -> None:
    with pytest.raises(InvalidInput):
        send(people.client, rooms["individual"], "   ")
    with pytest.raises(InvalidInput):
        send(people.client, rooms["individual"], "x" * 20_001)
    assert send(people.client, rooms["individual"], "x" * 20_000).created


@pytest.mark.django_db
def test_a_client_message_starts_a_reply_window_and_a_reply_ends_it(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.client, room, "I had a hard week")
        room.refresh_from_db()
        # Two business days of 8 working hours from Tue 10:00 London: Thu 10:00 London.
        assert room.waiting_since == TUESDAY_10
        assert room.reply_due_at == datetime.datetime(2026, 3, 5, 10, 0, tzinfo=datetime.UTC)
        send(people.client, room, "and another thing")  # the wait is already running
        room.refresh_from_db()
        assert room.waiting_since == TUESDAY_10
        traveller.shift(datetime.timedelta(hours=3))
        send(people.therapist, room, "Thank you for writing")
        room.refresh_from_db()
        assert room.waiting_since is None and room.reply_due_at is None
        record = ReplyRecord.objects.get(room=room)
        assert record.within_window and record.therapist == people.therapist
        assert record.seconds == pytest.approx(3 * 3600)


@pytest.mark.django_db
def test_out_of_hours_messages_get_an_honest_notice(
    people: Personas, rooms: dict[str, Room]
) -> None:
    saturday = datetime.datetime(2026, 3, 7, 21, 0, tzinfo=datetime.UTC)
    with time_machine.travel(saturday, tick=False):
        send(people.client, rooms["individual"], "can't sleep")
    notice = Message.objects.get(room=rooms["individual"], kind=MessageKind.NOTICE)
    text = message_text(notice)
    assert "outside their working hours" in text
    assert "Mon 9 Mar, 09:00" in text  # back on Monday, in the client's zone (London)
    assert "116 123" in text  # the client's crisis line (GB)
    assert notice.sender is None


@pytest.mark.django_db
def test_edits_keep_versions_and_deletes_leave_tombstones(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    sent = send(people.client, room, "first words").message
    message_edit(actor=people.client, room=room, seq=sent.seq, body="better words")
    message_edit(actor=people.client, room=room, seq=sent.seq, body="best words")
    sent.refresh_from_db()
    assert message_text(sent) == "best words" and sent.edited_at is not None
    assert [v.number for v in message_versions(room=room, seq=sent.seq)] == [1, 2]
    with pytest.raises(PermissionDenied):
        message_edit(actor=people.therapist, room=room, seq=sent.seq, body="not yours")
    with pytest.raises(NotFound):
        message_edit(actor=people.outsider, room=room, seq=sent.seq, body="no")
    message_delete(actor=people.client, room=room, seq=sent.seq)
    sent.refresh_from_db()
    assert sent.deleted_at is not None and message_text(sent) == ""
    assert len(message_versions(room=room, seq=sent.seq)) == 3
    with pytest.raises(PermissionDenied):
        message_edit(actor=people.client, room=room, seq=sent.seq, body="again")
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"message.send", "message.edit", "message.delete"} <= actions


@pytest.mark.django_db
@pytest.mark.usefixtures("at_work")  # counts messages on the real clock
def test_read_state_moves_forward_only(people: Personas, rooms: dict[str, Room]) -> None:
    room = rooms["individual"]
    for n in range(3):
        send(people.client, room, f"note {n}")
    room.refresh_from_db()
    member = room_mark_read(actor=people.therapist, room=room, seq=2)
    assert member.last_read_seq == 2
    assert room_mark_read(actor=people.therapist, room=room, seq=1).last_read_seq == 2
    assert room_mark_read(actor=people.therapist, room=room, seq=999).last_read_seq == 3


@pytest.mark.django_db
def test_the_inbox_puts_crisis_then_overdue_then_due_soon_first(
    people: Personas, rooms: dict[str, Room]
) -> None:
    with time_machine.travel(TUESDAY_10, tick=False) as traveller:
        send(people.partner_a, rooms["private_a"], "first, will be overdue")
        traveller.shift(datetime.timedelta(days=1))
        send(people.partner_b, rooms["private_b"], "second, due later")
        send(people.therapist, rooms["couple"], "a note from me")
        traveller.shift(datetime.timedelta(days=1, hours=2))
        now = datetime.datetime.now(tz=datetime.UTC)
        order = [row.room_id for row in inbox(therapist=people.therapist, now=now)]
        assert order[:2] == [rooms["private_a"].pk, rooms["private_b"].pk]
        rows = {row.room_id: row for row in inbox(therapist=people.therapist, now=now)}
        assert rows[rooms["private_a"].pk].overdue
        assert not rows[rooms["private_b"].pk].overdue
        assert rows[rooms["private_a"].pk].unread == 1
        send(people.client, rooms["individual"], "I want to end my life")
        order = [row.room_id for row in inbox(therapist=people.therapist, now=now)]
        assert order[0] == rooms["individual"].pk


@pytest.mark.django_db
def test_a_covering_therapist_joins_and_leaves_every_room_of_the_care(
    people: Personas, rooms: dict[str, Room]
) -> None:
    covering_add(
        actor=people.therapist, relationship_id=people.couple.pk, therapist_id=people.colleague.pk
    )
    for key in ("couple", "private_a", "private_b"):
        member = RoomMember.objects.get(room=rooms[key], user=people.colleague)
        assert member.role == "covering" and member.left_at is None
    assert send(people.colleague, rooms["private_a"], "covering this week").created
    assert AuditEvent.objects.filter(action="care.cover_add").exists()
    with pytest.raises(NotFound):
        covering_add(
            actor=people.client, relationship_id=people.couple.pk, therapist_id=people.colleague.pk
        )
    covering_end(
        actor=people.admin, relationship_id=people.couple.pk, therapist_id=people.colleague.pk
    )
    with pytest.raises(NotFound):
        send(people.colleague, rooms["private_a"], "gone")


@pytest.mark.django_db
def test_a_reassigned_therapist_leaves_the_rooms(people: Personas, rooms: dict[str, Room]) -> None:
    relationship_reassign(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    with pytest.raises(NotFound):
        send(people.therapist, rooms["individual"], "still here?")
    assert send(people.colleague, rooms["individual"], "hello, I'm taking over").created


@pytest.mark.django_db
def test_search_finds_words_only_in_rooms_the_reader_may_read(
    people: Personas, rooms: dict[str, Room]
) -> None:
    send(people.partner_a, rooms["private_a"], "Thinking about the lighthouse trip")
    send(people.partner_b, rooms["couple"], "The LIGHTHOUSE was lovely")
    found_a = search_messages(user=people.partner_a, query="lighthouse")
    found_b = search_messages(user=people.partner_b, query="lighthouse")
    assert {m.room_id for m in found_a} == {rooms["private_a"].pk, rooms["couple"].pk}
    assert {m.room_id for m in found_b} == {rooms["couple"].pk}
    assert search_messages(user=people.outsider, query="lighthouse") == []
    assert [m.room_id for m in search_messages(user=people.partner_a, query="lighthouse trip")] == [
        rooms["private_a"].pk
    ]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_sends_with_one_client_id_make_exactly_one_message(
    people: Personas, rooms: dict[str, Room]
) -> None:
    room = rooms["individual"]
    client_id = uuid.uuid4()
    barrier = threading.Barrier(50)
    results: list[Any] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=30)
            results.append(
                message_send(
                    actor=people.client,
                    room=Room.objects.get(pk=room.pk),
                    body="same message",
                    client_id=client_id,
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert Message.objects.filter(room=room, client_id=client_id).count() == 1
    assert len({r.message.pk for r in results}) == 1
    assert sum(1 for r in results if r.created) == 1


@pytest.mark.django_db(transaction=True)  # committed, so SQLite's files hold the rows
def test_message_bodies_are_encrypted_at_rest(
    people: Personas, rooms: dict[str, Room], settings: Any
) -> None:
    canary = "canary-7f3c9e-the-lighthouse-keeper-sings"
    send(people.client, rooms["individual"], f"{canary} in a message")
    stored = database_bytes()
    assert people.client.display_name.encode() in stored  # the control: the rows are there
    assert canary.encode() not in stored


@pytest.mark.django_db
def test_room_pages_answer_each_persona(
    people: Personas, rooms: dict[str, Room], as_user: Any
) -> None:
    expected = {
        "individual": {"therapist", "client"},
        "couple": {"therapist", "partner_a", "partner_b"},
        "private_a": {"therapist", "partner_a"},
        "private_b": {"therapist", "partner_b"},
    }
    for key, room in rooms.items():
        for name, user in people.all().items():
            response = as_user(user).get(f"/rooms/{room.pk}/")
            assert response.status_code == (200 if name in expected[key] else 404), (key, name)
    assert Client().get(f"/rooms/{rooms['couple'].pk}/").status_code == 302
