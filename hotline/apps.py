from django.apps import AppConfig

from core.retention import delete_rows, register_retention


class HotlineConfig(AppConfig):
    name = "hotline"
    verbose_name = "Hotlines between national desks"

    def ready(self):
        # Deadline handlers (flash acknowledgements, line checks) register on import, in
        # every process: web (to schedule) and worker (to fire); so does the protocol level
        # action that opens a crisis room.
        from hotline import attachment_host  # noqa: F401  (attachments on its items)
        from hotline.services import crisis_rooms, escalation, line_checks, receipts  # noqa: F401
        from paging.services import register_ack_handler

        # A failed line check's page, acknowledged by link or API, answers the check.
        register_ack_handler(line_checks.PAGE_KIND, receipts.acknowledge_line_check_page)

        register_retention(
            "hotline.presence_sessions",
            "RETENTION_PRESENCE_DAYS",
            delete_rows("hotline.PresenceSession", "last_seen_at"),
        )
