from __future__ import annotations

from django.urls import URLPattern, path

from confide.scheduling import views

urlpatterns: list[URLPattern] = [
    path("book/", views.book, name="book"),
    path("book/confirm/", views.book_confirm, name="book_confirm"),
    path("bookings/<id:booking_id>/", views.booking_detail, name="booking"),
    path("bookings/<id:booking_id>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<id:booking_id>/no-show/", views.booking_no_show, name="booking_no_show"),
    path("bookings/<id:booking_id>/join/", views.booking_join, name="booking_join"),
    path("bookings/<id:booking_id>/session.ics", views.booking_ics, name="booking_ics"),
    path("proposals/<id:proposal_id>/accept/", views.proposal_accept, name="proposal_accept"),
    path("proposals/<id:proposal_id>/withdraw/", views.proposal_withdraw, name="proposal_withdraw"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/setup/", views.schedule_setup, name="schedule_setup"),
    path(
        "schedule/setup/exceptions/<id:exception_id>/remove/",
        views.exception_remove,
        name="exception_remove",
    ),
    path(
        "schedule/setup/types/<id:session_type_id>/retire/",
        views.session_type_retire,
        name="session_type_retire",
    ),
    path("schedule/feed/new/", views.feed_create, name="feed_create"),
    path("schedule/feed/revoke/", views.feed_revoke, name="feed_revoke"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
