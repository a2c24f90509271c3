"""The console's part of the records: a panel on the crisis page to download the record.

The download itself is the API endpoint (session login works there too), so there is one
implementation of the export and of its audit record.
"""

from django.urls import reverse

from core.console.shell import register_panel
from records.services import may_export


def record_panel(request, access, desk, *, crisis):
    """The crisis page's "Full record" box, for those who may export it."""
    if not may_export(access, crisis):
        return None
    return "records/panel.html", {
        "crisis": crisis,
        "url": reverse("crisis-record", kwargs={"pk": crisis.pk}),
    }


register_panel("crisis", "record", record_panel, order=90)

urlpatterns: list = []
