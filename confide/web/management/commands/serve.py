"""Serve Confide: uvicorn for HTTP and WebSockets, with the task worker in the same tree."""

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

    def handle(self, *args: Any, **options: Any) -> None:
        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen(  # noqa: S603 - our own interpreter and manage.py
                [
                    sys.executable,
                    str(settings.BASE_DIR / "manage.py"),
                    "db_worker",
                    "--no-reload",
                    "--interval",
                    "0.5",
                    "--queue-name",
                    "*",
                ],
            )
        self.stdout.write(f"Confide is at http://{options['host']}:{options['port']}/")
        try:
            uvicorn.run(
                "confide.asgi:application",
                host=options["host"],
                port=options["port"],
                log_level="info",
                access_log=False,
                proxy_headers=False,
                lifespan="off",
            )
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
