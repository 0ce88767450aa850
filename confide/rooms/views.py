"""Pages for rooms: the room and its log, sending, editing, history, files, export, search."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from confide import crypto
from confide.accounts.models import User
from confide.audit.services import audit_record
from confide.errors import DomainError, InvalidInput
from confide.http import download
from confide.live.selectors import panel_context
from confide.rooms import export, selectors, services
from confide.rooms.models import Delivery, RoomKind
from confide.rooms.payloads import message_payload, message_text
from confide.rooms.schedules import schedule_for_room
from confide.rooms.windows import format_due
from confide.safety.registry import resources_for

PAGE = 100


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # noqa: S101 - guaranteed by login_required
    return request.user


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _title(room: Any, viewer: User) -> str:
    if room.kind == RoomKind.COUPLE:
        return "Couples room"
    if room.kind == RoomKind.PRIVATE:
        if viewer.is_client:
            return f"Your private room with {room.relationship.therapist.display_name}"
        return f"Private room: {room.private_for.display_name}"
    if viewer.is_client:
        return f"Your room with {room.relationship.therapist.display_name}"
    clients = [m.user.display_name for m in room.active_members if m.role == "client"]
    return " & ".join(clients) or "Room"


@require_GET
@login_required
def room_page(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    before = request.GET.get("before")
    page = selectors.messages_page(
        room=room,
        before=int(before) if before and before.isdigit() else room.last_seq + 1,
        limit=PAGE,
    )
    items = [(m, message_payload(m)) for m in page]
    me = next(m for m in room.active_members if m.user_id == user.pk)  # type: ignore[attr-defined]
    first_unread = me.last_read_seq + 1
    services.room_mark_read(actor=user, room=room, seq=room.last_seq)
    audit_record(
        actor=user,
        action="room.view",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
    )
    now = timezone.now()
    due = format_due(room.reply_due_at, user.time_zone, now) if room.reply_due_at else ""
    return render(
        request,
        "rooms/room.html",
        {
            "room": room,
            "title": _title(room, user),
            "items": items,
            "first_unread": first_unread,
            "has_earlier": bool(page) and page[0].seq > 1,
            "earliest": page[0].seq if page else 0,
            "audience": selectors.audience(room, user),
            "due": due,
            "is_staff": me.is_staff_side,
            "crisis_now": request.GET.get("crisis") == "1",
            "crisis": resources_for(_client_country(room, user)),
            "client_id": uuid.uuid4(),
            "seen_by": [
                m.user.display_name
                for m in room.active_members  # type: ignore[attr-defined]
                if m.user_id != user.pk
                and m.user.read_receipts
                and room.last_seq
                and m.last_read_seq >= room.last_seq
            ],
            "working": schedule_for_room(room),
            "delivery": me.delivery,
            "delivery_choices": Delivery.choices,
            "limits": services.settings_snapshot(),
            **panel_context(room=room, viewer=user),
        },
    )


def _client_country(room: Any, viewer: User) -> str:
    """The crisis lines shown are the client's: the viewer's own, or the first client's."""
    if viewer.is_client:
        return viewer.country
    clients = [m.user for m in room.active_members if m.role == "client"]
    return clients[0].country if clients else viewer.country


