from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "confide.safety"
    label = "safety"
    default_auto_field = "django.db.models.BigAutoField"
