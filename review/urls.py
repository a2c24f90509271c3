from django.urls import path

from review import api

urlpatterns = [
    path(
        "crises/<int:id>/performance/",
        api.CrisisPerformanceView.as_view(),
        name="crisis-performance",
    ),
    path("crises/<int:id>/review/", api.ReviewView.as_view(), name="crisis-review"),
    path(
        "crises/<int:id>/review/publish/",
        api.ReviewPublishView.as_view(),
        name="crisis-review-publish",
    ),
    path(
        "desks/<str:code>/performance/", api.DeskPerformanceView.as_view(), name="desk-performance"
    ),
]
