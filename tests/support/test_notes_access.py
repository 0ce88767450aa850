"""Every private-notes URL against every persona: only the therapist side of the relationship
(its therapist, a covering therapist) gets in; the practice admin, the colleague, every client
and the outsider get 404. Every read leaves an audit row."""

from __future__ import annotations

from typing import Any

import pytest

from confide.audit.models import AuditEvent
from confide.care.models import CareRelationship
from confide.care.services import covering_add, covering_end
from confide.support import notes
from confide.support.models import NoteFormat, PrivateNote
from tests.personas import Personas

READS = ("", "new/", "{note}/", "{note}/edit/", "export.json", "export.pdf")
WRITES = {
    "new/": {"format": "free", "text": "A fictional note written by {who}."},
    "{note}/edit/": {"format": "free", "text": "Edited by {who}."},
}


def write(people: Personas, relationship: CareRelationship) -> PrivateNote:
    return notes.note_create(
        actor=people.therapist,
        relationship_id=relationship.pk,
        format=NoteFormat.FREE,
        content={"text": "The therapist's fictional private note."},
    )


def urls(relationship: CareRelationship, note: PrivateNote) -> list[str]:
    base = f"/care/{relationship.pk}/notes/"
    return [base + path.format(note=note.pk) for path in READS]


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["individual", "couple"])
def test_every_notes_url_answers_each_persona(people: Personas, as_user: Any, which: str) -> None:
    relationship = people.individual if which == "individual" else people.couple
    note = write(people, relationship)
    for name, user in people.all().items():
        browser = as_user(user)
        allowed = name == "therapist"
        for url in urls(relationship, note):
            answer = browser.get(url)
            assert answer.status_code == (200 if allowed else 404), (name, url)
            if not allowed:
                assert b"fictional private note" not in answer.content
        base = f"/care/{relationship.pk}/notes/"
        for path, fields in WRITES.items():
            url = base + path.format(note=note.pk)
            posted = {k: v.format(who=name) for k, v in fields.items()}
            answer = browser.post(url, posted)
            assert answer.status_code == (302 if allowed else 404), (name, url)
    # Nothing a stranger posted was kept.
    texts = [
        notes.note_get(
            actor=people.therapist, relationship_id=relationship.pk, note_id=n.pk
        ).content
        for n in PrivateNote.objects.order_by("pk")
    ]
    assert texts == [
        {"text": "Edited by therapist."},
        {"text": "A fictional note written by therapist."},
    ]


@pytest.mark.django_db
def test_a_covering_therapist_reads_and_writes_but_edits_only_their_own(
    people: Personas, as_user: Any
) -> None:
    note = write(people, people.individual)
    base = f"/care/{people.individual.pk}/notes/"
    covering_add(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    browser = as_user(people.colleague)
    for url in (
        base,
        f"{base}{note.pk}/",
        base + "new/",
        base + "export.json",
        base + "export.pdf",
    ):
        assert browser.get(url).status_code == 200, url
    assert browser.get(f"{base}{note.pk}/edit/").status_code == 403
    assert (
        browser.post(f"{base}{note.pk}/edit/", {"format": "free", "text": "x"}).status_code == 403
    )
    assert browser.post(base + "new/", {"format": "free", "text": "Covering."}).status_code == 302
    # Once the cover ends, the notes are closed to them again.
    covering_end(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    for url in (base, f"{base}{note.pk}/", base + "export.json"):
        assert browser.get(url).status_code == 404, url


@pytest.mark.django_db
def test_a_reassigned_therapist_no_longer_reads_the_notes(people: Personas, as_user: Any) -> None:
    from confide.care.services import relationship_reassign

    note = write(people, people.individual)
    relationship_reassign(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    url = f"/care/{people.individual.pk}/notes/{note.pk}/"
    assert as_user(people.therapist).get(url).status_code == 404
    assert as_user(people.colleague).get(url).status_code == 200


@pytest.mark.django_db
def test_every_read_is_audited_with_ids_only(people: Personas, as_user: Any) -> None:
    note = write(people, people.individual)
    browser = as_user(people.therapist)
    base = f"/care/{people.individual.pk}/notes/"
    expected = {
        base: ("note.list", {"notes": [note.pk]}),
        f"{base}{note.pk}/": ("note.read", {"note": note.pk}),
        f"{base}{note.pk}/edit/": ("note.read", {"note": note.pk}),
        base + "export.json": ("note.export_json", {"notes": [note.pk]}),
        base + "export.pdf": ("note.export_pdf", {"notes": [note.pk]}),
    }
    for url, (action, detail) in expected.items():
        start = last_audit_id()
        assert browser.get(url).status_code == 200
        rows = list(
            AuditEvent.objects.filter(pk__gt=start, action__startswith="note.").values_list(
                "action", "actor_id", "object_type", "object_id", "detail"
            )
        )
        assert rows == [
            (action, people.therapist.pk, "relationship", str(people.individual.pk), detail)
        ], url
    # Refused attempts read nothing and so record no read.
    start = last_audit_id()
    for who in (people.admin, people.client, people.outsider, people.colleague):
        as_user(who).get(f"{base}{note.pk}/")
    assert not AuditEvent.objects.filter(pk__gt=start, action__startswith="note.").exists()


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(people: Personas, client: Any) -> None:
    note = write(people, people.individual)
    for url in urls(people.individual, note):
        answer = client.get(url)
        assert answer.status_code == 302 and "/login/" in answer["Location"], url
