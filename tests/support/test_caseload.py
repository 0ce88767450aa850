"""The therapist's caseload: its figures, flags, order, the page and its query count.

Messages, replies, crisis flags, invitations and covering are made through the real services.
Agreements, exercises and measures are written as rows (their services belong to other work
that is being written at the same time), encrypted as their services would encrypt them.
"""

from __future__ import annotations

import datetime
import json
import statistics
import uuid
from typing import Any

import pytest
import time_machine
from django.test import Client

from confide.accounts.models import User
from confide.accounts.services import consent_accept
from confide.audit.models import AuditEvent
from confide.care.models import CareParticipant, CareRelationship
from confide.care.services import client_invite, covering_add, covering_end, invitation_accept
from confide.crypto import encrypt_text
from confide.rooms.models import ReplyRecord, Room, RoomKind
from confide.rooms.provision import rooms_sync
from confide.rooms.services import message_send
from confide.support.caseload import CaseloadRow, caseload, trend_of
from confide.support.models import (
    AgreementState,
    CareAgreement,
    Exercise,
    ExerciseResponse,
    ExerciseTemplate,
    Instrument,
    MeasureResponse,
    ResponseState,
)
from tests.personas import PASSWORD, Personas, ensure_consent_document

UTC = datetime.UTC
# Thursday 12 March 2026, 15:00 in London (GMT until 29 March): the week began on Monday 9th.
NOW = datetime.datetime(2026, 3, 12, 15, 0, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=UTC)


def room(relationship: CareRelationship, kind: str, private_for: User | None = None) -> Room:
    return Room.objects.get(relationship=relationship, kind=kind, private_for=private_for)


def send(user: User, where: Room, body: str, when: datetime.datetime) -> None:
    with time_machine.travel(when, tick=False):
        message_send(actor=user, room=where, body=body, client_id=uuid.uuid4(), now=when)


def seat_client(therapist: User, email: str, name: str) -> tuple[User, CareRelationship]:
    [issued] = client_invite(actor=therapist, email=email)
    user = invitation_accept(
        raw_token=issued.raw_token,
        display_name=name,
        password=PASSWORD,
        time_zone="Europe/London",
        country="GB",
    )
    consent_accept(user=user, version=ensure_consent_document().version)
    assert issued.invitation.relationship is not None
    return user, issued.invitation.relationship


def agree(relationship: CareRelationship, by: User, checkins: int, state: str) -> CareAgreement:
    number = CareAgreement.objects.filter(relationship=relationship).count() + 1
    return CareAgreement.objects.create(
        relationship=relationship,
        number=number,
        state=state,
        checkins_per_week=checkins,
        goals=encrypt_text("Fictional goals", context=f"agreement:{relationship.pk}:{number}"),
        proposed_by=by,
    )


def measure(
    where: Room,
    respondent: User,
    instrument: str,
    score: int,
    when: datetime.datetime,
    *,
    band: str = "band",
    urgent: bool = False,
) -> MeasureResponse:
    response = MeasureResponse.objects.create(
        relationship=where.relationship,
        room=where,
        respondent=respondent,
        instrument=instrument,
        answers=b"",
        score=score,
        band=band,
        urgent=urgent,
        completed_at=when,
    )
    response.answers = encrypt_text("[]", context=f"measure:{response.pk}")
    response.save(update_fields=["answers"])
    return response


def exercise(
    where: Room,
    template: ExerciseTemplate,
    due: datetime.date | None,
    *,
    for_user: User | None = None,
    submitted_by: tuple[User, ...] = (),
    drafted_by: tuple[User, ...] = (),
    closed: bool = False,
) -> Exercise:
    therapist = where.relationship.therapist
    item = Exercise.objects.create(
        room=where,
        relationship=where.relationship,
        template=template,
        title=template.title,
        fields=[],
        for_user=for_user,
        assigned_by=therapist,
        assigned_at=at(2, 9),
        due_on=due,
        closed_at=at(11, 9) if closed else None,
    )
    for user, state in [(u, ResponseState.SUBMITTED) for u in submitted_by] + [
        (u, ResponseState.DRAFT) for u in drafted_by
    ]:
        ExerciseResponse.objects.create(
            exercise=item,
            user=user,
            answers=encrypt_text("{}", context=f"exercise:{item.pk}:{user.pk}"),
            state=state,
            submitted_at=at(9, 9) if state == ResponseState.SUBMITTED else None,
        )
    return item


