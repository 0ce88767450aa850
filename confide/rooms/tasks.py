"""Background work for rooms: batched email notifications, reply-window reminders, crisis alerts.

Every email says only that there is something new and where; never content, never another
client's name. Tasks are enqueued inside the sender's transaction (they commit with the message)
and run after a delay in the worker.
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django_tasks import task

from confide.accounts.models import Role, User
from confide.audit.services import audit_record
from confide.mail.outbound import deliver, room_email
from confide.mail.tasks import email_member
from confide.rooms.models import CrisisFlag, Delivery, Presence, Room, RoomMember

PRESENCE_STALE = datetime.timedelta(minutes=2)


# `notified_seq` > `last_read_seq` marks "a notification is queued" until it runs: one statement
# finds the other members with nothing queued, marks them, and says who they are. The same
# statement names the members who chose email therapy (their row is left as it was), so a send
# costs no extra round trip for email.
_CLAIM_NOTIFICATIONS = (
    'UPDATE "rooms_roommember" SET "notified_seq" = CASE WHEN "delivery" = \'notify\' '
    'THEN %s ELSE "notified_seq" END WHERE "room_id" = %s AND "left_at" IS NULL '
    'AND "user_id" <> %s AND (("delivery" = \'notify\' AND "notified_seq" <= "last_read_seq") '
    'OR "delivery" = \'email\') RETURNING "id", "user_id", "delivery"'
)


def notify_members_later(*, room: Room, sender: User, now: datetime.datetime) -> None:
    """Queue one delayed notification per member who has nothing pending yet, and the emails
    of those who chose email therapy.

    Called inside the sender's transaction, after `room.last_seq` moved to the new message.
    """
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_NOTIFICATIONS, [room.last_seq, room.pk, sender.pk])
        rows = sorted(cursor.fetchall())
    notify_after = now + datetime.timedelta(minutes=settings.NOTIFY_DELAY_MINUTES)
    email_after = now + datetime.timedelta(seconds=settings.MAIL_DELAY_SECONDS)
    for member_id, user_id, delivery in rows:
        if delivery == Delivery.EMAIL:
            email_member.using(run_after=email_after).enqueue(member_id=member_id)
        else:
            notify_user.using(run_after=notify_after).enqueue(user_id=user_id)


def schedule_reply_check(*, room: Room) -> None:
    if room.reply_due_at is not None:
        check_reply_window.using(run_after=room.reply_due_at).enqueue(
            room_id=room.pk, due_at=room.reply_due_at.isoformat()
        )


def _online(user_id: int, now: datetime.datetime) -> bool:
    return Presence.objects.filter(user_id=user_id, seen_at__gte=now - PRESENCE_STALE).exists()


def quiet_hours_until(user: User, now: datetime.datetime) -> datetime.datetime | None:
    """When quiet hours end, if `now` falls inside the user's quiet hours; else None."""
    start, end = user.quiet_hours_start, user.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(zoneinfo.ZoneInfo(user.time_zone))
    t = local.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    end_day = local.date() if t < end else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(end_day, end, local.tzinfo).astimezone(datetime.UTC)


@task()
def notify_user(*, user_id: int) -> str:
    """For each room with something unread: one email that says so, with no content.

    One email per room, so that a reply to it can go into that room.
    """
    now = timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return "gone"
    unread = list(
        RoomMember.objects.filter(
            user=user,
            left_at__isnull=True,
            delivery=Delivery.NOTIFY,
            room__last_seq__gt=F("last_read_seq"),
        ).select_related("room")
    )
    if not unread:
        return "read"
    if not user.email_notifications:
        return "off"
    if _online(user.pk, now):
        # Reading live in the app: look again later rather than email someone who is here.
        notify_user.using(
            run_after=now + datetime.timedelta(minutes=max(settings.NOTIFY_DELAY_MINUTES, 1))
        ).enqueue(user_id=user.pk)
        return "online"
    quiet_until = quiet_hours_until(user, now)
    if quiet_until is not None:
        notify_user.using(run_after=quiet_until).enqueue(user_id=user.pk)
        return "quiet"
    emails = [
        room_email(
            user=user,
            room=member.room,
            subject="Something new in your Confide room",
            template="notify",
            context={},
            now=now,
            delivery=Delivery.NOTIFY,
        )
        for member in unread
    ]
    deliver(emails)
    return "sent"


@task()
def check_reply_window(*, room_id: int, due_at: str) -> str:
    """At the due time: remind the therapist; after the practice's grace period, tell admins."""
    now = timezone.now()
    with transaction.atomic():
        room = (
            Room.objects.select_for_update()
            .select_related("practice", "relationship__therapist")
            .filter(pk=room_id)
            .first()
        )
        if room is None or room.reply_due_at is None or room.reply_due_at.isoformat() != due_at:
            return "answered"
        therapist = room.relationship.therapist
        link = settings.SITE_URL + reverse("room", args=[room.pk])
        if room.reminded_at is None:
            room.reminded_at = now
            room.save(update_fields=["reminded_at"])
            grace = datetime.timedelta(hours=room.practice.escalation_grace_hours)
            check_reply_window.using(run_after=room.reply_due_at + grace).enqueue(
                room_id=room.pk, due_at=due_at
            )
            audit_record(
                actor=None,
                action="reply.reminder",
                object_type="room",
                object_id=room.pk,
                practice=room.practice,
            )
            transaction.on_commit(
                lambda: send_mail(
                    subject="A reply is due on Confide",
                    message=f"A client is waiting for your reply; it was due by now.\n\n{link}\n",
                    from_email=None,
                    recipient_list=[therapist.email],
                )
            )
            return "reminded"
        if room.escalated_at is None:
            room.escalated_at = now
            room.save(update_fields=["escalated_at"])
            admins = list(
                User.objects.filter(
                    practice=room.practice, role=Role.ADMIN, is_active=True
                ).values_list("email", flat=True)
            )
            audit_record(
                actor=None,
                action="reply.escalate",
                object_type="room",
                object_id=room.pk,
                practice=room.practice,
            )
            inbox = settings.SITE_URL + reverse("practice")
            transaction.on_commit(
                lambda: (
                    send_mail(
                        subject="A client's reply is overdue on Confide",
                        message=(
                            f"A reply by {therapist.display_name} is overdue beyond the practice's "
                            f"grace period.\n\n{inbox}\n"
                        ),
                        from_email=None,
                        recipient_list=admins,
                    )
                    if admins
                    else None
                )
            )
            return "escalated"
    return "done"


@task()
def notify_crisis(*, flag_id: int) -> str:
    """Tell the room's therapists at once that a message may need urgent attention."""
    flag = CrisisFlag.objects.select_related("room").filter(pk=flag_id).first()
    if flag is None or flag.cleared_at is not None:
        return "cleared"
    staff = list(
        RoomMember.objects.filter(
            room=flag.room, left_at__isnull=True, role__in=["therapist", "covering"]
        ).values_list("user__email", flat=True)
    )
    link = settings.SITE_URL + reverse("room", args=[flag.room_id])
    send_mail(
        subject="Urgent: a message on Confide may need your attention now",
        message=(
            "A client's message was flagged for possible crisis language. It is at the top "
            f"of your inbox.\n\n{link}\n\nThis email does not include what was written.\n"
        ),
        from_email=None,
        recipient_list=staff,
    )
    return "sent"
