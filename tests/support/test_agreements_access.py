"""Who reaches the care agreement's pages: every person of the relationship (both sides, every
client of it), a covering therapist; nobody else (the colleague, the practice admin and the
outsider get 404). Every read and write leaves an audit row."""

from __future__ import annotations

from typing import Any

import pytest

from confide.audit.models import AuditEvent
from confide.care.models import CareRelationship
from confide.care.services import covering_add
from confide.rooms.models import Room, RoomKind
from confide.support import agreements
from confide.support.models import AgreementState, CareAgreement
from tests.personas import Personas

GOOD = {
    "checkins_per_week": "3",
    "reply_window_business_days": "2",
    "live_sessions_per_month": "2",
    "homework_rhythm": "weekly",
    "goals": "Fictional goals for a test.",
}

MEMBERS = {
    "individual": {"therapist", "client"},
    "couple": {"therapist", "partner_a", "partner_b"},
}


def relationship_of(people: Personas, name: str) -> CareRelationship:
    return people.individual if name == "individual" else people.couple


def proposal_by_therapist(people: Personas, relationship: CareRelationship) -> CareAgreement:
    return agreements.agreement_propose(
        actor=people.therapist,
        relationship_id=relationship.pk,
        checkins_per_week=3,
        reply_window_business_days=2,
        live_sessions_per_month=2,
        homework_rhythm="weekly",
        goals="Fictional goals for a test.",
    )


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["individual", "couple"])
def test_the_agreement_pages_answer_each_persona(
    people: Personas, as_user: Any, which: str
) -> None:
    relationship = relationship_of(people, which)
    proposal = proposal_by_therapist(people, relationship)
    base = f"/care/{relationship.pk}/agreement/"
    for name, user in people.all().items():
        browser = as_user(user)
        expected = 200 if name in MEMBERS[which] else 404
        assert browser.get(base).status_code == expected, (name, base)
        assert browser.get(base + "propose/").status_code == expected, (name, "propose")
        if expected == 404:
            # Strangers learn nothing, whatever they try: reading, proposing, deciding.
            assert browser.post(base + "propose/", GOOD).status_code == 404, name
            for action in ("accept", "decline", "withdraw"):
                answer = browser.post(f"{base}{proposal.pk}/{action}/")
                assert answer.status_code == 404, (name, action)
    proposal.refresh_from_db()
    assert proposal.state == AgreementState.PROPOSED
    assert CareAgreement.objects.count() == 1


@pytest.mark.django_db
def test_the_therapist_side_cannot_accept_its_own_proposal_and_a_client_can(
    people: Personas, as_user: Any
) -> None:
    proposal = proposal_by_therapist(people, people.couple)
    url = f"/care/{people.couple.pk}/agreement/{proposal.pk}/"
    assert as_user(people.therapist).post(url + "accept/").status_code == 403
    assert as_user(people.partner_a).post(url + "withdraw/").status_code == 403
    assert as_user(people.partner_a).post(url + "accept/").status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == AgreementState.ACCEPTED and proposal.decided_by == people.partner_a
    # The other partner, a moment later: already decided.
    assert as_user(people.partner_b).post(url + "decline/").status_code == 409


@pytest.mark.django_db
def test_a_covering_therapist_is_on_the_therapist_side(people: Personas, as_user: Any) -> None:
    base = f"/care/{people.individual.pk}/agreement/"
    assert as_user(people.colleague).get(base).status_code == 404
    covering_add(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        therapist_id=people.colleague.pk,
    )
    browser = as_user(people.colleague)
    assert browser.get(base).status_code == 200
    assert browser.post(base + "propose/", GOOD).status_code == 302
    proposal = CareAgreement.objects.get()
    assert proposal.proposed_by == people.colleague
    # The therapist is on the same side as the colleague: the client decides.
    assert as_user(people.therapist).post(f"{base}{proposal.pk}/accept/").status_code == 403
    assert as_user(people.client).post(f"{base}{proposal.pk}/accept/").status_code == 302


@pytest.mark.django_db
def test_bad_ids_are_404(people: Personas, as_user: Any) -> None:
    mine = proposal_by_therapist(people, people.individual)
    other = proposal_by_therapist(people, people.couple)
    client = as_user(people.client)
    for url in (
        "/care/999999/agreement/",
        "/care/0/agreement/",
        "/care/abc/agreement/",
        "/care/99999999999999999999999/agreement/",
        f"/care/{people.elsewhere.pk}/agreement/",
    ):
        assert client.get(url).status_code == 404, url
    # A version of another relationship, through this one's URL.
    answer = client.post(f"/care/{people.individual.pk}/agreement/{other.pk}/accept/")
    assert answer.status_code == 404
    assert client.post(f"/care/{people.individual.pk}/agreement/999999/accept/").status_code == 404
    assert client.post(f"/care/{people.individual.pk}/agreement/x/accept/").status_code == 404
    # GET on a decision is not allowed; nothing changed.
    assert (
        client.get(f"/care/{people.individual.pk}/agreement/{mine.pk}/accept/").status_code == 405
    )
    mine.refresh_from_db()
    other.refresh_from_db()
    assert mine.state == other.state == AgreementState.PROPOSED


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(people: Personas, client: Any) -> None:
    answer = client.get(f"/care/{people.individual.pk}/agreement/")
    assert answer.status_code == 302 and "/login/" in answer["Location"]


def last_audit_id() -> int:
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


@pytest.mark.django_db
def test_every_read_and_write_is_audited_with_ids_only(people: Personas, as_user: Any) -> None:
    browser = as_user(people.client)
    room = Room.objects.get(relationship=people.individual, kind=RoomKind.INDIVIDUAL)
    start = last_audit_id()
    browser.get(f"/care/{people.individual.pk}/agreement/")
    browser.post(f"/care/{people.individual.pk}/agreement/propose/", GOOD)
    proposal = CareAgreement.objects.get()
    as_user(people.therapist).get(f"/rooms/{room.pk}/")
    as_user(people.therapist).post(f"/care/{people.individual.pk}/agreement/{proposal.pk}/accept/")
    rows = list(
        AuditEvent.objects.filter(action__startswith="agreement.", pk__gt=start)
        .order_by("pk")
        .values_list("action", "actor_id", "object_type", "detail")
    )
    actions = [(a, who) for a, who, _, _ in rows]
    assert ("agreement.read", people.client.pk) in actions
    assert ("agreement.propose", people.client.pk) in actions
    assert ("agreement.read", people.therapist.pk) in actions  # the room's panel
    assert ("agreement.accept", people.therapist.pk) in actions
    panel = next(d for a, who, _, d in rows if a == "agreement.read" and who == people.therapist.pk)
    assert panel["room"] == room.pk
    for _, _, _, detail in rows:
        assert "Fictional" not in str(detail)
    # Strangers' attempts read nothing, so they leave no agreement.read row.
    start = last_audit_id()
    as_user(people.outsider).get(f"/care/{people.individual.pk}/agreement/")
    assert not AuditEvent.objects.filter(action__startswith="agreement.", pk__gt=start).exists()
