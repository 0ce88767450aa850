"""Live delivery over the room WebSocket: send to delivery at every other member of the room.

N rooms of 2 or 3 members (a couple's shared room has three: the therapist and both partners;
each partner's private room and an individual client's room have two). Every member of every
room holds one socket. Open loop: at a fixed total rate a random member of a random room sends
`{"type": "send", ...}`, whatever the answers do; each send's latency is measured from its
planned time to the `message` event at each OTHER member of the room. A message that has not
reached everyone when the drain timeout runs out counts as lost.

Three runs with the same client code and the same schedule, in one invocation:

- Confide, one `manage.py serve` process, in-memory channel layer (SQLite);
- Confide, two processes on two ports, one SQLite file, a private `redis-server` as the channel
  layer; the members of each room alternate between the two processes;
- the baseline: a minimal relay written with `websockets` (hello, ack, broadcast to the other
  sockets of the room; no database, no auth), in a subprocess.

    python bench/live_latency.py [--quick]
    python bench/live_latency.py --runs confide --rate 50 --seconds 10 --keep   # to explore
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, configure, machine, percentile

PASSWORD = "bench passphrase 1"  # noqa: S105 - throwaway accounts in a temporary database
ROOMS_PER_THERAPIST = 24  # a full caseload; each therapist holds one socket per room
CONNECT_CONCURRENCY = 32
# The server's per-user limits are for people; the bench's therapists hold dozens of sockets
# and its members send far more than a person does.
SERVER_LIMITS = {"LIVE_MAX_CONNECTIONS_PER_USER": "100000", "LIVE_MESSAGES_PER_MINUTE": "1000000"}


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoomSpec:
    room_id: int
    tokens: tuple[str, ...]  # one API token per member


def prepare(rooms: int) -> list[RoomSpec]:
    """`rooms` rooms, built through the services: couples (three rooms each) and, to round off,
    individual clients. Every member gets a personal access token."""
    from django.test.utils import override_settings

    from confide.accounts.models import Role
    from confide.accounts.services import consent_accept, token_create, user_create
    from confide.care.models import CareKind
    from confide.care.services import (
        client_invite,
        invitation_accept,
        practice_create,
        therapist_invite,
    )
    from confide.rooms.models import Room, RoomMember
    from tests.personas import ensure_consent_document

    # The server never checks these passwords (sockets use tokens); a cheap hasher keeps the
    # set-up of a thousand accounts from taking a minute of Argon2.
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
        tokens: dict[int, str] = {}
        specs: list[RoomSpec] = []
        therapist = None
        for i in itertools.count():
            if len(specs) >= rooms:
                break
            if i % (ROOMS_PER_THERAPIST // 3) == 0:
                issued = therapist_invite(actor=admin, email=f"t{i}@bench.example")
                therapist = invitation_accept(
                    raw_token=issued.raw_token,
                    display_name=f"T{i}",
                    password=PASSWORD,
                    time_zone="UTC",
                    country="GB",
                )
                tokens[therapist.pk] = token_create(user=therapist, name="bench")[1]
            assert therapist is not None
            couple = rooms - len(specs) >= 3
            invitations = client_invite(
                actor=therapist,
                email=f"c{i}a@bench.example",
                kind=CareKind.COUPLE if couple else CareKind.INDIVIDUAL,
                partner_email=f"c{i}b@bench.example" if couple else "",
            )
            for n, inv in enumerate(invitations):
                client = invitation_accept(
                    raw_token=inv.raw_token,
                    display_name=f"C{i}{'ab'[n]}",
                    password=PASSWORD,
                    time_zone="UTC",
                    country="GB",
                )
                consent_accept(user=client, version=document.version)
                tokens[client.pk] = token_create(user=client, name="bench")[1]
            relationship = invitations[0].invitation.relationship
            for room in Room.objects.filter(relationship=relationship).order_by("pk"):
                members = RoomMember.objects.filter(room=room).order_by("user_id")
                specs.append(RoomSpec(room.pk, tuple(tokens[m.user_id] for m in members)))
    return specs[:rooms]


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Processes:
    """Every child the bench starts, stopped in reverse order whatever happens."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.running: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(self.var / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.running.append((proc, log))
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        for entry in list(self.running):
            if entry[0] is proc:
                self.running.remove(entry)
                _terminate(proc)
                entry[1].close()

    def stop_all(self) -> None:
        while self.running:
            self.stop(self.running[-1][0])

    def log_tail(self, name: str) -> str:
        path = self.var / f"{name}.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _terminate(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def wait_until(ready: Callable[[], bool], proc: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within 60 s")


