"""Real media for call tests and the call bench: a private coturn, and an independent WebRTC peer.

- `coturn(...)` runs Debian's `turnserver` on loopback with deploy/coturn/turnserver.conf plus
  the few test-only changes that a single machine needs (see `coturn_config`).
- `CallPeer` is a call participant written with aiortc: it speaks Confide's room protocol over
  a real WebSocket (`websockets`, a personal access token, no Origin) exactly as call.js does
  (docs/protocol.md, "Calls"): `call.ice`, `call.ready`, then offers, answers and trickled
  candidates as `call.signal`, one peer connection per other participant. It sends synthetic
  audio (a tone) and video (a moving bar) and counts the frames it decodes from each peer.
- `LoopThread` runs the peers' event loop in a thread, for tests whose own thread belongs to
  Playwright's synchronous API.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import dataclasses
import json
import math
import os
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from aiortc import (
    RTCConfiguration,
    RTCIceCandidate,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import (
    AudioStreamTrack,
    MediaStreamError,
    MediaStreamTrack,
    VideoStreamTrack,
)
from aiortc.rtcconfiguration import RTCBundlePolicy, RTCIceTransportPolicy
from aiortc.sdp import candidate_from_sdp
from av import AudioFrame, VideoFrame
from av.frame import Frame
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CONF = ROOT / "deploy" / "coturn" / "turnserver.conf"
TURNSERVER = os.environ.get("CONFIDE_TURNSERVER", "/usr/bin/turnserver")
TIMEOUT = 10.0
T = TypeVar("T")


# --- coturn ------------------------------------------------------------------------------------

# Directives of the production file that a test replaces: where it listens and relays, the
# secret, and the TLS certificate (there is none on a test machine).
REPLACED = {
    "listening-port",
    "tls-listening-port",
    "listening-ip",
    "relay-ip",
    "external-ip",
    "static-auth-secret",
    "cert",
    "pkey",
    "pidfile",
    "userdb",
}


def free_udp_port() -> int:
    """A port free for UDP and TCP on loopback (coturn listens on both)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise AssertionError("no free port for coturn")


def coturn_config(
    *, port: int, secret: str, workdir: Path, allow_loopback_peers: bool = True
) -> str:
    """deploy/coturn/turnserver.conf with the test's address, port and secret.

    With `allow_loopback_peers` (the default) it also relays to 127.0.0.1. Production refuses
    loopback peers, and must: a TURN server that relays to its own host's loopback lets anyone
    with a credential reach the services listening there. On one test machine, though, every
    peer's relayed address is on 127.0.0.1 (the relay listens there), so peer A's relay must
    send to peer B's relay at 127.0.0.1. coturn checks `allow-loopback-peers` first and the
    `allowed-peer-ip` list before the `denied-peer-ip` list, so both are needed; every other
    denial of the production file stays in force.
    """
    kept = []
    for line in PRODUCTION_CONF.read_text().splitlines():
        key = line.split("=", 1)[0].strip()
        if key and not key.startswith("#") and key in REPLACED:
            continue
        kept.append(line)
    kept += [
        "",
        "# --- test-only (tests/live/turn.py) ---",
        "listening-ip=127.0.0.1",
        "relay-ip=127.0.0.1",
        f"listening-port={port}",
        f"static-auth-secret={secret}",
        "no-tls",
        "no-dtls",
        f"pidfile={workdir / 'turnserver.pid'}",
        f"userdb={workdir / 'turndb'}",
    ]
    if allow_loopback_peers:
        kept += ["allow-loopback-peers", "allowed-peer-ip=127.0.0.1"]
    return "\n".join(kept) + "\n"


def stun_binding_answered(port: int, timeout: float = 0.2) -> bool:
    """True when a STUN Binding request to 127.0.0.1:port gets its success response."""
    transaction = os.urandom(12)
    request = b"\x00\x01\x00\x00\x21\x12\xa4\x42" + transaction  # Binding, RFC 5389
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            answer = sock.recv(2048)
        except OSError:
            return False
    return answer[:2] == b"\x01\x01" and answer[8:20] == transaction


