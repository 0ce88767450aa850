"""Idle room sockets on one server process: connection rate, memory per socket, idle CPU.

S authenticated sockets (personal access tokens in `Authorization: Bearer`) are opened on one
`manage.py serve` process, spread over many clients, each with a few tabs on their room (within
the server's default per-user socket limit), and each socket waits for its `hello`. Then:

- `connect_1000_ms`: from the first handshake to the 1,000th `hello`, 100 handshakes in flight;
- `kib_per_socket`: the server's VmRSS with the sockets open (after the idle window) minus its
  VmRSS before them (after a warm-up socket was opened and closed), divided by S;
- `idle_cpu_pct`: the server's utime + stime over the idle window, as a percentage of one core.
  The client sends nothing (it answers the server's pings, as a browser does).

    python bench/idle_sockets.py [--quick]
    python bench/idle_sockets.py --sockets 1000 --idle 10 --no-deflate   # to explore
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import configure, machine, percentile
from live_latency import (
    PASSWORD,
    OtherLoad,
    Processes,
    raise_file_limit,
    start_confide,
    terminated_on_sigterm,
)

TABS_PER_CLIENT = 5  # the server allows 20 sockets per person by default
CLIENTS_PER_THERAPIST = 50
CONNECT_CONCURRENCY = 100


def prepare(clients: int) -> list[tuple[int, str]]:
    """(room id, token) for `clients` individual clients, built through the services."""
    from django.test.utils import override_settings

    from confide.accounts.models import Role
    from confide.accounts.services import consent_accept, token_create, user_create
    from confide.care.services import (
        client_invite,
        invitation_accept,
        practice_create,
        therapist_invite,
    )
    from confide.rooms.models import Room
    from tests.personas import ensure_consent_document

    # The server never checks these passwords (sockets use tokens): a cheap hasher for set-up.
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
        pairs = []
        therapist = None
        for i in range(clients):
            if i % CLIENTS_PER_THERAPIST == 0:
                issued = therapist_invite(actor=admin, email=f"t{i}@bench.example")
                therapist = invitation_accept(
                    raw_token=issued.raw_token,
                    display_name=f"T{i}",
                    password=PASSWORD,
                    time_zone="UTC",
                    country="GB",
                )
            assert therapist is not None
            [inv] = client_invite(actor=therapist, email=f"c{i}@bench.example")
            client = invitation_accept(
                raw_token=inv.raw_token,
                display_name=f"C{i}",
                password=PASSWORD,
                time_zone="UTC",
                country="GB",
            )
            consent_accept(user=client, version=document.version)
            room = Room.objects.get(relationship=inv.invitation.relationship)
            pairs.append((room.pk, token_create(user=client, name="bench")[1]))
    return pairs


def vm_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    # Fields after the command name (which may contain spaces); utime and stime are 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Opened:
    compression: str | None  # browsers offer permessage-deflate; --no-deflate to compare
    sockets: list[ClientConnection] = field(default_factory=list)
    handshakes: list[float] = field(default_factory=list)  # ms, connect to hello
    hellos: list[float] = field(default_factory=list)  # s since the first handshake began


async def open_socket(
    url: str, token: str, gate: asyncio.Semaphore, began: float, opened: Opened
) -> None:
    async with gate:
        start = time.perf_counter()
        ws = await connect(
            url,
            additional_headers={"Authorization": f"Bearer {token}"},
            ping_interval=None,  # browsers do not ping; the server pings every 20 s
            open_timeout=120,
            compression=opened.compression,
        )
        opened.sockets.append(ws)
        try:
            hello = json.loads(await asyncio.wait_for(ws.recv(), 60))
        except ConnectionClosed as closed:
            raise RuntimeError(f"{url}: closed before hello ({closed})") from None
        if hello.get("type") != "hello":
            raise RuntimeError(f"{url}: expected hello, got {hello!r}")
        now = time.perf_counter()
        opened.handshakes.append((now - start) * 1000)
        opened.hellos.append(now - began)


async def drain(ws: ClientConnection) -> None:
    """Read (and drop) anything the server sends, so pings are answered; return on close."""
    try:
        async for _ in ws:
            pass
    except ConnectionClosed:
        pass


async def measure(
    port: int, pairs: list[tuple[int, str]], idle: float, pid: int, compression: str | None
) -> dict[str, float]:
    def url(room: int) -> str:
        return f"ws://127.0.0.1:{port}/ws/rooms/{room}/"

    # Warm-up: the first socket loads the consumer, the channel layer and the database thread.
    warm = Opened(compression)
    await open_socket(url(pairs[0][0]), pairs[0][1], asyncio.Semaphore(1), 0.0, warm)
    await warm.sockets[0].close()
    rss_before = vm_rss_kib(pid)

    opened = Opened(compression)
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    cpu_start = cpu_seconds(pid)
    began = time.perf_counter()
    try:
        await asyncio.gather(
            *(
                open_socket(url(room), token, gate, began, opened)
                for _ in range(TABS_PER_CLIENT)
                for room, token in pairs
            )
        )
        connect_cpu = cpu_seconds(pid) - cpu_start
        readers = [asyncio.create_task(drain(ws)) for ws in opened.sockets]
        rss_open = vm_rss_kib(pid)
        cpu_before, wall_before = cpu_seconds(pid), time.perf_counter()
        await asyncio.sleep(idle)  # the idle window itself: nothing to wait for
        cpu_after, wall_after = cpu_seconds(pid), time.perf_counter()
        rss_idle = vm_rss_kib(pid)
        dropped = sum(1 for task in readers if task.done())
    finally:
        await asyncio.gather(*(ws.close() for ws in opened.sockets), return_exceptions=True)
    count = len(opened.sockets)
    hellos = sorted(opened.hellos)
    return {
        "sockets": count,
        "connect_all_ms": hellos[-1] * 1000,
        "connect_1000_ms": (
            hellos[999] * 1000 if count >= 1000 else hellos[-1] * 1000 * 1000 / count
        ),
        "connect_cpu_ms": connect_cpu * 1000 / count,
        "handshake_p50_ms": percentile(opened.handshakes, 50),
        "handshake_p99_ms": percentile(opened.handshakes, 99),
        "rss_before_kib": rss_before,
        "rss_open_kib": rss_open,
        "rss_idle_kib": rss_idle,
        "idle_cpu_pct": (cpu_after - cpu_before) / (wall_after - wall_before) * 100,
        "dropped": dropped,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    parser.add_argument("--no-deflate", action="store_true", help="offer no compression")
    parser.add_argument("--sockets", type=int, help="override the number of sockets")
    parser.add_argument("--idle", type=float, help="override the idle window (seconds)")
    args = parser.parse_args()
    compression = None if args.no_deflate else "deflate"
    sockets, idle = (300, 3.0) if args.quick else (5000, 30.0)
    sockets, idle = args.sockets or sockets, args.idle or idle
    raise_file_limit()  # the client holds S sockets; the server inherits the limit
    other = OtherLoad()
    with terminated_on_sigterm():
        env = configure("sqlite")
        var = Path(env["var"])
        procs = Processes(var)
        try:
            pairs = prepare(sockets // TABS_PER_CLIENT)
            port = start_confide(procs, "confide", {})
            pid = procs.running[-1][0].pid
            try:
                import uvloop
            except ImportError:
                result = asyncio.run(measure(port, pairs, idle, pid, compression))
            else:
                result = uvloop.run(measure(port, pairs, idle, pid, compression))
        finally:
            procs.stop_all()
            env["cleanup"]()
            if args.keep:
                print(f"kept {var}", file=sys.stderr)
            else:
                shutil.rmtree(var, ignore_errors=True)
    count = int(result["sockets"])
    per_socket = (result["rss_idle_kib"] - result["rss_before_kib"]) / count
    print(
        json.dumps(
            {
                "bench": "idle_sockets",
                "db": "sqlite",
                "quick": args.quick,
                "sockets": count,
                "users": len(pairs),
                "connect_1000_ms": round(result["connect_1000_ms"], 1),
                "connect_1000_scaled_from": count if count < 1000 else 1000,
                "connect_all_ms": round(result["connect_all_ms"], 1),
                "server_cpu_ms_per_connect": round(result["connect_cpu_ms"], 2),
                "handshake_p50_ms": round(result["handshake_p50_ms"], 2),
                "handshake_p99_ms": round(result["handshake_p99_ms"], 2),
                "kib_per_socket": round(per_socket, 1),
                "rss_before_kib": int(result["rss_before_kib"]),
                "rss_open_kib": int(result["rss_open_kib"]),
                "rss_idle_kib": int(result["rss_idle_kib"]),
                "idle_seconds": idle,
                "idle_cpu_pct": round(result["idle_cpu_pct"], 2),
                "dropped": int(result["dropped"]),
                "compression": compression or "none",
                "other_load_cores": other.cores(),
                "machine": machine(),
            }
        )
    )


if __name__ == "__main__":
    main()
