from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdempotencyConfig(AppConfig):
    name = "idempotency"
    verbose_name = _("Idempotency keys")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from core.retention import delete_rows, register_retention

        # A key is only worth keeping as long as a client may still retry with it.
        register_retention(
            "idempotency.keys",
            "RETENTION_IDEMPOTENCY_KEY_DAYS",
            delete_rows("idempotency.IdempotencyKey", "created_at"),
        )
