"""Inbound email: mails per second through the gateway into rooms, and accepted-to-visible time.

Clients reply by email: real SMTP from several sender threads, each mail a reply in the style of
a mail client (new text, an attribution line, a quoted earlier message). The gateway
(`manage.py mail_gateway`) and a task worker (`manage.py db_worker`; `--workers 2` for two)
run as their own processes on a fresh SQLite database; their
confirmations go out over SMTP to a sink in this process. A mail's latency runs from the
gateway's 250 to the moment its message is in the room (the message's `created_at`, same clock).

Baseline, in the same run: the same senders against an aiosmtpd server that accepts and
discards every mail: what SMTP on this machine costs before Confide does anything.

    python bench/email_ingest.py [--quick] [--rate 50] [--seconds 20] [--workers 1]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import smtplib
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, configure, machine, percentile

PASSWORD = "bench passphrase 1"  # noqa: S105 - throwaway accounts in a temporary database
SENDERS = 8
CLIENTS = 40


def prepare(clients: int) -> list[tuple[str, str, int]]:
    """`clients` individual clients of a few therapists: (client email, reply address, room)."""
    from django.test.utils import override_settings
    from django.utils import timezone

    from confide.accounts.models import Role
    from confide.accounts.services import consent_accept, user_create
    from confide.care.services import (
        client_invite,
        invitation_accept,
        practice_create,
        therapist_invite,
    )
    from confide.mail.services import reply_address, reply_token_issue
    from confide.rooms.models import Room
    from tests.personas import ensure_consent_document

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        document = ensure_consent_document()
        practice = practice_create(name="Bench", slug="bench", country="GB")
        admin = user_create(
            email="a@bench.example",
            password=PASSWORD,
            display_name="A",
            role=Role.ADMIN,
            practice=practice,
        )
        out: list[tuple[str, str, int]] = []
        therapist = None
        for i in range(clients):
            if i % 20 == 0:
                issued = therapist_invite(actor=admin, email=f"t{i}@bench.example")
                therapist = invitation_accept(
                    raw_token=issued.raw_token,
                    display_name=f"T{i}",
                    password=PASSWORD,
                    time_zone="UTC",
                    country="GB",
                )
            assert therapist is not None
            [invitation] = client_invite(actor=therapist, email=f"c{i}@bench.example")
            client = invitation_accept(
                raw_token=invitation.raw_token,
                display_name=f"C{i}",
                password=PASSWORD,
                time_zone="UTC",
                country="GB",
            )
            consent_accept(user=client, version=document.version)
            room = Room.objects.get(relationship=invitation.invitation.relationship)
            token = reply_token_issue(user=client, room_id=room.pk, now=timezone.now())
            out.append((client.email, reply_address(token), room.pk))
    return out


def mail_for(sender: str, to: str, n: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Bench Client <{sender}>"
    message["To"] = to
    message["Subject"] = "Re: Confide: your room"
    message["Message-ID"] = make_msgid(domain="bench.example")
    message.set_content(
        f"bench-{n} This week was calmer. I tried the breathing exercise twice.\n\n"
        "On Thu, 3 Dec 2026 at 10:00, Confide <no-reply@confide.invalid> wrote:\n"
        "> How did the breathing exercise go?\n> Robin\n"
    )
    return message.as_bytes()


class Sink:
    """Accepts and discards: the outbound side of the bench, and the baseline's server."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


def send_load(
    port: int, mails: list[tuple[str, str, bytes]], rate: float
) -> tuple[list[float], int]:
    """Send at `rate` mails/s over SENDERS persistent connections; (accept times, refusals)."""
    accepted = [0.0] * len(mails)
    refused = 0
    start = time.monotonic() + 0.2
    lock = threading.Lock()

    def worker(offset: int) -> None:
        nonlocal refused
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            for index in range(offset, len(mails), SENDERS):
                due = start + index / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                sender, to, raw = mails[index]
                try:
                    smtp.sendmail(sender, [to], raw)
                    accepted[index] = time.time()
                except smtplib.SMTPException:
                    with lock:
                        refused += 1
                    smtp.rset()

    with concurrent.futures.ThreadPoolExecutor(SENDERS) as pool:
        list(pool.map(worker, range(SENDERS)))
    return accepted, refused


