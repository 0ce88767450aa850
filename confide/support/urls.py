"""Support between sessions: each area's pages keep their own URL list."""

from __future__ import annotations

from django.urls import URLPattern

from confide.support.views import agreements, caseload, exercises, journal, measures, notes

urlpatterns: list[URLPattern] = [
    *agreements.urlpatterns,
    *exercises.urlpatterns,
    *journal.urlpatterns,
    *measures.urlpatterns,
    *notes.urlpatterns,
    *caseload.urlpatterns,
]
