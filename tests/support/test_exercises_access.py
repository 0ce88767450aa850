"""Every exercise and journal URL against every persona. The outsider always gets 404; a client
never opens another client's exercise or journal; partner B never sees partner A's private
room's exercise; the therapist never reads anyone's journal."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from confide.rooms.models import Room
from confide.support import exercises, journal
from confide.support.models import ExerciseTemplate, JournalEntry
from tests.personas import Personas
from tests.support.test_exercises import assign, library, rooms  # noqa: F401 - fixture

ALL = ("admin", "therapist", "colleague", "client", "partner_a", "partner_b", "outsider")
NAMES = ("Cam Client", "Avery Partner", "Blake Partner", "Robin Therapist")


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in ALL}


Line = tuple[str, str, str, dict[str, Any], dict[str, int]]


def urls(people: Personas, by_kind: dict[str, Room]) -> list[Line]:
    """(name, method, url, data, expected status per persona), in an order where the writes
    of one line do not change what a later line expects (closing and deleting come last)."""
    individual, couple = by_kind["individual"], by_kind["couple"]
    private_a, private_b = by_kind["private_a"], by_kind["private_b"]
    mine = assign(people, individual)
    both = assign(people, couple, "couples-weekly-check-in")
    secret = assign(people, private_a)
    own = exercises.template_save(
        actor=people.therapist,
        template_id=None,
        title="Sleep diary",
        instructions="",
        fields=[{"id": "hours", "kind": "scale", "label": "Hours", "min": 0, "max": 10}],
    )
    elsewhere = ExerciseTemplate.objects.create(
        practice=people.elsewhere.practice, title="Elsewhere", fields=[]
    )
    entry = journal.journal_write(actor=people.client, body="Only mine")
    entry_a = journal.journal_write(actor=people.partner_a, body="Only Avery's")
    thought = library("thought-record").pk

    def ex(name: str, room: Room, exercise_id: int, *args: str) -> str:
        return reverse(name, args=[room.pk, exercise_id, *args])

    staff_and_client = expect(404, therapist=200, client=200)
    couple_members = expect(404, therapist=200, partner_a=200, partner_b=200)
    private_members = expect(404, therapist=200, partner_a=200)
    therapists = expect(404, therapist=200, colleague=200)
    nobody = expect(404)
    return [
        # exercises: reading
        ("individual exercise", "get", ex("exercise", individual, mine.pk), {}, staff_and_client),
        ("couple exercise", "get", ex("exercise", couple, both.pk), {}, couple_members),
        ("private exercise", "get", ex("exercise", private_a, secret.pk), {}, private_members),
        ("private exercise via couple room", "get", ex("exercise", couple, secret.pk), {}, nobody),
        ("private exercise via B's room", "get", ex("exercise", private_b, secret.pk), {}, nobody),
        ("individual exercise via couple", "get", ex("exercise", couple, mine.pk), {}, nobody),
        ("no such exercise", "get", ex("exercise", individual, 987654321), {}, nobody),
        (
            "individual list",
            "get",
            reverse("room_exercises", args=[individual.pk]),
            {},
            staff_and_client,
        ),
        ("couple list", "get", reverse("room_exercises", args=[couple.pk]), {}, couple_members),
        (
            "private list",
            "get",
            reverse("room_exercises", args=[private_a.pk]),
            {},
            private_members,
        ),
        # exercises: writing
        (
            "draft (individual)",
            "post",
            ex("exercise_answer", individual, mine.pk),
            {"action": "draft", "a-situation": "x"},
            expect(404, therapist=403, client=302),
        ),
        (
            "draft (couple)",
            "post",
            ex("exercise_answer", couple, both.pk),
            {"action": "draft"},
            expect(404, therapist=403, partner_a=302, partner_b=302),
        ),
        (
            "draft (private)",
            "post",
            ex("exercise_answer", private_a, secret.pk),
            {"action": "draft"},
            expect(404, therapist=403, partner_a=302),
        ),
        (
            "draft via couple room",
            "post",
            ex("exercise_answer", couple, secret.pk),
            {"action": "draft"},
            nobody,
        ),
        (
            "comment (individual)",
            "post",
            ex("exercise_comment", individual, mine.pk),
            {"body": "A comment"},
            expect(404, therapist=302, client=302),
        ),
        (
            "comment (private)",
            "post",
            ex("exercise_comment", private_a, secret.pk),
            {"body": "A comment"},
            expect(404, therapist=302, partner_a=302),
        ),
        (
            "comment via couple room",
            "post",
            ex("exercise_comment", couple, secret.pk),
            {"body": "A comment"},
            nobody,
        ),
        (
            "assign page (individual)",
            "get",
            reverse("exercise_assign", args=[individual.pk]),
            {},
            expect(404, therapist=200, client=403),
        ),
        (
            "assign page (private)",
            "get",
            reverse("exercise_assign", args=[private_a.pk]),
            {},
            expect(404, therapist=200, partner_a=403),
        ),
        (
            "assign (couple)",
            "post",
            reverse("exercise_assign", args=[couple.pk]),
            {"template": thought, "for_user": ""},
            expect(404, therapist=302, partner_a=403, partner_b=403),
        ),
        (
            "assign another practice's template",
            "post",
            reverse("exercise_assign", args=[individual.pk]),
            {"template": elsewhere.pk},
            expect(404, client=403),
        ),
        # templates
        ("templates", "get", reverse("exercise_templates"), {}, therapists),
        ("new template page", "get", reverse("exercise_template_new"), {}, therapists),
        (
            "new template",
            "post",
            reverse("exercise_template_new"),
            {"title": "Walks", "rows": "1", "0-label": "Where?", "0-kind": "text"},
            expect(404, therapist=302, colleague=302),
        ),
        ("own template", "get", reverse("exercise_template", args=[own.pk]), {}, therapists),
        (
            "library template",
            "get",
            reverse("exercise_template", args=[thought]),
            {},
            therapists,
        ),
        (
            "other practice's template",
            "get",
            reverse("exercise_template", args=[elsewhere.pk]),
            {},
            nobody,
        ),
        (
            "edit own template",
            "get",
            reverse("exercise_template_edit", args=[own.pk]),
            {},
            expect(404, therapist=200, colleague=403),
        ),
        (
            "edit library template",
            "get",
            reverse("exercise_template_edit", args=[thought]),
            {},
            expect(404, therapist=403, colleague=403),
        ),
        (
            "save own template",
            "post",
            reverse("exercise_template_edit", args=[own.pk]),
            {"title": "Sleep", "rows": "1", "0-label": "Hours", "0-kind": "text"},
            expect(404, therapist=302, colleague=403),
        ),
        (
            "edit other practice's template",
            "get",
            reverse("exercise_template_edit", args=[elsewhere.pk]),
            {},
            nobody,
        ),
        (
            "archive own template",
            "post",
            reverse("exercise_template_archive", args=[own.pk]),
            {},
            expect(404, therapist=302, colleague=403),
        ),
        # the journal: a client's own page (the outsider has theirs too, empty)
        (
            "journal",
            "get",
            reverse("journal"),
            {},
            expect(200, admin=404, therapist=404, colleague=404),
        ),
        (
            "client's entry",
            "get",
            reverse("journal_entry", args=[entry.pk]),
            {},
            expect(404, client=200),
        ),
        (
            "partner A's entry",
            "get",
            reverse("journal_entry", args=[entry_a.pk]),
            {},
            expect(404, partner_a=200),
        ),
        (
            "edit client's entry",
            "post",
            reverse("journal_entry", args=[entry.pk]),
            {"body": "Changed"},
            expect(404, client=302),
        ),
        (
            "share page",
            "get",
            reverse("journal_share", args=[entry.pk]),
            {},
            expect(404, client=200),
        ),
        (
            "share into the client's room",
            "post",
            reverse("journal_share", args=[entry.pk]),
            {"room": individual.pk},
            expect(404, client=302),
        ),
        (
            "share A's entry into the couple room",
            "post",
            reverse("journal_share", args=[entry_a.pk]),
            {"room": couple.pk},
            expect(404, partner_a=302),
        ),
        # last: writes that change what the lines above expect
        (
            "close (individual)",
            "post",
            ex("exercise_close", individual, mine.pk),
            {},
            expect(404, therapist=302, client=403),
        ),
        (
            "close (private) via couple room",
            "post",
            ex("exercise_close", couple, secret.pk),
            {},
            nobody,
        ),
        (
            "close (private)",
            "post",
            ex("exercise_close", private_a, secret.pk),
            {},
            expect(404, therapist=302, partner_a=403),
        ),
        (
            "delete client's entry",
            "post",
            reverse("journal_delete", args=[entry.pk]),
            {},
            expect(404, client=302),
        ),
    ]


@pytest.mark.django_db
def test_every_url_answers_each_persona_as_expected(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    failures = []
    signed_in = {name: as_user(user) for name, user in people.all().items()}
    for name, method, url, data, expected in urls(people, rooms):
        for persona in ALL:
            response = getattr(signed_in[persona], method)(url, data)
            if response.status_code != expected[persona]:
                failures.append(
                    f"{name} as {persona}: {response.status_code} (expected {expected[persona]})"
                )
            if persona == "outsider":
                body = response.content.decode()
                for secret in NAMES:
                    assert secret not in body, f"{name} leaked {secret} to the outsider"
    assert not failures, "\n".join(failures)
    assert not JournalEntry.objects.filter(author=people.client).exists()  # deleted, last


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    client: Client,
) -> None:
    for _name, method, url, data, _expected in urls(people, rooms):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_malformed_ids_are_404(
    people: Personas,
    rooms: dict[str, Room],  # noqa: F811
    as_user: Any,
) -> None:
    room = rooms["individual"]
    therapist, client = as_user(people.therapist), as_user(people.client)
    for path in (
        f"/rooms/{room.pk}/exercises/abc/",
        f"/rooms/{room.pk}/exercises/0/",
        f"/rooms/{room.pk}/exercises/-1/",
        f"/rooms/{room.pk}/exercises/{'9' * 19}/",
        f"/rooms/{room.pk}/exercises/999999999999999999/",
        "/rooms/abc/exercises/",
        "/exercises/templates/x/",
        "/exercises/templates/999999999999999999/edit/",
    ):
        assert therapist.get(path).status_code == 404, path
    for path in ("/journal/abc/", "/journal/0/", f"/journal/{'9' * 19}/", "/journal/999999999/"):
        assert client.get(path).status_code == 404, path
    # A wrong method is refused, never a 500.
    assert therapist.get(reverse("exercise_close", args=[room.pk, 1])).status_code == 405
    assert client.get(reverse("journal_delete", args=[1])).status_code == 405
