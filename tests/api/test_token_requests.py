"""API requests with a personal access token, through the server: the lean handler
(confide/api/handler.py) answers them as the full middleware stack does, and the token, the
account and consent are checked on every request."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from django.test import Client

from confide.accounts.models import ConsentDocument, PersonalAccessToken, User
from confide.accounts.selectors import consent_is_current
from confide.accounts.services import token_caller, token_create
from confide.api.handler import is_token_api_request
from confide.audit.models import AuditEvent
from confide.rooms.models import Room
from tests.personas import Personas, build_personas

STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def call(
    base: str, method: str, path: str, *, token: str = "", body: Any = None, cookie: str = ""
) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(  # noqa: S310 - the test server on loopback
        base + path,
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if cookie:
        request.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, raw = response.status, response.read()
            headers = {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
        headers = {k.lower(): v for k, v in error.headers.items()}
    return status, headers, json.loads(raw) if raw else None


@pytest.fixture
def people(live_app: str) -> Personas:
    return build_personas()


def test_only_token_requests_without_a_session_cookie_take_the_lean_handler() -> None:
    def scope(path: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
        return {"type": "http", "path": path, "headers": list(headers)}

    bearer = (b"authorization", b"Bearer cfd_x")
    assert is_token_api_request(scope("/api/v1/me", bearer))
    assert is_token_api_request(scope("/api/v1/me", (b"authorization", b"bearer cfd_x")))
    assert not is_token_api_request(scope("/api/v1/me"))
    assert not is_token_api_request(scope("/rooms/1/", bearer))
    assert not is_token_api_request(scope("/api/v1/me", (b"authorization", b"Basic eDp5")))
    # A bad token with a session cookie falls back to the session: the full stack decides.
    cookie = (b"cookie", b"theme=dark; confide_session=abc")
    assert not is_token_api_request(scope("/api/v1/me", bearer, cookie))
    assert is_token_api_request(scope("/api/v1/me", bearer, (b"cookie", b"theme=dark")))


def test_a_send_through_the_server_answers_as_the_full_stack_does(
    live_app: str, people: Personas
) -> None:
    room = Room.objects.get(relationship=people.individual)
    _, raw = token_create(user=people.client, name="script")
    status, headers, me = call(live_app, "GET", "/api/v1/me", token=raw)
    full = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/v1/me")
    assert status == 200 and me == full.json()
    # The lean handler answered: its answers are data, under a policy that allows nothing.
    assert headers["content-security-policy"] == STRICT_POLICY
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "set-cookie" not in headers

    body = {"body": "hello from a script", "client_id": str(uuid.uuid4())}
    status, _, sent = call(
        live_app, "POST", f"/api/v1/rooms/{room.pk}/messages", token=raw, body=body
    )
    assert status == 201 and sent["created"] is True and sent["crisis"] is None
    assert sent["message"]["body"] == "hello from a script" and sent["message"]["seq"] == 1
    assert sent["message"]["sender"] == {"id": people.client.pk, "name": "Cam Client"}
    status, _, again = call(
        live_app, "POST", f"/api/v1/rooms/{room.pk}/messages", token=raw, body=body
    )
    assert status == 200 and again["created"] is False and again["message"] == sent["message"]
    # The full stack gives the same answer for the same resend.
    full = Client(headers={"Authorization": f"Bearer {raw}"}).post(
        f"/api/v1/rooms/{room.pk}/messages", body, content_type="application/json"
    )
    assert full.status_code == 200 and full.json() == again
    audit = AuditEvent.objects.get(action="message.send", object_id=str(sent["message"]["id"]))
    assert audit.actor_id == people.client.pk and audit.ip == "127.0.0.1"


def test_errors_keep_their_shape_on_the_lean_handler(live_app: str, people: Personas) -> None:
    room = Room.objects.get(relationship=people.individual)
    _, outsider = token_create(user=people.outsider, name="script")
    _, client = token_create(user=people.client, name="script")
    body = {"body": "hi", "client_id": str(uuid.uuid4())}
    path = f"/api/v1/rooms/{room.pk}/messages"
    assert call(live_app, "POST", path, token=outsider, body=body)[::2] == (
        404,
        {"detail": "No such room.", "errors": {}},
    )
    assert (
        call(live_app, "POST", "/api/v1/rooms/999999/messages", token=client, body=body)[0] == 404
    )
    status, _, answer = call(live_app, "POST", path, token=client, body={"body": "hi"})
    assert status == 422 and "detail" in answer
    status, _, answer = call(live_app, "POST", path, token=client, body={**body, "body": " "})
    assert status == 400 and answer["errors"] == {"body": ["Write something."]}
    assert call(live_app, "GET", "/api/v1/me", token="cfd_not-a-real-token")[::2] == (
        401,
        {"detail": "Authentication required."},
    )


def test_a_revoked_token_is_refused_at_once(live_app: str, people: Personas) -> None:
    token, raw = token_create(user=people.therapist, name="script")
    assert call(live_app, "GET", "/api/v1/me", token=raw)[0] == 200
    assert call(live_app, "DELETE", f"/api/v1/tokens/{token.pk}", token=raw)[0] == 200
    assert call(live_app, "GET", "/api/v1/me", token=raw)[0] == 401
    # Revoked elsewhere (another process, the account page): refused on the next request too.
    other, raw_other = token_create(user=people.therapist, name="second")
    assert call(live_app, "GET", "/api/v1/me", token=raw_other)[0] == 200
    PersonalAccessToken.objects.filter(pk=other.pk).update(revoked_at=other.created_at)
    assert call(live_app, "GET", "/api/v1/me", token=raw_other)[0] == 401


def test_a_deactivated_account_or_a_client_behind_on_consent_is_refused_at_once(
    live_app: str, people: Personas
) -> None:
    _, client = token_create(user=people.client, name="script")
    _, therapist = token_create(user=people.therapist, name="script")
    assert call(live_app, "GET", "/api/v1/me", token=client)[0] == 200
    ConsentDocument.objects.create(version=2, title="Informed consent, v2", body="...")
    assert call(live_app, "GET", "/api/v1/me", token=client)[0] == 401
    assert call(live_app, "GET", "/api/v1/me", token=therapist)[0] == 200
    User.objects.filter(pk=people.therapist.pk).update(is_active=False)
    assert call(live_app, "GET", "/api/v1/me", token=therapist)[0] == 401


@pytest.mark.django_db
def test_the_token_check_reads_consent_as_the_consent_selector_does() -> None:
    people = build_personas()
    cases = []
    for user in (people.client, people.therapist, people.outsider):
        _, raw = token_create(user=user, name="t")
        cases.append((user, raw))

    def agree() -> None:
        for user, raw in cases:
            caller = token_caller(raw=raw)
            assert caller is not None and caller.user == user
            assert caller.consent_current is consent_is_current(user=user)

    agree()  # the current version accepted
    ConsentDocument.objects.create(version=2, title="v2", body="...")
    agree()  # only an older version accepted
    assert token_caller(raw="cfd_unknown") is None and token_caller(raw="nope") is None
