from django.apps import AppConfig


class RostersConfig(AppConfig):
    name = "rosters"
    verbose_name = "Duty rosters (who is on duty)"
    default_auto_field = "django.db.models.BigAutoField"
