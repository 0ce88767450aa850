"""Real processes for the cluster tests: a private redis-server, `manage.py serve` nodes on free
ports, and WebSocket participants that keep their room log by sequence number, as a client does.

Nothing here is mocked: the nodes are subprocesses sharing the test database and one Redis, and
the participants talk to them over TCP with the `websockets` client library.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 60.0  # seconds for a node to answer /healthz (cold imports on a slow CI box)
STOP_TIMEOUT = 10.0
OPEN_TIMEOUT = 5.0  # seconds for a WebSocket handshake and its `hello`
ACK_TIMEOUT = 10.0  # seconds for the `ack` of one send (a commit under a busy SQLite lock)
RETRY_PAUSE = 0.2  # seconds between reconnect attempts, as a client backs off
# Variables of the pytest process that must not leak into a node (nor their NAME_FILE forms,
# which settings.py prefers): each is set explicitly in node_env().
CONFIDE_ENV = frozenset(
    {
        "DATABASE_URL",
        "REDIS_URL",
        "REDIS_PREFIX",
        "CONFIDE_VAR_DIR",
        "SECRET_KEY",
        "ENCRYPTION_KEYS",
        "DJANGO_SETTINGS_MODULE",
        "LIVE_MAX_CONNECTIONS_PER_USER",
        "LIVE_MESSAGES_PER_MINUTE",
        "CONFIDE_HTTPS",
        "ALLOWED_HOSTS",
    }
)


# --- processes ---------------------------------------------------------------------------------


class Child:
    """One subprocess with its output in a log file; stopped for sure by `stop()`."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = logs / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: IO[bytes] | None = None

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, f"{self.name} is running"
        self.close_log()
        self.log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, signum: int) -> None:
        """Send `signum` and wait for the process to exit (SIGTERM: a clean stop; SIGKILL: a
        crash, nothing runs after it)."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        self.proc.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Terminate, and kill if it does not go; safe to call in any state."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.close_log()

    def close_log(self) -> None:
        if self.log is not None:
            self.log.close()
            self.log = None

    def tail(self, chars: int = 4000) -> str:
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self, ready: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise RuntimeError(f"{self.name} exited ({code}):\n{self.tail()}")
            if ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready within {timeout} s:\n{self.tail()}")


class RedisServer(Child):
    """A private redis-server on its own port, without persistence (never the shared 6379)."""

    def __init__(self, logs: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            # Not a skip: CI must run these tests, so a missing binary is a broken environment.
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.port = free_port()
        argv = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(logs),
        ]
        super().__init__("redis", argv, dict(os.environ), logs)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5)
            with contextlib.closing(client):
                return bool(client.ping())
        except redis.RedisError:
            return False

    def start_and_wait(self) -> None:
        self.start()
        self.wait_ready(self.ping, timeout=20.0)


class Node(Child):
    """`manage.py serve --no-worker` on its own port: one node of the cluster."""

    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.port = free_port()
        argv = [
            sys.executable,
            str(ROOT / "manage.py"),
            "serve",
            "--no-worker",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        super().__init__(name, argv, env, logs)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        # No proxy from the environment: the node is on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False


def keyring_text() -> str:
    """This process's encryption keys as ENCRYPTION_KEYS text (current key first), so that the
    nodes decrypt what the test process encrypted and the other way round."""
    from confide import crypto

    ring = crypto.keyring()
    order = [ring.current_id] + [key_id for key_id in ring.keys if key_id != ring.current_id]
    return ",".join(
        f"{key_id}:{base64.urlsafe_b64encode(ring.keys[key_id]).decode('ascii')}"
        for key_id in order
    )


def node_env(var_dir: Path, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a node: this test's database (committed data: the caller uses
    `transactional_db`), the given Redis, and the same secrets as the test process."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k.removesuffix("_FILE") not in CONFIDE_ENV}
    var_dir.mkdir(parents=True, exist_ok=True)
    test_db = connection.settings_dict["NAME"]
    if connection.vendor == "postgresql":
        # The URL the suite was given, with the database name pytest-django created (test_…).
        parts = urlsplit(str(settings.DATABASE_URL))
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{test_db}"))
    elif connection.vendor == "sqlite":
        # settings.py has no variable for the SQLite path: it is CONFIDE_VAR_DIR/confide.sqlite3,
        # with WAL, busy timeout and IMMEDIATE transactions. SQLite follows the link, so its
        # -wal and -shm files are the test database's own.
        link = var_dir / "confide.sqlite3"
        if not link.exists():
            link.symlink_to(Path(str(test_db)).resolve())
    else:  # pragma: no cover - the suite runs on SQLite and PostgreSQL only
        raise RuntimeError(f"no cluster test for {connection.vendor}")
    env.update(
        DJANGO_SETTINGS_MODULE="confide.settings",
        CONFIDE_VAR_DIR=str(var_dir),
        SECRET_KEY=str(settings.SECRET_KEY),
        ENCRYPTION_KEYS=keyring_text(),
        REDIS_URL=redis_url,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@dataclass
class Cluster:
    redis: RedisServer
    nodes: list[Node]

    def children(self) -> list[Child]:
        return [*self.nodes, self.redis]

    def report(self) -> str:
        return "\n".join(f"--- {child.name} ---\n{child.tail()}" for child in self.children())


@contextlib.contextmanager
def running_cluster(tmp_path: Path, nodes: int = 2, **extra_env: str) -> Iterator[Cluster]:
    """One private Redis and `nodes` server processes; every child stopped on the way out."""
    logs = tmp_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    redis_server = RedisServer(logs)
    cluster = Cluster(redis=redis_server, nodes=[])
    try:
        redis_server.start_and_wait()
        env = node_env(tmp_path / "node-var", redis_server.url, **extra_env)
        cluster.nodes = [Node(f"node{i + 1}", env, logs) for i in range(nodes)]
        for node in cluster.nodes:  # start all, then wait: their imports overlap
            node.start()
        for node in cluster.nodes:
            node.wait_ready(node.healthy)
        yield cluster
    finally:
        for child in cluster.children():
            child.stop()
        # Captured by pytest, and shown only when the test failed.
        print(cluster.report())


# --- participants ------------------------------------------------------------------------------


class Refused(Exception):
    """The server answered a send with an `error` event."""


@dataclass
class Link:
    """One WebSocket connection and what is waiting for answers on it."""

    ws: ClientConnection
    hello: asyncio.Future[dict[str, Any]]
    reader: asyncio.Task[None] | None = None
    acks: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    resumed: asyncio.Future[dict[str, Any]] | None = None
    seqs: list[int] = field(default_factory=list)  # `message` seqs in arrival order
    close_code: int | None = None

    @property
    def open(self) -> bool:
        return self.reader is not None and not self.reader.done()

    def fail_waiters(self, error: BaseException) -> None:
        futures = [self.hello, *self.acks.values()]
        if self.resumed is not None:
            futures.append(self.resumed)
        for future in futures:
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: nobody may be waiting for it any more
        self.acks.clear()


@dataclass
class Participant:
    """A person in the room, holding one socket at a time, as a careful client does: the log is
    keyed by sequence number, a reconnect resumes from the last sequence number this log holds
    without a gap, and a resend reuses the message's client_id."""

    name: str
    token: str
    room_id: int
    urls: list[str]  # the nodes, preferred first
    log: dict[int, dict[str, Any]] = field(default_factory=dict)
    deliveries: Counter[int] = field(default_factory=Counter)  # seq -> frames received
    acked: dict[str, int] = field(default_factory=dict)  # client_id -> seq
    sent: list[str] = field(default_factory=list)  # client_ids, in the order first sent
    bodies: dict[str, str] = field(default_factory=dict)
    created: dict[str, bool] = field(default_factory=dict)  # client_id -> first ack's `created`
    answers: list[tuple[str, int, bool]] = field(default_factory=list)  # every ack
    attempts: Counter[str] = field(default_factory=Counter)  # client_id -> frames sent
    resumes: list[tuple[int, int]] = field(default_factory=list)  # (after, count)
    connections: int = 0
    mismatches: list[str] = field(default_factory=list)
    contiguous: int = 0  # every seq in 1..contiguous is in the log
    link: Link | None = None
    url: str = ""
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    # --- connection ---

    @property
    def connected(self) -> bool:
        return self.link is not None and self.link.open

    async def connect(self, url: str) -> None:
        """Open a socket on `url`, wait for `hello`, and resume from the log's last seq."""
        await self.disconnect()
        ws = await asyncio.wait_for(
            connect(
                f"{url}/ws/rooms/{self.room_id}/",
                additional_headers={"Authorization": f"Bearer {self.token}"},
                proxy=None,
                open_timeout=OPEN_TIMEOUT,
                close_timeout=2,
            ),
            OPEN_TIMEOUT + 1,
        )
        link = Link(ws=ws, hello=asyncio.get_running_loop().create_future())
        link.reader = asyncio.get_running_loop().create_task(self._read(link))
        self.link, self.url = link, url
        self.connections += 1
        hello = await asyncio.wait_for(asyncio.shield(link.hello), OPEN_TIMEOUT)
        assert hello["version"] == 1 and hello["room"] == self.room_id, hello
        await self.resume()

    async def ensure_connected(self, deadline: float) -> None:
        """Reconnect if the socket is gone: the current node first, then the others."""
        if self.connected:
            return
        start = self.urls.index(self.url) if self.url in self.urls else 0
        order = self.urls[start:] + self.urls[:start]
        attempt = 0
        last: BaseException | None = None
        while time.monotonic() < deadline:
            try:
                await self.connect(order[attempt % len(order)])
                return
            except (OSError, TimeoutError, InvalidHandshake, ConnectionClosed) as error:
                last = error
                await self.disconnect()
            attempt += 1
            await asyncio.sleep(RETRY_PAUSE)
        raise TimeoutError(f"{self.name} could not reconnect: {last!r}")

    async def disconnect(self) -> None:
        link, self.link = self.link, None
        if link is None:
            return
        with contextlib.suppress(Exception):
            await asyncio.wait_for(link.ws.close(), 5)
        if link.reader is not None:
            link.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await link.reader

    async def _read(self, link: Link) -> None:
        try:
            async for raw in link.ws:
                self._handle(link, json.loads(raw))
        except ConnectionClosed:
            pass
        finally:
            link.close_code = link.ws.close_code
            link.fail_waiters(ConnectionError(f"{self.name}: socket closed ({link.close_code})"))
            self.changed.set()

    def _handle(self, link: Link, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind == "hello" and not link.hello.done():
            link.hello.set_result(event)
        elif kind == "message":
            self._record(link, event["message"])
        elif kind == "ack":
            future = link.acks.pop(event["client_id"], None)
            if future is not None and not future.done():
                future.set_result(event)
        elif kind == "resumed":
            if link.resumed is not None and not link.resumed.done():
                link.resumed.set_result(event)
        elif kind == "error":
            waiting = link.acks.pop(str(event.get("client_id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_exception(Refused(json.dumps(event)))
                waiting.exception()
            else:
                self.mismatches.append(f"unexpected error event {event}")
        elif kind == "reload":
            self.mismatches.append(f"asked to reload: {event}")
        # presence, typing, delivered, read, live, crisis: not what these tests are about

    def _record(self, link: Link, message: dict[str, Any]) -> None:
        seq = int(message["seq"])
        link.seqs.append(seq)
        self.deliveries[seq] += 1
        known = self.log.get(seq)
        if known is not None:
            same = ("id", "client_id", "body", "sender")
            if any(known[key] != message[key] for key in same):
                self.mismatches.append(f"seq {seq} arrived as two messages: {known} / {message}")
        else:
            self.log[seq] = message
        while self.contiguous + 1 in self.log:
            self.contiguous += 1
        self.changed.set()

    # --- frames out ---

    async def resume(self) -> None:
        """`resume` after the last seq this log holds without a gap; the answer is every later
        message, in order, then `resumed`."""
        link = self.link
        assert link is not None
        after = self.contiguous
        link.resumed = asyncio.get_running_loop().create_future()
        await link.ws.send(json.dumps({"type": "resume", "after": after}))
        done = await asyncio.wait_for(asyncio.shield(link.resumed), ACK_TIMEOUT)
        count = int(done["count"])
        assert done["after"] == after, done
        batch = link.seqs[len(link.seqs) - count :] if count else []
        # The batch comes whole, in order, from after+1, just before `resumed`.
        assert batch == list(range(after + 1, after + count + 1)), (self.name, after, batch)
        self.resumes.append((after, count))

    async def send_batch(self, items: list[tuple[str, str]]) -> list[str]:
        """Send (client_id, body) frames back to back, then wait for their acks. Returns the
        client_ids acknowledged now; the rest failed (socket closed, error, or no ack in time)."""
        link = self.link
        if link is None or not link.open:
            return []
        loop = asyncio.get_running_loop()
        waiting: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        try:
            for client_id, body in items:
                if client_id not in self.bodies:
                    self.sent.append(client_id)
                    self.bodies[client_id] = body
                future = link.acks.get(client_id) or loop.create_future()
                link.acks[client_id] = future
                waiting.append((client_id, future))
                await link.ws.send(
                    json.dumps({"type": "send", "body": body, "client_id": client_id})
                )
                self.attempts[client_id] += 1
        except ConnectionClosed:
            pass
        acked: list[str] = []
        for client_id, future in waiting:
            try:
                ack = await asyncio.wait_for(asyncio.shield(future), ACK_TIMEOUT)
            except (ConnectionError, Refused, TimeoutError):
                continue
            seq = int(ack["seq"])
            previous = self.acked.setdefault(client_id, seq)
            if previous != seq:
                self.mismatches.append(f"{client_id} acknowledged as {previous} and as {seq}")
            self.created.setdefault(client_id, bool(ack["created"]))
            self.answers.append((client_id, seq, bool(ack["created"])))
            acked.append(client_id)
        return acked

    async def send_all(
        self,
        items: list[tuple[str, str]],
        *,
        window: int,
        deadline: float,
        on_ack: Callable[[], None] | None = None,
    ) -> None:
        """Send every item until it is acknowledged, in order, at most `window` in flight;
        reconnect (and resume) whenever the socket is gone, resending with the same client_id."""
        position = 0
        while position < len(items):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: {len(items) - position} sends never acked")
            await self.ensure_connected(deadline)
            batch = items[position : position + window]
            answered = set(await self.send_batch(batch))
            # Only a prefix counts as done: a later item acked before an earlier one failed
            # is resent too (idempotent), so this sender's order is the order of its items.
            for client_id, _ in batch:
                if client_id not in answered:
                    break
                position += 1
                if on_ack is not None:
                    on_ack()
            if not answered.issuperset(cid for cid, _ in batch):
                await asyncio.sleep(RETRY_PAUSE)

    # --- waiting ---

    async def wait_until(self, ready: Callable[[], bool], within: float) -> None:
        async def poll() -> None:
            while not ready():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(poll(), within)

    async def wait_for_seq(self, seq: int, within: float = ACK_TIMEOUT) -> None:
        await self.wait_until(lambda: seq in self.log, within)

    async def wait_for_contiguous(self, seq: int, within: float = ACK_TIMEOUT) -> None:
        await self.wait_until(lambda: self.contiguous >= seq, within)


def new_items(prefix: str, count: int) -> list[tuple[str, str]]:
    """Fresh (client_id, body) pairs; bodies are plain so no crisis or Markdown rule applies."""
    return [(str(uuid.uuid4()), f"{prefix} note {n}") for n in range(count)]


def sigkill(child: Child) -> None:
    child.signal(signal.SIGKILL)
