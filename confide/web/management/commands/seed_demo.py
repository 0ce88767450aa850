"""Seed a clearly fictional demo practice, through the same services the product uses."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from confide.accounts.models import Role, User
from confide.accounts.services import user_create
from confide.care.models import CareKind, Practice
from confide.care.services import (
    client_invite,
    invitation_accept,
    practice_create,
    therapist_invite,
)
from confide.rooms.models import Room, RoomKind
from confide.rooms.services import message_send
from confide.scheduling.demo import seed_demo_schedule
from confide.support.demo import seed_demo_support

DEMO_PASSWORD = "confide-demo-2026"  # noqa: S105 - a published demo password, demo data only
DEMO_SLUG = "demo"

# Fixed authenticator keys for the demo staff, so `make demo-codes` can print their codes.
DEMO_TOTP_KEYS = {
    "admin@confide.example": "3132333435363738393031323334353637383930",
    "robin@confide.example": "3132333435363738393031323334353637383931",
    "noor@confide.example": "3132333435363738393031323334353637383932",
}


class Command(BaseCommand):
    help = "Create the fictional demo practice (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if Practice.objects.filter(slug=DEMO_SLUG).exists():
            self.stdout.write("Demo practice already present.")
            return
        with transaction.atomic():
            self._seed()
        self.stdout.write(self.style.SUCCESS("Demo practice seeded. Logins are in the README."))

    def _seed(self) -> None:
        practice = practice_create(
            name="Harbour Light Practice (demo)",
            slug=DEMO_SLUG,
            country="GB",
            time_zone="Europe/London",
            is_demo=True,
        )
        admin = user_create(
            email="admin@confide.example",
            password=DEMO_PASSWORD,
            display_name="Morgan Quill (demo admin)",
            role=Role.ADMIN,
            practice=practice,
            time_zone="Europe/London",
            country="GB",
        )
        therapists = {}
        for email, name in [
            ("robin@confide.example", "Robin Hale (demo therapist)"),
            ("noor@confide.example", "Noor Bright (demo therapist)"),
        ]:
            issued = therapist_invite(actor=admin, email=email)
            therapists[email] = invitation_accept(
                raw_token=issued.raw_token,
                display_name=name,
                password=DEMO_PASSWORD,
                time_zone="Europe/London",
                country="GB",
            )
        robin = therapists["robin@confide.example"]
        individual = client_invite(actor=robin, email="jamie@confide.example")
        invitation_accept(
            raw_token=individual[0].raw_token,
            display_name="Jamie Fern (demo client)",
            password=DEMO_PASSWORD,
            time_zone="Europe/London",
            country="GB",
        )
        couple = client_invite(
            actor=robin,
            email="kit@confide.example",
            kind=CareKind.COUPLE,
            partner_email="lee@confide.example",
        )
        for issued, name, country, zone in [
            (couple[0], "Kit Alder (demo partner)", "GB", "Europe/London"),
            (couple[1], "Lee Alder (demo partner)", "IE", "Europe/Dublin"),
        ]:
            invitation_accept(
                raw_token=issued.raw_token,
                display_name=name,
                password=DEMO_PASSWORD,
                time_zone=zone,
                country=country,
            )
        seed_demo_support(robin)
        self._conversations(robin)
        seed_demo_schedule(robin)
        for email, key in DEMO_TOTP_KEYS.items():
            user = User.objects.get(email=email)
            TOTPDevice.objects.create(user=user, name="Demo authenticator", key=key, confirmed=True)

    def _conversations(self, robin: User) -> None:
        """A few fictional messages, so the rooms and the inbox have something to show."""
        jamie = User.objects.get(email="jamie@confide.example")
        kit = User.objects.get(email="kit@confide.example")
        lee = User.objects.get(email="lee@confide.example")
        solo = Room.objects.get(members__user=jamie, kind=RoomKind.INDIVIDUAL)
        couple = Room.objects.get(members__user=kit, kind=RoomKind.COUPLE)
        private_lee = Room.objects.get(private_for=lee)
        script = [
            (
                jamie,
                solo,
                "I tried the *breathing exercise* before the team meeting. It helped a "
                "little, but I still froze when it was my turn to speak.",
            ),
            (
                robin,
                solo,
                "Thank you for trying it, Jamie. Freezing is a common response. "
                "Next time, could you note:\n\n- what you noticed in your body\n- the first "
                "thought that came up\n\nWe can look at it together.",
            ),
            (kit, couple, "We had a calmer week. We used the **weekly check-in** on Sunday."),
            (lee, private_lee, "Something I'd like to talk about on my own first, if that's ok."),
        ]
        for author, room, text in script:
            message_send(actor=author, room=room, body=text, client_id=uuid.uuid4())
