from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "confide.api"
    label = "api"
    default_auto_field = "django.db.models.BigAutoField"
