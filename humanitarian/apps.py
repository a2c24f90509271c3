from django.apps import AppConfig

from core.retention import clear_fields, register_retention


class HumanitarianConfig(AppConfig):
    name = "humanitarian"
    verbose_name = "Humanitarian and refugee assistance"

    def ready(self):
        # The protocol level action ``request_assistance`` (and its pages' ack handler).
        from humanitarian import attachment_host  # noqa: F401  (attachments on its items)
        from humanitarian.services import invitations
        from paging.services import register_ack_handler

        register_ack_handler(invitations.PAGE_KIND, invitations.invitation_acknowledged)
        register_retention(
            "humanitarian.import_files",
            "RETENTION_IMPORT_FILE_DAYS",
            clear_fields("humanitarian.ImportJob", "finished_at", {"content": ""}),
        )
