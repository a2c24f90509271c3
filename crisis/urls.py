from django.urls import path
from rest_framework.routers import DefaultRouter

from crisis.api.crises import CrisisViewSet
from crisis.api.notifications import NotificationViewSet
from crisis.api.protocols import ProtocolVersionViewSet, ProtocolViewSet

router = DefaultRouter(trailing_slash=True)
router.register("crises", CrisisViewSet, basename="crisis")
router.register("protocols", ProtocolViewSet, basename="protocol")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
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
