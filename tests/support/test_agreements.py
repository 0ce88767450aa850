"""The care agreement: propose, accept, decline, withdraw; who decides; one open proposal at a
time (also under a race); the room's events; the check-ins of the week on the room page."""

from __future__ import annotations

import datetime
import threading
import uuid
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connections

from confide import crypto
from confide.audit.models import AuditEvent
from confide.care.models import CareRelationship
from confide.care.services import covering_add
from confide.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from confide.rooms.models import Message, MessageKind, Room, RoomKind
from confide.rooms.payloads import message_text
from confide.rooms.services import message_send
from confide.support import agreements
from confide.support.models import AgreementState, CareAgreement, HomeworkRhythm
from tests.personas import Personas, build_personas

UTC = datetime.UTC
# A Wednesday in winter (London = UTC): the week started on Monday 4 January 2027.
WEDNESDAY = datetime.datetime(2027, 1, 6, 12, 0, tzinfo=UTC)


def propose(actor: Any, relationship: CareRelationship, **terms: Any) -> CareAgreement:
    values: dict[str, Any] = {
        "checkins_per_week": 3,
        "reply_window_business_days": 2,
        "live_sessions_per_month": 2,
        "homework_rhythm": HomeworkRhythm.WEEKLY,
        "goals": "Sleep before midnight.\nWalk twice a week.",
    }
    values.update(terms)
    return agreements.agreement_propose(actor=actor, relationship_id=relationship.pk, **values)


def accept(actor: Any, agreement: CareAgreement) -> CareAgreement:
    return agreements.agreement_decide(
        actor=actor,
        relationship_id=agreement.relationship_id,
        agreement_id=agreement.pk,
        accept=True,
    )


def events(room: Room) -> list[str]:
    return [
        message_text(m)
        for m in Message.objects.filter(room=room, kind=MessageKind.EVENT).order_by("seq")
    ]


def room(relationship: CareRelationship, kind: str, private_for: Any = None) -> Room:
    return Room.objects.get(relationship=relationship, kind=kind, private_for=private_for)


def say(user: Any, where: Room, moment: datetime.datetime, body: str = "checking in") -> None:
    message_send(actor=user, room=where, body=body, client_id=uuid.uuid4(), now=moment)


@pytest.mark.django_db
def test_the_therapist_proposes_and_the_client_accepts(people: Personas) -> None:
    first = propose(people.therapist, people.individual, goals="Feel calmer at work.")
    assert (first.number, first.state) == (1, AgreementState.PROPOSED)
    assert b"calmer" not in bytes(first.goals)
    assert (
        crypto.decrypt_text(bytes(first.goals), context=f"agreement:{people.individual.pk}:1")
        == "Feel calmer at work."
    )
    decided = accept(people.client, first)
    assert decided.state == AgreementState.ACCEPTED and decided.decided_by == people.client
    overview = agreements.agreement_overview(
        user=people.client, relationship_id=people.individual.pk
    )
    assert overview.current is not None and overview.current.terms.goals == "Feel calmer at work."
    assert overview.proposal is None
    assert events(room(people.individual, RoomKind.INDIVIDUAL)) == [
        "Robin Therapist proposed a care agreement (version 1).",
        "Cam Client agreed to the care agreement (version 1).",
    ]
    actions = list(
        AuditEvent.objects.filter(action__startswith="agreement.")
        .order_by("pk")
        .values_list("action", "actor_id")
    )
    assert actions == [
        ("agreement.propose", people.therapist.pk),
        ("agreement.accept", people.client.pk),
        ("agreement.read", people.client.pk),
    ]
    # Ids only in the audit rows.
    for row in AuditEvent.objects.filter(action__startswith="agreement."):
        assert "calmer" not in str(row.detail)


