"""Call set-up: from a participant's `call.ready` to the first video frame it decodes.

Each call is between two aiortc peers (tests/live/turn.py's `CallPeer`, which speaks the room
protocol as call.js does): the therapist is in the call first; the client joins, asks for ICE
servers, announces `call.ready`; the therapist offers, both trickle their candidates, the
client answers, ICE and DTLS connect, and video flows. `p50_ms`/`p95_ms` measure, at the
client, from sending `call.ready` to the first decoded frame of the therapist's video. Host
candidates only (one machine, no STUN or TURN): this is the set-up cost of signaling, ICE,
DTLS and the first key frame, not of a network path.

The signaling cost is each call's three sequential hops (ready to the therapist, offer to the
client, answer to the therapist), each from `send` on one socket to its arrival on the other.
The baseline carries the same exchange through a minimal `websockets` relay in its own process
(no database, no authentication, no membership checks); calls alternate between the two.
`signaling_overhead_p95_ms` is Confide's p95 of that sum minus the baseline's.

Confide runs as one `manage.py serve --no-worker` process on a throwaway SQLite database.

    python bench/call_setup.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, configure, machine, percentile

PASSWORD = "bench passphrase 1"  # noqa: S105 - throwaway accounts in a temporary database


def prepare(calls: int) -> tuple[str, list[tuple[int, int, str]], int]:
    """One therapist and a room per call, each with a running video call that its client has
    been admitted to, built through the services. Returns the therapist's token, then
    (room id, client id, client token) per call, and the therapist's id."""
    from django.test.utils import override_settings

    from confide.accounts.models import Role
    from confide.accounts.services import consent_accept, token_create, user_create
    from confide.care.services import (
        client_invite,
        invitation_accept,
        practice_create,
        therapist_invite,
    )
    from confide.live import services
    from confide.live.models import LiveMode
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
        issued = therapist_invite(actor=admin, email="t@bench.example")
        therapist = invitation_accept(
            raw_token=issued.raw_token,
            display_name="T",
            password=PASSWORD,
            time_zone="UTC",
            country="GB",
        )
        rooms = []
        for i in range(calls):
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
            services.live_start(actor=therapist, room=room, mode=LiveMode.VIDEO)
            services.live_join(actor=client, room=room)
            services.live_admit(actor=therapist, room=room, user_id=client.pk)
            rooms.append((room.pk, client.pk, token_create(user=client, name="bench")[1]))
        return token_create(user=therapist, name="bench")[1], rooms, therapist.pk


# --- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {port}")


