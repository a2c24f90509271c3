from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core import health, metrics
from core.console.views import admin_login_view
from core.errors import json_not_found_or_default

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("status", health.status, name="status"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # The admin logs people in on the console's page, which asks for the two-step code.
    path("admin/login/", admin_login_view, name="admin-login"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("directory.urls")),
    path("api/v1/", include("deadlines.urls")),
    path("api/v1/", include("audit.urls")),
    path("api/v1/", include("attachments.urls")),
    path("api/v1/", include("rosters.urls")),
    path("api/v1/", include("paging.urls")),
    path("api/v1/", include("crisis.urls")),
    path("api/v1/", include("hotline.urls")),
    path("api/v1/", include("humanitarian.urls")),
    path("api/v1/", include("feeds.urls")),
    path("api/v1/", include("cyber.urls")),
    path("api/v1/", include("records.urls")),
    path("api/v1/", include("exercises.urls")),
    path("api/v1/", include("review.urls")),
    path("", include("paging.ack_urls")),
    path("", include("config.console_urls")),
]

handler404 = json_not_found_or_default
handler500 = "core.errors.json_server_error_or_default"
