"""REST edge of the hotlines: the same services as the websocket, for systems that cannot
hold a socket. ``/api/v1/channels/``, messages with ``?after_seq=``, receipts."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.services import record_read
from core.api import AccessMixin
from core.errors import NotFound
from hotline.api.pagination import SeqPagination, int_param
from hotline.api.serializers import (
    ChannelCreateSerializer,
    ChannelEventSerializer,
    ChannelSerializer,
    DeliveredSerializer,
    ForwardMessageSerializer,
    InvitationAnswerSerializer,
    InvitationSerializer,
    LineCheckSerializer,
    MemberCreateSerializer,
    MessageSerializer,
    PresenceSerializer,
    ReceiptActionSerializer,
    ReceiptSerializer,
    SendMessageSerializer,
)
from hotline.models import ChannelKind, ChannelStatus, HotlineChannel, LineStatus, Message
from hotline.selectors import (
    channels_visible_to,
    events_of,
    invitations_for,
    line_checks_of,
    member_desk_ids,
    message_marking_q,
    messages_in,
    presence_of,
    receipts_of,
)
from hotline.services import channels as channel_services
from hotline.services import messages as message_services
from hotline.services import receipts as receipt_services


class ChannelFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ChannelKind.choices)
    status = django_filters.ChoiceFilter(choices=ChannelStatus.choices)
    line_status = django_filters.ChoiceFilter(choices=LineStatus.choices)
    crisis_ref = django_filters.CharFilter()

    class Meta:
        model = HotlineChannel
        fields = ["kind", "status", "line_status", "crisis_ref"]


def _line_id(pk) -> int:
    """A line id from the path; anything else is a line that does not exist."""
    try:
        value = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("No such line."), code="channel_not_found") from None
    if not 0 < value < 2**63:
        raise NotFound(_("No such line."), code="channel_not_found")
    return value


def _bounded_id(value) -> int:
    """An id from the path within the column's range (0 for anything else: no row)."""
    number = int(value)
    return number if 0 < number < 2**31 else 0


