"""Schemathesis generates requests from the OpenAPI schema: none may produce a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from confide.accounts.services import token_create
from tests.personas import build_personas

# Loading the schema needs no database: /api/v1/openapi.json is built from the code.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def tokens(db: None) -> Iterator[list[str]]:
    """Personal access tokens of the admin, a therapist and a client: each generated request
    is sent as each of them, so every role's code path is fuzzed."""
    # Like Django's test client: keep the test's connection (and its transaction) open across
    # requests instead of closing it when each request finishes.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        people = build_personas()
        yield [
            token_create(user=user, name="fuzz")[1]
            for user in (people.admin, people.therapist, people.client)
        ]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_request_makes_the_api_fail(case: Any, tokens: list[str]) -> None:
    for token in tokens:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
        )
