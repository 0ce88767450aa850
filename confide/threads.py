"""Run Django's synchronous request code on a few long-lived threads.

Under ASGI, Django gives every request its own thread-sensitive context, and asgiref then starts
a new thread for it: each request opened (and dropped) its own database connection, which cost
more than the request's queries (bench/send.py). Here every request is given one of
`ASGI_SYNC_THREADS` long-lived single-thread executors, the least busy one. Each thread keeps its
database connection between requests (CONN_MAX_AGE), and a slow request delays only the requests
queued on its own thread.

The event loop and these threads share one interpreter lock. By default a thread that wants the
lock waits up to 5 ms for the running one to let go, and a request passes between the loop and
its thread several times: under load that wait, not the work, was most of a request's latency
(bench/send.py: p99 155 ms at 200 sends/s with 5 ms, 21 ms with 0.2 ms). `tune_interpreter`
shortens the interval (ASGI_SWITCH_INTERVAL_US) and moves everything loaded at start-up out of
the garbage collector's way (`gc.freeze`), with a larger first generation (GC_GEN0_THRESHOLD),
so collections stay short and rare.
"""

from __future__ import annotations

import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

from confide.rooms.events import publish_from_this_loop

Scope = dict[str, Any]


def tune_interpreter() -> None:
    """Settings for a process that serves requests: call once, after the app is loaded."""
    sys.setswitchinterval(settings.ASGI_SWITCH_INTERVAL_US / 1_000_000)
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(settings.GC_GEN0_THRESHOLD, gen1, gen2)
    gc.freeze()


class SyncThreadPool:
    def __init__(self, app: Any, size: int | None = None) -> None:
        self.app = app
        self.tuned = False
        count = size or settings.ASGI_SYNC_THREADS
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"confide-sync-{i}")
            for i in range(count)
        ]
        self.busy = [0] * count

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        publish_from_this_loop()
        index = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            async with ThreadSensitiveContext(executor=self.executors[index]):
                await self.app(scope, receive, send)
        finally:
            self.busy[index] -= 1
            if not self.tuned:  # after the first request: the app has loaded what it loads lazily
                self.tuned = True
                tune_interpreter()
