"""``GET /api/v1/crises/{id}/record/``: the crisis's full record as a zip."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.views import APIView

from core.api import AccessMixin
from records.services import export_record


class CrisisRecordView(AccessMixin, APIView):
    @extend_schema(
        summary="The crisis's full record: a zip anyone can verify offline",
        operation_id="v1_crises_record_retrieve",
        description=(
            "A zip with manifest.json (every file's SHA-256, the hash-chain heads, the "
            "exercise flag), the timeline with its hash chain (JSON and CSV), the crisis "
            "rooms' transcripts with their chain links, CAP alerts (XML), situation "
            "updates, sitreps, aid, the paging log, registered sections (the review) and "
            "a printable report.html; manifest.sig when the server has a signing key. "
            "For the crisis's parties, coordinators and auditors; each export is "
            "recorded in the read audit. Check it with `manage.py verify_record FILE` "
            "(docs/records.md)."
        ),
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="Not a party to the crisis (`not_a_party`)"),
            404: OpenApiResponse(description="No such crisis (or not visible to you)"),
        },
    )
    def get(self, request, pk: int):
        data, name = export_record(by=request.user, crisis_id=pk)
        response = HttpResponse(data, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
