"""Close a person's sockets when they sign out or revoke the token a socket was opened with."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest

from confide.accounts.models import PersonalAccessToken, User
from confide.live.consumers import session_tag
from confide.rooms.events import publish_on_commit, user_group


@receiver(user_logged_out)
def _signed_out(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    key = request.session.session_key
    if user is not None and key:
        publish_on_commit(
            user_group(user.pk), {"type": "session.ended", "session": session_tag(key)}
        )


@receiver(post_save, sender=PersonalAccessToken)
def _token_changed(sender: Any, instance: PersonalAccessToken, **kwargs: Any) -> None:
    if instance.revoked_at is not None:
        publish_on_commit(user_group(instance.user_id), {"type": "token.revoked"})
