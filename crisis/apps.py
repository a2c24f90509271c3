from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "crisis"
    verbose_name = "Crises and protocols"

    def ready(self):
        from crisis.services import escalation  # noqa: F401  (registers its deadline handler)