def a_template(people: Personas) -> ExerciseTemplate:
    return ExerciseTemplate.objects.create(
        practice=people.practice, author=people.therapist, title="Fictional weekly check-in"
    )


def by_id(rows: list[CaseloadRow]) -> dict[int, CaseloadRow]:
    return {row.relationship_id: row for row in rows}


# --- the figures -------------------------------------------------------------------------


@pytest.fixture
def world(people: Personas) -> dict[str, Any]:
    """The handcrafted caseload: Cam (individual), Avery & Blake (couple), and Dee, a client
    of the colleague whom Robin covers."""
    p = people
    solo = room(p.individual, RoomKind.INDIVIDUAL)
    shared = room(p.couple, RoomKind.COUPLE)
    private_a = room(p.couple, RoomKind.PRIVATE, p.partner_a)
    private_b = room(p.couple, RoomKind.PRIVATE, p.partner_b)
    template = a_template(p)

    # Cam: two check-in days this week (and one last week); one answered wait, one running.
    send(p.client, solo, "last week", at(6, 10))
    send(p.therapist, solo, "reply last week", at(6, 11))
    send(p.client, solo, "Tuesday", at(10, 10))
    send(p.therapist, solo, "Tuesday reply", at(10, 11))
    send(p.client, solo, "Wednesday", at(11, 10))
    send(p.client, solo, "Wednesday again", at(11, 16))
    agree(p.individual, p.therapist, 2, AgreementState.SUPERSEDED)
    agree(p.individual, p.therapist, 3, AgreementState.ACCEPTED)
    # PHQ-9 18 -> 12 (6 points lower: better); GAD-7 10 -> 13 (3 higher: below the 4 needed).
    measure(solo, p.client, Instrument.PHQ9, 20, at(29, 9, month=1), urgent=True)  # too old
    measure(solo, p.client, Instrument.PHQ9, 18, at(12, 9, month=2))
    measure(solo, p.client, Instrument.PHQ9, 12, at(26, 9, month=2), band="moderate")
    measure(solo, p.client, Instrument.GAD7, 10, at(12, 9, month=2))
    measure(solo, p.client, Instrument.GAD7, 13, at(26, 9, month=2), band="moderate")
    exercise(solo, template, datetime.date(2026, 3, 10))  # overdue
    exercise(solo, template, datetime.date(2026, 3, 10), drafted_by=(p.client,))  # overdue
    exercise(solo, template, datetime.date(2026, 3, 11), submitted_by=(p.client,))
    exercise(solo, template, datetime.date(2026, 3, 12))  # due today: not yet overdue
    exercise(solo, template, datetime.date(2026, 3, 1), closed=True)
    exercise(solo, template, None)

    # Avery & Blake: replies of 90 days (one inside, one outside the window; one older);
    # Avery's wait in her private room is overdue since Wednesday 10:00.
    send(p.partner_b, shared, "old", at(1, 10, month=12).replace(year=2025))
    send(p.therapist, shared, "old reply", at(1, 11, month=12).replace(year=2025))
    send(p.partner_b, shared, "Monday", at(2, 10))
    send(p.therapist, shared, "quick", at(2, 12))
    send(p.partner_b, shared, "Tuesday", at(3, 10))
    send(p.therapist, shared, "slow", at(6, 14))
    send(p.partner_a, private_a, "late on Sunday", at(8, 23, 30))  # last week
    send(p.partner_a, private_a, "Monday", at(9, 10))
    send(p.therapist, private_b, "a note to Blake", at(9, 12))
    agree(p.couple, p.partner_a, 4, AgreementState.PROPOSED)  # proposed only: no agreement
    measure(shared, p.partner_a, Instrument.CSI4, 10, at(19, 9, month=2))
    measure(shared, p.partner_a, Instrument.CSI4, 15, at(5, 9))  # +5: better
    measure(shared, p.partner_b, Instrument.CSI4, 12, at(19, 9, month=2))
    measure(shared, p.partner_b, Instrument.CSI4, 8, at(5, 9))  # -4: no clear change
    measure(private_b, p.partner_b, Instrument.PHQ9, 5, at(19, 9, month=2))
    measure(private_b, p.partner_b, Instrument.PHQ9, 10, at(5, 9), urgent=True)  # +5: worse
    measure(private_a, p.partner_a, Instrument.GAD7, 8, at(19, 9, month=2))
    measure(private_a, p.partner_a, Instrument.GAD7, 4, at(5, 9))  # -4: better
    measure(private_a, p.partner_a, Instrument.PHQ9, 15, at(19, 9, month=2))
    measure(private_a, p.partner_a, Instrument.PHQ9, 11, at(5, 9))  # -4: no clear change
    due = datetime.date(2026, 3, 10)
    exercise(shared, template, due, submitted_by=(p.partner_a,))  # Blake still owes it
    exercise(shared, template, due, submitted_by=(p.partner_a, p.partner_b))
    exercise(shared, template, due, for_user=p.partner_b, submitted_by=(p.partner_b,))
    exercise(shared, template, due, for_user=p.partner_b, submitted_by=(p.partner_a,))  # owed
    exercise(private_a, template, due, submitted_by=(p.partner_a,))

    # Dee, the colleague's client, whom Robin covers: a possible crisis.
    dee, dee_care = seat_client(p.colleague, "dee@test.example", "Dee Covered")
    covering_add(actor=p.admin, relationship_id=dee_care.pk, therapist_id=p.therapist.pk)
    send(dee, room(dee_care, RoomKind.INDIVIDUAL), "I want to end my life", at(12, 9))
    return {
        "solo": solo,
        "shared": shared,
        "private_a": private_a,
        "private_b": private_b,
        "dee": dee,
        "dee_care": dee_care,
    }


