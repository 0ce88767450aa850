"""Run Django's synchronous request code on a few long-lived threads.

Under ASGI, Django gives every request its own thread-sensitive context, and asgiref then starts
a new thread for it: each request opened (and dropped) its own database connection, which cost
more than the request's queries (bench/send.py). Here every request is given one of
`ASGI_SYNC_THREADS` long-lived single-thread executors, the least busy one. Each thread keeps its
database connection between requests (CONN_MAX_AGE), and a slow request delays only the requests
queued on its own thread.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext
from django.conf import settings

Scope = dict[str, Any]


class SyncThreadPool:
    def __init__(self, app: Any, size: int | None = None) -> None:
        self.app = app
        count = size or settings.ASGI_SYNC_THREADS
        self.executors = [
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"confide-sync-{i}")
            for i in range(count)
        ]
        self.busy = [0] * count

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        index = min(range(len(self.busy)), key=self.busy.__getitem__)
        self.busy[index] += 1
        try:
            async with ThreadSensitiveContext(executor=self.executors[index]):
                await self.app(scope, receive, send)
        finally:
            self.busy[index] -= 1
