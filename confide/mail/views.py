"""Pages for email delivery: the choice in a room, the link in every email, revoking addresses."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from confide.accounts.models import User
from confide.errors import InvalidInput, NotFound
from confide.mail import services
from confide.mail.outbound import unsubscribe_load
from confide.rooms.models import Delivery, Room

_DONE = {
    Delivery.NOTIFY: "You will get an email saying there is something new, without the content.",
    Delivery.EMAIL: "Messages in this room will now arrive by email, and you can reply by email.",
    Delivery.NONE: "You will get no email about this room.",
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


@require_POST
@login_required
def delivery_choose(request: HttpRequest, room_id: int) -> HttpResponse:
    """The form beside a room's composer. Email therapy needs the explanation acknowledged."""
    delivery = request.POST.get("delivery", "")
    try:
        if delivery == Delivery.EMAIL and request.POST.get("understood") != "yes":
            raise InvalidInput(
                "To choose email therapy, tick the box that says you have read what email does "
                "and does not protect."
            )
        services.delivery_choose(
            actor=_user(request), room=Room(pk=room_id), delivery=delivery, via="web"
        )
    except InvalidInput as exc:
        messages.error(request, exc.message)
        return redirect(reverse("room", args=[room_id]) + "#delivery")
    messages.success(request, _DONE[Delivery(delivery)])
    return redirect(reverse("room", args=[room_id]) + "#delivery")


@csrf_exempt  # the signed link is the credential; mail providers POST it one-click (RFC 8058)
@require_http_methods(["GET", "POST"])
def delivery_link(request: HttpRequest, value: str) -> HttpResponse:
    """The List-Unsubscribe link: GET asks, POST changes. Works without signing in."""
    try:
        user_id, room_id, delivery = unsubscribe_load(value)
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        return render(request, "mail/link_invalid.html", status=404)
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or delivery not in Delivery.values:
        return render(request, "mail/link_invalid.html", status=404)
    if request.method == "GET":
        return render(
            request,
            "mail/delivery_link.html",
            {"delivery": delivery, "label": Delivery(delivery).label, "value": value},
        )
    try:
        services.delivery_choose(actor=user, room=Room(pk=room_id), delivery=delivery, via="link")
    except NotFound:
        return render(request, "mail/link_invalid.html", status=404)
    return render(request, "mail/delivery_done.html", {"done": _DONE[Delivery(delivery)]})


@require_POST
@login_required
def reply_addresses_revoke(request: HttpRequest) -> HttpResponse:
    count = services.reply_tokens_revoke(actor=_user(request))
    messages.success(
        request,
        f"{count} reply address{'es' if count != 1 else ''} withdrawn. Replies to earlier emails "
        "will be refused; new emails carry new addresses.",
    )
    return redirect("account")
