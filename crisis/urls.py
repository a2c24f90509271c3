from django.urls import path
from rest_framework.routers import DefaultRouter

from crisis.api.auth import ObtainTokenView
from crisis.api.directory import DeskViewSet, MemberStateViewSet, MeView

router = DefaultRouter(trailing_slash=True)
router.register("states", MemberStateViewSet, basename="state")
router.register("desks", DeskViewSet, basename="desk")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]

from crisis.api.deadlines import DeadlineListView  # noqa: E402

urlpatterns += [path("deadlines/", DeadlineListView.as_view(), name="deadline-list")]