@pytest.mark.django_db
def test_last_contact_is_the_latest_client_and_therapist_message_of_any_room(
    people: Personas, world: dict[str, Any]
) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    solo, couple = rows[people.individual.pk], rows[people.couple.pk]
    assert solo.client_last_at == at(11, 16)
    assert solo.therapist_last_at == at(10, 11)
    assert couple.client_last_at == at(9, 10)  # Avery, in her private room
    assert couple.therapist_last_at == at(9, 12)  # to Blake, in his
    assert solo.names == ("Cam Client",)
    assert couple.names == ("Avery Partner", "Blake Partner")
    assert [r.room_id for r in couple.rooms] == [
        world["shared"].pk,
        world["private_a"].pk,
        world["private_b"].pk,
    ]
    assert [r.private_for for r in couple.rooms] == ["", "Avery Partner", "Blake Partner"]


@pytest.mark.django_db
def test_reply_performance_counts_the_last_90_days_of_every_room(
    people: Personas, world: dict[str, Any]
) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    couple = rows[people.couple.pk]
    recent = list(
        ReplyRecord.objects.filter(
            room__relationship=people.couple, replied_at__gte=NOW - datetime.timedelta(days=90)
        )
    )
    assert ReplyRecord.objects.filter(room__relationship=people.couple).count() == 3
    assert len(recent) == 2 and sorted(r.within_window for r in recent) == [False, True]
    assert couple.replies == 2
    assert couple.within_window_pct == 50.0
    assert couple.median_working_seconds == pytest.approx(
        statistics.median(r.seconds for r in recent)
    )
    solo = rows[people.individual.pk]
    seconds = sorted(
        ReplyRecord.objects.filter(room=world["solo"]).values_list("seconds", flat=True)
    )
    assert solo.replies == 2 and solo.within_window_pct == 100.0
    assert solo.median_working_seconds == pytest.approx(statistics.median(seconds))
    assert seconds == [3600.0, 3600.0]


@pytest.mark.django_db
def test_reply_median_of_an_odd_count_is_the_middle_one(
    people: Personas, world: dict[str, Any]
) -> None:
    solo = world["solo"]
    send(people.therapist, solo, "a late answer", at(12, 14))  # 28 working hours after 10:00
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    seconds = sorted(ReplyRecord.objects.filter(room=solo).values_list("seconds", flat=True))
    assert len(seconds) == 3 and seconds[2] > seconds[1]
    assert rows[people.individual.pk].median_working_seconds == pytest.approx(seconds[1])
    assert rows[people.individual.pk].replies == 3


@pytest.mark.django_db
def test_adherence_is_the_current_agreement_against_this_weeks_check_in_days(
    people: Personas, world: dict[str, Any]
) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    assert (
        rows[people.individual.pk].checkins_agreed,
        rows[people.individual.pk].checkins_this_week,
    ) == (3, 2)
    # The couple has only a proposal, and one day this week (Sunday's message was last week).
    assert (rows[people.couple.pk].checkins_agreed, rows[people.couple.pk].checkins_this_week) == (
        None,
        1,
    )


