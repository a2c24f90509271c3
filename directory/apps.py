from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Member states, desks and their people"

    def ready(self):
        from core.retention import delete_rows, register_retention
        from directory import signals  # noqa: F401  (connects the receivers)

        # Expired API tokens open nothing; keep them a while for the admin's "who had
        # one", then delete (docs/operations.md).
        register_retention(
            "directory.expired_api_tokens",
            "RETENTION_EXPIRED_TOKEN_DAYS",
            delete_rows("knox.AuthToken", "expiry"),
        )
