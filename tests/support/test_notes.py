"""The therapist's private notes: writing (free form and SOAP), editing, the list, exports,
encryption at rest, and bad input answered with a clear 4xx."""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from django.utils import timezone

from confide import crypto
from confide.audit.models import AuditEvent
from confide.care.models import CareRelationship
from confide.care.services import covering_add
from confide.errors import InvalidInput, NotFound, PermissionDenied
from confide.support import notes
from confide.support.models import NoteFormat, PrivateNote
from tests.personas import Personas


def free(people: Personas, text: str, **kwargs: Any) -> PrivateNote:
    return notes.note_create(
        actor=people.therapist,
        relationship_id=kwargs.pop("relationship", people.individual).pk,
        format=NoteFormat.FREE,
        content={"text": text},
        **kwargs,
    )


class CapturedHTML:
    """Stands in for weasyprint.HTML: keeps the HTML a PDF is made from, then makes the PDF."""

    seen: list[str] = []
    real: Any = None

    def __init__(self, *, string: str, base_url: Any = None) -> None:
        CapturedHTML.seen.append(string)
        self._real = CapturedHTML.real(string=string, base_url=base_url)

    def write_pdf(self) -> bytes:
        pdf: bytes = self._real.write_pdf()
        return pdf


@pytest.mark.django_db
def test_a_free_note_is_encrypted_bound_to_its_row_and_read_back(people: Personas) -> None:
    note = free(people, "Fictional: talked about the move.\nSleep is better.")
    stored = PrivateNote.objects.get(pk=note.pk)
    assert b"Sleep" not in bytes(stored.body)
    assert json.loads(crypto.decrypt_text(bytes(stored.body), context=f"note:{note.pk}")) == {
        "text": "Fictional: talked about the move.\nSleep is better."
    }
    # Copied onto another note's row, the body no longer decrypts.
    other = free(people, "another")
    PrivateNote.objects.filter(pk=other.pk).update(body=stored.body)
    with pytest.raises(crypto.DecryptionError):
        notes.note_get(
            actor=people.therapist, relationship_id=people.individual.pk, note_id=other.pk
        )
    view = notes.note_get(
        actor=people.therapist, relationship_id=people.individual.pk, note_id=note.pk
    )
    assert view.sections == [("", "Fictional: talked about the move.\nSleep is better.")]


@pytest.mark.django_db
def test_a_soap_note_about_one_partner(people: Personas) -> None:
    note = notes.note_create(
        actor=people.therapist,
        relationship_id=people.couple.pk,
        format=NoteFormat.SOAP,
        content={"s": "Feels unheard.", "o": "Calm.", "a": "", "p": "Practise reflecting."},
        about_id=people.partner_a.pk,
        session_on=datetime.date(2027, 1, 4),
    )
    view = notes.note_get(actor=people.therapist, relationship_id=people.couple.pk, note_id=note.pk)
    assert view.about == people.partner_a and view.session_on == datetime.date(2027, 1, 4)
    assert view.sections == [
        ("Subjective", "Feels unheard."),
        ("Objective", "Calm."),
        ("Assessment", ""),
        ("Plan", "Practise reflecting."),
    ]


@pytest.mark.django_db
def test_editing_replaces_the_text_and_moves_updated_at(people: Personas) -> None:
    written = datetime.datetime(2027, 1, 4, 10, 0, tzinfo=datetime.UTC)
    note = free(people, "first text", now=written)
    notes.note_update(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        note_id=note.pk,
        format=NoteFormat.FREE,
        content={"text": "second text"},
        now=written + datetime.timedelta(hours=2),
    )
    view = notes.note_get(
        actor=people.therapist, relationship_id=people.individual.pk, note_id=note.pk
    )
    assert view.content == {"text": "second text"}
    assert view.created_at == written and view.updated_at == written + datetime.timedelta(hours=2)
    assert view.edited
    assert AuditEvent.objects.filter(action="note.update", detail={"note": note.pk}).exists()


