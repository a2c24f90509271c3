from django.urls import path
from rest_framework.routers import DefaultRouter

from crisis.api.auth import ObtainTokenView
from crisis.api.crises import CrisisViewSet
from crisis.api.directory import DeskViewSet, MemberStateViewSet, MeView

router = DefaultRouter(trailing_slash=True)
router.register("states", MemberStateViewSet, basename="state")
router.register("desks", DeskViewSet, basename="desk")
router.register("crises", CrisisViewSet, basename="crisis")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path(
        "crises/<int:pk>/cap.xml",
        CrisisViewSet.as_view({"get": "cap_xml"}),
        name="crisis-cap-xml",
    ),
    *router.urls,
]