@pytest.mark.django_db
def test_accepting_a_new_version_supersedes_the_previous_one(people: Personas) -> None:
    first = accept(people.client, propose(people.therapist, people.individual))
    second = propose(people.client, people.individual, checkins_per_week=5, goals="More often.")
    assert second.number == 2
    # Until the therapist accepts, version 1 still applies.
    overview = agreements.agreement_overview(
        user=people.client, relationship_id=people.individual.pk
    )
    assert overview.current is not None and overview.current.number == 1
    assert overview.proposal is not None and overview.proposal.number == 2
    assert not overview.can_decide and overview.can_withdraw
    accept(people.therapist, second)
    states = dict(CareAgreement.objects.values_list("number", "state"))
    assert states == {1: AgreementState.SUPERSEDED, 2: AgreementState.ACCEPTED}
    first.refresh_from_db()
    assert first.state == AgreementState.SUPERSEDED
    overview = agreements.agreement_overview(
        user=people.therapist, relationship_id=people.individual.pk
    )
    assert overview.current is not None and overview.current.terms.checkins_per_week == 5
    assert [v.number for v in overview.history] == [2, 1]
    assert events(room(people.individual, RoomKind.INDIVIDUAL))[-2:] == [
        "Cam Client proposed a change to the care agreement (version 2).",
        "Robin Therapist agreed to the care agreement (version 2).",
    ]


@pytest.mark.django_db
def test_only_the_other_side_decides(people: Personas) -> None:
    mine = propose(people.therapist, people.individual)
    with pytest.raises(PermissionDenied):
        accept(people.therapist, mine)  # the proposer's own side
    agreements.agreement_withdraw(
        actor=people.therapist, relationship_id=people.individual.pk, agreement_id=mine.pk
    )
    theirs = propose(people.client, people.individual)
    with pytest.raises(PermissionDenied):
        accept(people.client, theirs)
    for stranger in (people.colleague, people.admin, people.outsider, people.partner_a):
        with pytest.raises(NotFound):
            accept(stranger, theirs)
    # A covering therapist is on the therapist side.
    covering_add(
        actor=people.admin, relationship_id=people.individual.pk, therapist_id=people.colleague.pk
    )
    assert accept(people.colleague, theirs).decided_by == people.colleague


@pytest.mark.django_db
def test_either_partner_accepts_for_the_couple_and_the_page_says_who(
    people: Personas, as_user: Any
) -> None:
    proposal = propose(people.therapist, people.couple, goals="Argue less on Sundays.")
    accept(people.partner_b, proposal)
    couple_room = room(people.couple, RoomKind.COUPLE)
    assert events(couple_room) == [
        "Robin Therapist proposed a care agreement (version 1).",
        "Blake Partner agreed to the care agreement (version 1).",
    ]
    # Events go to the shared couple room only, never to a partner's private room.
    assert events(room(people.couple, RoomKind.PRIVATE, people.partner_a)) == []
    page = as_user(people.partner_a).get(f"/care/{people.couple.pk}/agreement/")
    assert page.status_code == 200
    assert "agreed by Blake Partner" in page.content.decode()
    # A partner's proposal is answered by the therapist side, not by the other partner.
    change = propose(people.partner_a, people.couple, checkins_per_week=2)
    with pytest.raises(PermissionDenied):
        accept(people.partner_b, change)
    assert accept(people.therapist, change).state == AgreementState.ACCEPTED


@pytest.mark.django_db
def test_decline_and_withdraw(people: Personas) -> None:
    proposal = propose(people.therapist, people.individual)
    declined = agreements.agreement_decide(
        actor=people.client,
        relationship_id=people.individual.pk,
        agreement_id=proposal.pk,
        accept=False,
    )
    assert declined.state == AgreementState.DECLINED and declined.decided_by == people.client
    with pytest.raises(Conflict):
        accept(people.client, proposal)  # decided already
    again = propose(people.client, people.individual)
    assert again.number == 2
    with pytest.raises(PermissionDenied):
        agreements.agreement_withdraw(
            actor=people.therapist, relationship_id=people.individual.pk, agreement_id=again.pk
        )
    agreements.agreement_withdraw(
        actor=people.client, relationship_id=people.individual.pk, agreement_id=again.pk
    )
    with pytest.raises(Conflict):
        accept(people.therapist, again)
    overview = agreements.agreement_overview(
        user=people.client, relationship_id=people.individual.pk
    )
    assert overview.current is None and overview.proposal is None
    assert [v.state for v in overview.history] == [
        AgreementState.WITHDRAWN,
        AgreementState.DECLINED,
    ]
    assert events(room(people.individual, RoomKind.INDIVIDUAL))[1:] == [
        "Cam Client declined the proposed care agreement (version 1).",
        "Cam Client proposed a care agreement (version 2).",
        "Cam Client withdrew the proposed care agreement (version 2).",
    ]


