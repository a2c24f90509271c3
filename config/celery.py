"""The Celery app. Settings come from Django's settings (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import celeryd_init, setup_logging

from core import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("crisis_hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# A task's log lines carry the request (crisis, line) that enqueued it: core/logs.py.
logs.connect_celery()


if os.environ.get("LOG_FORMAT", "plain").strip().lower() == "json":
    logs.configure_json_early()

    @celeryd_init.connect(weak=False)
    def _no_banner(instance=None, **kwargs):
        """The worker's start-up banner is plain text: one JSON line per log line only
        (its "ready." line says it started). Beat takes ``--quiet`` for the same."""
        instance.quiet = True

    @setup_logging.connect(weak=False)
    def _django_logging(loglevel=None, **kwargs):
        """With ``LOG_FORMAT=json`` workers and beat log as Django's ``LOGGING`` says (one
        JSON object per line, with the task's context) instead of Celery's own format;
        ``--loglevel`` still sets the level."""
        import logging
        import logging.config

        from django.conf import settings

        logging.config.dictConfig(settings.LOGGING)
        if loglevel:
            logging.getLogger().setLevel(loglevel)