@pytest.mark.django_db
def test_only_the_author_edits_and_a_covering_therapist_reads(people: Personas) -> None:
    note = free(people, "Robin's note")
    covering_add(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        therapist_id=people.colleague.pk,
    )
    assert notes.note_get(
        actor=people.colleague, relationship_id=people.individual.pk, note_id=note.pk
    ).content == {"text": "Robin's note"}
    with pytest.raises(PermissionDenied):
        notes.note_update(
            actor=people.colleague,
            relationship_id=people.individual.pk,
            note_id=note.pk,
            format=NoteFormat.FREE,
            content={"text": "changed"},
        )
    own = notes.note_create(
        actor=people.colleague,
        relationship_id=people.individual.pk,
        format=NoteFormat.FREE,
        content={"text": "covering note"},
    )
    assert own.author == people.colleague


@pytest.mark.django_db
def test_the_list_is_newest_first_and_audited_with_ids(people: Personas) -> None:
    moments = [datetime.datetime(2027, 1, d, 9, 0, tzinfo=datetime.UTC) for d in (4, 6, 5)]
    made = [free(people, f"note {i}", now=m) for i, m in enumerate(moments)]
    listed = notes.notes_list(actor=people.therapist, relationship_id=people.individual.pk)
    assert [n.id for n in listed] == [made[1].pk, made[2].pk, made[0].pk]
    row = AuditEvent.objects.filter(action="note.list").latest("pk")
    assert row.actor == people.therapist and row.object_id == str(people.individual.pk)
    assert row.detail == {"notes": [made[1].pk, made[2].pk, made[0].pk]}


@pytest.mark.django_db
def test_the_exports_hold_every_note_and_are_audited(
    people: Personas, as_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    free(people, "Exported note one")
    notes.note_create(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        format=NoteFormat.SOAP,
        content={"s": "Exported subjective", "o": "", "a": "", "p": "Exported plan"},
    )
    browser = as_user(people.therapist)
    answer = browser.get(f"/care/{people.individual.pk}/notes/export.json")
    assert answer.status_code == 200
    assert answer["Content-Disposition"].startswith("attachment;")
    assert answer["Cache-Control"] == "private, no-store"
    data = json.loads(answer.content)
    assert data["format"] == "confide.private-notes"
    assert [n["content"] for n in data["notes"]] == [
        {"s": "Exported subjective", "o": "", "a": "", "p": "Exported plan"},
        {"text": "Exported note one"},
    ]
    import weasyprint

    CapturedHTML.seen = []
    CapturedHTML.real = weasyprint.HTML
    monkeypatch.setattr(weasyprint, "HTML", CapturedHTML)
    pdf = browser.get(f"/care/{people.individual.pk}/notes/export.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    [html] = CapturedHTML.seen
    assert "Exported note one" in html and "Exported plan" in html and "Subjective" in html
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"note.export_json", "note.export_pdf"} <= actions


@pytest.mark.django_db
def test_the_pages_write_read_and_edit_a_note(people: Personas, as_user: Any) -> None:
    browser = as_user(people.therapist)
    base = f"/care/{people.couple.pk}/notes/"
    form = browser.get(base + "new/?format=soap")
    assert form.status_code == 200 and "Subjective" in form.content.decode()
    made = browser.post(
        base + "new/",
        {
            "format": "soap",
            "s": "Wrote in the page",
            "o": "",
            "a": "<b>not markup</b>",
            "p": "",
            "about": str(people.partner_b.pk),
            "session_on": "2027-01-04",
        },
    )
    assert made.status_code == 302
    note = PrivateNote.objects.get()
    assert made["Location"] == f"{base}{note.pk}/"
    page = browser.get(made["Location"]).content.decode()
    assert "Wrote in the page" in page and "about Blake Partner" in page
    assert "&lt;b&gt;not markup&lt;/b&gt;" in page and "<b>not markup</b>" not in page
    edit = browser.get(f"{base}{note.pk}/edit/")
    assert edit.status_code == 200 and "Wrote in the page" in edit.content.decode()
    changed = browser.post(
        f"{base}{note.pk}/edit/",
        {"format": "soap", "s": "Changed in the page", "about": "", "session_on": ""},
    )
    assert changed.status_code == 302
    listed = browser.get(base).content.decode()
    assert "Changed in the page" in listed and "Wrote in the page" not in listed
    note.refresh_from_db()
    assert note.about is None and note.session_on is None


@pytest.mark.django_db
def test_the_relationship_page_links_the_notes_for_the_therapist_only(
    people: Personas, as_user: Any
) -> None:
    url = f"/care/{people.individual.pk}/"
    link = f'href="/care/{people.individual.pk}/notes/"'
    assert link in as_user(people.therapist).get(url).content.decode()
    for who in (people.admin, people.client):
        page = as_user(who).get(url)
        assert page.status_code == 200 and link not in page.content.decode()


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"format": "free", "text": ""}, "text"),
        ({"format": "free", "text": "   \n  "}, "text"),
        ({"format": "free", "text": "x" * 20_001}, "text"),
        ({"format": "soap", "s": "", "o": "", "a": "", "p": ""}, "s"),
        ({"format": "soap", "s": "ok", "p": "y" * 10_001}, "p"),
        ({"format": "html", "text": "hello"}, "format"),
        ({"format": "", "text": "hello"}, "format"),
        ({"format": "free", "text": "hello", "about": "abc"}, "about"),
        ({"format": "free", "text": "hello", "about": "-1"}, "about"),
        ({"format": "free", "text": "hello", "about": "99999999999999999999999"}, "about"),
        ({"format": "free", "text": "hello", "session_on": "2027-02-30"}, "session_on"),
        ({"format": "free", "text": "hello", "session_on": "yesterday"}, "session_on"),
        ({"format": "free", "text": "hello", "session_on": "1900-01-01"}, "session_on"),
        ({"format": "free", "text": "hello", "session_on": "9999-12-31"}, "session_on"),
    ],
)
def test_bad_notes_are_refused_with_400(
    people: Personas, as_user: Any, fields: dict[str, str], error_field: str
) -> None:
    answer = as_user(people.therapist).post(f"/care/{people.couple.pk}/notes/new/", fields)
    assert answer.status_code == 400
    assert answer.context["errors"].get(error_field), answer.context["errors"]
    assert PrivateNote.objects.count() == 0


