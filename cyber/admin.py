from django.contrib import admin

from core.admin import ReadOnlyAdmin
from cyber.models import CyberItem


@admin.register(CyberItem)
class CyberItemAdmin(ReadOnlyAdmin):
    """Shared through the API (a CERT desk or a bundle); the admin only shows them."""

    list_display = ["stix_id", "kind", "name", "tlp", "crisis", "shared_by", "created_at"]
    list_filter = ["kind", "tlp", "imported"]
    search_fields = ["stix_id", "name", "crisis__reference"]