@dataclasses.dataclass
class Coturn:
    port: int
    secret: str
    realm: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"turn:127.0.0.1:{self.port}?transport=udp"

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def coturn(*, secret: str, allow_loopback_peers: bool = True) -> Iterator[Coturn]:
    """A turnserver on a free loopback port, answering STUN before this yields; stopped after."""
    assert Path(TURNSERVER).exists(), f"Debian's coturn is needed at {TURNSERVER} (make coturn)"
    with tempfile.TemporaryDirectory(prefix="confide-coturn-") as tmp:
        workdir = Path(tmp)
        port = free_udp_port()
        conf = workdir / "turnserver.conf"
        conf.write_text(
            coturn_config(
                port=port,
                secret=secret,
                workdir=workdir,
                allow_loopback_peers=allow_loopback_peers,
            )
        )
        realm = next(
            line.split("=", 1)[1].strip()
            for line in conf.read_text().splitlines()
            if line.startswith("realm=")
        )
        log = workdir / "turnserver.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [TURNSERVER, "-c", str(conf)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=workdir,
            )
        server = Coturn(port=port, secret=secret, realm=realm, process=process, log=log)
        try:
            deadline = time.monotonic() + 15
            while not stun_binding_answered(port):
                assert process.poll() is None, f"turnserver exited:\n{server.output()[-3000:]}"
                assert time.monotonic() < deadline, (
                    f"turnserver did not answer STUN on {port}:\n{server.output()[-3000:]}"
                )
                time.sleep(0.05)  # a closed UDP port is refused at once: do not spin
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


# --- synthetic media ---------------------------------------------------------------------------


class MovingBar(VideoStreamTrack):
    """320x240 video at 30 fps: a light bar moving across a dark background."""

    WIDTH, HEIGHT = 320, 240

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    async def recv(self) -> Frame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.WIDTH, height=self.HEIGHT, format="yuv420p")
        luma = frame.planes[0]
        row = bytearray([32]) * luma.line_size
        left = (self.count * 4) % (self.WIDTH - 32)
        row[left : left + 32] = bytes([220]) * 32
        luma.update(bytes(row) * self.HEIGHT)
        for chroma in frame.planes[1:]:
            chroma.update(bytes([128]) * chroma.buffer_size)
        frame.pts = pts
        frame.time_base = time_base
        self.count += 1
        return frame


class Tone(AudioStreamTrack):
    """A 440 Hz tone (aiortc's own 8 kHz, 20 ms audio timing)."""

    def __init__(self) -> None:
        super().__init__()
        self.sample = 0

    async def recv(self) -> Frame:
        frame = await super().recv()
        assert isinstance(frame, AudioFrame)
        plane = frame.planes[0]
        samples = array.array(
            "h",
            (
                int(8000 * math.sin(2 * math.pi * 440 * (self.sample + i) / 8000))
                for i in range(frame.samples)
            ),
        )
        self.sample += frame.samples
        data = samples.tobytes()
        plane.update(data + bytes(plane.buffer_size - len(data)))
        return frame


# --- the peer ----------------------------------------------------------------------------------


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """aiortc writes every candidate into its SDP; a browser trickles them. Take them out of the
    description and return them as `call.signal` candidates (sdpMid, sdpMLineIndex)."""
    lines, found = [], []
    index, mids = -1, {}
    for line in sdp.splitlines():
        if line.startswith("m="):
            index += 1
        elif line.startswith("a=mid:"):
            mids[index] = line[len("a=mid:") :]
        if line.startswith("a=candidate:"):
            found.append((index, line[len("a=") :]))
            continue
        if line == "a=end-of-candidates":
            continue
        lines.append(line)
    candidates = [
        {"candidate": text, "sdpMid": mids.get(i), "sdpMLineIndex": i, "usernameFragment": None}
        for i, text in found
    ]
    return "\r\n".join(lines) + "\r\n", candidates


def parse_candidate(data: dict[str, Any]) -> RTCIceCandidate | None:
    text = data.get("candidate") or ""
    if not text:
        return None  # a browser's empty candidate is an end-of-candidates for that generation
    candidate = candidate_from_sdp(text.split(":", 1)[1] if text.startswith("candidate:") else text)
    candidate.sdpMid = data.get("sdpMid")
    candidate.sdpMLineIndex = data.get("sdpMLineIndex")
    return candidate


