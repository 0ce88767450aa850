"""Real SMTP on loopback: Confide's gateway on a free port, an aiosmtpd sink for what it sends."""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import smtplib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import free_port


class Sink:
    """Collects every mail Confide sends, parsed, in arrival order."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.arrived = threading.Condition()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(bytes(raw), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.arrived:
            self.mails.append(parsed)
            self.arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        with self.arrived:
            ok = self.arrived.wait_for(lambda: len(self.mails) >= count, timeout=timeout)
        assert ok, f"expected {count} mail(s), got {len(self.mails)}"
        return list(self.mails)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if address in str(m["To"])]

    def clear(self) -> None:
        with self.arrived:
            self.mails.clear()


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    """Outbound mail goes over real SMTP to this sink for the test."""
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield handler
    finally:
        controller.stop()


class Gateway:
    """Confide's inbound gateway, serving on loopback from a thread of this process."""

    def __init__(self, port: int) -> None:
        self.port = port

    def send(
        self, message: EmailMessage | bytes, *, to: str, sender: str = "sender@example.org"
    ) -> dict[str, tuple[int, bytes]]:
        """Send through the gateway; raises smtplib's errors for refusals."""
        # On the wire every line ends in CRLF (smtplib sends bytes as they are).
        raw = (
            message.as_bytes(policy=email.policy.SMTP)
            if isinstance(message, EmailMessage)
            else message
        )
        with smtplib.SMTP("127.0.0.1", self.port, timeout=30) as client:
            return client.sendmail(sender, [to], raw)

    def refusal(self, message: EmailMessage | bytes, *, to: str) -> tuple[int, str]:
        """The (code, text) the gateway refuses this mail with, at RCPT or at DATA."""
        try:
            self.send(message, to=to)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            return code, text.decode()
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            error = exc.smtp_error
            return exc.smtp_code, error.decode() if isinstance(error, bytes) else error
        raise AssertionError("the gateway accepted the mail")


@pytest.fixture
def gateway(transactional_db: None) -> Iterator[Gateway]:
    from django.db import connections

    from confide.mail import gateway as gateway_module

    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        started = asyncio.Event()

        async def main() -> None:
            task = asyncio.ensure_future(gateway_module.serve("127.0.0.1", port, ready=started))
            await started.wait()
            ready.set()
            await task

        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10), "the mail gateway did not start"
    try:
        yield Gateway(port)
    finally:
        for task in asyncio.all_tasks(loop):
            loop.call_soon_threadsafe(task.cancel)
        thread.join(timeout=10)
        connections.close_all()
