"""The serving process is tuned once its first request has loaded the app (confide/threads.py)."""

from __future__ import annotations

import gc
import sys
import threading
import time
import urllib.request
from typing import Any


def test_the_first_request_tunes_the_interpreter_for_serving(live_app: str, settings: Any) -> None:
    with urllib.request.urlopen(live_app + "/healthz", timeout=10) as response:  # noqa: S310
        assert response.status == 200
    wanted = settings.ASGI_SWITCH_INTERVAL_US / 1_000_000
    # The pool tunes after the first response has gone out: wait for it, with a deadline.
    deadline = time.monotonic() + 5
    pause = threading.Event()
    while abs(sys.getswitchinterval() - wanted) > 1e-9 and time.monotonic() < deadline:
        pause.wait(0.01)
    assert abs(sys.getswitchinterval() - wanted) < 1e-9
    assert gc.get_threshold()[0] == settings.GC_GEN0_THRESHOLD
    assert gc.get_freeze_count() > 0