def start(
    argv: list[str], what: str, var: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = var / f"{what}.log"
    out: IO[bytes] = log.open("wb")
    proc = subprocess.Popen([*argv, str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    wait_for_port(port, proc, what, log)
    return proc, port


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --- the baseline relay (its own process) ------------------------------------------------------


async def relay(port: int) -> None:
    """The call signaling and nothing else: `hello` with the id in the bearer token, `call.ice`
    with no servers, `call.ready` to the room's other sockets, `call.signal` to the `to` user's
    sockets in the room."""
    from websockets.asyncio.server import ServerConnection, serve

    rooms: dict[str, dict[int, ServerConnection]] = {}

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        path = ws.request.path
        me = int(ws.request.headers["Authorization"].removeprefix("Bearer "))
        peers = rooms.setdefault(path, {})
        peers[me] = ws
        try:
            await ws.send(json.dumps({"type": "hello", "me": me, "live": None}))
            async for frame in ws:
                event = json.loads(frame)
                kind = event.get("type")
                if kind == "call.ice":
                    reply = {"type": "call.ice", "ice_servers": [], "policy": "all"}
                    await ws.send(json.dumps({**reply, "expires_at": None}))
                elif kind == "call.ready":
                    out = json.dumps({"type": "call.ready", "user": me, "name": str(me)})
                    for user, peer in list(peers.items()):
                        if user != me:
                            await peer.send(out)
                elif kind == "call.signal" and event.get("to") in peers:
                    signal = {k: v for k, v in event.items() if k in ("description", "candidate")}
                    out = json.dumps({"type": "call.signal", "from": me, **signal})
                    await peers[event["to"]].send(out)
        finally:
            if peers.get(me) is ws:
                del peers[me]

    async with serve(handler, "127.0.0.1", port, ping_interval=20, max_size=2**20):
        await asyncio.Future()


# --- one call ----------------------------------------------------------------------------------


async def one_call(base: str, room: int, host_token: str, guest_token: str) -> dict[str, float]:
    from tests.live.turn import CallPeer

    host = CallPeer(base, room, host_token)
    guest = CallPeer(base, room, guest_token)
    try:
        await host.open()
        await guest.open()
        await host.join_call()
        # Like a client admitted after the therapist: the therapist's `call.ready` came first.
        await guest.wait_for(lambda e: e["type"] == "call.ready")
        await guest.join_call()
        remote = await guest.wait_frames(host.me, video=1, audio=0, seconds=30)
        ready = guest.sent_at["call.ready"]
        hops = (
            host.received_at["call.ready"] - ready,
            guest.received_at["offer"] - host.sent_at["offer"],
            host.received_at["answer"] - guest.sent_at["answer"],
        )
        assert not (host.errors or guest.errors or host.failures or guest.failures), (
            host.errors,
            guest.errors,
            host.failures,
            guest.failures,
        )
        return {
            "setup_ms": (remote.first_frame_at["video"] - ready) * 1000,
            "signaling_ms": sum(hops) * 1000,
        }
    finally:
        await host.close()
        await guest.close()


async def run_calls(
    confide: str, baseline: str, host: tuple[str, int], rooms: list[tuple[int, int, str]]
) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
    ours, theirs = [], []
    for room, client_id, token in rooms:
        ours.append(await asyncio.wait_for(one_call(confide, room, host[0], token), 60))
        theirs.append(
            await asyncio.wait_for(one_call(baseline, room, str(host[1]), str(client_id)), 60)
        )
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--relay", type=int, help=argparse.SUPPRESS)  # the baseline's process
    args = parser.parse_args()
    if args.relay:
        asyncio.run(relay(args.relay))
        return
    calls = 3 if args.quick else 20
    env = configure("sqlite")
    var = Path(env["var"])
    logging.getLogger("aioice").setLevel(logging.WARNING)
    logging.getLogger("aiortc").setLevel(logging.WARNING)
    running: list[subprocess.Popen[bytes]] = []
    try:
        host_token, rooms, therapist_id = prepare(calls + 1)  # the first call warms up
        server_env = {**os.environ, "LOG_LEVEL": "WARNING", "STUN_URLS": "", "TURN_URLS": ""}
        serve = [sys.executable, str(ROOT / "manage.py"), "serve", "--no-worker", "--port"]
        server, port = start(serve, "confide", var, server_env)
        running.append(server)
        relay_argv = [sys.executable, str(Path(__file__).resolve()), "--relay"]
        baseline, relay_port = start(relay_argv, "relay", var, dict(os.environ))
        running.append(baseline)

        ours, theirs = asyncio.run(
            run_calls(
                f"http://127.0.0.1:{port}",
                f"http://127.0.0.1:{relay_port}",
                (host_token, therapist_id),
                rooms,
            )
        )
        ours, theirs = ours[1:], theirs[1:]

        def pct(samples: list[dict[str, float]], key: str, p: float) -> float:
            return round(percentile([s[key] for s in samples], p), 1)

        print(
            json.dumps(
                {
                    "bench": "call_setup",
                    "db": "sqlite",
                    "quick": args.quick,
                    "calls": calls,
                    "p50_ms": pct(ours, "setup_ms", 50),
                    "p95_ms": pct(ours, "setup_ms", 95),
                    "baseline_p50_ms": pct(theirs, "setup_ms", 50),
                    "baseline_p95_ms": pct(theirs, "setup_ms", 95),
                    "signaling_p50_ms": pct(ours, "signaling_ms", 50),
                    "signaling_p95_ms": pct(ours, "signaling_ms", 95),
                    "baseline_signaling_p50_ms": pct(theirs, "signaling_ms", 50),
                    "baseline_signaling_p95_ms": pct(theirs, "signaling_ms", 95),
                    "signaling_overhead_p95_ms": round(
                        pct(ours, "signaling_ms", 95) - pct(theirs, "signaling_ms", 95), 1
                    ),
                    "machine": machine(),
                }
            )
        )
    finally:
        for proc in running:
            stop(proc)
        env["cleanup"]()


if __name__ == "__main__":
    main()
