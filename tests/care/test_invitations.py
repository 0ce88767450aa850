from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from confide.accounts.models import Role, User
from confide.audit.models import AuditEvent
from confide.care.models import CareKind, Invitation
from confide.care.services import client_invite, invitation_accept, relationship_reassign
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests.conftest import run_tasks
from tests.personas import PASSWORD, Personas

LINK = re.compile(r"https?://[^\s]+/invite/([^\s/]+)/")


def signup(client: Client, token: str, **overrides: str) -> Any:
    data = {
        "display_name": "Dana New",
        "time_zone": "Europe/Berlin",
        "country": "DE",
        "locale": "de",
        "password": PASSWORD,
        "password_again": PASSWORD,
        **overrides,
    }
    return client.post(reverse("invitation_accept", args=[token]), data)


@pytest.mark.django_db
def test_a_therapist_invites_a_client_who_signs_up_and_consents(
    people: Personas, as_user: Any
) -> None:
    therapist = as_user(people.therapist)
    response = therapist.post(
        reverse("client_invite"), {"kind": "individual", "email": "Dana@Example.org"}
    )
    assert response.status_code == 302
    assert not mail.outbox  # sent by the worker after commit, not inside the request
    run_tasks()
    [message] = mail.outbox
    assert message.to == ["dana@example.org"]
    assert "Robin Therapist" in message.body and "Test Practice" in message.body
    token = LINK.search(str(message.body)).group(1)  # type: ignore[union-attr]
    # The token is never stored: not in the invitation row, not in the task queue.
    invitation = Invitation.objects.get(email="dana@example.org")
    assert token not in invitation.token_hash
    assert not DBTaskResult.objects.filter(args_kwargs__icontains=token).exists()

    visitor = Client()
    page = visitor.get(reverse("invitation_accept", args=[token]))
    assert page.status_code == 200 and b"dana@example.org" in page.content
    mismatch = signup(visitor, token, password_again="something else entirely")
    assert mismatch.status_code == 400 and b"not the same" in mismatch.content
    weak = signup(visitor, token, password="12345678901", password_again="12345678901")
    assert weak.status_code == 400
    bad_zone = signup(visitor, token, time_zone="Mars/Olympus")
    assert bad_zone.status_code == 400
    done = signup(visitor, token)
    assert done.status_code == 302 and done["Location"] == reverse("consent")
    dana = User.objects.get(email="dana@example.org")
    assert dana.role == Role.CLIENT and dana.time_zone == "Europe/Berlin"
    assert dana.care.get().therapist == people.therapist
    consent_page = visitor.get(reverse("consent"))
    assert "TelefonSeelsorge" in consent_page.content.decode()  # crisis line for DE

    again = Client()
    assert again.get(reverse("invitation_accept", args=[token])).status_code == 410
    assert signup(again, token).status_code == 410
    assert User.objects.filter(email="dana@example.org").count() == 1


@pytest.mark.django_db
def test_an_invitation_expires(people: Personas) -> None:
    [issued] = client_invite(actor=people.therapist, email="late@example.org")
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=8)):
        assert (
            Client().get(reverse("invitation_accept", args=[issued.raw_token])).status_code == 410
        )
        with pytest.raises(Conflict):
            invitation_accept(
                raw_token=issued.raw_token,
                display_name="Late",
                password=PASSWORD,
                time_zone="UTC",
                country="GB",
            )


@pytest.mark.django_db
def test_a_forged_or_tampered_token_is_not_found(people: Personas) -> None:
    [issued] = client_invite(actor=people.therapist, email="x@example.org")
    nonce, _, mac = issued.raw_token.partition(".")
    for token in ["nope", f"{nonce}.{'A' * len(mac)}", issued.raw_token + "x"]:
        assert Client().get(reverse("invitation_accept", args=[token])).status_code == 404
        with pytest.raises(NotFound):
            invitation_accept(
                raw_token=token, display_name="X", password=PASSWORD, time_zone="UTC", country="GB"
            )


@pytest.mark.django_db
def test_a_couple_is_invited_together_into_one_relationship(people: Personas) -> None:
    issued = client_invite(
        actor=people.therapist,
        email="p1@example.org",
        kind=CareKind.COUPLE,
        partner_email="p2@example.org",
    )
    assert len(issued) == 2
    relationship = issued[0].invitation.relationship
    assert relationship is not None and relationship.kind == CareKind.COUPLE
    assert issued[1].invitation.relationship == relationship
    for item, name in zip(issued, ["P One", "P Two"], strict=True):
        invitation_accept(
            raw_token=item.raw_token,
            display_name=name,
            password=PASSWORD,
            time_zone="UTC",
            country="GB",
        )
    assert relationship.participants.count() == 2