def http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def tcp_ok(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def redis_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_confide(procs: Processes, name: str, extra: dict[str, str]) -> int:
    port = free_port()
    env = {**os.environ, "LOG_LEVEL": "WARNING", **SERVER_LIMITS, **extra}
    argv = [sys.executable, str(ROOT / "manage.py"), "serve", "--no-worker", "--port", str(port)]
    proc = procs.start(name, argv, env)
    try:
        wait_until(lambda: http_ok(port), proc, name)
    except RuntimeError as error:
        raise RuntimeError(f"{error}\n{procs.log_tail(name)}") from None
    return port


def start_redis(procs: Processes) -> int:
    port = free_port()
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(procs.var),
    ]
    proc = procs.start("redis", argv, dict(os.environ))
    wait_until(lambda: redis_ok(port), proc, "redis-server")
    return port


def start_relay(procs: Processes) -> int:
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--relay", str(port)]
    proc = procs.start("relay", argv, dict(os.environ))
    wait_until(lambda: tcp_ok(port), proc, "relay")
    return port


# --- the baseline relay (runs in its own process) -----------------------------------------------


async def relay(port: int) -> None:
    """Hello on connect; for each `send`: an ack to the sender and a `message` to the others."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    rooms: dict[str, set[ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        path = ws.request.path if ws.request else "/"
        peers = rooms.setdefault(path, set())
        peers.add(ws)
        try:
            await ws.send(json.dumps({"type": "hello", "room": path, "last_seq": 0}))
            async for frame in ws:
                event = json.loads(frame)
                if event.get("type") != "send":
                    continue
                out = json.dumps({"type": "message", "message": {"body": event["body"]}})
                broadcast([peer for peer in peers if peer is not ws], out)
                await ws.send(json.dumps({"type": "ack", "client_id": event["client_id"]}))
        finally:
            peers.discard(ws)

    # Same settings as uvicorn's: permessage-deflate on, a ping every 20 s.
    async with serve(handler, "127.0.0.1", port, ping_interval=20, max_size=64 * 1024):
        await asyncio.Future()


# --- the client --------------------------------------------------------------------------------


@dataclass(eq=False)
class Member:
    url: str
    token: str
    ws: ClientConnection | None = None


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    acks: list[float] = field(default_factory=list)
    deliveries: int = 0
    outstanding: int = 0  # messages not yet at every other member
    errors: int = 0
    sending_done: bool = False
    last_delivery: float = 0.0
    span: float = 0.0  # first planned send to last delivery, seconds
    max_lag: float = 0.0
    first_error: str = ""
    send_failures: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(eq=False)
class Flight:
    stats: Stats
    planned: float
    sender: Member
    remaining: int


class Client:
    """One asyncio process holding every member's socket."""

    def __init__(self) -> None:
        self.flights: dict[str, Flight] = {}  # message body -> its flight
        self.acks: dict[str, tuple[Stats, float]] = {}  # client_id -> (stats, planned)
        self.counter = itertools.count()
        self.readers: set[asyncio.Task[None]] = set()
        self.sends: set[asyncio.Task[None]] = set()
        self.stats = Stats()
        self.closed: dict[str, int] = {}  # close code -> sockets the server closed

    async def open(self, member: Member, gate: asyncio.Semaphore) -> None:
        async with gate:
            ws = await connect(
                member.url,
                additional_headers={"Authorization": f"Bearer {member.token}"},
                ping_interval=None,  # browsers do not ping; the server pings every 20 s
                open_timeout=60,
                max_size=None,
            )
            try:
                hello = json.loads(await asyncio.wait_for(ws.recv(), 30))
            except ConnectionClosed as closed:
                raise RuntimeError(f"{member.url}: closed before hello ({closed})") from None
            if hello.get("type") != "hello":
                raise RuntimeError(f"{member.url}: expected hello, got {hello!r}")
        member.ws = ws
        task = asyncio.create_task(self.read(member, ws))
        self.readers.add(task)
        task.add_done_callback(self.readers.discard)

    async def read(self, member: Member, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                now = time.perf_counter()
                event = json.loads(frame)
                kind = event.get("type")
                if kind == "message":
                    flight = self.flights.get(event["message"]["body"])
                    if flight is None or flight.sender is member:
                        continue  # the sender's own copy, or after the drain timeout
                    stats = flight.stats
                    stats.latencies.append((now - flight.planned) * 1000)
                    stats.deliveries += 1
                    stats.last_delivery = now
                    flight.remaining -= 1
                    if flight.remaining == 0:
                        del self.flights[event["message"]["body"]]
                        stats.outstanding -= 1
                        if stats.sending_done and stats.outstanding == 0:
                            stats.done.set()
                elif kind == "ack":
                    entry = self.acks.pop(event["client_id"], None)
                    if entry is not None:
                        entry[0].acks.append((now - entry[1]) * 1000)
                elif kind == "error":
                    self.stats.errors += 1
                    self.stats.first_error = self.stats.first_error or str(event.get("code"))
        except ConnectionClosed:
            pass
        if member.ws is ws:  # not closed by the bench
            code = f"{ws.close_code} {ws.close_reason}".strip()
            self.closed[code] = self.closed.get(code, 0) + 1

    def send(self, stats: Stats, planned: float, room: list[Member], sender: Member) -> None:
        body = f"bench message {next(self.counter)}"
        client_id = str(uuid.uuid4())
        self.flights[body] = Flight(stats, planned, sender, len(room) - 1)
        self.acks[client_id] = (stats, planned)
        stats.outstanding += 1
        assert sender.ws is not None
        frame = json.dumps({"type": "send", "body": body, "client_id": client_id})
        task = asyncio.create_task(self.send_frame(stats, sender.ws, frame))
        self.sends.add(task)
        task.add_done_callback(self.sends.discard)

    async def send_frame(self, stats: Stats, ws: ClientConnection, frame: str) -> None:
        try:
            await ws.send(frame)
        except ConnectionClosed:
            stats.send_failures += 1  # the message stays outstanding and counts as lost

    async def drive(
        self, rooms: list[list[Member]], rate: float, seconds: float, drain: float, seed: int
    ) -> Stats:
        """Open loop: send `rate` per second for `seconds`, then wait (at most `drain` seconds)
        until every message has reached every other member of its room."""
        stats = Stats()
        self.stats = stats
        rng = random.Random(seed)
        total = int(rate * seconds)
        start = time.perf_counter() + 0.05
        for i in range(total):
            planned = start + i / rate
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            stats.max_lag = max(stats.max_lag, time.perf_counter() - planned)
            room = rng.choice(rooms)
            self.send(stats, planned, room, rng.choice(room))
        stats.sending_done = True
        if stats.outstanding == 0:
            stats.done.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stats.done.wait(), drain)
        # Whatever is still out is lost; a late delivery is no longer counted.
        for body in [b for b, f in self.flights.items() if f.stats is stats]:
            del self.flights[body]
        stats.span = (stats.last_delivery or time.perf_counter()) - start
        return stats

    async def close(self, members: list[Member]) -> None:
        sockets = [m.ws for m in members if m.ws is not None]
        for member in members:
            member.ws = None
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        for task in list(self.readers):
            task.cancel()