@pytest.mark.django_db
def test_about_must_be_a_client_of_this_care(people: Personas) -> None:
    for stranger in (people.outsider, people.client, people.therapist):
        with pytest.raises(InvalidInput) as refused:
            free(people, "hello", relationship=people.couple, about_id=stranger.pk)
        assert "about" in refused.value.field_errors
    with pytest.raises(InvalidInput):
        free(people, "hello", about_id=True)
    with pytest.raises(InvalidInput):
        notes.note_create(
            actor=people.therapist,
            relationship_id=people.individual.pk,
            format=NoteFormat.FREE,
            content={"text": 42},
        )


@pytest.mark.django_db
def test_a_note_of_another_relationship_is_404(people: Personas, as_user: Any) -> None:
    elsewhere = free(people, "about the couple", relationship=people.couple)
    browser = as_user(people.therapist)
    base = f"/care/{people.individual.pk}/notes/"
    assert browser.get(f"{base}{elsewhere.pk}/").status_code == 404
    assert browser.get(f"{base}{elsewhere.pk}/edit/").status_code == 404
    posted = browser.post(f"{base}{elsewhere.pk}/edit/", {"format": "free", "text": "overwrite"})
    assert posted.status_code == 404
    assert browser.get(f"{base}999999/").status_code == 404
    assert browser.get(f"{base}abc/").status_code == 404
    assert browser.get(f"{base}0/").status_code == 404
    with pytest.raises(NotFound):
        notes.note_get(
            actor=people.therapist, relationship_id=people.individual.pk, note_id=elsewhere.pk
        )
    view = notes.note_get(
        actor=people.therapist, relationship_id=people.couple.pk, note_id=elsewhere.pk
    )
    assert view.content == {"text": "about the couple"}


@pytest.mark.django_db
def test_notes_stay_with_the_therapist_after_the_care_ends(people: Personas) -> None:
    note = free(people, "Closing summary: goals met")
    CareRelationship.objects.filter(pk=people.individual.pk).update(ended_at=timezone.now())
    read = notes.note_get(
        actor=people.therapist, relationship_id=people.individual.pk, note_id=note.pk
    )
    assert read.content == {"text": "Closing summary: goals met"}
    exported = notes.notes_export_json(actor=people.therapist, relationship_id=people.individual.pk)
    assert "Closing summary" in str(exported)
    for other in (people.client, people.colleague, people.admin, people.outsider):
        with pytest.raises(NotFound):
            notes.notes_list(actor=other, relationship_id=people.individual.pk)
