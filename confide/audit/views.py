from __future__ import annotations

import zoneinfo

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from confide.accounts.models import User
from confide.audit.selectors import audit_events_for_practice
from confide.audit.services import audit_record
from confide.errors import NotFound
from confide.web.forms import AuditFilterForm


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User) or not user.is_practice_admin or user.practice is None:
        raise NotFound("No such page.")
    people = User.objects.filter(practice=user.practice).order_by("display_name")
    form = AuditFilterForm(request.GET or None)
    form.fields["actor"].choices = [  # type: ignore[attr-defined]
        ("", "Everyone"),
        *[(p.pk, f"{p.display_name} ({p.get_role_display()})") for p in people],
    ]
    filters = form.cleaned_data if form.is_valid() else {}
    events = audit_events_for_practice(
        practice=user.practice,
        actor_id=filters.get("actor"),
        since=filters.get("since"),
        until=filters.get("until"),
        tz=zoneinfo.ZoneInfo(user.time_zone),
    )
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # Reading the audit trail is itself recorded.
    audit_record(
        actor=user, action="audit.view", object_type="practice", object_id=user.practice.pk
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode()},
        status=200 if not form.errors else 400,
    )
