from django.urls import path

from hotline.consumers import DeskConsumer

websocket_urlpatterns = [
    path("ws/v1/", DeskConsumer.as_asgi()),
]
