"""Django admin, for operators only (/operator/). The product's own flows are in the app."""

from __future__ import annotations

from django.contrib import admin

from confide.accounts.models import ConsentDocument, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin[User]):
    list_display = ("email", "display_name", "role", "practice", "is_active")
    list_filter = ("role", "is_active", "practice")
    search_fields = ("email", "display_name")
    exclude = ("password",)
    readonly_fields = ("last_login", "date_joined")


@admin.register(ConsentDocument)
class ConsentDocumentAdmin(admin.ModelAdmin[ConsentDocument]):
    """Consent versions are added, never edited: a change is a new version."""

    list_display = ("version", "title", "published_at")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
