from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "confide.live"
    label = "live"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from confide.live import signals  # noqa: F401 - connects the receivers