def baseline(mails: list[tuple[str, str, bytes]], rate: float) -> float:
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        began = time.monotonic()
        send_load(controller.port, mails, rate)
        return len(mails) / (time.monotonic() - began)
    finally:
        controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    rate, seconds = (20.0, 3.0) if args.quick else (args.rate, args.seconds)
    setup = configure("sqlite")
    procs: list[subprocess.Popen[bytes]] = []
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    outbound = Sink()
    out_server = Controller(outbound, hostname="127.0.0.1", port=free_port())
    out_server.start()
    try:
        people = prepare(10 if args.quick else CLIENTS)
        total = int(rate * seconds)
        mails = [
            (people[n % len(people)][0], people[n % len(people)][1], b"") for n in range(total)
        ]
        mails = [(s, t, mail_for(s, t, n)) for n, (s, t, _) in enumerate(mails)]
        port = free_port()
        env = {
            **os.environ,
            "CONFIDE_VAR_DIR": setup["var"],
            "MAIL_PER_SENDER_PER_HOUR": "1000000",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(out_server.port),
            "EMAIL_USE_TLS": "0",
            "NOTIFY_DELAY_MINUTES": "60",
        }
        manage = [sys.executable, str(ROOT / "manage.py")]
        log = open(Path(setup["var"]) / "children.log", "wb")  # noqa: SIM115 - closed below
        procs.append(
            subprocess.Popen(
                [*manage, "mail_gateway", "--port", str(port)], env=env, stdout=log, stderr=log
            )
        )
        names = ["gateway"] + [f"worker{n + 1}" for n in range(args.workers)]
        for _ in range(args.workers):
            procs.append(
                subprocess.Popen(
                    [
                        *manage,
                        "db_worker",
                        "--interval",
                        "0.05",
                        "--queue-name",
                        "*",
                        "--no-reload",
                    ],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=5) as probe:
                    probe.noop()
                break
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise RuntimeError("the mail gateway did not start") from None
                time.sleep(0.1)

        began = time.time()
        accepted, refused = send_load(port, mails, rate)
        visible = wait_visible(total - refused, timeout=60 + seconds)
        ended = max(visible.values()) if visible else time.time()
        latencies = [
            (visible[n] - accepted[n]) * 1000 for n in visible if accepted[n] and n < total
        ]
        cpu = {name: cpu_seconds(proc.pid) for name, proc in zip(names, procs, strict=True)}
        base = baseline(mails, rate * 4)
        result = {
            "bench": "email_ingest",
            "db": "sqlite",
            "workers": args.workers,
            "offered_per_s": rate,
            "mails": total,
            "refused": refused,
            "posted": len(visible),
            "mails_per_s": round(len(visible) / (ended - began), 1),
            "p50_ms": round(percentile(latencies, 50), 1),
            "p99_ms": round(percentile(latencies, 99), 1),
            "baseline_smtp_mails_per_s": round(base, 1),
            "confirmations": outbound.count,
            "cpu_ms_per_mail": {k: round(v * 1000 / max(total, 1), 1) for k, v in cpu.items()},
            "target": {"mails_per_s": 50, "p99_ms": 2000},
            "machine": machine(),
            "quick": args.quick,
        }
        print(json.dumps(result))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        out_server.stop()
        setup["cleanup"]()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_visible(expected: int, *, timeout: float) -> dict[int, float]:
    """Marker number → when its message was created, once `expected` are in (or on timeout)."""
    from django.db import connection

    from confide.rooms.models import Message, MessageKind
    from confide.rooms.payloads import message_text

    deadline = time.monotonic() + timeout
    seen: dict[int, float] = {}
    last_id = 0
    while len(seen) < expected and time.monotonic() < deadline:
        batch = list(
            Message.objects.filter(pk__gt=last_id, kind=MessageKind.TEXT)
            .exclude(sender=None)
            .order_by("pk")
        )
        for message in batch:
            last_id = message.pk
            text = message_text(message)
            if text.startswith("bench-"):
                seen[int(text.split(" ", 1)[0][6:])] = message.created_at.timestamp()
        connection.close()
        if len(seen) < expected:
            time.sleep(0.2)
    return seen


if __name__ == "__main__":
    main()
