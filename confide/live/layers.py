"""The in-memory channel layer of the embedded default, without its per-event sweep.

Channels' InMemoryChannelLayer walks every channel and every group membership on each send and
receive to expire old entries, so its cost grows with the number of open sockets (a fifth of
the CPU with 1,200 sockets in bench/live_latency.py). Expiry only needs to happen now and then:
this layer sweeps at most once a second.
"""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer

SWEEP_EVERY = 1.0


class SweepingInMemoryChannelLayer(InMemoryChannelLayer):  # type: ignore[misc]
    _last_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < SWEEP_EVERY:
            return
        self._last_sweep = now
        super()._clean_expired()
