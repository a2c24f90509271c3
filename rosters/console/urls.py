from django.urls import path

from core.console.shell import register_nav
from rosters.console import views

register_nav("Duty roster", "console:roster", order=40)

urlpatterns = [
    path("roster/", views.roster, name="roster"),
    path("roster/shifts/", views.add_shift_view, name="roster-add-shift"),
    path("roster/shifts/<int:pk>/remove/", views.remove_shift_view, name="roster-remove-shift"),
    path("roster/overrides/", views.add_override_view, name="roster-add-override"),
    path(
        "roster/overrides/<int:pk>/remove/",
        views.remove_override_view,
        name="roster-remove-override",
    ),
    path("roster/import/", views.import_calendar_view, name="roster-import"),
    path("roster/handover/", views.handover_view, name="roster-handover"),
]
