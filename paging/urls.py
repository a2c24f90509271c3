from django.urls import path
from rest_framework.routers import SimpleRouter

from paging.api import ContactMethodViewSet, DeskWebhookListView, PageViewSet, WebhookViewSet
from paging.provider_views import InboundSmsView, ProviderStatusView

router = SimpleRouter(trailing_slash=True)
router.register("contact-methods", ContactMethodViewSet, basename="contact-method")
router.register("pages", PageViewSet, basename="page")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    *router.urls,
    path(
        "desks/<int:id>/webhooks/",
        DeskWebhookListView.as_view({"get": "list", "post": "create"}),
        name="desk-webhooks",
    ),
    path("paging/sms/inbound/", InboundSmsView.as_view(), name="paging-sms-inbound"),
    path("paging/sms/status/", ProviderStatusView.as_view(), name="paging-provider-status"),
]
