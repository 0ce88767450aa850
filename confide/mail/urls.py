from __future__ import annotations

from django.urls import path

from confide.mail import views

urlpatterns = [
    path("rooms/<id:room_id>/delivery/", views.delivery_choose, name="delivery_choose"),
    path("mail/delivery/<str:value>/", views.delivery_link, name="mail_delivery_link"),
    path(
        "account/reply-addresses/revoke/",
        views.reply_addresses_revoke,
        name="reply_addresses_revoke",
    ),
]
