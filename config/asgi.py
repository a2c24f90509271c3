"""One ASGI entry point: HTTP (console, API, admin) and websockets (hotline protocol)."""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if not settings.configured:
    # A web process (uvicorn serving this module) borrows its database connections from a
    # pool unless DATABASE_POOL says otherwise (docs/operations.md, "Sizing"). Workers,
    # beat and commands never import this module; a process whose settings are already
    # read (a test run importing the application) is left as it is.
    os.environ.setdefault("DATABASE_POOL", "true")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.middleware import LimitRequestBodyASGI  # noqa: E402
from core.ws_auth import WebsocketAuthMiddleware, origin_validated  # noqa: E402
from hotline.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Bodies sent without a Content-Length are counted as they arrive (413 past the limit).
        "http": LimitRequestBodyASGI(django_asgi_app),
        "websocket": origin_validated(
            AuthMiddlewareStack(WebsocketAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)