class ChannelViewSet(
    AccessMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The lines your desks are on (the API calls a line a *channel*); coordinators and
    auditors see all."""

    serializer_class = ChannelSerializer
    filterset_class = ChannelFilter

    def get_queryset(self) -> QuerySet[HotlineChannel]:
        return channels_visible_to(self.access).order_by("id")

    def _channel(self) -> HotlineChannel:
        return self.get_object()

    def _rendered(self, channel_id: int, code=status.HTTP_200_OK) -> Response:
        channel = channels_visible_to(self.access).get(pk=channel_id)
        return Response(ChannelSerializer(channel).data, status=code)

    @extend_schema(
        request=ChannelCreateSerializer,
        responses={201: ChannelSerializer},
        examples=[
            OpenApiExample(
                "Propose a bilateral line", value={"kind": "bilateral", "desk": 1, "peer_desk": 2}
            ),
            OpenApiExample(
                "Open a crisis room",
                value={"kind": "crisis_room", "name": "Typhoon Haima", "desks": [1, 2, 3]},
            ),
        ],
    )
    def create(self, request):
        """Propose a bilateral line (your desk, or set it up as coordinator), open a crisis
        room, or open the regional broadcast line (coordinator)."""
        data = ChannelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d, user = data.validated_data, request.user
        if d["kind"] == ChannelKind.BILATERAL:
            if self.access.is_coordinator:
                channel = channel_services.set_up_bilateral_channel(
                    by=user, desk_id=d["desk"], peer_desk_id=d["peer_desk"], name=d["name"]
                )
            else:
                channel = channel_services.propose_bilateral_channel(
                    by=user, desk_id=d["desk"], peer_desk_id=d["peer_desk"], name=d["name"]
                )
        elif d["kind"] == ChannelKind.CRISIS_ROOM:
            channel = channel_services.open_crisis_room(
                by=user,
                name=d["name"],
                desk_ids=d["desks"],
                crisis_ref=d["crisis_ref"],
                ack_deadline_seconds=d.get("ack_deadline_seconds"),
            )
        else:
            channel = channel_services.open_broadcast_channel(
                by=user, name=d["name"] or "Regional broadcast"
            )
        return self._rendered(channel.pk, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: ChannelSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """The proposed-to desk accepts a bilateral line."""
        channel = self._channel()
        channel_services.accept_bilateral_channel(by=request.user, channel_id=channel.pk)
        return self._rendered(channel.pk)

    @extend_schema(request=None, responses={200: ChannelSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        """Make the line read-only."""
        channel = self._channel()
        channel_services.archive_channel(by=request.user, channel_id=channel.pk)
        return self._rendered(channel.pk)

    @extend_schema(responses={200: InvitationSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def invitations(self, request):
        """Crisis rooms your desks are invited to, waiting for your answer."""
        rows = invitations_for(self.access)
        return Response(InvitationSerializer(rows, many=True).data)

    @extend_schema(request=InvitationAnswerSerializer, responses={200: ChannelSerializer})
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        """Accept your desk's invitation to a crisis room: the desk becomes a member."""
        data = InvitationAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = channel_services.accept_room_invitation(
            by=request.user, channel_id=_line_id(pk), desk_id=data.validated_data.get("desk")
        )
        return self._rendered(member.channel_id)

    @extend_schema(request=InvitationAnswerSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Decline your desk's invitation to a crisis room."""
        data = InvitationAnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel_services.decline_room_invitation(
            by=request.user, channel_id=_line_id(pk), desk_id=data.validated_data.get("desk")
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MemberCreateSerializer, responses={201: ChannelSerializer})
    @action(detail=True, methods=["post"], url_path="members")
    def add_member(self, request, pk=None):
        """Add a desk (coordinator; crisis rooms and broadcast)."""
        channel = self._channel()
        data = MemberCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel_services.add_member(
            by=request.user, channel_id=channel.pk, desk_id=data.validated_data["desk"]
        )
        return self._rendered(channel.pk, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<desk_id>\d+)")
    def remove_member(self, request, pk=None, desk_id=None):
        """Remove a desk (coordinator; the membership stays in the trace)."""
        channel = self._channel()
        channel_services.remove_member(by=request.user, channel_id=channel.pk, desk_id=int(desk_id))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        responses={200: MessageSerializer(many=True)},
        description="Messages in seq order after `after_seq`: resume from the last you have.",
    )
    @extend_schema(
        methods=["POST"],
        request=SendMessageSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, "This client_msg_id was sent before."),
        },
    )
    @action(detail=True, methods=["get", "post"], pagination_class=SeqPagination)
    def messages(self, request, pk=None):
        channel = self._channel()
        if request.method == "GET":
            after_seq = int_param(request, "after_seq", 0)
            record_read(
                user=request.user,
                what="hotline.transcript",
                object_type="hotline_line",
                object_id=channel.pk,
                details={"after_seq": after_seq},
            )
            page = self.paginate_queryset(
                messages_in(channel, after_seq=after_seq, access=self.access)
            )
            return self.get_paginated_response(MessageSerializer(page, many=True).data)
        data = SendMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        message, created = message_services.send_message(
            by=request.user,
            channel_id=channel.pk,
            body=d["body"],
            client_msg_id=d["client_msg_id"],
            priority=d["priority"],
            corrects_id=d.get("corrects"),
            desk_id=d.get("desk"),
            tlp=d.get("tlp"),
        )
        return Response(
            MessageSerializer(message).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _message(self, channel: HotlineChannel, seq: str) -> Message:
        """A message of a line the caller sees, if its TLP marking lets them (else 404)."""
        message = (
            Message.objects.filter(channel=channel, seq=_bounded_id(seq))
            .filter(message_marking_q(self.access))
            .select_related("sender", "sender_desk")
            .first()
        )
        if message is None:
            raise NotFound(_("No such message."), code="message_not_found")
        return message

    @extend_schema(
        request=ForwardMessageSerializer,
        responses={
            201: MessageSerializer,
            200: OpenApiResponse(MessageSerializer, "This client_msg_id was sent before."),
            403: OpenApiResponse(
                description="TLP:RED (never forwarded) or TLP:AMBER+STRICT to a line "
                "with desks outside its recipients' organisations."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<seq>\d+)/forward")
    def forward(self, request, pk=None, seq=None):
        """Forward this message to another line: a new message quoting it, marked with the
        narrower of its TLP and the one you give. RED messages are never forwarded."""
        message = self._message(self._channel(), seq)
        data = ForwardMessageSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        forwarded, created = message_services.forward_message(
            by=request.user,
            message=message,
            to_channel_id=d["channel"],
            client_msg_id=d["client_msg_id"],
            tlp=d.get("tlp"),
            desk_id=d.get("desk"),
        )
        return Response(
            MessageSerializer(forwarded).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    def _receipt_action(self, request, pk, seq, service):
        channel = self._channel()
        message = self._message(channel, seq)
        data = ReceiptActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = service(
            by=request.user, message_id=message.pk, desk_id=data.validated_data.get("desk")
        )
        receipt.message = message
        return Response(ReceiptSerializer(receipt).data)

    @extend_schema(request=ReceiptActionSerializer, responses={200: ReceiptSerializer})
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<seq>\d+)/read")
    def read(self, request, pk=None, seq=None):
        """Your desk has read this message."""
        return self._receipt_action(request, pk, seq, receipt_services.mark_read)

    @extend_schema(request=ReceiptActionSerializer, responses={200: ReceiptSerializer})
    @action(detail=True, methods=["post"], url_path=r"messages/(?P<seq>\d+)/ack")
    def ack(self, request, pk=None, seq=None):
        """Your desk acknowledges this message (flash messages and line checks need it)."""
        return self._receipt_action(request, pk, seq, receipt_services.acknowledge_message)

    @extend_schema(request=ReceiptActionSerializer, responses={200: ReceiptSerializer})
    @action(detail=True, methods=["post"], url_path=r"line-checks/(?P<check_id>\d+)/answer")
    def answer_line_check(self, request, pk=None, check_id=None):
        """Your desk answers this line check (acknowledges its message, as ``ack`` does).
        Accepted after its deadline too: that ends your desk's page about it."""
        channel = self._channel()
        check = line_checks_of(channel).filter(pk=_bounded_id(check_id)).first()
        if check is None:
            raise NotFound(_("No such line check."), code="line_check_not_found")
        data = ReceiptActionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt = receipt_services.answer_line_check(
            by=request.user, line_check_id=check.pk, desk_id=data.validated_data.get("desk")
        )
        receipt.message = check.message
        return Response(ReceiptSerializer(receipt).data)

    @extend_schema(request=DeliveredSerializer, responses={200: DeliveredSerializer})
    @action(detail=True, methods=["post"])
    def delivered(self, request, pk=None):
        """Your desk has received everything up to ``up_to_seq``."""
        channel = self._channel()
        data = DeliveredSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        receipt_services.mark_delivered(
            by=request.user,
            channel_id=channel.pk,
            up_to_seq=data.validated_data["up_to_seq"],
            desk_id=data.validated_data.get("desk"),
        )
        return Response(data.validated_data)

    @extend_schema(responses={200: ReceiptSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def receipts(self, request, pk=None):
        """Receipts of messages after ``after_seq`` (at most 500 messages' worth)."""
        channel = self._channel()
        after_seq = int_param(request, "after_seq", 0)
        rows = (
            receipts_of(channel, after_seq=after_seq)
            .filter(message__seq__lte=after_seq + 500)
            .filter(message__in=Message.objects.filter(message_marking_q(self.access)))
        )
        return Response(ReceiptSerializer(rows, many=True).data)

    @extend_schema(responses={200: PresenceSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def presence(self, request, pk=None):
        """Which member desks are online now, and when each was last seen."""
        channel = self._channel()
        return Response(PresenceSerializer(presence_of(member_desk_ids(channel)), many=True).data)

    @extend_schema(responses={200: ChannelEventSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """The line's trace: created, members added/removed, escalations, line checks."""
        page = self.paginate_queryset(events_of(self._channel()))
        return self.get_paginated_response(ChannelEventSerializer(page, many=True).data)

    @extend_schema(responses={200: LineCheckSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="line-checks")
    def line_checks(self, request, pk=None):
        """Line checks sent on this line, newest first."""
        page = self.paginate_queryset(line_checks_of(self._channel()))
        return self.get_paginated_response(LineCheckSerializer(page, many=True).data)
