"""The operator console's URLs (namespace ``console``), one include per app."""

from django.urls import include, path

app_name = "console"

urlpatterns = [
    path("", include("core.console.urls")),
    path("", include("crisis.console.urls")),
    path("", include("hotline.console.urls")),
    path("", include("humanitarian.console.urls")),
    path("", include("records.console_urls")),
    path("", include("exercises.console.urls")),
    path("", include("review.console.urls")),
    path("", include("rosters.console.urls")),
    path("", include("paging.console.urls")),
]
