"""Shapes of the hotline REST API (validation of shape only: services decide)."""

from django.utils.translation import gettext as _
from rest_framework import serializers

from core.tlp import TLP
from hotline.models import (
    MAX_BODY_CHARS,
    ChannelEvent,
    ChannelKind,
    ChannelMember,
    HotlineChannel,
    LineCheck,
    Message,
    Priority,
    Receipt,
    RoomInvitation,
)
from hotline.protocol import message_is_exercise


class MemberSerializer(serializers.ModelSerializer):
    desk = serializers.IntegerField(source="desk_id")
    code = serializers.CharField(source="desk.code")
    state = serializers.CharField(source="desk.state.code", allow_null=True, default=None)

    class Meta:
        model = ChannelMember
        fields = ["desk", "code", "state", "added_at"]


class ChannelSerializer(serializers.ModelSerializer):
    members = MemberSerializer(many=True, read_only=True)

    class Meta:
        model = HotlineChannel
        fields = [
            "id",
            "kind",
            "name",
            "status",
            "members",
            "proposed_by_desk",
            "last_seq",
            "line_status",
            "last_check_ok_at",
            "ack_deadline_seconds",
            "crisis_ref",
            "exercise",
            "created_at",
            "archived_at",
        ]


class ChannelCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ChannelKind.choices)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    desk = serializers.IntegerField(
        required=False, help_text="Bilateral: your desk (proposing) or the first desk."
    )
    peer_desk = serializers.IntegerField(required=False, help_text="Bilateral: the other desk.")
    desks = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Crisis room: its desks. A national desk's room has its own state's desks; "
        "other states' desks are invited and join when they accept.",
    )
    crisis_ref = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    ack_deadline_seconds = serializers.IntegerField(
        required=False,
        help_text="Flash acknowledgement deadline: HOTLINE_ACK_DEADLINE_MIN_SECONDS (60) to "
        "HOTLINE_ACK_DEADLINE_MAX_SECONDS (86400).",
    )

    def validate(self, data):
        kind = data["kind"]
        if kind == ChannelKind.BILATERAL and not ("desk" in data and "peer_desk" in data):
            raise serializers.ValidationError(
                {"peer_desk": _("A bilateral line needs desk and peer_desk.")}
            )
        if kind == ChannelKind.CRISIS_ROOM:
            if not data.get("desks"):
                raise serializers.ValidationError({"desks": _("A crisis room needs its desks.")})
            if not data.get("name"):
                raise serializers.ValidationError({"name": _("A crisis room needs a name.")})
        return data


class InvitationSerializer(serializers.ModelSerializer):
    channel_name = serializers.CharField(source="channel.name")
    desk_code = serializers.CharField(source="desk.code")
    invited_by_desk_code = serializers.CharField(
        source="invited_by_desk.code", default=None, allow_null=True
    )

    class Meta:
        model = RoomInvitation
        fields = [
            "id",
            "channel",
            "channel_name",
            "desk",
            "desk_code",
            "invited_by_desk",
            "invited_by_desk_code",
            "invited_at",
        ]


class InvitationAnswerSerializer(serializers.Serializer):
    desk = serializers.IntegerField(
        required=False, help_text="Your invited desk (default: your first invited desk)."
    )


class MemberCreateSerializer(serializers.Serializer):
    desk = serializers.IntegerField()


class MessageSerializer(serializers.ModelSerializer):
    channel = serializers.IntegerField(source="channel_id")
    sender = serializers.CharField(source="sender.username", allow_null=True, default=None)
    sender_desk = serializers.IntegerField(source="sender_desk_id", allow_null=True)
    corrects = serializers.IntegerField(source="corrects_id", allow_null=True)
    tlp_label = serializers.CharField(read_only=True, help_text="The marking as written.")
    exercise = serializers.SerializerMethodField(
        help_text="True on a line of an exercise crisis: drill traffic, never real."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "channel",
            "seq",
            "kind",
            "sender",
            "sender_desk",
            "body",
            "priority",
            "client_msg_id",
            "corrects",
            "tlp",
            "tlp_label",
            "created_at",
            "exercise",
        ]

    def get_exercise(self, message) -> bool:
        return message_is_exercise(message)


class SendMessageSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=MAX_BODY_CHARS, trim_whitespace=False)
    client_msg_id = serializers.UUIDField(help_text="Chosen by the sender; resending is safe.")
    priority = serializers.ChoiceField(choices=Priority.choices, default=Priority.ROUTINE)
    corrects = serializers.IntegerField(required=False, help_text="Id of the corrected message.")
    desk = serializers.IntegerField(required=False, help_text="The desk you send for.")
    tlp = serializers.ChoiceField(
        choices=TLP.choices,
        required=False,
        help_text="TLP 2.0 marking; AMBER unless given. RED: only the line's desks of now.",
    )


class ForwardMessageSerializer(serializers.Serializer):
    channel = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="The line to forward to."
    )
    client_msg_id = serializers.UUIDField(help_text="Chosen by the sender; resending is safe.")
    tlp = serializers.ChoiceField(
        choices=TLP.choices,
        required=False,
        help_text="A marking for the forward; the narrower of it and the original's is kept.",
    )
    desk = serializers.IntegerField(required=False, help_text="The desk you send for.")


class ReceiptSerializer(serializers.ModelSerializer):
    message = serializers.IntegerField(source="message_id")
    seq = serializers.IntegerField(source="message.seq")
    desk = serializers.IntegerField(source="desk_id")
    delivered_by = serializers.CharField(
        source="delivered_by.username", default=None, allow_null=True
    )
    read_by = serializers.CharField(source="read_by.username", default=None, allow_null=True)
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", default=None, allow_null=True
    )

    class Meta:
        model = Receipt
        fields = [
            "message",
            "seq",
            "desk",
            "delivered_at",
            "delivered_by",
            "read_at",
            "read_by",
            "acknowledged_at",
            "acknowledged_by",
        ]


class ReceiptActionSerializer(serializers.Serializer):
    desk = serializers.IntegerField(required=False, help_text="The desk you act for.")


class DeliveredSerializer(serializers.Serializer):
    up_to_seq = serializers.IntegerField(min_value=0)
    desk = serializers.IntegerField(required=False)


class ChannelEventSerializer(serializers.ModelSerializer):
    actor = serializers.CharField(source="actor.username", default=None, allow_null=True)

    class Meta:
        model = ChannelEvent
        fields = ["id", "kind", "actor", "desk", "data", "at"]


class LineCheckSerializer(serializers.ModelSerializer):
    seq = serializers.IntegerField(source="message.seq")

    class Meta:
        model = LineCheck
        fields = [
            "id",
            "message",
            "seq",
            "status",
            "sent_at",
            "due_at",
            "finished_at",
            "missing_desk_ids",
        ]


class PresenceSerializer(serializers.Serializer):
    desk = serializers.IntegerField()
    online = serializers.BooleanField()
    last_seen_at = serializers.DateTimeField(allow_null=True)
