from django.apps import AppConfig


class CrisisConfig(AppConfig):
    name = "crisis"
    verbose_name = "Crises, protocols and the member-state directory"

    def ready(self):
        from crisis import health
        from crisis.services import deadlines, escalation  # noqa: F401  (registers handlers)

        # The watchdog: a dead beat or a worker not consuming shows on /readyz.
        health.EXTRA_CHECKS.setdefault("deadlines", deadlines.check_health)
