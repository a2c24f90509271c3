"""The bare Channels baseline of ``bench/hotline.py``: a consumer that ``group_send``s
each frame to its room through the default ``RedisChannelLayer``; nothing persisted,
no authentication. ``ws://…/ws/room/<n>/``."""

import os

import django
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.routing import ProtocolTypeRouter, URLRouter
from django.urls import path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.core.asgi import get_asgi_application  # noqa: E402

http_app = get_asgi_application()  # /healthz, so the bench knows it is up


class RoomRelay(AsyncWebsocketConsumer):
    async def connect(self):
        self.room = f"bench.room.{self.scope['url_route']['kwargs']['room']}"
        await self.channel_layer.group_add(self.room, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.room, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        await self.channel_layer.group_send(self.room, {"type": "relay", "text": text_data})

    async def relay(self, event):
        await self.send(text_data=event["text"])


application = ProtocolTypeRouter(
    {"http": http_app, "websocket": URLRouter([path("ws/room/<int:room>/", RoomRelay.as_asgi())])}
)
