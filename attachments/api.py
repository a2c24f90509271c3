"""``/api/v1/attachments/``: upload (multipart), list an item's, read one, download.

A download is never shown inline: ``Content-Disposition: attachment``, the content type
detected at upload, ``X-Content-Type-Options: nosniff`` and a sandboxing CSP, so a file
cannot run as a page of ours whatever it holds. Every download is in the read audit.
"""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from attachments.models import Attachment, AttachmentKind
from attachments.selectors import attachment_for, attachments_on, host_item
from attachments.services import attach_file
from audit.services import record_read
from core.api import AccessMixin
from core.errors import InvalidInput, PermissionDenied
from core.parsers import BoundedJSONParser
from core.tlp import TLP


class AttachmentSerializer(serializers.ModelSerializer):
    desk = serializers.CharField(source="desk.code", read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    tlp_label = serializers.CharField(read_only=True, help_text="The marking as written.")
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "id",
            "kind",
            "object_id",
            "filename",
            "content_type",
            "size_bytes",
            "sha256",
            "tlp",
            "tlp_label",
            "desk",
            "uploaded_by",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj) -> str:
        return f"/api/v1/attachments/{obj.pk}/download/"


class UploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    object_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    file = serializers.FileField(
        help_text="A photo (JPEG, PNG, GIF, WebP), a PDF or an office document; "
        "judged by its content. At most ATTACHMENT_MAX_BYTES (10 MB)."
    )
    tlp = serializers.ChoiceField(
        choices=TLP.choices,
        required=False,
        help_text="TLP marking; the item's marking if not given, never wider than it.",
    )


class ItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    object_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)


def _attachment_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class AttachmentListView(AccessMixin, APIView):
    # JSON too, so a body without a file gets a clear 400 rather than 415.
    parser_classes = [MultiPartParser, FormParser, BoundedJSONParser]

    @extend_schema(
        summary="The attachments of one item you may see",
        parameters=[
            OpenApiParameter("kind", str, enum=AttachmentKind.values, required=True),
            OpenApiParameter("object_id", int, required=True),
        ],
        responses={200: AttachmentSerializer(many=True)},
    )
    def get(self, request):
        query = ItemSerializer(data=request.query_params)
        if not query.is_valid():
            raise InvalidInput(_("Give kind and object_id."), details={"fields": query.errors})
        kind, object_id = query.validated_data["kind"], query.validated_data["object_id"]
        host_item(self.access, kind, object_id)
        rows = attachments_on(self.access, kind, [object_id])
        return Response(AttachmentSerializer(rows, many=True).data)

    @extend_schema(
        summary="Attach a file to a message, a situation update or a request",
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: AttachmentSerializer,
            400: OpenApiResponse(description="Empty, or not an accepted type by content."),
            413: OpenApiResponse(description="Larger than ATTACHMENT_MAX_BYTES."),
        },
    )
    def post(self, request):
        # Who may, and on what, before the file is looked at: an outsider learns nothing.
        if not self.access.can_write:
            raise PermissionDenied(_("Your role cannot attach files."), code="read_only")
        item = ItemSerializer(data=request.data)
        item.is_valid(raise_exception=True)
        host_item(self.access, item.validated_data["kind"], item.validated_data["object_id"])
        data = UploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        attachment = attach_file(
            by=request.user,
            kind=d["kind"],
            object_id=d["object_id"],
            upload=d["file"],
            tlp=d.get("tlp"),
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDetailView(AccessMixin, APIView):
    @extend_schema(summary="One attachment's description", responses={200: AttachmentSerializer})
    def get(self, request, id):
        attachment = attachment_for(self.access, _attachment_id(id))
        return Response(AttachmentSerializer(attachment).data)


class AttachmentDownloadView(AccessMixin, APIView):
    @extend_schema(
        summary="Download the file (always as an attachment, never shown inline)",
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    def get(self, request, id):
        attachment = attachment_for(self.access, _attachment_id(id))
        record_read(
            user=request.user,
            what="attachments.download",
            object_type="attachment",
            object_id=attachment.pk,
            details={
                "kind": attachment.kind,
                "object_id": attachment.object_id,
                "tlp": attachment.tlp,
            },
        )
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.filename,
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Cache-Control"] = "private, no-store"
        response["X-TLP"] = attachment.tlp_label
        return response

    def perform_content_negotiation(self, request, force=False):
        # The file is the answer whatever the client accepts; errors stay JSON.
        return super().perform_content_negotiation(request, force=True)
