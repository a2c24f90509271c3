from django.urls import path
from django.utils.translation import gettext_lazy as _

from core.console.shell import register_nav, register_panel
from review.console import views

register_nav(_("Performance"), "console:my-performance", order=40)
register_panel("crisis", "review", views.crisis_panel, order=40, live_on="crisis.")

urlpatterns = [
    path("performance/", views.my_performance, name="my-performance"),
    path(
        "desks/<str:code>/performance/",
        views.desk_performance_page,
        name="desk-performance",
    ),
    path(
        "crises/<int:pk>/performance/",
        views.crisis_performance_page,
        name="crisis-performance",
    ),
    path("crises/<int:pk>/review/", views.review_page, name="crisis-review"),
    path("crises/<int:pk>/review/draft/", views.review_draft, name="crisis-review-draft"),
    path("crises/<int:pk>/review/edit/", views.review_edit, name="crisis-review-edit"),
    path("crises/<int:pk>/review/publish/", views.review_publish, name="crisis-review-publish"),
]
