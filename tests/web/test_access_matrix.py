"""Every page against every persona. The outsider always gets 404 and learns nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.personas import Personas

ALL = ("admin", "therapist", "colleague", "client", "partner_a", "partner_b", "outsider")


def expect(default: int, **overrides: int) -> dict[str, int]:
    return {name: overrides.get(name, default) for name in ALL}


def pages(p: Personas) -> list[tuple[str, str, str, dict[str, Any], dict[str, int]]]:
    """(name, method, url, data, expected status per persona)."""
    individual = reverse("relationship", args=[p.individual.pk])
    couple = reverse("relationship", args=[p.couple.pk])
    elsewhere = reverse("relationship", args=[p.elsewhere.pk])
    return [
        ("home", "get", reverse("home"), {}, expect(200, admin=302)),
        ("caseload", "get", reverse("caseload"), {}, expect(404, therapist=200, colleague=200)),
        ("search", "get", reverse("log_search"), {"q": "hello"}, expect(200)),
        ("account", "get", reverse("account"), {}, expect(200)),
        ("consent", "get", reverse("consent"), {}, expect(200)),
        (
            "individual room",
            "get",
            individual,
            {},
            expect(404, admin=200, therapist=200, client=200),
        ),
        (
            "couple room",
            "get",
            couple,
            {},
            expect(404, admin=200, therapist=200, partner_a=200, partner_b=200),
        ),
        ("other practice's care", "get", elsewhere, {}, expect(404, outsider=200)),
        ("practice", "get", reverse("practice"), {}, expect(404, admin=200)),
        ("audit log", "get", reverse("audit_log"), {}, expect(404, admin=200)),
        (
            "invite a client",
            "post",
            reverse("client_invite"),
            {"kind": "individual", "email": "new-client@test.example"},
            expect(403, therapist=302, colleague=302),
        ),
        (
            "invite a therapist",
            "post",
            reverse("therapist_invite"),
            {"email": "new-therapist@test.example"},
            expect(404, admin=302),
        ),
        (
            "reassign",
            "post",
            reverse("relationship_reassign", args=[p.individual.pk]),
            {"therapist": p.colleague.pk},
            expect(404, admin=302),
        ),
        (
            "reassign elsewhere",
            "post",
            reverse("relationship_reassign", args=[p.elsewhere.pk]),
            {"therapist": p.colleague.pk},
            expect(404),
        ),
        (
            "practice settings",
            "post",
            reverse("practice_update"),
            {"name": "Renamed", "reply_window_business_days": 3, "escalation_grace_hours": 12},
            expect(404, admin=302),
        ),
    ]


@pytest.mark.django_db
def test_every_page_answers_each_persona_as_expected(people: Personas, as_user: Any) -> None:
    failures = []
    for name, method, url, data, expected in pages(people):
        for persona, user in people.all().items():
            response = getattr(as_user(user), method)(url, data)
            if response.status_code != expected[persona]:
                failures.append(
                    f"{name} as {persona}: {response.status_code} (expected {expected[persona]})"
                )
            if persona == "outsider" and response.status_code == 200:
                body = response.content.decode()
                for secret in ("Cam Client", "Avery Partner", "Robin Therapist"):
                    assert secret not in body, f"{name} leaked {secret} to the outsider"
    assert not failures, "\n".join(failures)


@pytest.mark.django_db
def test_it_sends_anonymous_visitors_to_sign_in(people: Personas, client: Client) -> None:
    for _name, method, url, data, _expected in pages(people):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login")), url


@pytest.mark.django_db
def test_a_partner_never_sees_the_other_partners_details(people: Personas, as_user: Any) -> None:
    body = as_user(people.partner_a).get(reverse("relationship", args=[people.couple.pk]))
    text = body.content.decode()
    assert "Blake Partner" in text  # the partner's name is shared in the couples room
    assert people.partner_b.email not in text  # but not their address
    assert "Therapist history" not in text


@pytest.mark.django_db
def test_unknown_ids_and_huge_ids_are_404_not_500(people: Personas, as_user: Any) -> None:
    therapist = as_user(people.therapist)
    assert therapist.get("/care/999999/").status_code == 404
    assert therapist.get("/care/99999999999999999999999/").status_code == 404
    assert therapist.get("/care/abc/").status_code == 404
