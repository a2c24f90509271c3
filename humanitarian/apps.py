from django.apps import AppConfig

from core.retention import clear_fields, register_retention


class HumanitarianConfig(AppConfig):
    name = "humanitarian"
    verbose_name = "Humanitarian and refugee assistance"

    def ready(self):
        register_retention(
            "humanitarian.import_files",
            "RETENTION_IMPORT_FILE_DAYS",
            clear_fields("humanitarian.ImportJob", "finished_at", {"content": ""}),
        )
