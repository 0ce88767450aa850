"""Background work for care. Tasks call services and selectors; they hold no rules of their own."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse
from django_tasks import task

from confide.care.models import Invitation


@task()
def send_invitation_email(*, invitation_id: int) -> str:
    """Email the invitation link. The token is re-derived here, so no queue row holds it."""
    from confide.care.services import invitation_token

    invitation = (
        Invitation.objects.select_related("practice", "invited_by").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.status() != "pending":
        return "skipped"
    link = settings.SITE_URL + reverse(
        "invitation_accept", kwargs={"token": invitation_token(invitation.nonce)}
    )
    context = {
        "invitation": invitation,
        "link": link,
        "inviter": invitation.invited_by.display_name,
        "practice": invitation.practice.name,
        "ttl_days": settings.INVITATION_TTL_DAYS,
    }
    send_mail(
        subject=f"Your invitation to {invitation.practice.name} on Confide",
        message=render_to_string("care/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    return "sent"
