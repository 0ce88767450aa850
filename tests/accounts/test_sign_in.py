from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide.accounts.models import Role
from confide.accounts.services import user_create
from tests.personas import PASSWORD, Personas


def login(client: Client, email: str, password: str = PASSWORD) -> Any:
    return client.post(reverse("login"), {"username": email, "password": password})


def code_for(device: TOTPDevice) -> str:
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


@pytest.mark.django_db
def test_a_client_signs_in_and_meets_the_consent_step_first(people: Personas) -> None:
    fresh = user_create(
        email="new@test.example",
        password=PASSWORD,
        display_name="New",
        role=Role.CLIENT,
        practice=people.practice,
        country="GB",
    )
    client = Client()
    response = login(client, fresh.email.upper())  # emails are case-insensitive
    assert response.status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("consent")
    page = client.get(reverse("consent"))
    assert b"not for emergencies" in page.content.lower()
    assert b"116 123" in page.content  # Samaritans, for a client in GB
    assert b"2 business days" in page.content
    refused = client.post(reverse("consent"), {"version": "1"})  # box not ticked
    assert refused.status_code == 200
    stale = client.post(reverse("consent"), {"version": "0", "agree": "yes"})
    assert stale.status_code == 200 and client.get(reverse("home")).status_code == 302
    accepted = client.post(reverse("consent"), {"version": "1", "agree": "yes"})
    assert accepted.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    record = fresh.consents.get()
    assert record.document.version == 1 and record.accepted_at is not None


@pytest.mark.django_db
def test_it_rejects_a_wrong_password_without_saying_which_part_was_wrong(
    people: Personas,
) -> None:
    response = login(Client(), people.client.email, "not the password")
    assert response.status_code == 200
    assert b"correct email and password" in response.content


@pytest.mark.django_db
def test_it_locks_out_after_repeated_failures(people: Personas, settings: Any) -> None:
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, people.client.email, "wrong password")
    locked = login(client, people.client.email)  # even the right password now
    assert locked.status_code == 429
    assert b"Too many attempts" in locked.content
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_a_therapist_must_set_up_a_second_factor(people: Personas) -> None:
    TOTPDevice.objects.filter(user=people.colleague).delete()
    client = Client()
    assert login(client, people.colleague.email).status_code == 302
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_setup"))
    page = client.get(reverse("mfa_setup"))
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=people.colleague, confirmed=False)
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC)) as traveller:
        wrong = client.post(reverse("mfa_setup"), {"token": "000000"})
        assert wrong.status_code == 200 and b"not right" in wrong.content
        # A failure throttles the device for a moment: an immediate retry is refused too.
        refused = client.post(reverse("mfa_setup"), {"token": code_for(device)})
        assert refused.status_code == 200
        traveller.shift(datetime.timedelta(seconds=3))
        good = client.post(reverse("mfa_setup"), {"token": code_for(device)})
    assert good.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


@pytest.mark.django_db
def test_a_therapist_with_a_device_must_enter_a_code(people: Personas) -> None:
    client = Client()
    login(client, people.therapist.email)
    response = client.get(reverse("practice"))
    assert response["Location"].startswith(reverse("mfa_verify"))
    device = TOTPDevice.objects.get(user=people.therapist)
    assert client.post(reverse("mfa_verify"), {"token": "123"}).status_code == 200  # too short
    with time_machine.travel(datetime.datetime.now(tz=datetime.UTC)) as traveller:
        assert client.post(reverse("mfa_verify"), {"token": "12345678"}).status_code == 200
        traveller.shift(datetime.timedelta(seconds=3))
        done = client.post(reverse("mfa_verify"), {"token": code_for(device), "next": "/account/"})
    assert done.status_code == 302 and done["Location"] == "/account/"
    assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_it_ignores_an_offsite_next_after_the_second_step(people: Personas) -> None:
    client = Client()
    login(client, people.therapist.email)
    device = TOTPDevice.objects.get(user=people.therapist)
    done = client.post(
        reverse("mfa_verify"), {"token": code_for(device), "next": "https://evil.example/"}
    )
    assert done["Location"] == reverse("home")


@pytest.mark.django_db
def test_it_signs_out_after_fifteen_idle_minutes(people: Personas, settings: Any) -> None:
    assert settings.IDLE_TIMEOUT_MINUTES == 15
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        login(client, people.client.email)
        assert client.get(reverse("home")).status_code == 200
        traveller.shift(datetime.timedelta(minutes=14))
        assert client.get(reverse("home")).status_code == 200  # activity resets the clock
        traveller.shift(datetime.timedelta(minutes=14))
        assert client.get(reverse("session_ping")).status_code == 204
        traveller.shift(datetime.timedelta(minutes=15, seconds=1))
        response = client.get(reverse("home"))
        assert response.status_code == 302
        assert response["Location"] == reverse("login") + "?ended=idle"
        assert client.get(reverse("home"))["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_it_ends_a_session_after_its_absolute_lifetime(people: Personas, settings: Any) -> None:
    start = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        client = Client()
        login(client, people.client.email)
        client.get(reverse("home"))
        for _ in range(settings.SESSION_MAX_HOURS * 6 + 2):  # active every 10 minutes
            traveller.shift(datetime.timedelta(minutes=10))
            response = client.get(reverse("session_ping"))
            if response.status_code != 204:
                break
        assert response.status_code == 302
        assert response["Location"] == reverse("login") + "?ended=lifetime"


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2(settings: Any, people: Personas) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = user_create(
        email="argon@test.example",
        password=PASSWORD,
        display_name="Argon",
        role=Role.CLIENT,
        practice=people.practice,
    )
    assert identify_hasher(user.password).algorithm == "argon2"


@pytest.mark.django_db
def test_a_client_may_turn_on_a_second_factor(people: Personas, as_user: Any) -> None:
    client = as_user(people.client)
    assert client.get(reverse("home")).status_code == 200  # optional for clients
    client.get(reverse("mfa_setup"))
    device = TOTPDevice.objects.get(user=people.client, confirmed=False)
    assert client.post(reverse("mfa_setup"), {"token": code_for(device)}).status_code == 302
    fresh = Client()
    login(fresh, people.client.email)
    assert fresh.get(reverse("home"))["Location"].startswith(reverse("mfa_verify"))