@require_POST
@login_required
def room_send(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    try:
        client_id = uuid.UUID(request.POST.get("client_id", ""))
    except ValueError:
        client_id = None
    upload_file = request.FILES.get("attachment")
    try:
        if client_id is None:
            raise InvalidInput(
                "Missing message id.",
                field_errors={"client_id": ["Reload the page and try again."]},
            )
        upload = None
        if upload_file is not None:
            if upload_file.size is not None and upload_file.size > 26 * 1024 * 1024:
                raise InvalidInput(
                    "The file is too large.",
                    field_errors={"attachment": ["Files can be at most 25 MiB."]},
                )
            duration = request.POST.get("duration_ms", "")
            upload = services.Upload(
                data=upload_file.read(),
                name=upload_file.name or "",
                voice=request.POST.get("voice") == "1",
                duration_ms=int(duration) if duration.isdigit() and len(duration) < 9 else None,
            )
        result = services.message_send(
            actor=user,
            room=room,
            body=request.POST.get("body", ""),
            client_id=client_id,
            upload=upload,
        )
    except DomainError as error:
        if _wants_json(request):
            return JsonResponse({"detail": error.message, "errors": error.field_errors}, status=400)
        messages.error(request, error.message)
        return redirect("room", room_id=room.pk)
    if _wants_json(request):
        crisis = resources_for(user.country) if result.crisis else None
        return JsonResponse(
            {
                "message": message_payload(result.message),
                "created": result.created,
                "crisis": None
                if crisis is None
                else {
                    "emergency_number": crisis.emergency_number,
                    "lines": [
                        {"name": line.name, "phone": line.phone, "text": line.text, "url": line.url}
                        for line in crisis.lines
                    ],
                },
            },
            status=201 if result.created else 200,
        )
    target = f"/rooms/{room.pk}/" + ("?crisis=1" if result.crisis else "")
    return redirect(target + f"#m{result.message.seq}")


@require_http_methods(["GET", "POST"])
@login_required
def message_edit(request: HttpRequest, room_id: int, seq: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    if request.method == "POST":
        try:
            services.message_edit(actor=user, room=room, seq=seq, body=request.POST.get("body", ""))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect(f"/rooms/{room.pk}/#m{seq}")
    message = next(iter(selectors.messages_page(room=room, after=seq - 1, limit=1)), None)
    if message is None or message.seq != seq or message.sender_id != user.pk:
        return render(
            request,
            "error.html",
            {"status": 404, "message": "This page does not exist."},
            status=404,
        )
    return render(
        request, "rooms/edit.html", {"room": room, "seq": seq, "body": message_text(message)}
    )


@require_POST
@login_required
def message_delete(request: HttpRequest, room_id: int, seq: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    services.message_delete(actor=user, room=room, seq=seq)
    messages.success(request, "The message is deleted. The room sees that it was.")
    return redirect(f"/rooms/{room.pk}/#m{seq}")


@require_GET
@login_required
def message_history(request: HttpRequest, room_id: int, seq: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    versions = selectors.message_versions(room=room, seq=seq)
    audit_record(
        actor=user,
        action="message.history",
        object_type="room",
        object_id=room.pk,
        practice=room.practice,
        detail={"seq": seq},
    )
    texts = [
        {
            "number": v.number,
            "written_at": v.written_at,
            "replaced_at": v.replaced_at,
            "body": crypto.decrypt_text(
                bytes(v.body), context=services.version_context(room.pk, seq, v.number)
            ),
        }
        for v in versions
    ]
    current = message_payload(selectors.messages_page(room=room, after=seq - 1, limit=1)[0])
    return render(
        request,
        "rooms/history.html",
        {"room": room, "seq": seq, "versions": texts, "current": current},
    )


@require_GET
@login_required
def room_attachment(request: HttpRequest, room_id: int, seq: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    attachment, data, name = services.attachment_read(actor=user, room=room, seq=seq)
    response = HttpResponse(data, content_type=attachment.content_type)
    inline = attachment.category in ("audio", "image")
    response["Content-Disposition"] = content_disposition_header(not inline, name) or "attachment"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@login_required
def room_read(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    seq = request.POST.get("seq", "")
    if not seq.isdigit() or len(seq) > 18:
        return JsonResponse({"detail": "seq must be a whole number."}, status=400)
    member = services.room_mark_read(actor=user, room=room, seq=int(seq))
    return JsonResponse({"last_read_seq": member.last_read_seq})


@require_POST
@login_required
def crisis_clear(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    try:
        cleared = services.crisis_clear(
            actor=user, room=room, reason=request.POST.get("reason", "")
        )
    except InvalidInput as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Cleared {cleared} flag{'s' if cleared != 1 else ''}.")
    return redirect("room", room_id=room.pk)


@require_GET
@login_required
def room_export_json(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    data = export.export_json(room=room, reader=user)
    return download(
        json.dumps(data, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
        filename=f"confide-room-{room.pk}.json",
    )


@require_GET
@login_required
def room_export_pdf(request: HttpRequest, room_id: int) -> HttpResponse:
    user = _user(request)
    room = selectors.room_get(user=user, room_id=room_id)
    return download(
        export.export_pdf(room=room, reader=user),
        content_type="application/pdf",
        filename=f"confide-room-{room.pk}.pdf",
    )


@require_GET
@login_required
def log_search(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    query = request.GET.get("q", "")[:200]
    results = selectors.search_messages(user=user, query=query) if query.strip() else []
    return render(
        request,
        "rooms/search.html",
        {
            "query": query,
            "results": [(m, message_payload(m)) for m in results],
        },
    )