@pytest.mark.django_db
def test_scores_show_the_latest_of_each_respondent_and_instrument_with_a_trend(
    people: Personas, world: dict[str, Any]
) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    solo = {(s.instrument): s for s in rows[people.individual.pk].scores}
    assert set(solo) == {"phq9", "gad7"}
    assert (solo["phq9"].score, solo["phq9"].previous, solo["phq9"].band) == (12, 18, "moderate")
    assert solo["phq9"].trend == "better" and solo["phq9"].change == -6
    assert (solo["gad7"].score, solo["gad7"].previous, solo["gad7"].trend) == (13, 10, "same")
    couple = {(s.respondent, s.instrument): s for s in rows[people.couple.pk].scores}
    expected = {
        ("Avery Partner", "csi4"): (15, 10, "better"),  # +5 on CSI-4: higher is better
        ("Blake Partner", "csi4"): (8, 12, "same"),  # -4: below the 5 needed
        ("Blake Partner", "phq9"): (10, 5, "worse"),  # +5 on PHQ-9
        ("Avery Partner", "gad7"): (4, 8, "better"),  # -4 on GAD-7: exactly the threshold
        ("Avery Partner", "phq9"): (11, 15, "same"),  # -4 on PHQ-9: below the 5 needed
    }
    assert {key: (s.score, s.previous, s.trend) for key, s in couple.items()} == expected
    # Instruments in a fixed order for each respondent: PHQ-9, GAD-7, CSI-4.
    assert [(s.respondent, s.instrument) for s in rows[people.couple.pk].scores] == [
        ("Avery Partner", "phq9"),
        ("Avery Partner", "gad7"),
        ("Avery Partner", "csi4"),
        ("Blake Partner", "phq9"),
        ("Blake Partner", "csi4"),
    ]


def test_trend_thresholds_and_directions() -> None:
    assert trend_of("phq9", 10, None) == "first"
    assert trend_of("phq9", 14, 10) == "same"
    assert trend_of("phq9", 15, 10) == "worse"
    assert trend_of("phq9", 5, 10) == "better"
    assert trend_of("gad7", 7, 10) == "same"
    assert trend_of("gad7", 6, 10) == "better"
    assert trend_of("gad7", 14, 10) == "worse"
    assert trend_of("csi4", 14, 10) == "same"
    assert trend_of("csi4", 15, 10) == "better"
    assert trend_of("csi4", 5, 10) == "worse"
    assert trend_of("csi4", 10, 10) == "same"


@pytest.mark.django_db
def test_a_first_score_has_no_trend(people: Personas) -> None:
    measure(room(people.individual, RoomKind.INDIVIDUAL), people.client, "gad7", 9, at(1, 9))
    [score] = by_id(caseload(therapist=people.therapist, now=NOW))[people.individual.pk].scores
    assert (score.score, score.previous, score.trend, score.change) == (9, None, "first", None)


@pytest.mark.django_db
def test_flags_crisis_overdue_reply_urgent_measure_and_overdue_exercises(
    people: Personas, world: dict[str, Any]
) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    solo, couple, dee = (
        rows[people.individual.pk],
        rows[people.couple.pk],
        rows[world["dee_care"].pk],
    )
    # Cam: two exercises past due and not submitted (one only drafted); an urgent PHQ-9 of
    # January is older than 14 days; the running wait is not yet due.
    assert solo.exercises_overdue == 2
    assert not solo.urgent_measure and not solo.crisis_open and not solo.reply_overdue
    assert solo.reply_due_at is not None and solo.reply_due_at > NOW
    # The couple: Avery's wait is overdue, Blake's PHQ-9 a week ago was urgent, and two
    # exercises are owed (Blake's part of one for both, and one for Blake he has not done).
    assert couple.reply_overdue and couple.urgent_measure and not couple.crisis_open
    assert couple.exercises_overdue == 2
    assert (
        couple.reply_due_at == room(people.couple, RoomKind.PRIVATE, people.partner_a).reply_due_at
    )
    assert dee.crisis_open and dee.covering and dee.flagged
    assert all(row.flagged for row in rows.values())
    # Time moves on: three weeks later the urgent answer no longer flags the couple.
    later = by_id(caseload(therapist=people.therapist, now=NOW + datetime.timedelta(days=21)))
    assert not later[people.couple.pk].urgent_measure


