"""Serve Confide: uvicorn for HTTP and WebSockets, with the task worker and the inbound mail
gateway in the same process tree."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the ASGI server and, unless --no-worker, a task worker beside it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the task worker (run db_worker separately).",
        )
        parser.add_argument(
            "--no-mail-gateway",
            action="store_true",
            help="Do not start the inbound SMTP gateway (run mail_gateway separately).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        children: list[subprocess.Popen[bytes]] = []
        if not options["no_worker"]:
            from confide.support.tasks import reminders_ensure_scheduled

            # The reminder sweep re-queues itself; after a restart make sure one is waiting.
            reminders_ensure_scheduled()
            children.append(
                subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                    [*manage, "db_worker", "--no-reload", "--interval", "0.5", "--queue-name", "*"]
                )
            )
        if not options["no_mail_gateway"]:
            children.append(subprocess.Popen([*manage, "mail_gateway"]))  # noqa: S603
        self.stdout.write(f"Confide is at http://{options['host']}:{options['port']}/")
        try:
            uvicorn.run(
                "confide.asgi:application",
                host=options["host"],
                port=options["port"],
                log_level=settings.LOG_LEVEL.lower(),
                access_log=False,
                proxy_headers=False,
                lifespan="off",
                # Frames over 128 KiB are refused by the protocol layer (close 1009); the room
                # stream answers frames over 64 KiB with an error event (docs/protocol.md).
                ws_max_size=128 * 1024,
                # No compression on the room stream: it costs ~38 KiB per socket, and compressing
                # private text beside attacker-influenced text is a known side channel.
                ws_per_message_deflate=False,
                ws_ping_interval=20.0,
                ws_ping_timeout=20.0,
            )
        finally:
            for child in children:
                child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
