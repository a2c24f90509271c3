"""The websocket endpoint of a desk's people and systems (``/ws/v1/``).

Skeleton of the protocol in ``docs/hotline-protocol.md``: authentication, the desk
groups that carry live events, ping/pong and error frames. Frames are JSON objects with
a ``type``; a frame the server cannot take gets an ``error`` frame, never a dropped
connection for anybody else.
"""

from __future__ import annotations

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from crisis.access import access_for
from crisis.errors import error_body
from crisis.events import desk_group

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 64 * 1024

#: Close codes (4000-4999 are the application's own).
CLOSE_UNAUTHENTICATED = 4401


class DeskConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.access = await database_sync_to_async(access_for)(user)
        self.groups_joined = [desk_group(desk_id) for desk_id in sorted(self.access.desk_ids)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json(
            {
                "type": "hello",
                "protocol": PROTOCOL_VERSION,
                "user": user.get_username(),
                "desks": sorted(self.access.desk_ids),
            }
        )

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if bytes_data is not None or text_data is None:
            await self.send_error("bad_frame", "Frames are JSON text, not binary.")
            return
        if len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.send_error(
                "frame_too_large", f"Frames are limited to {MAX_FRAME_BYTES} bytes."
            )
            return
        try:
            frame = json.loads(text_data)
        except ValueError as exc:
            await self.send_error("bad_json", f"Frame is not valid JSON: {exc}")
            return
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            await self.send_error("bad_frame", "A frame is a JSON object with a string 'type'.")
            return
        handler = getattr(self, "frame_" + frame["type"].replace(".", "_"), None)
        if handler is None:
            await self.send_error(
                "unknown_type", f"Unknown frame type {frame['type']!r}.", ref=frame.get("ref")
            )
            return
        await handler(frame)

    async def frame_ping(self, frame):
        await self.send_json({"type": "pong", "ref": frame.get("ref")})

    async def send_error(self, code: str, message: str, *, ref=None, details=None):
        body = {"type": "error", **error_body(code, message, details)}
        if ref is not None:
            body["ref"] = ref
        await self.send_json(body)

    # Channel-layer handler: events published with crisis.events.publish_on_commit.
    async def push_event(self, message):
        await self.send_json(message["event"])
