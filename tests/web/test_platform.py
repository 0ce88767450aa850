"""The platform around the product: health check, headers, settings, deploy check, layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from confide import settings as confide_settings
from tests.conftest import redis_url_or_skip

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_healthz_answers_200_when_the_database_is_reachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_is_not(tmp_path: Path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='confide.settings'; "
        "django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
    )
    # Nothing listens on port 9 of loopback: the database is unreachable.
    result = run_python(
        code, DATABASE_URL="postgres://nobody@127.0.0.1:9/none", CONFIDE_VAR_DIR=str(tmp_path)
    )
    status, _, body = result.stdout.strip().partition(" ")
    assert status == "503", result.stderr[-2000:]
    assert json.loads(body)["status"] == "unavailable"


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client: Client) -> None:
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    html = response.content.decode()
    assert "/static/vendor/htmx.min.js" in html
    assert "http://" not in html.replace("http://testserver", "")
    assert "https://" not in html


def test_no_template_or_static_file_loads_anything_from_elsewhere() -> None:
    web = ROOT / "confide" / "web"
    for path in [*web.rglob("*.html"), *web.rglob("*.css"), *web.rglob("*.js")]:
        text = path.read_text(encoding="utf-8")
        for marker in ('src="http', 'href="http', "url(http", "@import"):
            assert marker not in text, f"{path} loads {marker}"


def test_production_settings_pass_the_deploy_check(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "CONFIDE_HTTPS": "1",
            "CONFIDE_DEBUG": "0",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "ALLOWED_HOSTS": "confide.example",
            "CONFIDE_VAR_DIR": str(tmp_path),
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_settings_fail_loudly_on_bad_values(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONFIDE_X", "maybe")
    with pytest.raises(ImproperlyConfigured):
        confide_settings.env_bool("CONFIDE_X", False)
    monkeypatch.setenv("CONFIDE_X", "ten")
    with pytest.raises(ImproperlyConfigured):
        confide_settings.env_int("CONFIDE_X", 1)
    monkeypatch.setenv("CONFIDE_X", "-1")
    with pytest.raises(ImproperlyConfigured):
        confide_settings.env_int("CONFIDE_X", 1, minimum=0)
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("CONFIDE_X_FILE", str(secret))
    assert confide_settings.env_str("CONFIDE_X") == "from-a-file"
    monkeypatch.setenv("CONFIDE_X_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured):
        confide_settings.env_str("CONFIDE_X")


def test_the_embedded_database_runs_in_wal_mode(tmp_path: Path) -> None:
    code = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='confide.settings'; "
        "django.setup(); from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**env, "CONFIDE_VAR_DIR": str(tmp_path)},
    )
    assert result.stdout.strip() == "wal", result.stderr[-2000:]


def _round_trip(layer: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        channel = await layer.new_channel()
        await layer.group_add("room.test", channel)
        await layer.group_send("room.test", {"type": "room.ping", "n": 1})
        message: dict[str, Any] = await layer.receive(channel)
        await layer.group_discard("room.test", channel)
        return message

    return async_to_sync(go)()


def test_the_configured_channel_layer_delivers_a_group_message() -> None:
    layer = get_channel_layer()
    assert layer is not None
    expected = "RedisPubSubChannelLayer" if settings.REDIS_URL else "SweepingInMemoryChannelLayer"
    assert type(layer).__name__ == expected
    assert _round_trip(layer) == {"type": "room.ping", "n": 1}


def test_the_redis_channel_layer_delivers_a_group_message() -> None:
    from channels_redis.pubsub import RedisPubSubChannelLayer

    url = redis_url_or_skip()
    layer = RedisPubSubChannelLayer(hosts=[url], prefix=f"confide-test-{uuid.uuid4().hex}")
    assert _round_trip(layer) == {"type": "room.ping", "n": 1}
    async_to_sync(layer.flush)()
