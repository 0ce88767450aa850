"""Each persona in Debian's Chromium against a real server: sign-in, MFA, invite, consent."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core import mail
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from confide.accounts.models import User
from tests.browser.conftest import ARTIFACTS
from tests.conftest import run_tasks
from tests.personas import PASSWORD, Personas, build_personas

pytestmark = pytest.mark.browser


def current_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}"


def sign_in(page: Any, base: str, user: User) -> None:
    page.goto(base + "/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if user.requires_mfa:
        expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
        page.get_by_label("Six-digit code").fill(current_code(user))
        page.get_by_role("button", name="Continue").click()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_a_therapist_invites_a_client_who_joins_and_consents(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()

    therapist = new_page("therapist")
    sign_in(therapist, live_app, people.therapist)
    expect(therapist.get_by_role("heading", name="Inbox")).to_be_visible()
    therapist.get_by_role("link", name="Caseload and invitations").click()
    expect(therapist.get_by_role("heading", name="Your caseload")).to_be_visible()
    expect(therapist.get_by_role("link", name="Cam Client")).to_be_visible()
    therapist.get_by_label("Client's email").fill("river@example.org")
    therapist.get_by_role("button", name="Send invitation").click()
    expect(therapist.get_by_role("status")).to_contain_text("Invitation sent to river@example.org")
    shot(therapist, "therapist-caseload")

    run_tasks()  # the personas' own (already used) invitations are skipped; River's is sent
    [message] = [m for m in mail.outbox if m.to == ["river@example.org"]]
    link = re.search(r"http\S+/invite/\S+/", str(message.body))
    assert link is not None
    path = link.group(0).split("/invite/", 1)[1]

    newcomer = new_page("newcomer", mobile=True)
    newcomer.goto(f"{live_app}/invite/{path}")
    expect(newcomer.get_by_role("heading", name="Welcome to Test Practice")).to_be_visible()
    newcomer.get_by_label("Your name").fill("River Stone")
    newcomer.get_by_label("Time zone").select_option("Australia/Sydney")
    newcomer.get_by_label("Country").select_option("AU")
    newcomer.get_by_label("Choose a password").fill(PASSWORD)
    newcomer.get_by_label("Password again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Create account").click()

    expect(newcomer.get_by_role("heading", name="Before we begin")).to_be_visible()
    crisis = newcomer.get_by_role("complementary", name="Not for emergencies")
    expect(crisis).to_contain_text("13 11 14")  # Lifeline, for a client in Australia
    expect(crisis).to_contain_text("000")
    shot(newcomer, "client-consent-mobile")
    newcomer.get_by_label(re.compile("I have read this")).check()
    newcomer.get_by_role("button", name="I agree").click()
    expect(newcomer.get_by_role("heading", name="Hello, River Stone")).to_be_visible()
    expect(newcomer.get_by_text("Only you and Robin Therapist can read this room")).to_be_visible()
    shot(newcomer, "client-home-mobile")

    therapist.reload()
    expect(therapist.get_by_role("link", name="River Stone")).to_be_visible()


def test_the_admin_manages_the_practice_and_reads_the_audit_log(
    live_app: str, new_page: Any
) -> None:
    people: Personas = build_personas()
    admin = new_page("admin")
    sign_in(admin, live_app, people.admin)
    expect(admin.get_by_role("heading", name="Test Practice")).to_be_visible()
    therapists = admin.locator("section", has=admin.get_by_role("heading", name="Therapists"))
    expect(therapists.get_by_role("cell", name="Casey Colleague")).to_be_visible()
    expect(admin.get_by_role("heading", name="Response times (30 days)")).to_be_visible()
    shot(admin, "admin-practice")
    admin.get_by_role("link", name=f"Manage care #{people.individual.pk}").click()
    admin.get_by_label("Reassign to").select_option(str(people.colleague.pk))
    admin.get_by_role("button", name="Reassign").click()
    expect(admin.get_by_role("status")).to_contain_text("Now with Casey Colleague")
    admin.get_by_role("link", name="Audit log").click()
    expect(admin.get_by_role("cell", name="care.reassign")).to_be_visible()
    admin.get_by_label("Person").select_option(str(people.admin.pk))
    admin.get_by_role("button", name="Filter").click()
    expect(admin.get_by_role("cell", name="care.reassign")).to_be_visible()
    shot(admin, "admin-audit")


def test_a_partner_and_an_outsider_are_kept_out(live_app: str, new_page: Any) -> None:
    people: Personas = build_personas()
    partner = new_page("partner")
    sign_in(partner, live_app, people.partner_a)
    expect(partner.get_by_text("Your partner never can")).to_be_visible()
    response = partner.goto(f"{live_app}/care/{people.individual.pk}/")
    assert response is not None and response.status == 404
    expect(partner.get_by_role("heading", name="Not found")).to_be_visible()

    outsider = new_page("outsider")
    sign_in(outsider, live_app, people.outsider)
    for url in (f"/care/{people.couple.pk}/", "/practice/", "/practice/audit/"):
        response = outsider.goto(live_app + url)
        assert response is not None and response.status == 404
        expect(outsider.get_by_text("Avery Partner")).to_have_count(0)
