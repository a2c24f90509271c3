from django.urls import path
from rest_framework.routers import SimpleRouter

from directory.api.auth import ObtainTokenView
from directory.api.views import DeskViewSet, MemberStateViewSet, MeView

router = SimpleRouter(trailing_slash=True)
router.register("states", MemberStateViewSet, basename="state")
router.register("desks", DeskViewSet, basename="desk")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
