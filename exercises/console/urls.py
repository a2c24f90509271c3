from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.console.shell import register_nav
from exercises.console import views

register_nav(_("Exercises"), "console:exercises", order=60)

urlpatterns = [
    path("exercises/", views.index, name="exercises"),
    path("exercises/start/", views.start, name="exercise-start"),
    path("exercises/runs/<int:run_id>/", views.run, name="exercise-run"),
    path(
        "exercises/runs/<int:run_id>/<slug:action>/",
        views.run_action_view,
        name="exercise-run-action",
    ),
]
