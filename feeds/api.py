"""CAP feeds over REST: the health of the feeds we poll (the regional centre and staff),
our own Atom feed of the alerts we issue, and each issued alert's CAP XML.

Thin: ``feeds.selectors`` scopes every read to the caller (crisis visibility for alerts).
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput, NotFound, PermissionDenied
from directory.models import MemberState
from feeds import selectors, services
from feeds.atom import atom_feed
from feeds.models import CapFeed, EntryOutcome, FeedEntry, FeedStatus


class FeedEntrySerializer(serializers.ModelSerializer):
    outcome_name = serializers.CharField(source="get_outcome_display", read_only=True)
    crisis = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    outcome = serializers.ChoiceField(choices=EntryOutcome.choices, read_only=True)

    class Meta:
        model = FeedEntry
        fields = [
            "link", "identifier", "sender", "outcome", "outcome_name", "reason", "crisis",
            "seen_at",
        ]  # fmt: skip


class CapFeedSerializer(serializers.ModelSerializer):
    state = serializers.SlugRelatedField(slug_field="code", read_only=True)
    desk = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    status = serializers.SerializerMethodField()
    health = serializers.SerializerMethodField()

    class Meta:
        model = CapFeed
        fields = [
            "id", "url", "agency", "state", "desk", "is_active", "status", "health",
            "last_polled_at", "last_success_at", "last_error_at", "last_error", "last_result",
            "failures", "next_poll_at",
        ]  # fmt: skip

    @extend_schema_field(serializers.ChoiceField(choices=FeedStatus.choices))
    def get_status(self, feed) -> str:
        return services.feed_status(feed)

    @extend_schema_field(OpenApiTypes.STR)
    def get_health(self, feed) -> str:
        return services.health_words(feed)


class CapFeedDetailSerializer(CapFeedSerializer):
    recent_entries = serializers.SerializerMethodField()

    class Meta(CapFeedSerializer.Meta):
        fields = [*CapFeedSerializer.Meta.fields, "recent_entries"]

    @extend_schema_field(FeedEntrySerializer(many=True))
    def get_recent_entries(self, feed):
        return FeedEntrySerializer(selectors.recent_entries(feed), many=True).data


@extend_schema_view(
    list=extend_schema(
        summary="CAP feeds we poll, with their health (the regional centre and staff)"
    ),
    retrieve=extend_schema(summary="One CAP feed: its health and what its latest entries became"),
)
class CapFeedViewSet(AccessMixin, viewsets.ReadOnlyModelViewSet):
    """National agencies' CAP feeds: last success, last error in words, what came of them."""

    lookup_value_regex = r"\d+"
    queryset = CapFeed.objects.none()  # for the schema; get_queryset scopes to the caller
    pagination_class = None

    def get_queryset(self):
        return selectors.feeds_visible_to(self.access)

    def get_serializer_class(self):
        return CapFeedDetailSerializer if self.action == "retrieve" else CapFeedSerializer

    def list(self, request, *args, **kwargs):
        if not selectors.sees_feed_health(self.access):
            raise PermissionDenied(
                _("Feed health is for the regional centre (coordinators, auditors) and staff."),
                code="regional_only",
            )
        return super().list(request, *args, **kwargs)

    def get_object(self):
        feed = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if feed is None:
            raise NotFound(_("No such CAP feed."))
        return feed


class _DocumentView(AccessMixin, APIView):
    """Answers a document (never negotiated away: a feed reader's ``Accept:
    application/atom+xml`` gets it); errors are the usual JSON body."""

    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        return (JSONRenderer(), JSONRenderer.media_type)


STATE_RE = re.compile(r"^[A-Za-z]{3}$")


class OwnCapFeedView(_DocumentView):
    """Our CAP feed, for partners' systems and feed readers (authenticated like the API)."""

    @extend_schema(
        summary="Our CAP feed: Atom 1.0 of the alerts this service issued",
        operation_id="v1_cap_feed_atom_retrieve",
        description=(
            "The CAP alerts issued about the crises you may see, newest first (at most "
            "200), each entry linking to its CAP 1.2 document (`application/cap+xml`). "
            "`state`: only crises affecting that member state (ISO 3166-1 alpha-3)."
        ),
        parameters=[OpenApiParameter("state", str, required=False, description="e.g. THA")],
        responses={
            (200, "application/atom+xml"): OpenApiTypes.STR,
            400: OpenApiResponse(description="Unknown state"),
        },
    )
    def get(self, request):
        state = None
        code = request.query_params.get("state")
        if code is not None:
            code = code.strip().upper()
            state = MemberState.objects.filter(code=code).first() if STATE_RE.match(code) else None
            if state is None:
                known = ", ".join(
                    MemberState.objects.order_by("code").values_list("code", flat=True)
                )
                raise InvalidInput(
                    _("state must be a member state's ISO 3166-1 alpha-3 code (one of: %(known)s).")
                    % {"known": known},
                    code="unknown_state",
                    details={"state": request.query_params.get("state", "")[:20]},
                )
        alerts = selectors.issued_alerts_visible_to(
            self.access, state_id=state.pk if state else None
        )[:200]
        self_url = request.build_absolute_uri()
        body = atom_feed(
            alerts,
            self_url=self_url,
            alert_url=lambda a: request.build_absolute_uri(reverse("cap-alert-xml", args=[a.pk])),
            title="CAP alerts issued by the regional crisis service"
            + (f" about {state.name}" if state else ""),
        )
        return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")


class IssuedCapAlertView(_DocumentView):
    """One issued CAP alert, verbatim as issued, on a crisis the caller may see."""

    @extend_schema(
        summary="One CAP 1.2 alert this service issued (the document our feed links to)",
        operation_id="v1_cap_alerts_xml_retrieve",
        responses={(200, "application/cap+xml"): OpenApiTypes.STR},
    )
    def get(self, request, id: int):
        alert = selectors.issued_alerts_visible_to(self.access).filter(pk=id).first()
        if alert is None:
            raise NotFound(_("No such CAP alert (or not visible to you)."))
        response = HttpResponse(alert.raw_xml, content_type="application/cap+xml; charset=utf-8")
        response["Content-Disposition"] = f'inline; filename="{alert.identifier}.xml"'
        record_read(
            user=request.user,
            what="cap.alert_xml",
            object_type="crisis",
            object_id=alert.crisis_id,
            details={"alert": alert.identifier},
        )
        return response
