from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, register_converter

from confide.accounts import views as account_views
from confide.api.api import api
from confide.audit import views as audit_views
from confide.care import views as care_views
from confide.live import views as live_views
from confide.rooms import views as room_views
from confide.web import views as web_views


class IdConverter:
    """A database id: 1 to 18 digits, so no URL can overflow a 64-bit column."""

    regex = "[1-9][0-9]{0,17}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")

urlpatterns = [
    path("", care_views.home, name="home"),
    path("healthz", web_views.healthz, name="healthz"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/setup/", account_views.mfa_setup, name="mfa_setup"),
    path("mfa/verify/", account_views.mfa_verify, name="mfa_verify"),
    path("consent/", account_views.consent, name="consent"),
    path("account/", account_views.account, name="account"),
    path("account/tokens/", account_views.token_create, name="token_create"),
    path("account/tokens/<id:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("account/away/<id:away_id>/remove/", account_views.away_remove, name="away_remove"),
    path("session/ping/", account_views.session_ping, name="session_ping"),
    path("invite/<str:token>/", care_views.invitation_accept, name="invitation_accept"),
    path("clients/invite/", care_views.client_invite, name="client_invite"),
    path(
        "invitations/<id:invitation_id>/revoke/",
        care_views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("care/<id:relationship_id>/", care_views.relationship_detail, name="relationship"),
    path(
        "care/<id:relationship_id>/reassign/",
        care_views.relationship_reassign,
        name="relationship_reassign",
    ),
    path("caseload/", care_views.caseload, name="caseload"),
    path("care/<id:relationship_id>/cover/", care_views.covering_add, name="covering_add"),
    path(
        "care/<id:relationship_id>/cover/<id:therapist_id>/end/",
        care_views.covering_end,
        name="covering_end",
    ),
    path("rooms/<id:room_id>/", room_views.room_page, name="room"),
    path("rooms/<id:room_id>/send/", room_views.room_send, name="room_send"),
    path("rooms/<id:room_id>/read/", room_views.room_read, name="room_read"),
    path(
        "rooms/<id:room_id>/messages/<id:seq>/edit/", room_views.message_edit, name="message_edit"
    ),
    path(
        "rooms/<id:room_id>/messages/<id:seq>/delete/",
        room_views.message_delete,
        name="message_delete",
    ),
    path(
        "rooms/<id:room_id>/messages/<id:seq>/history/",
        room_views.message_history,
        name="message_history",
    ),
    path("rooms/<id:room_id>/files/<id:seq>/", room_views.room_attachment, name="room_attachment"),
    path("rooms/<id:room_id>/crisis/clear/", room_views.crisis_clear, name="crisis_clear"),
    path("rooms/<id:room_id>/export.json", room_views.room_export_json, name="room_export_json"),
    path("rooms/<id:room_id>/export.pdf", room_views.room_export_pdf, name="room_export_pdf"),
    path("rooms/<id:room_id>/live/", live_views.live_panel, name="live_panel"),
    path("rooms/<id:room_id>/live/start/", live_views.live_start, name="live_start"),
    path("rooms/<id:room_id>/live/join/", live_views.live_join, name="live_join"),
    path("rooms/<id:room_id>/live/leave/", live_views.live_leave, name="live_leave"),
    path("rooms/<id:room_id>/live/end/", live_views.live_end, name="live_end"),
    path("rooms/<id:room_id>/live/mode/", live_views.live_mode, name="live_mode"),
    path("rooms/<id:room_id>/live/admit/<id:user_id>/", live_views.live_admit, name="live_admit"),
    path("search/", room_views.log_search, name="log_search"),
    path("practice/", care_views.practice, name="practice"),
    path("practice/settings/", care_views.practice_update, name="practice_update"),
    path("practice/therapists/invite/", care_views.therapist_invite, name="therapist_invite"),
    path("practice/audit/", audit_views.audit_log, name="audit_log"),
    path("", include("confide.mail.urls")),
    path("", include("confide.scheduling.urls")),
    path("", include("confide.support.urls")),
    path("api/v1/", api.urls),
    path("operator/", admin.site.urls),
]

handler404 = "confide.web.views.not_found"
handler403 = "confide.web.views.forbidden"
handler400 = "confide.web.views.bad_request"
handler500 = "confide.web.views.server_error"
