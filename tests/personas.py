"""The named people every test talks about, built through the real services.

- therapist: Robin, who works with `client` (individual) and `partner_a` + `partner_b` (couple)
- colleague: another therapist of the same practice, with none of these clients
- admin: the practice admin
- outsider: a client of another practice, who must see nothing of this one
"""

from __future__ import annotations

import dataclasses
import datetime

from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide.accounts.models import ConsentDocument, Role, User
from confide.accounts.services import consent_accept, user_create
from confide.care.models import CareKind, CareRelationship, Practice, TherapistSchedule
from confide.care.services import (
    client_invite,
    invitation_accept,
    practice_create,
    therapist_invite,
)

PASSWORD = "a calm test passphrase"
TOTP_KEY = "3132333435363738393031323334353637383930"


@dataclasses.dataclass
class Personas:
    practice: Practice
    admin: User
    therapist: User
    colleague: User
    client: User
    partner_a: User
    partner_b: User
    outsider: User
    individual: CareRelationship
    couple: CareRelationship
    elsewhere: CareRelationship

    def all(self) -> dict[str, User]:
        return {
            "admin": self.admin,
            "therapist": self.therapist,
            "colleague": self.colleague,
            "client": self.client,
            "partner_a": self.partner_a,
            "partner_b": self.partner_b,
            "outsider": self.outsider,
        }


def ensure_consent_document() -> ConsentDocument:
    """Transactional tests empty every table, the migration's consent text included."""
    from importlib import import_module

    body = import_module("confide.accounts.migrations.0003_publish_consent_v1").BODY
    document, _ = ConsentDocument.objects.get_or_create(
        version=1, defaults={"title": "Informed consent for online therapy", "body": body}
    )
    return document


def add_totp(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", key=TOTP_KEY, confirmed=True)


def build_personas() -> Personas:
    document = ensure_consent_document()
    practice = practice_create(name="Test Practice", slug="test", country="GB")
    other = practice_create(name="Other Practice", slug="other", country="US")
    admin = user_create(
        email="admin@test.example",
        password=PASSWORD,
        display_name="Ada Admin",
        role=Role.ADMIN,
        practice=practice,
        country="GB",
    )
    other_admin = user_create(
        email="admin@other.example",
        password=PASSWORD,
        display_name="Other Admin",
        role=Role.ADMIN,
        practice=other,
        country="US",
    )

    def therapist(inviter: User, email: str, name: str) -> User:
        issued = therapist_invite(actor=inviter, email=email)
        return invitation_accept(
            raw_token=issued.raw_token,
            display_name=name,
            password=PASSWORD,
            time_zone="Europe/London",
            country="GB",
        )

    robin = therapist(admin, "robin@test.example", "Robin Therapist")
    colleague = therapist(admin, "casey@test.example", "Casey Colleague")
    far = therapist(other_admin, "far@other.example", "Far Therapist")

    def seat(issued_token: str, name: str, country: str = "GB") -> User:
        user = invitation_accept(
            raw_token=issued_token,
            display_name=name,
            password=PASSWORD,
            time_zone="Europe/London",
            country=country,
        )
        consent_accept(user=user, version=document.version)
        return user

    [solo] = client_invite(actor=robin, email="client@test.example")
    client = seat(solo.raw_token, "Cam Client")
    pair = client_invite(
        actor=robin, email="a@test.example", kind=CareKind.COUPLE, partner_email="b@test.example"
    )
    partner_a = seat(pair[0].raw_token, "Avery Partner")
    partner_b = seat(pair[1].raw_token, "Blake Partner", country="IE")
    [away] = client_invite(actor=far, email="outsider@other.example")
    outsider = seat(away.raw_token, "Oz Outsider", country="US")
    for staff in (admin, robin, colleague):
        add_totp(staff)
    assert solo.invitation.relationship is not None
    assert pair[0].invitation.relationship is not None
    assert away.invitation.relationship is not None
    return Personas(
        practice=practice,
        admin=admin,
        therapist=robin,
        colleague=colleague,
        client=client,
        partner_a=partner_a,
        partner_b=partner_b,
        outsider=outsider,
        individual=solo.invitation.relationship,
        couple=pair[0].invitation.relationship,
        elsewhere=away.invitation.relationship,
    )


def sign_in(client: Client, user: User) -> Client:
    """Sign `user` in, with their second factor passed when they have one."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session.save()
    return client


def always_at_work(*therapists: User) -> None:
    """Give each therapist working time around the clock, every day, with no public holidays.

    For tests that run on the real clock and count what is in a room: a client's message
    written outside working hours gets an automatic notice, so without this such a test would
    pass or fail by the hour, weekday or holiday the suite happens to run on.
    """
    for therapist in therapists:
        TherapistSchedule.objects.update_or_create(
            therapist=therapist,
            defaults={
                "time_zone": "UTC",
                "weekdays": "0123456",
                "start": datetime.time(0, 0),
                "end": datetime.time(23, 59, 59, 999999),
                "holiday_country": "",
            },
        )
