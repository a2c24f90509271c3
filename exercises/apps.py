from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExercisesConfig(AppConfig):
    name = "exercises"
    verbose_name = _("Exercises (scenario scripts and their runs)")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The deadline kind of an inject: its handler plays the inject once.
        from exercises import injects  # noqa: F401
