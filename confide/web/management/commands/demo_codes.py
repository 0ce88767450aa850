"""Print the current two-step codes of the demo practice's staff (demo accounts only)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Show the current TOTP code of each demo staff account."

    def handle(self, *args: Any, **options: Any) -> None:
        devices = TOTPDevice.objects.filter(
            user__practice__is_demo=True, confirmed=True
        ).select_related("user")
        if not devices:
            self.stdout.write("No demo accounts with two-step sign-in. Run `make run` first.")
        for device in devices:
            code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
            left = device.step - int(time.time() - device.t0) % device.step
            self.stdout.write(
                f"{device.user.email:28} {code:0{device.digits}d}  (valid {left}s more)"
            )
