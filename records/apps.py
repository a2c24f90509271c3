from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = _("Crisis records")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The after-action review and the performance figures go into every record
        # (sections/review.json); records sits above review, so the wiring lives here.
        from records import sections
        from review.selectors import review_for

        sections.register("review", review_for)