@pytest.mark.django_db
def test_exercises_overdue_by_more_than_four_weeks_have_lapsed(people: Personas) -> None:
    solo = room(people.individual, RoomKind.INDIVIDUAL)
    template = a_template(people)
    exercise(solo, template, datetime.date(2026, 2, 12))  # 28 days before Thursday 12 March
    exercise(solo, template, datetime.date(2026, 2, 11))  # 29 days: lapsed
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    assert rows[people.individual.pk].exercises_overdue == 1


@pytest.mark.django_db
def test_a_client_in_two_relationships_has_the_scores_of_each_apart(people: Personas) -> None:
    """Avery, a partner of the couple, also works with Robin alone: each relationship shows
    the answers given in it, not the latest of either."""
    p = people
    alone = CareRelationship.objects.create(
        practice=p.practice, therapist=p.therapist, kind="individual"
    )
    CareParticipant.objects.create(relationship=alone, client=p.partner_a)
    rooms_sync(relationship=alone, actor=p.therapist)
    own = room(alone, RoomKind.INDIVIDUAL)
    private_a = room(p.couple, RoomKind.PRIVATE, p.partner_a)
    measure(private_a, p.partner_a, Instrument.PHQ9, 20, at(1, 9))
    measure(own, p.partner_a, Instrument.PHQ9, 9, at(2, 9))
    measure(private_a, p.partner_a, Instrument.PHQ9, 14, at(3, 9))
    measure(own, p.partner_a, Instrument.PHQ9, 16, at(4, 9))
    measure(room(p.couple, RoomKind.COUPLE), p.partner_b, Instrument.PHQ9, 3, at(5, 9))
    rows = by_id(caseload(therapist=p.therapist, now=NOW))
    [mine] = rows[alone.pk].scores
    assert (mine.score, mine.previous, mine.trend) == (16, 9, "worse")
    couple = {s.respondent: s for s in rows[p.couple.pk].scores}
    assert (couple["Avery Partner"].score, couple["Avery Partner"].previous) == (14, 20)
    assert couple["Avery Partner"].trend == "better"
    assert (couple["Blake Partner"].score, couple["Blake Partner"].previous) == (3, None)


@pytest.mark.django_db
def test_a_quiet_relationship_has_no_flags(people: Personas) -> None:
    rows = by_id(caseload(therapist=people.therapist, now=NOW))
    solo = rows[people.individual.pk]
    assert not solo.flagged
    assert (solo.client_last_at, solo.therapist_last_at, solo.replies) == (None, None, 0)
    assert (solo.within_window_pct, solo.median_working_seconds) == (None, None)
    assert (solo.checkins_agreed, solo.checkins_this_week, solo.scores) == (None, 0, ())


@pytest.mark.django_db
def test_order_is_flagged_then_reply_due_then_name(people: Personas) -> None:
    p = people
    abe, abe_care = seat_client(p.therapist, "abe@test.example", "Abe Early")
    zed, zed_care = seat_client(p.therapist, "zed@test.example", "Zed Late")
    [pending] = client_invite(actor=p.therapist, email="pending@test.example")
    send(p.client, room(p.individual, RoomKind.INDIVIDUAL), "due first", at(9, 10))
    send(zed, room(zed_care, RoomKind.INDIVIDUAL), "due second", at(9, 11))
    send(p.partner_b, room(p.couple, RoomKind.COUPLE), "I want to end my life", at(11, 10))
    monday_noon = at(9, 12)
    order = [row.relationship_id for row in caseload(therapist=p.therapist, now=monday_noon)]
    assert order == [
        p.couple.pk,  # flagged (a possible crisis), though its reply is due last
        p.individual.pk,  # reply due first
        zed_care.pk,  # reply due next
        abe_care.pk,  # nothing due: by name
        pending.invitation.relationship_id,  # awaiting sign-up, last
    ]
    rows = by_id(caseload(therapist=p.therapist, now=monday_noon))
    assert rows[pending.invitation.relationship_id or 0].pending_invitations == 1
    assert rows[pending.invitation.relationship_id or 0].names == ()
    # Two days later both waits are overdue: flagged, in order of due time, before the rest.
    order = [row.relationship_id for row in caseload(therapist=p.therapist, now=at(12, 12))]
    assert order[:3] == [p.individual.pk, zed_care.pk, p.couple.pk]
    assert abe.display_name == "Abe Early"