@pytest.mark.django_db
def test_one_open_proposal_at_a_time(people: Personas) -> None:
    propose(people.therapist, people.individual)
    with pytest.raises(Conflict, match="already waiting"):
        propose(people.client, people.individual)
    with pytest.raises(Conflict):
        propose(people.therapist, people.individual)
    assert CareAgreement.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_proposals_one_wins_and_the_other_is_a_clear_conflict() -> None:
    people = build_personas()
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def worker(actor: Any) -> None:
        try:
            barrier.wait(timeout=30)
            outcomes.append(propose(actor, people.individual))
        except BaseException as exc:
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=worker, args=(who,)) for who in (people.therapist, people.client)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    won = [o for o in outcomes if isinstance(o, CareAgreement)]
    lost = [o for o in outcomes if not isinstance(o, CareAgreement)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], Conflict) and "already waiting" in lost[0].message
    assert CareAgreement.objects.filter(state=AgreementState.PROPOSED).count() == 1


@pytest.mark.django_db
def test_a_race_lost_at_the_database_is_a_conflict_too(
    people: Personas, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should two proposals get past the row lock (another database, another lock mode), the
    partial unique index refuses the second: that, too, is answered as a Conflict."""

    def clash(**kwargs: Any) -> CareAgreement:
        raise IntegrityError("one_open_agreement_proposal")

    monkeypatch.setattr(CareAgreement.objects, "create", clash)
    with pytest.raises(Conflict, match="already waiting"):
        propose(people.therapist, people.individual)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("checkins_per_week", 0),
        ("checkins_per_week", 8),
        ("checkins_per_week", "3"),
        ("checkins_per_week", True),
        ("reply_window_business_days", 0),
        ("reply_window_business_days", 11),
        ("live_sessions_per_month", -1),
        ("live_sessions_per_month", 9),
        ("live_sessions_per_month", None),
        ("homework_rhythm", "daily"),
        ("homework_rhythm", 1),
        ("goals", "x" * 4001),
        ("goals", ["a list"]),
    ],
)
def test_bad_terms_are_refused_field_by_field(people: Personas, field: str, value: Any) -> None:
    with pytest.raises(InvalidInput) as refused:
        propose(people.therapist, people.individual, **{field: value})
    assert list(refused.value.field_errors) == [field]
    assert CareAgreement.objects.count() == 0


@pytest.mark.django_db
def test_the_edges_of_each_range_are_accepted(people: Personas) -> None:
    low = propose(
        people.therapist,
        people.individual,
        checkins_per_week=1,
        reply_window_business_days=1,
        live_sessions_per_month=0,
        homework_rhythm=HomeworkRhythm.NONE,
        goals="",
    )
    agreements.agreement_withdraw(
        actor=people.therapist, relationship_id=people.individual.pk, agreement_id=low.pk
    )
    high = propose(
        people.therapist,
        people.individual,
        checkins_per_week=7,
        reply_window_business_days=10,
        live_sessions_per_month=8,
        goals="y" * 4000,
    )
    assert high.number == 2


@pytest.mark.django_db
def test_the_form_answers_bad_input_with_400_and_a_clash_with_409(
    people: Personas, as_user: Any
) -> None:
    browser = as_user(people.client)
    url = f"/care/{people.individual.pk}/agreement/propose/"
    good = {
        "checkins_per_week": "3",
        "reply_window_business_days": "2",
        "live_sessions_per_month": "2",
        "homework_rhythm": "weekly",
        "goals": "Write on Mondays.",
    }
    for bad in (
        {"checkins_per_week": "lots"},
        {"checkins_per_week": "99999999999999999999999"},
        {"reply_window_business_days": ""},
        {"homework_rhythm": "daily"},
        {"goals": "z" * 4001},
    ):
        answer = browser.post(url, {**good, **bad})
        assert answer.status_code == 400, bad
    assert CareAgreement.objects.count() == 0
    missing = browser.post(url, {})
    assert missing.status_code == 400
    done = browser.post(url, good)
    assert (
        done.status_code == 302 and done["Location"] == f"/care/{people.individual.pk}/agreement/"
    )
    clash = as_user(people.therapist).post(url, good)
    assert clash.status_code == 409
    assert "already waiting" in clash.content.decode()
    proposal = CareAgreement.objects.get()
    decide = f"/care/{people.individual.pk}/agreement/{proposal.pk}/"
    # The proposer cannot accept their own proposal (403), the other side can, and a second
    # answer to a decided proposal is a clash (409), never a 500.
    assert browser.post(decide + "accept/").status_code == 403
    therapist = as_user(people.therapist)
    first = therapist.post(decide + "accept/", {"next": "/rooms/1/"})
    assert first.status_code == 302
    assert therapist.post(decide + "decline/").status_code == 409
    # `next` goes only to a page of this site.
    proposal2 = propose(people.therapist, people.individual)
    away = browser.post(
        f"/care/{people.individual.pk}/agreement/{proposal2.pk}/decline/",
        {"next": "https://elsewhere.example/"},
    )
    assert away.status_code == 302
    assert away["Location"] == f"/care/{people.individual.pk}/agreement/"


@pytest.mark.django_db
def test_the_reply_window_defaults_to_the_practices_and_changes_nothing_else(
    people: Personas, as_user: Any
) -> None:
    people.practice.reply_window_business_days = 4
    people.practice.save()
    form = as_user(people.therapist).get(f"/care/{people.individual.pk}/agreement/propose/")
    assert form.status_code == 200
    assert form.context["form"].initial["reply_window_business_days"] == 4
    accept(
        people.client, propose(people.therapist, people.individual, reply_window_business_days=9)
    )
    people.practice.refresh_from_db()
    assert people.practice.reply_window_business_days == 4


# --- this week's check-ins on the room page ---------------------------------------------------


def panel_text(browser: Any, room_id: int) -> str:
    page = browser.get(f"/rooms/{room_id}/")
    assert page.status_code == 200
    html: str = page.content.decode()
    start = html.index('id="agreement"')
    return html[start : html.index("</section>", start)]


@pytest.mark.django_db
def test_check_ins_count_days_with_a_clients_message_this_week(
    people: Personas, as_user: Any
) -> None:
    individual = room(people.individual, RoomKind.INDIVIDUAL)
    with time_machine.travel(WEDNESDAY - datetime.timedelta(days=5), tick=False):
        accept(people.client, propose(people.therapist, people.individual, checkins_per_week=3))
    # Last week's Sunday does not count.
    say(people.client, individual, datetime.datetime(2027, 1, 3, 20, 0, tzinfo=UTC))
    # Two messages on Monday are one check-in; Tuesday's is the second.
    say(people.client, individual, datetime.datetime(2027, 1, 4, 8, 0, tzinfo=UTC))
    say(people.client, individual, datetime.datetime(2027, 1, 4, 18, 0, tzinfo=UTC))
    say(people.client, individual, datetime.datetime(2027, 1, 5, 9, 0, tzinfo=UTC))
    # The therapist's messages are not the client's check-ins.
    say(people.therapist, individual, datetime.datetime(2027, 1, 6, 9, 0, tzinfo=UTC))
    with time_machine.travel(WEDNESDAY, tick=False):
        text = panel_text(as_user(people.client), individual.pk)
        assert "This week: 2 of 3 check-ins" in text
        assert "This week: 2 of 3 check-ins" in panel_text(as_user(people.therapist), individual.pk)
    # On the same day, one more message changes nothing.
    say(people.client, individual, datetime.datetime(2027, 1, 5, 23, 30, tzinfo=UTC))
    with time_machine.travel(WEDNESDAY, tick=False):
        assert "This week: 2 of 3 check-ins" in panel_text(as_user(people.client), individual.pk)
    say(people.client, individual, datetime.datetime(2027, 1, 6, 10, 0, tzinfo=UTC))
    with time_machine.travel(WEDNESDAY, tick=False):
        assert "This week: 3 of 3 check-ins" in panel_text(as_user(people.client), individual.pk)


@pytest.mark.django_db
def test_check_ins_follow_the_practices_time_zone(people: Personas, as_user: Any) -> None:
    people.practice.time_zone = "America/New_York"
    people.practice.save()
    individual = room(people.individual, RoomKind.INDIVIDUAL)
    accept(people.client, propose(people.therapist, people.individual, checkins_per_week=4))
    # Monday 03:00 UTC is still Sunday evening in New York: last week.
    say(people.client, individual, datetime.datetime(2027, 1, 4, 3, 0, tzinfo=UTC))
    # Tuesday 02:00 UTC and Tuesday 04:00 UTC are Monday 21:00 and Monday 23:00 in New York.
    say(people.client, individual, datetime.datetime(2027, 1, 5, 2, 0, tzinfo=UTC))
    say(people.client, individual, datetime.datetime(2027, 1, 5, 4, 0, tzinfo=UTC))
    # Tuesday 06:00 UTC is Tuesday 01:00 in New York.
    say(people.client, individual, datetime.datetime(2027, 1, 5, 6, 0, tzinfo=UTC))
    with time_machine.travel(WEDNESDAY, tick=False):
        assert "This week: 2 of 4 check-ins" in panel_text(as_user(people.client), individual.pk)


@pytest.mark.django_db
def test_a_couples_check_ins_count_both_partners_in_every_room(
    people: Personas, as_user: Any
) -> None:
    shared = room(people.couple, RoomKind.COUPLE)
    private_b = room(people.couple, RoomKind.PRIVATE, people.partner_b)
    accept(people.partner_a, propose(people.therapist, people.couple, checkins_per_week=5))
    say(people.partner_a, shared, datetime.datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    say(people.partner_b, shared, datetime.datetime(2027, 1, 4, 10, 0, tzinfo=UTC))
    say(people.partner_b, private_b, datetime.datetime(2027, 1, 5, 10, 0, tzinfo=UTC))
    with time_machine.travel(WEDNESDAY, tick=False):
        # The agreement shows in private rooms too: it is the relationship's.
        assert "This week: 2 of 5 check-ins" in panel_text(as_user(people.partner_b), private_b.pk)
        assert "This week: 2 of 5 check-ins" in panel_text(as_user(people.partner_a), shared.pk)


# --- the room panel ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_panel_offers_the_decision_to_whoever_may_make_it(
    people: Personas, as_user: Any
) -> None:
    individual = room(people.individual, RoomKind.INDIVIDUAL)
    assert "No care agreement yet" in panel_text(as_user(people.client), individual.pk)
    proposal = propose(
        people.therapist, people.individual, goals="<script>alert(1)</script>\nSecond line & more"
    )
    client = panel_text(as_user(people.client), individual.pk)
    assert "A change is waiting for you" in client
    assert f"/agreement/{proposal.pk}/accept/" in client
    assert f"/agreement/{proposal.pk}/decline/" in client
    assert "<script>alert(1)</script>" not in client
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\nSecond line &amp; more" in client
    assert "Private notes" not in client
    therapist = panel_text(as_user(people.therapist), individual.pk)
    assert "A change is waiting for you" not in therapist
    assert f"/agreement/{proposal.pk}/accept/" not in therapist
    assert f"/agreement/{proposal.pk}/withdraw/" in therapist
    assert f"/care/{people.individual.pk}/notes/" in therapist and "Private notes" in therapist
    # Accepting from the room comes back to the room.
    back = as_user(people.client).post(
        f"/care/{people.individual.pk}/agreement/{proposal.pk}/accept/",
        {"next": f"/rooms/{individual.pk}/"},
    )
    assert back.status_code == 302 and back["Location"] == f"/rooms/{individual.pk}/"
    after = panel_text(as_user(people.client), individual.pk)
    assert "This week: 0 of 3 check-ins" in after
    assert "Replies within" in after and "2 business days" in after
    assert "One exercise a week" in after
    assert "agreed by Cam Client" in after
    assert "Propose a change" in after


@pytest.mark.django_db
def test_the_agreement_page_lists_every_version(people: Personas, as_user: Any) -> None:
    accept(people.client, propose(people.therapist, people.individual, goals="First goals"))
    second = propose(people.client, people.individual, goals="Second goals")
    agreements.agreement_decide(
        actor=people.therapist,
        relationship_id=people.individual.pk,
        agreement_id=second.pk,
        accept=False,
    )
    page = as_user(people.client).get(f"/care/{people.individual.pk}/agreement/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "First goals" in html and "Second goals" in html
    assert "Version 2" in html and "Declined" in html and "Agreed" in html
