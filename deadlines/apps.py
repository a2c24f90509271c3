from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    name = "deadlines"
    verbose_name = "Deadline engine"

    def ready(self):
        from core import health, metrics
        from deadlines import services

        # The watchdog: a dead beat or a worker not consuming shows on /readyz.
        health.EXTRA_CHECKS.setdefault("deadlines", services.check_health)
        # Overdue deadlines and the sweep's age, read from the database at each scrape.
        metrics.SCRAPE_COLLECTORS.setdefault("deadlines", services.collect_metrics)
