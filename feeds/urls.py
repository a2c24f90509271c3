from django.urls import path
from rest_framework.routers import DefaultRouter

from feeds import api

router = DefaultRouter(trailing_slash=True)
router.register("cap/feeds", api.CapFeedViewSet, basename="cap-feed")

urlpatterns = [
    path("cap/feed.atom", api.OwnCapFeedView.as_view(), name="cap-own-feed"),
    path("cap/alerts/<int:id>.xml", api.IssuedCapAlertView.as_view(), name="cap-alert-xml"),
    *router.urls,
]
