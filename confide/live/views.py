"""Pages for live sessions: thin forms around the live services. Without JavaScript each form
posts and the room reloads; with it, the room page posts in the background and the room stream
brings the new state to everyone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from confide.accounts.models import User
from confide.errors import DomainError, NotFound, http_status
from confide.live import services
from confide.live.selectors import panel_context
from confide.rooms import selectors


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _background(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _act(
    request: HttpRequest, room_id: int, action: Callable[..., Any], **kwargs: Any
) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    try:
        action(actor=user, room=room, **kwargs)
    except NotFound as error:
        if _background(request):
            return HttpResponse(error.message, status=409, content_type="text/plain")
        messages.error(request, error.message)
    except DomainError as error:
        if _background(request):
            return HttpResponse(error.message, status=http_status(error), content_type="text/plain")
        messages.error(request, error.message)
    if _background(request):
        return HttpResponse(status=204)
    return redirect("room", room_id=room.pk)


@require_POST
@login_required
def live_start(request: HttpRequest, room_id: int) -> HttpResponse:
    raw = request.POST.get("minutes", "")
    minutes = int(raw) if raw.isdigit() and len(raw) < 4 else -1
    mode = request.POST.get("mode", "chat")[:16]
    return _act(request, room_id, services.live_start, minutes=minutes, mode=mode)


@require_POST
@login_required
def live_join(request: HttpRequest, room_id: int) -> HttpResponse:
    return _act(request, room_id, services.live_join)


@require_POST
@login_required
def live_leave(request: HttpRequest, room_id: int) -> HttpResponse:
    return _act(request, room_id, services.live_leave)


@require_POST
@login_required
def live_end(request: HttpRequest, room_id: int) -> HttpResponse:
    return _act(request, room_id, services.live_end)


@require_POST
@login_required
def live_admit(request: HttpRequest, room_id: int, user_id: int) -> HttpResponse:
    return _act(request, room_id, services.live_admit, user_id=user_id)


@require_GET
@login_required
def live_panel(request: HttpRequest, room_id: int) -> HttpResponse:
    """The live panel alone, for the room page to refresh when the session changes."""
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    return render(request, "live/_panel.html", panel_context(room=room, viewer=user))


@require_POST
@login_required
def live_mode(request: HttpRequest, room_id: int) -> HttpResponse:
    mode = request.POST.get("mode", "")[:16]
    return _act(request, room_id, services.live_mode_change, mode=mode)