@pytest.mark.django_db
def test_covering_shows_a_colleagues_client_until_the_cover_ends(
    people: Personas, world: dict[str, Any]
) -> None:
    p = people
    dee_care = world["dee_care"]
    robin = by_id(caseload(therapist=p.therapist, now=NOW))
    assert set(robin) == {p.individual.pk, p.couple.pk, dee_care.pk}
    assert robin[dee_care.pk].covering and not robin[p.individual.pk].covering
    assert robin[dee_care.pk].names == ("Dee Covered",)
    casey = by_id(caseload(therapist=p.colleague, now=NOW))
    assert set(casey) == {dee_care.pk}
    assert not casey[dee_care.pk].covering and casey[dee_care.pk].crisis_open
    covering_end(actor=p.admin, relationship_id=dee_care.pk, therapist_id=p.therapist.pk)
    assert dee_care.pk not in by_id(caseload(therapist=p.therapist, now=NOW))


@pytest.mark.django_db
def test_nobody_but_a_therapist_has_a_caseload(people: Personas) -> None:
    for person in (people.admin, people.client, people.partner_a, people.outsider):
        assert caseload(therapist=person, now=NOW) == []
    assert caseload(therapist=people.colleague, now=NOW) == []


@pytest.mark.django_db
def test_ended_relationships_leave_the_caseload(people: Personas) -> None:
    CareRelationship.objects.filter(pk=people.individual.pk).update(ended_at=NOW)
    assert [r.relationship_id for r in caseload(therapist=people.therapist, now=NOW)] == [
        people.couple.pk
    ]


# --- the page ------------------------------------------------------------------------------


def page(client: Client) -> str:
    answer = client.get("/caseload/")
    assert answer.status_code == 200
    return answer.content.decode()


@pytest.mark.django_db
def test_the_page_shows_the_table_to_the_therapist(
    people: Personas, world: dict[str, Any], as_user: Any
) -> None:
    with time_machine.travel(NOW, tick=False):
        html = page(as_user(people.therapist))
    assert "<caption" in html and 'scope="col">Latest scores' in html
    assert f'href="/care/{people.individual.pk}/">Cam Client</a>' in html
    assert f'href="/care/{people.couple.pk}/">Avery Partner &amp; Blake Partner</a>' in html
    assert f'href="/rooms/{world["solo"].pk}/">Room</a>' in html
    assert f'href="/rooms/{world["private_a"].pk}/">Private room: Avery Partner</a>' in html
    # Trends in words, not colour alone.
    assert "better (\u22126, was 18)" in html
    assert "no clear change (+3, was 10)" in html
    assert "worse (+5, was 5)" in html
    assert "Reply overdue" in html and "Urgent questionnaire answer" in html
    assert "2 exercises overdue" in html and "Possible crisis" in html
    assert "2 of 3" in html and "1, no agreement yet" in html
    assert "100% in the window" in html and "50% in the window" in html
    assert "Client wrote Wed 11 Mar, 16:00" in html
    # The covered client is in its own table, linked to its room but not its care page.
    own, covering = html.split('id="covering-title"')
    assert "Dee Covered" in covering and "Dee Covered" not in own
    assert f'href="/care/{world["dee_care"].pk}/"' not in html
    assert "Cam Client" in own and "Cam Client" not in covering
    # The invitations part of the page stays.
    assert 'action="/clients/invite/"' in html and "Send invitation" in html
    event = AuditEvent.objects.filter(action="caseload.view", actor=people.therapist).get()
    assert event.detail == {"relationships": 3}
    # No content of any message, only figures.
    assert "Wednesday again" not in html and "end my life" not in html


@pytest.mark.django_db
def test_names_and_bands_are_escaped(people: Personas, as_user: Any) -> None:
    p = people
    User.objects.filter(pk=p.partner_b.pk).update(display_name="Blake <b>Bold</b>")
    shared = room(p.couple, RoomKind.COUPLE)
    measure(shared, p.partner_b, Instrument.CSI4, 9, at(1, 9), band="<script>x</script>")
    measure(shared, p.partner_b, Instrument.CSI4, 15, at(5, 9), band="<i>high</i>")
    html = page(as_user(p.therapist))
    assert "<b>Bold</b>" not in html and "Blake &lt;b&gt;Bold&lt;/b&gt;: CSI-4" in html
    assert "<i>high</i>" not in html and "&lt;i&gt;high&lt;/i&gt;" in html
    assert "<script>x" not in html


