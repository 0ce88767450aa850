"""Call signaling on the room stream: who may signal whom, and what a signal may carry.

Offers, answers and ICE candidates pass between the admitted participants of a running voice
or video call in the same room, and nobody else. Only the fields WebRTC needs are forwarded,
each within a size limit; anything else is refused with an error event.
"""

from __future__ import annotations

import re
from typing import Any

from confide.live.models import LiveMode, LiveSession, ParticipantState

MAX_SDP = 32 * 1024
MAX_CANDIDATE = 1024
# A connection id: the browser's random label for one RTCPeerConnection ("pc" and "for").
CONNECTION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
DESCRIPTION_TYPES = ("offer", "answer", "pranswer", "rollback")
CALL_MODES = (LiveMode.VOICE, LiveMode.VIDEO)


class BadSignal(ValueError):
    pass


def call_of(room_id: int, user_id: int) -> LiveSession | None:
    """The running call in the room if `user_id` is admitted to it."""
    return (
        LiveSession.objects.filter(
            room_id=room_id,
            ended_at__isnull=True,
            mode__in=CALL_MODES,
            participants__user_id=user_id,
            participants__state=ParticipantState.ADMITTED,
        )
        .select_related("started_by")
        .first()
    )


def in_same_call(room_id: int, sender_id: int, recipient_id: int) -> bool:
    session = call_of(room_id, sender_id)
    return (
        session is not None
        and session.participants.filter(
            user_id=recipient_id, state=ParticipantState.ADMITTED
        ).exists()
    )


def _text(value: Any, limit: int, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadSignal(f"{name} must be a string of at most {limit} characters.")
    return value


def clean_signal(content: dict[str, Any]) -> dict[str, Any]:
    """The forwardable part of a `call.signal` frame, or BadSignal."""
    out: dict[str, Any] = {}
    for key in ("pc", "for"):
        value = content.get(key)
        if value is None:
            continue
        if not isinstance(value, str) or not CONNECTION_ID.fullmatch(value):
            raise BadSignal(f"{key} must be a connection id: 1 to 64 letters, digits, - or _.")
        out[key] = value
    description = content.get("description")
    has_candidate = "candidate" in content
    if (description is None) == (not has_candidate):
        raise BadSignal("Send either a description or a candidate.")
    if description is not None:
        if not isinstance(description, dict) or description.get("type") not in DESCRIPTION_TYPES:
            raise BadSignal("description.type must be offer, answer, pranswer or rollback.")
        sdp = _text(description.get("sdp", ""), MAX_SDP, "description.sdp")
        out["description"] = {"type": description["type"], "sdp": sdp}
    else:
        candidate = content["candidate"]
        if candidate is None:
            out["candidate"] = None  # the end of candidates
        else:
            if not isinstance(candidate, dict):
                raise BadSignal("candidate must be an object or null.")
            index = candidate.get("sdpMLineIndex")
            if index is not None and (
                not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < 64
            ):
                raise BadSignal("candidate.sdpMLineIndex must be a small number.")
            out["candidate"] = {
                "candidate": _text(candidate.get("candidate"), MAX_CANDIDATE, "candidate"),
                "sdpMid": _text(candidate.get("sdpMid"), 64, "sdpMid", optional=True),
                "sdpMLineIndex": index,
                "usernameFragment": _text(
                    candidate.get("usernameFragment"), 256, "usernameFragment", optional=True
                ),
            }
    return out


def clean_media(content: dict[str, Any]) -> dict[str, Any]:
    """A participant's media state for the others: microphone, camera, voice only, and why."""
    out: dict[str, Any] = {}
    for key in ("audio", "video", "voice_only", "screen"):
        value = content.get(key, False)
        if not isinstance(value, bool):
            raise BadSignal(f"{key} must be true or false.")
        out[key] = value
    reason = content.get("reason")
    if reason not in (None, "poor_connection", "recovered", "chosen", "no_media"):
        raise BadSignal("reason must be poor_connection, recovered, chosen or no_media.")
    out["reason"] = reason
    return out