@dataclasses.dataclass
class Remote:
    """One other participant: a peer connection and what has been decoded from it."""

    user: int
    pc: RTCPeerConnection
    polite: bool
    role: str = ""  # "offerer" or "answerer" of this connection
    making_offer: bool = False
    ignore_offer: bool = False
    has_tracks: bool = False
    frames: dict[str, int] = dataclasses.field(default_factory=lambda: {"audio": 0, "video": 0})
    first_frame_at: dict[str, float] = dataclasses.field(default_factory=dict)
    video_sizes: set[tuple[int, int]] = dataclasses.field(default_factory=set)
    consumers: list[asyncio.Task[None]] = dataclasses.field(default_factory=list)


class CallPeer:
    """A participant of a Confide call, with aiortc instead of a browser (see the module doc)."""

    def __init__(
        self, base_url: str, room_id: int, token: str, *, relay_only: bool = False
    ) -> None:
        self.url = base_url.replace("http", "ws", 1) + f"/ws/rooms/{room_id}/"
        self.token = token
        self.force_relay = relay_only
        self.me = 0
        self.ice_servers: list[RTCIceServer] = []
        self.policy = "all"
        self.joined = False
        self.remotes: dict[int, Remote] = {}
        self.history: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []  # the server's `error` events
        self.failures: list[str] = []  # what this peer could not do with a signal
        self.sent_candidates: list[str] = []
        # perf_counter() of the first send and of the first receipt of each kind of frame:
        # "call.ready", "offer", "answer", "candidate", ... (the bench's signaling timings).
        self.sent_at: dict[str, float] = {}
        self.received_at: dict[str, float] = {}
        self._ws: ClientConnection | None = None
        self._changed: asyncio.Condition | None = None
        self._work: asyncio.Queue[dict[str, Any]] | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- the socket ---

    async def open(self) -> dict[str, Any]:
        """Connect with the token and return `hello`."""
        self._changed = asyncio.Condition()
        self._work = asyncio.Queue()
        self._ws = await connect(
            self.url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=TIMEOUT,
            max_size=2**20,
        )
        self._tasks = [
            asyncio.create_task(self._read(), name="peer-read"),
            asyncio.create_task(self._handle(), name="peer-handle"),
        ]
        hello = await self.wait_for(lambda e: e["type"] == "hello")
        self.me = int(hello["me"])
        return hello

    async def send(self, frame: dict[str, Any]) -> None:
        assert self._ws is not None
        kind = frame["type"]
        if kind == "call.signal":
            kind = frame["description"]["type"] if "description" in frame else "candidate"
        self.sent_at.setdefault(kind, time.perf_counter())
        await self._ws.send(json.dumps(frame))

    async def _read(self) -> None:
        assert self._ws is not None and self._changed is not None
        with contextlib.suppress(ConnectionClosed):
            async for raw in self._ws:
                await self._received(raw)
        # Shown in a waiting test's failure message (e.g. a close code 4401 or 4404).
        close = {"type": "closed", "code": self._ws.close_code, "reason": self._ws.close_reason}
        async with self._changed:
            self.history.append(close)
            self._changed.notify_all()

    async def _received(self, raw: str | bytes) -> None:
        now = time.perf_counter()
        assert self._work is not None and self._changed is not None
        event: dict[str, Any] = json.loads(raw)
        kind = event["type"]
        if kind == "call.signal":
            kind = event["description"]["type"] if event.get("description") else "candidate"
        self.received_at.setdefault(kind, now)
        if event["type"] == "error":
            self.errors.append(event)
        # Handled in the order they arrive, like call.js: a `call.ready` that arrives before
        # our own `call.ice` answer is ignored (the sender connects to us when we are ready).
        if event["type"] in ("call.ice", "call.ready", "call.signal"):
            self._work.put_nowait(event)
        async with self._changed:
            self.history.append(event)
            self._changed.notify_all()

    async def wait_until(
        self, condition: Callable[[], bool], seconds: float = TIMEOUT, what: str = ""
    ) -> None:
        """Until `condition()` holds (checked on every event and decoded frame), or fail."""
        assert self._changed is not None
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(condition), seconds)
            except TimeoutError:
                raise AssertionError(
                    f"{self.me}: not {what or condition} within {seconds} s; events "
                    f"{[e['type'] for e in self.history]}, errors {self.errors}, "
                    f"failures {self.failures}"
                ) from None

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], seconds: float = TIMEOUT
    ) -> dict[str, Any]:
        """The first event so far, or from now on, that matches; AssertionError on timeout."""
        found: list[dict[str, Any]] = []

        def match() -> bool:
            found[:] = [e for e in self.history if predicate(e)][:1]
            return bool(found)

        await self.wait_until(match, seconds, "a matching event")
        return found[0]

    # --- the call ---

    async def ask_to_join(self) -> None:
        await self.send({"type": "live.join"})

    async def wait_admitted(self, seconds: float = TIMEOUT) -> None:
        """Until a `live` event shows this person admitted to the session."""
        await self.wait_for(self._admitted, seconds)

    def _admitted(self, event: dict[str, Any]) -> bool:
        session = event.get("session") if event["type"] == "live" else None
        return session is not None and any(
            p["id"] == self.me and p["state"] == "admitted" for p in session["participants"]
        )

    async def join_call(self) -> dict[str, Any]:
        """`call.ice` (ICE servers and policy), then `call.ready`: the others connect to us."""
        await self.send({"type": "call.ice"})
        ice = await self.wait_for(lambda e: e["type"] == "call.ice")
        await self.wait_until(lambda: self.joined)  # the handler took the servers (in order)
        await self.send({"type": "call.ready"})
        return ice

    def _take_ice(self, ice: dict[str, Any]) -> None:
        self.ice_servers = [
            RTCIceServer(
                urls=server["urls"],
                username=server.get("username"),
                credential=server.get("credential"),
            )
            for server in ice["ice_servers"]
        ]
        self.policy = ice["policy"]
        self.joined = True

    @property
    def relay_only(self) -> bool:
        return self.force_relay or self.policy == "relay"

    def _fresh(self, user: int) -> Remote:
        """A new peer connection to `user` (dropping any earlier one, as call.js does)."""
        old = self.remotes.pop(user, None)
        if old is not None:
            self._spawn(self._close_remote(old))
        pc = RTCPeerConnection(
            RTCConfiguration(
                iceServers=self.ice_servers,
                iceTransportPolicy=(
                    RTCIceTransportPolicy.RELAY if self.relay_only else RTCIceTransportPolicy.ALL
                ),
                bundlePolicy=RTCBundlePolicy.MAX_BUNDLE,
            )
        )
        remote = Remote(user=user, pc=pc, polite=self.me > user)

        def on_track(track: MediaStreamTrack) -> None:
            remote.consumers.append(asyncio.create_task(self._consume(remote, track)))

        pc.add_listener("track", on_track)
        self.remotes[user] = remote
        return remote

    def _add_tracks(self, remote: Remote) -> None:
        if not remote.has_tracks:
            remote.pc.addTrack(Tone())
            remote.pc.addTrack(MovingBar())
            remote.has_tracks = True

    async def _consume(self, remote: Remote, track: MediaStreamTrack) -> None:
        assert self._changed is not None
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            remote.frames[track.kind] += 1
            remote.first_frame_at.setdefault(track.kind, time.perf_counter())
            if isinstance(frame, VideoFrame):
                remote.video_sizes.add((frame.width, frame.height))
            async with self._changed:
                self._changed.notify_all()

    async def _send_description(self, user: int, pc: RTCPeerConnection) -> None:
        local = pc.localDescription
        sdp, candidates = split_candidates(local.sdp)
        await self.send(
            {"type": "call.signal", "to": user, "description": {"type": local.type, "sdp": sdp}}
        )
        for candidate in candidates:
            self.sent_candidates.append(candidate["candidate"])
            await self.send({"type": "call.signal", "to": user, "candidate": candidate})
        await self.send({"type": "call.signal", "to": user, "candidate": None})

    async def _offer(self, user: int) -> None:
        remote = self._fresh(user)
        remote.role = "offerer"
        self._add_tracks(remote)
        remote.making_offer = True
        try:
            await remote.pc.setLocalDescription(await remote.pc.createOffer())
        finally:
            remote.making_offer = False
        await self._send_description(user, remote.pc)

    async def _on_description(self, user: int, description: dict[str, Any]) -> None:
        remote = self.remotes.get(user)
        if description["type"] == "offer":
            collision = remote is not None and (
                remote.making_offer or remote.pc.signalingState != "stable"
            )
            if remote is not None and collision and not remote.polite:
                remote.ignore_offer = True  # perfect negotiation: the impolite side carries on
                return
            if remote is None or collision:
                # aiortc cannot roll back a local offer: the polite side starts afresh.
                remote = self._fresh(user)
            remote.ignore_offer = False
            remote.role = "answerer"
            await remote.pc.setRemoteDescription(RTCSessionDescription(description["sdp"], "offer"))
            self._add_tracks(remote)
            await remote.pc.setLocalDescription(await remote.pc.createAnswer())
            await self._send_description(user, remote.pc)
        elif description["type"] == "answer" and remote is not None:
            remote.ignore_offer = False
            if remote.pc.signalingState == "have-local-offer":
                await remote.pc.setRemoteDescription(
                    RTCSessionDescription(description["sdp"], "answer")
                )

    async def _handle(self) -> None:
        """call.ice, call.ready and call.signal, one at a time and in order (as call.js)."""
        assert self._work is not None and self._changed is not None
        while True:
            event = await self._work.get()
            try:
                await self._handle_one(event)
            except Exception as error:  # kept for the test's assertion message, not swallowed
                self.failures.append(f"{event['type']}: {error!r}")
            async with self._changed:
                self._changed.notify_all()

    async def _handle_one(self, event: dict[str, Any]) -> None:
        user = int(event.get("from") or event.get("user") or 0)
        if event["type"] == "call.ice":
            self._take_ice(event)
        elif event["type"] == "call.ready":
            if self.joined:
                await self._offer(user)
        elif not self.joined:
            return
        elif event.get("description"):
            await self._on_description(user, event["description"])
        elif "candidate" in event:
            remote = self.remotes.get(user)
            if remote is not None and not remote.ignore_offer:
                await remote.pc.addIceCandidate(parse_candidate(event["candidate"] or {}))

    # --- what the tests look at ---

    async def wait_frames(
        self, user: int, *, video: int, audio: int, seconds: float = 30.0
    ) -> Remote:
        """Wait until at least `video` and `audio` frames from `user` have been decoded."""

        def enough() -> bool:
            remote = self.remotes.get(user)
            return (
                remote is not None
                and remote.frames["video"] >= video
                and remote.frames["audio"] >= audio
            )

        def state() -> str:
            remote = self.remotes.get(user)
            if remote is None:
                return "no connection"
            pc = remote.pc
            return f"{pc.connectionState}/{pc.iceConnectionState}, {remote.frames} decoded"

        try:
            await self.wait_until(enough, seconds, f"{video} video and {audio} audio frames")
        except AssertionError as error:
            raise AssertionError(f"{error}; from {user}: {state()}") from None
        return self.remotes[user]

    def selected_candidate_types(self, user: int) -> tuple[str, str]:
        """(local, remote) candidate types of the ICE pair in use to `user`.

        aiortc's getStats has no candidate pairs, so this reads aioice's nominated pair.
        """
        pc = self.remotes[user].pc
        transceiver = pc.getTransceivers()[0]
        ice = transceiver.receiver.transport.transport
        pair = ice._connection._nominated[1]
        return pair.local_candidate.type, pair.remote_candidate.type

    # --- the end ---

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._tasks.append(asyncio.create_task(coro))

    async def _close_remote(self, remote: Remote) -> None:
        for task in remote.consumers:
            task.cancel()
        await remote.pc.close()

    async def close(self) -> None:
        for remote in list(self.remotes.values()):
            await self._close_remote(remote)
        self.remotes.clear()
        if self._ws is not None:
            await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class LoopThread:
    """An asyncio loop in a daemon thread; `run(coro, timeout)` waits for a result from it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> LoopThread:
        self.thread.start()
        return self

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = TIMEOUT) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise AssertionError(f"timed out after {timeout} s") from None

    def __exit__(self, *exc: object) -> None:
        async def cancel_rest() -> None:
            current = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not current]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        with contextlib.suppress(AssertionError):
            self.run(cancel_rest(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        if not self.thread.is_alive():
            self.loop.close()