@pytest.mark.django_db
def test_the_page_answers_only_get(people: Personas, as_user: Any) -> None:
    therapist = as_user(people.therapist)
    assert therapist.post("/caseload/", {"x": "1"}).status_code == 405
    assert therapist.get("/caseload/?relationship=abc&page=-1").status_code == 200
    assert therapist.head("/caseload/").status_code == 200


@pytest.mark.django_db
def test_the_colleague_sees_only_their_own(
    people: Personas, world: dict[str, Any], as_user: Any
) -> None:
    html = page(as_user(people.colleague))
    assert "Dee Covered" in html
    assert "Cam Client" not in html and "Avery Partner" not in html
    assert 'id="covering-title"' not in html


@pytest.mark.django_db
def test_the_page_is_404_for_everyone_but_therapists(people: Personas, as_user: Any) -> None:
    for person in (
        people.client,
        people.partner_a,
        people.partner_b,
        people.admin,
        people.outsider,
    ):
        assert as_user(person).get("/caseload/").status_code == 404
    assert Client().get("/caseload/").status_code == 302  # signed out: to the sign-in page


@pytest.mark.django_db
def test_a_failed_invitation_shows_the_form_errors_and_the_table(
    people: Personas, as_user: Any
) -> None:
    answer = as_user(people.therapist).post(
        "/clients/invite/", {"kind": "individual", "email": "x"}
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "Cam Client" in html and 'class="error" role="alert"' in html
    long = as_user(people.therapist).post(
        "/clients/invite/", {"kind": "couple", "email": "a" * 300 + "@test.example"}
    )
    assert long.status_code == 400 and "Cam Client" in long.content.decode()
    wrong = as_user(people.therapist).post("/clients/invite/", {"kind": ["x", "y"]})
    assert wrong.status_code == 400


@pytest.mark.django_db
def test_the_page_with_no_clients_invites_the_first(people: Personas, as_user: Any) -> None:
    html = page(as_user(people.colleague))
    assert "No clients yet" in html and "<table" not in html


# --- queries -------------------------------------------------------------------------------


def grow_caseload(people: Personas, n: int, template: ExerciseTemplate) -> None:
    """`n` more individual clients for Robin, each with messages, a reply, an agreement,
    measures and exercises."""
    start = CareRelationship.objects.filter(therapist=people.therapist).count()
    for i in range(start, start + n):
        user, care = seat_client(people.therapist, f"c{i}@test.example", f"Client {i:02d}")
        where = room(care, RoomKind.INDIVIDUAL)
        send(user, where, "hello", at(10, 10))
        send(people.therapist, where, "hello back", at(10, 11))
        send(user, where, "again", at(11, 10))
        agree(care, people.therapist, 3, AgreementState.ACCEPTED)
        for when, score in ((at(26, 9, month=2), 14), (at(5, 9), 9)):
            measure(where, user, Instrument.PHQ9, score, when, urgent=i % 2 == 0)
            measure(where, user, Instrument.GAD7, score - 2, when)
        exercise(where, template, datetime.date(2026, 3, 10))
        exercise(where, template, datetime.date(2026, 3, 11), submitted_by=(user,))


@pytest.mark.django_db
def test_the_page_makes_the_same_number_of_queries_for_3_or_30_relationships(
    people: Personas, as_user: Any, django_assert_max_num_queries: Any
) -> None:
    template = a_template(people)
    grow_caseload(people, 1, template)  # with the personas' two: 3
    therapist = as_user(people.therapist)
    with time_machine.travel(NOW, tick=False):
        page(therapist)  # warm caches (templates, content types)
        # 16 today: signing in, the upcoming sessions, the invitations, the audit row and the
        # table's seven; the bound leaves room for the page to grow, the equality none for N+1.
        with django_assert_max_num_queries(20) as small:
            html = page(therapist)
        assert html.count('<tr data-relationship="') == 3
        grow_caseload(people, 27, template)
        with django_assert_max_num_queries(20) as large:
            html = page(therapist)
        assert html.count('<tr data-relationship="') == 30
        assert "1 exercise overdue" in html and "Urgent questionnaire answer" in html
    assert len(small.captured_queries) == len(large.captured_queries)


@pytest.mark.django_db
def test_the_selector_reads_in_seven_queries(
    people: Personas, world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(7):
        rows = caseload(therapist=people.therapist, now=NOW)
    assert len(rows) == 3
    assert json.dumps([row.relationship_id for row in rows])
