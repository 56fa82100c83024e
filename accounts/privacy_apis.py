"""``/api/v1/me/export/`` (download my data) and ``DELETE /api/v1/me/`` (close my account), F-A5.

Two thin doors onto ``accounts.data_export`` and ``accounts.erasure``, like the wallet's pages."""

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import data_export, erasure, selectors
from accounts.errors import DataExportNotFoundError, ErasureConfirmationError
from accounts.models import DataExport
from accounts.privacy_forms import erasure_confirmation_errors
from accounts.request_types import AuthenticatedRequest


class DataExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "percent",
            "step",
            "size_bytes",
            "created_at",
            "ready_at",
            "expires_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, export: DataExport) -> str | None:
        if not export.is_downloadable:
            return None
        return reverse("api-me-export-download", kwargs={"export_id": export.pk})


class ErasureSerializer(serializers.Serializer):
    password = serializers.CharField(trim_whitespace=False, max_length=256)
    confirmation = serializers.CharField(max_length=20, help_text='Type "DELETE".')
    acknowledge = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=20,
        required=False,
        default=list,
        help_text="The codes of what you accept to lose (e.g. points_forfeited); "
        "without them: 409 erasure_not_acknowledged with fields.acknowledge.",
    )


class DataExportApi(APIView):
    """Start an export of everything we hold about you (POST), and see its progress and link (GET)."""

    # The default throttle limits only writes: starting costs work, polling the status is free.
    throttle_scope = "data_export"

    @extend_schema(
        operation_id="me_export_status",
        responses={
            200: DataExportSerializer,
            404: OpenApiResponse(description="No export yet (`data_export_not_found`)."),
        },
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        export = selectors.data_export_latest(user=request.user)
        if export is None:
            raise DataExportNotFoundError(_("You have not asked for your data yet."))
        return Response(DataExportSerializer(export).data)

    @extend_schema(
        operation_id="me_export_start",
        request=None,
        responses={
            202: DataExportSerializer,
            200: OpenApiResponse(DataExportSerializer, description="One is already being prepared: that one."),
            429: OpenApiResponse(description="Too many exports started (`throttled`)."),
        },
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        export, started = data_export.data_export_start(user=request.user)
        return Response(
            DataExportSerializer(export).data, status=status.HTTP_202_ACCEPTED if started else status.HTTP_200_OK
        )


class DataExportDownloadApi(APIView):
    """The export's zip, for its owner only, until it expires (then 410 `data_export_expired`)."""

    @extend_schema(
        operation_id="me_export_download",
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="The zip file."),
            404: OpenApiResponse(description="Not one of your exports."),
            409: OpenApiResponse(description="Still being prepared (`data_export_not_ready`)."),
            410: OpenApiResponse(description="Expired; the file was deleted (`data_export_expired`)."),
        },
    )
    def get(self, request: AuthenticatedRequest, export_id: int) -> FileResponse:
        export = data_export.data_export_for_download(user=request.user, export_id=export_id)
        return FileResponse(
            export.file.open("rb"), as_attachment=True, filename=data_export.data_export_filename(export)
        )


def erase_me(request: AuthenticatedRequest) -> Response:
    """``DELETE /api/v1/me/``: close the account (MeApi.delete calls this)."""
    serializer = ErasureSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    errors = erasure_confirmation_errors(
        user=request.user,
        password=serializer.validated_data["password"],
        confirmation=serializer.validated_data["confirmation"],
    )
    if errors:
        raise ErasureConfirmationError(fields=errors)
    erasure.account_erase(user=request.user, acknowledged=serializer.validated_data["acknowledge"])
    return Response(status=status.HTTP_204_NO_CONTENT)
