from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "confide.support"
    label = "support"
    verbose_name = "Support between sessions"
    default_auto_field = "django.db.models.BigAutoField"