@pytest.mark.django_db
def test_it_rejects_bad_invitations(people: Personas) -> None:
    with pytest.raises(InvalidInput) as bad:
        client_invite(actor=people.therapist, email="not-an-email")
    assert "email" in bad.value.field_errors
    with pytest.raises(Conflict):
        client_invite(actor=people.therapist, email=people.client.email)
    with pytest.raises(InvalidInput):
        client_invite(
            actor=people.therapist,
            email="same@example.org",
            kind=CareKind.COUPLE,
            partner_email="SAME@example.org",
        )
    for who in (people.client, people.admin, people.outsider):
        with pytest.raises(PermissionDenied):
            client_invite(actor=who, email="someone@example.org")


@pytest.mark.django_db
def test_invitation_form_errors_are_shown_on_the_page(people: Personas, as_user: Any) -> None:
    response = as_user(people.therapist).post(
        reverse("client_invite"), {"kind": "couple", "email": "ok@example.org"}
    )
    assert response.status_code == 400
    assert b"Enter a valid email address" in response.content


@pytest.mark.django_db(transaction=True)
def test_an_invitation_and_its_email_task_commit_together(people: Personas) -> None:
    before = DBTaskResult.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        client_invite(actor=people.therapist, email="rolled@example.org")
        raise RuntimeError("the request failed after the invitation was written")
    assert not Invitation.objects.filter(email="rolled@example.org").exists()
    assert DBTaskResult.objects.count() == before


@pytest.mark.django_db
def test_a_withdrawn_invitation_cannot_be_used(people: Personas, as_user: Any) -> None:
    [issued] = client_invite(actor=people.therapist, email="w@example.org")
    url = reverse("invitation_revoke", args=[issued.invitation.pk])
    assert as_user(people.colleague).post(url).status_code == 404
    assert as_user(people.outsider).post(url).status_code == 404
    assert as_user(people.therapist).post(url).status_code == 302
    assert Client().get(reverse("invitation_accept", args=[issued.raw_token])).status_code == 410
    run_tasks()
    assert not mail.outbox  # the queued email notices the withdrawal and is not sent


@pytest.mark.django_db
def test_an_admin_reassigns_a_relationship_and_the_audit_log_says_so(
    people: Personas, as_user: Any
) -> None:
    admin = as_user(people.admin)
    page = admin.get(reverse("relationship", args=[people.individual.pk]))
    assert b"Reassign to" in page.content
    assert b"have not started are cancelled" in page.content
    response = admin.post(
        reverse("relationship_reassign", args=[people.individual.pk]),
        {"therapist": people.colleague.pk},
    )
    assert response.status_code == 302
    people.individual.refresh_from_db()
    assert people.individual.therapist == people.colleague
    event = AuditEvent.objects.filter(action="care.reassign").get()
    assert event.actor == people.admin
    assert event.detail == {
        "from_therapist": people.therapist.pk,
        "to_therapist": people.colleague.pk,
    }
    history = list(people.individual.assignments.order_by("started_at"))
    assert [a.therapist for a in history] == [people.therapist, people.colleague]
    assert history[0].ended_at is not None and history[1].ended_at is None
    # The previous therapist no longer sees the client; the new one does.
    url = reverse("relationship", args=[people.individual.pk])
    assert as_user(people.therapist).get(url).status_code == 404
    assert as_user(people.colleague).get(url).status_code == 200
    with pytest.raises(InvalidInput):  # a client is not a therapist
        relationship_reassign(
            actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.client.pk
        )
    bad = admin.post(
        reverse("relationship_reassign", args=[people.individual.pk]), {"therapist": "x"}
    )
    assert bad.status_code == 302


@pytest.mark.django_db
def test_an_admin_invites_a_therapist_who_must_set_up_a_second_factor(
    people: Personas, as_user: Any
) -> None:
    response = as_user(people.admin).post(
        reverse("therapist_invite"), {"email": "new.therapist@example.org"}
    )
    assert response.status_code == 302
    run_tasks()
    token = LINK.search(str(mail.outbox[0].body)).group(1)  # type: ignore[union-attr]
    visitor = Client()
    done = signup(visitor, token, display_name="Terry New")
    assert done["Location"] == reverse("mfa_setup")
    assert User.objects.get(email="new.therapist@example.org").role == Role.THERAPIST
    assert visitor.get(reverse("home"))["Location"].startswith(reverse("mfa_setup"))
    assert connection.vendor in {"sqlite", "postgresql"}