@dataclass(frozen=True)
class Load:
    rate: float
    seconds: float
    drain: float
    warm_rate: float
    warm_seconds: float
    warm_drain: float


async def measure(
    specs: list[RoomSpec], url: Callable[[int, int, int], str], load: Load
) -> dict[str, float]:
    """Connect every member (url(room index, member index, room id)), warm up, then measure."""
    client = Client()
    rooms = [
        [Member(url(r, m, spec.room_id), token) for m, token in enumerate(spec.tokens)]
        for r, spec in enumerate(specs)
    ]
    members = [member for room in rooms for member in room]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    began = time.perf_counter()
    try:
        await asyncio.gather(*(client.open(member, gate) for member in members))
        connected = time.perf_counter() - began
        await client.drive(rooms, load.warm_rate, load.warm_seconds, load.warm_drain, seed=1)
        stats = await client.drive(rooms, load.rate, load.seconds, load.drain, seed=2)
    finally:
        await client.close(members)
    deliveries = stats.deliveries
    if stats.errors:
        print(f"{stats.errors} error frames, the first: {stats.first_error}", file=sys.stderr)
    if client.closed:
        print(f"sockets closed by the server: {client.closed}", file=sys.stderr)
    if stats.send_failures:
        print(f"{stats.send_failures} sends on closed sockets", file=sys.stderr)
    return {
        "p50": percentile(stats.latencies, 50),
        "p99": percentile(stats.latencies, 99),
        "max": max(stats.latencies, default=float("nan")),
        "ack_p99": percentile(stats.acks, 99),
        "deliveries_per_s": deliveries / stats.span if stats.span else 0.0,
        "deliveries": deliveries,
        "lost": stats.outstanding,
        "errors": stats.errors,
        "closed": sum(client.closed.values()),
        "sockets": len(members),
        "connect_s": connected,
        "send_lag_max_ms": stats.max_lag * 1000,
    }


def run_loop(coro: Coroutine[Any, Any, dict[str, float]]) -> dict[str, float]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


