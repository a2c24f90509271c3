from django.urls import path
from rest_framework.routers import DefaultRouter

from humanitarian.api import edxl, views

router = DefaultRouter(trailing_slash=True)
router.register("humanitarian/requests", views.RequestViewSet, basename="hum-request")
router.register("humanitarian/pledges", views.PledgeViewSet, basename="hum-pledge")
router.register("humanitarian/deliveries", views.DeliveryViewSet, basename="hum-delivery")
router.register("humanitarian/standby-assets", views.StandbyAssetViewSet, basename="hum-asset")
router.register("humanitarian/shelters", views.ShelterViewSet, basename="hum-shelter")
router.register("humanitarian/displacement/imports", views.ImportJobViewSet, basename="hum-import")
router.register("humanitarian/displacement", views.DisplacementViewSet, basename="hum-displacement")
router.register("humanitarian/sitreps", views.SituationReportViewSet, basename="hum-sitrep")

urlpatterns = [
    path(
        "humanitarian/requests/<int:id>/edxl-rm.xml",
        edxl.RequestRMView.as_view(),
        name="hum-request-edxl-rm",
    ),
    path(
        "humanitarian/pledges/<int:id>/edxl-rm.xml",
        edxl.PledgeRMView.as_view(),
        name="hum-pledge-edxl-rm",
    ),
    path(
        "humanitarian/pledges/<int:id>/commit.edxl-rm.xml",
        edxl.CommitRMView.as_view(),
        name="hum-pledge-commit-edxl-rm",
    ),
    path(
        "humanitarian/deliveries/<int:id>/edxl-rm.xml",
        edxl.DeliveryRMView.as_view(),
        name="hum-delivery-edxl-rm",
    ),
    path("humanitarian/edxl-rm/", edxl.RMImportView.as_view(), name="hum-edxl-rm-import"),
    path("humanitarian/catalogue/", views.CatalogueView.as_view(), name="hum-catalogue"),
    path("humanitarian/gaps/", views.GapAnalysisView.as_view(), name="hum-gaps"),
    path("humanitarian/gaps/summary/", views.GapSummaryView.as_view(), name="hum-gap-summary"),
    path("humanitarian/exports/<str:kind>.csv", views.HxlExportView.as_view(), name="hum-export"),
    *router.urls,
]
