from __future__ import annotations

from django.contrib import admin

from confide.care.models import Practice


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin[Practice]):
    list_display = ("name", "slug", "country", "reply_window_business_days", "is_demo")
