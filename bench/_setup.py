"""Shared set-up for the benchmarks: a throwaway database and Django configured to use it."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(db: str) -> dict[str, Any]:
    """Point Confide at a fresh SQLite file or a fresh PostgreSQL database, then set up Django.

    Returns a description for the JSON line and a `cleanup` callable.
    """
    var = tempfile.mkdtemp(prefix="confide-bench-")
    os.environ["CONFIDE_VAR_DIR"] = var
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "confide.settings")
    os.environ.pop("REDIS_URL", None)
    cleanup: list[Callable[[], None]] = []
    if db == "postgres":
        import psycopg

        base = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
        name = f"confide_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = base.rsplit("/", 1)[0] + "/" + name

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(base, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

        cleanup.append(drop)
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    def run_cleanup() -> None:
        for step in cleanup:
            step()

    return {"var": var, "cleanup": run_cleanup}


def percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 3), "p99": round(percentile(samples, 99), 3)}


def machine() -> str:
    return f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}"
