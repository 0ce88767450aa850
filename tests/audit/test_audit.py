from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from confide.audit.models import AuditEvent
from confide.audit.services import audit_record
from tests.personas import Personas


@pytest.mark.django_db
def test_the_audit_log_refuses_updates_and_deletes(people: Personas) -> None:
    event = audit_record(
        actor=people.therapist, action="test.read", object_type="user", object_id=people.client.pk
    )
    event.action = "changed"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(action="changed")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    # Below the ORM, the database itself refuses.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'changed' WHERE id = %s", [event.pk])
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action == "test.read"


@pytest.mark.django_db
def test_viewing_clinical_data_is_audited_with_who_what_and_where(
    people: Personas, as_user: Any
) -> None:
    url = reverse("relationship", args=[people.individual.pk])
    as_user(people.therapist).get(url, REMOTE_ADDR="203.0.113.7")
    event = AuditEvent.objects.filter(action="relationship.view").latest("at")
    assert event.actor == people.therapist
    assert event.object_type == "relationship" and event.object_id == str(people.individual.pk)
    assert event.ip == "203.0.113.7"
    assert event.practice_id == people.practice.pk


@pytest.mark.django_db
def test_an_admin_reads_the_audit_log_filtered_by_person_and_date(
    people: Personas, as_user: Any
) -> None:
    as_user(people.therapist).get(reverse("relationship", args=[people.individual.pk]))
    admin = as_user(people.admin)
    page = admin.get(reverse("audit_log"), {"actor": people.therapist.pk})
    text = page.content.decode()
    assert page.status_code == 200
    assert "relationship.view" in text and "Robin Therapist" in text
    assert "Ada Admin" not in text.split("<tbody>")[1]
    today = datetime.datetime.now(tz=datetime.UTC).date()
    tomorrow = (today + datetime.timedelta(days=2)).isoformat()
    empty = admin.get(reverse("audit_log"), {"since": tomorrow})
    assert "No events match" in empty.content.decode()
    bad = admin.get(reverse("audit_log"), {"since": "not-a-date", "actor": "x"})
    assert bad.status_code == 400
    # Reading the log is itself audited, and the other practice's events never show.
    assert AuditEvent.objects.filter(action="audit.view", actor=people.admin).exists()
    assert str(people.outsider.pk) not in [
        e.object_id for e in AuditEvent.objects.filter(practice=people.practice)
    ]


@pytest.mark.django_db
def test_audit_rows_never_hold_what_a_person_wrote(people: Personas, as_user: Any) -> None:
    as_user(people.client).post(
        reverse("account"),
        {
            "display_name": "A very private name",
            "time_zone": "UTC",
            "country": "GB",
            "locale": "en",
        },
    )
    for event in AuditEvent.objects.all():
        assert "A very private name" not in str(event.detail)
