"""Run Confide's inbound SMTP gateway (replies by email into rooms)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from confide.mail import gateway
from confide.mail.ingest import inbound_requeue_stale


class Command(BaseCommand):
    help = "Accept replies by email on an SMTP port, behind the organisation's MTA."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.MAIL_GATEWAY_HOST)
        parser.add_argument("--port", type=int, default=settings.MAIL_GATEWAY_PORT)

    def handle(self, *args: Any, **options: Any) -> None:
        # Mails accepted before a crash and never posted are queued again (posting is idempotent).
        requeued = inbound_requeue_stale(now=timezone.now())
        if requeued:
            self.stdout.write(f"Queued {requeued} accepted mail(s) again.")
        self.stdout.write(f"Mail gateway on {options['host']}:{options['port']}")
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(gateway.serve(options["host"], options["port"]))
