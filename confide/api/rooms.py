"""/api/v1 endpoints for rooms, messages, the inbox, search and the log export."""

# No `from __future__ import annotations` here: django-ninja reads the annotations at runtime.
import datetime
import uuid
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Form, Query, Router, Schema, Status, UploadedFile

from confide.accounts.models import User
from confide.api.common import ERRORS, MAX_ID, Id
from confide.api.common import me as caller
from confide.audit.services import audit_record
from confide.errors import InvalidInput, PermissionDenied
from confide.http import download
from confide.rooms import export, selectors, services
from confide.rooms.models import Room
from confide.rooms.payloads import message_payload
from confide.rooms.windows import format_due

router = Router(tags=["rooms"])


class SenderOut(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    content_type: str
    category: str
    size: int
    duration_ms: int | None
    url: str


class MessageOut(Schema):
    id: int
    room: int
    seq: int
    kind: str
    client_id: str | None
    sender: SenderOut | None
    body: str
    html: str
    created_at: datetime.datetime
    edited_at: datetime.datetime | None
    deleted_at: datetime.datetime | None
    crisis: bool
    attachment: AttachmentOut | None


class MemberOut(Schema):
    id: int
    name: str
    role: str


class RoomOut(Schema):
    id: int
    kind: str
    audience: str
    members: list[MemberOut]
    last_seq: int
    unread: int
    last_message_at: datetime.datetime | None
    reply_due_at: datetime.datetime | None
    reply_due_text: str | None
    crisis_open: bool


class SendIn(Schema):
    body: str = Field(max_length=20_000)
    client_id: uuid.UUID


class CrisisOut(Schema):
    emergency_number: str
    lines: list[dict[str, str | None]]


class SendOut(Schema):
    message: MessageOut
    created: bool
    crisis: CrisisOut | None


class EditIn(Schema):
    body: str = Field(max_length=20_000)


class ReadIn(Schema):
    seq: int = Field(ge=0, le=MAX_ID)


class ReadOut(Schema):
    last_read_seq: int


class ClearIn(Schema):
    reason: str = Field(min_length=3, max_length=2000)


class ClearOut(Schema):
    cleared: int


class InboxOut(Schema):
    room: RoomOut
    overdue: bool
    role: str


class FiguresOut(Schema):
    replies: int
    median_hours: float | None
    p90_hours: float | None
    within_window_pct: float | None


class PageQuery(Schema):
    after: int = Field(0, ge=0, le=MAX_ID)
    limit: int = Field(50, ge=1, le=200)


class SearchQuery(Schema):
    q: str = Field(min_length=1, max_length=200)


def _room_out(room: Any, user: User, unread: int | None = None) -> RoomOut:
    members = getattr(room, "active_members", None)
    if members is None:
        room = selectors.room_get(user=user, room_id=room.pk)
        members = room.active_members
    mine = next((m for m in members if m.user_id == user.pk), None)
    return RoomOut(
        id=room.pk,
        kind=room.kind,
        audience=selectors.audience(room, user),
        members=[MemberOut(id=m.user_id, name=m.user.display_name, role=m.role) for m in members],
        last_seq=room.last_seq,
        unread=unread
        if unread is not None
        else (room.last_seq - mine.last_read_seq if mine else 0),
        last_message_at=room.last_message_at,
        reply_due_at=room.reply_due_at,
        reply_due_text=format_due(room.reply_due_at, user.time_zone, timezone.now())
        if room.reply_due_at
        else None,
        crisis_open=room.crisis_open if mine is None or mine.is_staff_side else False,
    )


@router.get("/rooms", response={200: list[RoomOut], **ERRORS})
def rooms(request: HttpRequest) -> list[RoomOut]:
    user = caller(request)
    return [_room_out(room, user) for room in selectors.rooms_for(user=user)]


@router.get("/rooms/{room_id}", response={200: RoomOut, **ERRORS})
def room(request: HttpRequest, room_id: Id) -> RoomOut:
    user = caller(request)
    return _room_out(selectors.room_get(user=user, room_id=room_id), user)


@router.get("/rooms/{room_id}/messages", response={200: list[MessageOut], **ERRORS})
def messages(request: HttpRequest, room_id: Id, page: Query[PageQuery]) -> list[dict[str, Any]]:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    audit_record(
        actor=user,
        action="room.read_api",
        object_type="room",
        object_id=found.pk,
        practice=found.practice,
    )
    return [
        message_payload(m)
        for m in selectors.messages_page(room=found, after=page.after, limit=page.limit)
    ]


@router.post("/rooms/{room_id}/messages", response={200: SendOut, 201: SendOut, **ERRORS})
def send(request: HttpRequest, room_id: Id, payload: SendIn) -> Status[dict[str, Any]]:
    user = caller(request)
    # message_send checks membership itself and reads the room under its lock: it needs only
    # the id (no room, or no membership, is the same 404).
    result = services.message_send(
        actor=user, room=Room(pk=room_id), body=payload.body, client_id=payload.client_id
    )
    return Status(201 if result.created else 200, _send_out(user, result))


def _send_out(user: User, result: services.SendResult) -> dict[str, Any]:
    """The SendOut answer as plain data: ninja validates it against SendOut once, on the way
    out (building the schema objects here first made it validate everything twice)."""
    from confide.safety.registry import resources_for

    crisis = None
    if result.crisis is not None:
        resources = resources_for(user.country)
        crisis = {
            "emergency_number": resources.emergency_number,
            "lines": [
                {"name": line.name, "phone": line.phone, "text": line.text, "url": line.url}
                for line in resources.lines
            ],
        }
    return {
        "message": result.payload or message_payload(result.message),
        "created": result.created,
        "crisis": crisis,
    }


@router.post("/rooms/{room_id}/attachments", response={200: SendOut, 201: SendOut, **ERRORS})
def send_attachment(
    request: HttpRequest,
    room_id: Id,
    file: File[UploadedFile],
    client_id: Form[uuid.UUID],
    body: Form[str] = "",
    voice: Form[bool] = False,
) -> Status[dict[str, Any]]:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    if file.size is not None and file.size > 26 * 1024 * 1024:
        raise InvalidInput(
            "The file is too large.", field_errors={"file": ["Files can be at most 25 MiB."]}
        )
    upload = services.Upload(data=file.read(), name=file.name or "", voice=voice)
    result = services.message_send(
        actor=user, room=found, body=body[:20_000], client_id=client_id, upload=upload
    )
    return Status(201 if result.created else 200, _send_out(user, result))


@router.patch("/rooms/{room_id}/messages/{seq}", response={200: MessageOut, **ERRORS})
def edit(request: HttpRequest, room_id: Id, seq: Id, payload: EditIn) -> dict[str, Any]:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    return message_payload(
        services.message_edit(actor=user, room=found, seq=seq, body=payload.body)
    )


@router.delete("/rooms/{room_id}/messages/{seq}", response={200: MessageOut, **ERRORS})
def delete(request: HttpRequest, room_id: Id, seq: Id) -> dict[str, Any]:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    return message_payload(services.message_delete(actor=user, room=found, seq=seq))


@router.post("/rooms/{room_id}/read", response={200: ReadOut, **ERRORS})
def read(request: HttpRequest, room_id: Id, payload: ReadIn) -> ReadOut:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    member = services.room_mark_read(actor=user, room=found, seq=payload.seq)
    return ReadOut(last_read_seq=member.last_read_seq)


@router.post("/rooms/{room_id}/crisis/clear", response={200: ClearOut, **ERRORS})
def clear(request: HttpRequest, room_id: Id, payload: ClearIn) -> ClearOut:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    return ClearOut(cleared=services.crisis_clear(actor=user, room=found, reason=payload.reason))


@router.get("/rooms/{room_id}/export", response={200: dict[str, Any], **ERRORS})
def export_log(request: HttpRequest, room_id: Id) -> dict[str, Any]:
    user = caller(request)
    return export.export_json(room=selectors.room_get(user=user, room_id=room_id), reader=user)


@router.get("/rooms/{room_id}/export.pdf", response={200: None, **ERRORS})
def export_log_pdf(request: HttpRequest, room_id: Id) -> HttpResponse:
    user = caller(request)
    found = selectors.room_get(user=user, room_id=room_id)
    return download(
        export.export_pdf(room=found, reader=user),
        content_type="application/pdf",
        filename=f"confide-room-{found.pk}.pdf",
    )


@router.get("/inbox", response={200: list[InboxOut], **ERRORS})
def inbox(request: HttpRequest) -> list[InboxOut]:
    user = caller(request)
    if not user.is_therapist:
        raise PermissionDenied("The inbox is for therapists.")
    rows = selectors.inbox(therapist=user, now=timezone.now())
    rooms = {r.pk: r for r in selectors.rooms_for(user=user)}
    return [
        InboxOut(
            room=_room_out(rooms[row.room_id], user, unread=row.unread),
            overdue=row.overdue,
            role=row.role,
        )
        for row in rows
        if row.room_id in rooms
    ]


@router.get("/inbox/figures", response={200: FiguresOut, **ERRORS})
def figures(request: HttpRequest) -> selectors.ResponseFigures:
    user = caller(request)
    if not user.is_therapist:
        raise PermissionDenied("Response-time figures are for therapists.")
    return selectors.response_figures(therapist=user, now=timezone.now())


@router.get("/search", response={200: list[MessageOut], **ERRORS})
def search(request: HttpRequest, query: Query[SearchQuery]) -> list[dict[str, Any]]:
    user = caller(request)
    return [message_payload(m) for m in selectors.search_messages(user=user, query=query.q)]
