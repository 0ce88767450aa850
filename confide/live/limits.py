"""Limits on the room stream, so one noisy client cannot slow anyone else down.

- Frames: at most MAX_FRAME bytes (the server also refuses larger frames at the protocol level).
- Events: a token bucket per socket (EVENTS_PER_SECOND, burst EVENT_BURST); frames over it are
  dropped with a `rate_limited` error, at most one error per second.
- Messages: LIVE_MESSAGES_PER_MINUTE per person in each server process (a sliding minute).
- Connections: LIVE_MAX_CONNECTIONS_PER_USER open sockets per person, counted across processes
  from the presence rows that are still fresh.
"""

from __future__ import annotations

import collections
import time

MAX_FRAME = 64 * 1024
EVENTS_PER_SECOND = 10.0
EVENT_BURST = 40.0


class TokenBucket:
    """`rate` events a second on average, `burst` at once."""

    __slots__ = ("burst", "level", "rate", "stamp")

    def __init__(self, rate: float = EVENTS_PER_SECOND, burst: float = EVENT_BURST) -> None:
        self.rate, self.burst, self.level = rate, burst, burst
        self.stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.level = min(self.burst, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.level < 1.0:
            return False
        self.level -= 1.0
        return True


class SlidingMinute:
    """At most `limit` events per key in any 60 seconds (kept in this process's memory)."""

    def __init__(self) -> None:
        self.events: dict[int, collections.deque[float]] = {}

    def allow(self, key: int, limit: int) -> float:
        """0 when allowed (and counted); otherwise seconds until the next one would be."""
        now = time.monotonic()
        window = self.events.setdefault(key, collections.deque())
        while window and now - window[0] >= 60.0:
            window.popleft()
        if len(window) >= limit:
            return 60.0 - (now - window[0])
        window.append(now)
        return 0.0

    def forget_idle(self) -> None:
        now = time.monotonic()
        for key in [k for k, w in self.events.items() if not w or now - w[-1] >= 60.0]:
            del self.events[key]


messages_per_user = SlidingMinute()
