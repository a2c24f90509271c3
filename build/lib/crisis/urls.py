from django.urls import path
from rest_framework.routers import DefaultRouter

from crisis.api.auth import ObtainTokenView
from crisis.api.crises import CrisisViewSet
from crisis.api.directory import DeskViewSet, MemberStateViewSet, MeView
from crisis.api.protocols import ProtocolVersionViewSet, ProtocolViewSet

router = DefaultRouter(trailing_slash=True)
router.register("states", MemberStateViewSet, basename="state")
router.register("desks", DeskViewSet, basename="desk")
router.register("crises", CrisisViewSet, basename="crisis")
router.register("protocols", ProtocolViewSet, basename="protocol")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("me/", MeView.as_view(), name="me"),
    path(
        "crises/<int:pk>/cap.xml",
        CrisisViewSet.as_view({"get": "cap_xml"}),
        name="crisis-cap-xml",
    ),
    *router.urls,
    path(
        "protocols/<int:protocol_id>/versions/",
        ProtocolVersionViewSet.as_view({"get": "list"}),
        name="protocol-version-list",
    ),
    path(
        "protocols/<int:protocol_id>/versions/<int:number>/",
        ProtocolVersionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="protocol-version-detail",
    ),
    path(
        "protocols/<int:protocol_id>/versions/<int:number>/export/",
        ProtocolVersionViewSet.as_view({"get": "export"}),
        name="protocol-version-export",
    ),
]

from crisis.api.deadlines import DeadlineListView  # noqa: E402

urlpatterns += [path("deadlines/", DeadlineListView.as_view(), name="deadline-list")]
