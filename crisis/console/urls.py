from django.urls import path

from core.console.shell import register_attention, register_banner, register_panel
from crisis.console import actions, banners, views
from crisis.console.attention import levels_to_acknowledge

register_banner(banners.KEY, banners.exercise_banner)
register_attention("crisis.levels", levels_to_acknowledge)
register_panel("crisis", "actions", actions.actions_panel, order=5)

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("crises/new/", views.report_crisis_view, name="report-crisis"),
    path("crises/<int:pk>/", views.crisis_detail, name="crisis"),
    path("crises/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge-crisis"),
    path("crises/<int:pk>/transition/", views.transition, name="transition-crisis"),
    path("crises/<int:pk>/updates/", actions.post_update, name="crisis-update"),
    path("crises/<int:pk>/severity/", actions.set_severity, name="crisis-severity"),
    path("crises/<int:pk>/progress/", actions.progress, name="crisis-progress"),
    path("crises/<int:pk>/stop/", actions.stop, name="crisis-stop"),
    path("crises/<int:pk>/participants/", actions.add_participant, name="crisis-participant"),
    path(
        "crises/<int:pk>/participants/remove/",
        actions.drop_participant,
        name="crisis-participant-remove",
    ),
    path("tasks/<int:pk>/done/", views.task_done, name="task-done"),
    path("tasks/<int:pk>/assign/", actions.assign, name="task-assign"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
]