# --- main --------------------------------------------------------------------------------------


class OtherLoad:
    """CPU used on this machine by processes other than the bench and its (reaped) children,
    in cores on average: the benches share two cores, so a busy neighbour shows here."""

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float]:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        idle = int(fields[3]) + int(fields[4])
        busy = sum(int(x) for x in fields[:8]) - idle
        own = sum(
            getattr(resource.getrusage(who), part)
            for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
            for part in ("ru_utime", "ru_stime")
        )
        return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), own

    def cores(self) -> float:
        """Call after every child has been waited for."""
        end = self._sample()
        wall = end[0] - self.start[0]
        other = (end[1] - self.start[1]) - (end[2] - self.start[2])
        return round(max(0.0, other) / wall, 2) if wall > 0 else 0.0


def raise_file_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


@contextlib.contextmanager
def terminated_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the `finally` blocks stop the children."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


RUNS = ("confide", "redis", "baseline")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    parser.add_argument("--rooms", type=int, help="override the number of rooms")
    parser.add_argument("--rate", type=float, help="override the messages per second")
    parser.add_argument("--seconds", type=float, help="override the measured seconds")
    parser.add_argument("--runs", default=",".join(RUNS), help="which of " + ",".join(RUNS))
    parser.add_argument("--relay", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.relay:
        try:
            import uvloop
        except ImportError:
            asyncio.run(relay(args.relay))
        else:
            uvloop.run(relay(args.relay))
        return
    raise_file_limit()
    if args.quick:
        room_count, load = 51, Load(50, 4, 5, 20, 0.5, 2)
    else:
        room_count, load = 500, Load(200, 20, 30, 50, 2, 10)
    room_count = args.rooms or room_count
    load = dataclasses.replace(
        load, rate=args.rate or load.rate, seconds=args.seconds or load.seconds
    )
    runs = set(args.runs.split(","))
    results: dict[str, dict[str, float]] = {}
    other = OtherLoad()
    with terminated_on_sigterm():
        env = configure("sqlite")
        var = Path(env["var"])
        procs = Processes(var)
        try:
            specs = prepare(room_count)
            if "confide" in runs:
                port = start_confide(procs, "confide", {})
                results["confide"] = run_loop(
                    measure(specs, lambda r, m, room: _url(port, room), load)
                )
                procs.stop_all()
            if "redis" in runs:
                redis_port = start_redis(procs)
                layer = {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0"}
                ports = (
                    start_confide(procs, "confide-a", layer),
                    start_confide(procs, "confide-b", layer),
                )
                # Members alternate between the processes: every message crosses Redis.
                results["redis"] = run_loop(
                    measure(specs, lambda r, m, room: _url(ports[(r + m) % 2], room), load)
                )
                procs.stop_all()
            if "baseline" in runs:
                relay_port = start_relay(procs)
                results["baseline"] = run_loop(
                    measure(specs, lambda r, m, room: _url(relay_port, room), load)
                )
                procs.stop_all()
        finally:
            procs.stop_all()
            env["cleanup"]()
            if args.keep:
                print(f"kept {var}", file=sys.stderr)
            else:
                shutil.rmtree(var, ignore_errors=True)
    line: dict[str, Any] = {
        "bench": "live_latency",
        "db": "sqlite",
        "quick": args.quick,
        "rooms": len(specs),
        "sockets": sum(len(spec.tokens) for spec in specs),
        "rate_per_s": load.rate,
        "seconds": load.seconds,
    }
    for name, prefix in (("confide", ""), ("redis", "redis_"), ("baseline", "baseline_")):
        result = results.get(name)
        if result is None:
            continue
        line[f"{prefix}p50_ms"] = round(result["p50"], 2)
        line[f"{prefix}p99_ms"] = round(result["p99"], 2)
        line[f"{prefix}max_ms"] = round(result["max"], 1)
        line[f"{prefix}ack_p99_ms"] = round(result["ack_p99"], 2)
        line[f"{prefix}deliveries_per_s"] = round(result["deliveries_per_s"], 1)
        line[f"{prefix}lost"] = int(result["lost"])
        line[f"{prefix}closed_sockets"] = int(result["closed"])
    line["errors"] = int(sum(r["errors"] for r in results.values()))
    line["client_lag_max_ms"] = round(max(r["send_lag_max_ms"] for r in results.values()), 1)
    line["other_load_cores"] = other.cores()
    line["machine"] = machine()
    print(json.dumps(line))


def _url(port: int, room_id: int) -> str:
    return f"ws://127.0.0.1:{port}/ws/rooms/{room_id}/"


if __name__ == "__main__":
    main()
