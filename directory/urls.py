from django.urls import path
from rest_framework.routers import SimpleRouter

from directory.api.auth import (
    LogoutAllView,
    LogoutView,
    ObtainTokenView,
    RefreshTokenView,
    WebsocketTicketView,
)
from directory.api.views import DeskViewSet, MemberStateViewSet, MeView

router = SimpleRouter(trailing_slash=True)
router.register("states", MemberStateViewSet, basename="state")
router.register("desks", DeskViewSet, basename="desk")

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="auth-token"),
    path("auth/token/refresh/", RefreshTokenView.as_view(), name="auth-token-refresh"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/ws-ticket/", WebsocketTicketView.as_view(), name="auth-ws-ticket"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
