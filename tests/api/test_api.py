from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.test import Client

from confide.accounts.models import PersonalAccessToken, User
from confide.accounts.services import token_create
from tests.personas import Personas


def bearer(user: User) -> Client:
    _, raw = token_create(user=user, name="test")
    return Client(headers={"Authorization": f"Bearer {raw}"})


@pytest.mark.django_db
def test_it_requires_authentication(people: Personas) -> None:
    anonymous = Client()
    response = anonymous.get("/api/v1/me")
    assert response.status_code == 401 and response.json() == {"detail": "Authentication required."}
    wrong = Client(headers={"Authorization": "Bearer cfd_not-a-real-token"})
    assert wrong.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_a_personal_access_token_acts_as_its_owner_until_revoked(people: Personas) -> None:
    _, raw = token_create(user=people.therapist, name="script")
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    me = api.get("/api/v1/me").json()
    assert me["email"] == people.therapist.email and me["role"] == "therapist"
    token = PersonalAccessToken.objects.get(user=people.therapist, name="script")
    assert token.last_used_at is not None and raw not in token.token_hash
    assert api.delete(f"/api/v1/tokens/{token.pk}").status_code == 200
    assert api.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_a_token_expires(people: Personas) -> None:
    _, raw = token_create(user=people.client, name="short", ttl_days=1)
    api = Client(headers={"Authorization": f"Bearer {raw}"})
    assert api.get("/api/v1/me").status_code == 200
    later = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(days=2)
    with time_machine.travel(later):
        assert api.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_the_browser_session_works_with_csrf_and_a_passed_second_factor(
    people: Personas, as_user: Any
) -> None:
    browser = as_user(people.client)
    assert browser.get("/api/v1/me").json()["id"] == people.client.pk
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.client, backend="django.contrib.auth.backends.ModelBackend")
    refused = strict.patch(
        "/api/v1/me",
        {"display_name": "X", "time_zone": "UTC", "country": "GB", "locale": "en"},
        content_type="application/json",
    )
    assert refused.status_code in (401, 403)
    half = Client()  # a therapist who has not passed the second step
    half.force_login(people.therapist, backend="django.contrib.auth.backends.ModelBackend")
    assert half.get("/api/v1/me").status_code == 401


@pytest.mark.django_db
def test_relationships_by_role_and_outsiders_get_404(people: Personas) -> None:
    def ids(user: User) -> set[int]:
        return {r["id"] for r in bearer(user).get("/api/v1/care/relationships").json()}

    assert ids(people.therapist) == {people.individual.pk, people.couple.pk}
    assert ids(people.client) == {people.individual.pk}
    assert ids(people.partner_a) == {people.couple.pk}
    assert ids(people.admin) == {people.individual.pk, people.couple.pk}
    assert ids(people.colleague) == set()
    assert ids(people.outsider) == {people.elsewhere.pk}
    url = f"/api/v1/care/relationships/{people.couple.pk}"
    expected = {
        "admin": 200,
        "therapist": 200,
        "colleague": 404,
        "client": 404,
        "partner_a": 200,
        "partner_b": 200,
        "outsider": 404,
    }
    for name, user in people.all().items():
        response = bearer(user).get(url)
        assert response.status_code == expected[name], name
        if response.status_code == 404:
            assert response.json() == {"detail": "No such relationship.", "errors": {}}


@pytest.mark.django_db
def test_invitations_through_the_api(people: Personas) -> None:
    api = bearer(people.therapist)
    created = api.post(
        "/api/v1/care/invitations",
        {"email": "api@example.org", "kind": "couple", "partner_email": "api2@example.org"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert [i["status"] for i in created.json()] == ["pending", "pending"]
    bad = api.post(
        "/api/v1/care/invitations",
        {"email": "nope", "kind": "individual"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and bad.json()["errors"]["email"]
    wrong_kind = api.post(
        "/api/v1/care/invitations",
        {"email": "a@example.org", "kind": "x"},
        content_type="application/json",
    )
    assert wrong_kind.status_code == 422 and "detail" in wrong_kind.json()
    broken = api.post("/api/v1/care/invitations", "{not json", content_type="application/json")
    assert broken.status_code in (400, 422)
    for who in (people.client, people.outsider, people.admin):
        refused = bearer(who).post(
            "/api/v1/care/invitations", {"email": "z@example.org"}, content_type="application/json"
        )
        assert refused.status_code == 403


@pytest.mark.django_db
def test_practice_endpoints_are_for_the_admin_only(people: Personas) -> None:
    for name, user in people.all().items():
        api = bearer(user)
        therapists = api.get("/api/v1/practice/therapists")
        audit = api.get("/api/v1/audit/events")
        reassign = api.post(
            f"/api/v1/care/relationships/{people.individual.pk}/reassign",
            {"therapist_id": people.colleague.pk},
            content_type="application/json",
        )
        if name == "admin":
            assert therapists.status_code == 200
            assert {t["id"] for t in therapists.json()} == {
                people.therapist.pk,
                people.colleague.pk,
            }
            assert audit.status_code == 200 and audit.json()["count"] > 0
            assert reassign.status_code == 200
            assert reassign.json()["therapist"]["id"] == people.colleague.pk
        else:
            assert therapists.status_code == 403, name
            assert audit.status_code == 403, name
            assert reassign.status_code == 404, name


@pytest.mark.django_db
def test_the_openapi_schema_is_published(people: Personas) -> None:
    schema = Client().get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert "/api/v1/care/relationships" in schema.json()["paths"]
