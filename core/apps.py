from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Platform: errors, events, probes and the console shell"

    def ready(self):
        from django.core.signals import request_finished

        from core.db import close_request_connections

        request_finished.connect(close_request_connections, dispatch_uid="core.close_request_db")
