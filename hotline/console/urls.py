from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.console.shell import register_attention, register_nav, register_panel
from hotline.console import invitations, line_actions, views
from hotline.console.attention import unacknowledged_flash

register_nav(_("Hotlines"), "console:lines", order=20)
register_attention("hotline.flash", unacknowledged_flash)
register_panel(
    "dashboard", "lines", views.lines_panel, order=20, live_on="message receipt line_status"
)
register_panel(
    "dashboard", "invitations", invitations.invitations_panel, order=15, live_on="hotline.channel"
)
register_panel(
    "dashboard", "proposals", line_actions.proposals_panel, order=16, live_on="hotline.channel"
)
register_panel("crisis", "room", line_actions.room_panel, order=25, live_on="hotline.channel")

urlpatterns = [
    path("lines/<int:pk>/invitation/accept/", invitations.accept, name="invitation-accept"),
    path("lines/<int:pk>/invitation/decline/", invitations.decline, name="invitation-decline"),
    path("lines/", views.lines, name="lines"),
    path("lines/propose/", line_actions.propose, name="line-propose"),
    path("lines/crisis-room/", line_actions.open_room, name="open-crisis-room"),
    path("lines/<int:pk>/", views.line, name="line"),
    path("lines/<int:pk>/accept/", line_actions.accept, name="line-accept"),
    path("lines/<int:pk>/archive/", line_actions.archive, name="line-archive"),
    path(
        "lines/<int:pk>/line-checks/<int:check_id>/answer/",
        views.answer_line_check,
        name="answer-line-check",
    ),
    path(
        "lines/<int:pk>/messages/<int:message_id>/attach/",
        views.attach_to_message,
        name="attach-to-message",
    ),
]
