from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from typing import Any, cast

import pytest
from django.test import Client, TestCase

from tests.personas import Personas, always_at_work, build_personas, sign_in

REQUIRE_SERVICES = os.environ.get("CONFIDE_REQUIRE_SERVICES") == "1"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # Argon2 stays the production hasher (tested on its own); tests hash thousands of times.
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]


@pytest.fixture
def people(db: None) -> Personas:
    return build_personas()


@pytest.fixture
def at_work(people: Personas) -> None:
    """The personas' therapists work around the clock (see personas.always_at_work)."""
    always_at_work(people.therapist, people.colleague)


@pytest.fixture
def as_user(client: Client) -> Any:
    """as_user(user) -> a test client signed in as that person (second factor passed)."""

    def _as(user: Any) -> Client:
        fresh = Client()
        return sign_in(fresh, user)

    return _as


def run_tasks() -> int:
    """Run every queued task through the database worker's own `run_task`, in this thread.

    (`db_worker --batch` closes the connection between tasks, which a test transaction cannot
    survive; the claim-and-run path is the same.) Returns how many tasks ran.
    """
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    ran = 0
    while (row := DBTaskResult.objects.ready().first()) is not None:
        row.claim(worker.worker_id)
        # The worker runs each task in its own committed transactions, so what a task defers
        # to on_commit (sending mail) happens; inside a test's transaction, run those hooks too.
        with TestCase.captureOnCommitCallbacks(execute=True):
            worker.run_task(row)
        ran += 1
    return ran


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_url_or_skip() -> str:
    """The Redis to test against. Without one: skip locally, fail when CI requires services."""
    import redis

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis is required (CONFIDE_REQUIRE_SERVICES=1) but {url} failed: {exc}")
        pytest.skip(f"Redis not reachable at {url}")
    return url


@pytest.fixture(scope="session", autouse=True)
def _end_server_thread_sessions(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Django's ASGI handler keeps a connection in each of asgiref's worker threads; once every
    test is done, end those PostgreSQL sessions so the test database can be dropped."""
    yield
    from django.db import connections

    with django_db_blocker.unblock():
        connection = connections["default"]
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def live_app(transactional_db: None) -> Iterator[str]:
    """Confide's ASGI app served by uvicorn on a free port, in a thread of this process."""
    import uvicorn
    from django.db import connections

    from confide.asgi import application

    # Each request closes its database connection when it ends, so no connection of the
    # server's threads outlives the test (PostgreSQL cannot drop a database still in use).
    database = connections.settings["default"]
    previous_max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            application,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(200):
        if server.started:
            started.set()
            break
        started.wait(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database["CONN_MAX_AGE"] = previous_max_age


@pytest.fixture(scope="session", autouse=True)
def _own_redis_prefix() -> Iterator[None]:
    """Two test runs against one Redis would hear each other's room events (ids repeat across
    test databases, and Redis pub/sub ignores the database number): each run gets its prefix."""
    from channels.layers import channel_layers
    from django.conf import settings

    config = cast("dict[str, Any] | None", settings.CHANNEL_LAYERS["default"].get("CONFIG"))
    if config is None or "prefix" not in config:
        yield
        return
    original = config["prefix"]
    config["prefix"] = f"{original}-test-{os.getpid()}"
    channel_layers.backends.clear()
    yield
    config["prefix"] = original
    channel_layers.backends.clear()
