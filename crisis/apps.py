from django.apps import AppConfig
from django.utils.translation import gettext as _


class CrisisConfig(AppConfig):
    name = "crisis"
    verbose_name = "Crises and protocols"

    def ready(self):
        # Deadline handlers and the level actions crisis carries out itself register on
        # import (web processes validate protocols against them, workers run them).
        from crisis import attachment_host  # noqa: F401  (attachments on its items)
        from crisis.services import broadcasts, escalation, tasks  # noqa: F401
        from paging.services import register_ack_handler

        register_ack_handler(escalation.PAGE_KIND, acknowledge_from_page)

        from core import metrics
        from crisis import exercise

        # Open crises at each scrape, drills under a name of their own.
        metrics.SCRAPE_COLLECTORS.setdefault("crisis", exercise.collect_metrics)


def acknowledge_from_page(*, page, by) -> None:
    """An ack link of a crisis-level page was used: the person's desk acknowledges the
    crisis (``acknowledge_crisis``: its checks, the level's deadline, the timeline; the
    level's pages stop through ``escalation.acknowledge_level``)."""
    from core.errors import InvalidInput
    from crisis.models import Crisis
    from crisis.services.crises import acknowledge_crisis

    crisis = Crisis.objects.filter(pk=page.payload.get("crisis_id")).first()
    if crisis is None:
        raise InvalidInput(_("The crisis of this page no longer exists."), code="crisis_gone")
    acknowledge_crisis(by=by, desk=page.desk, crisis=crisis)
