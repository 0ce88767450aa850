from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("CONFIDE_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# Debian's Chromium, quiet: no background connections to anyone, no first-run noise.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Fake camera and microphone, granted without a prompt (voice notes, later calls).
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


@pytest.fixture
def browser() -> Iterator[Any]:
    """Chromium for one test: Playwright's event loop must not outlive it, or later tests'
    database calls would look like calls from async code."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Debian's chromium is needed at {CHROMIUM} (make browser)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(
    browser: Any, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    """new_page(name, mobile=False) -> a page in a fresh context; screenshots on failure."""
    # Playwright's sync API keeps an event loop on the test's thread; the test's own ORM calls
    # (building personas, reading mail) are still plain synchronous code, so allow them here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    pages: list[tuple[str, Any]] = []

    def _new(name: str, *, mobile: bool = False) -> Any:
        size = {"width": 390, "height": 844} if mobile else {"width": 1280, "height": 860}
        context = browser.new_context(viewport=size, locale="en-GB")
        page = context.new_page()
        page.set_default_timeout(10_000)
        pages.append((name, page))
        return page

    yield _new
    failed = getattr(request.node, "rep_call", None)
    for name, page in pages:
        if failed is not None and failed.failed:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(
                path=str(ARTIFACTS / f"{request.node.name}-{name}-failure.png"), full_page=True
            )
        page.context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
