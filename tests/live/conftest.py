from __future__ import annotations

from collections.abc import Iterator

import pytest

from confide.live.limits import messages_per_user


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    """The per-process message counters must not carry over between tests (ids are reused)."""
    messages_per_user.events.clear()
    yield
    messages_per_user.events.clear()
