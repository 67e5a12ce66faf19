"""API: published monthly reports, for analysts only, with the same scope rules as the pages."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.api import CursorPage, OwnApiView, responses

from .downloads import FORMATS, report_file, report_file_response
from .models import MonthlyReport
from .periods import PeriodError, month_parse
from .selectors import monthly_report_get_for_user, monthly_report_list_visible_to
from .summary import headlines


class ReportScopeSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=["national", "province"])
    province_code = serializers.CharField(allow_null=True)
    province_name = serializers.CharField(allow_null=True)


@extend_schema_field(ReportScopeSerializer)
class _ScopeField(serializers.Field):
    def to_representation(self, report: MonthlyReport):
        if report.province_id is None:
            return {"level": "national", "province_code": None, "province_name": None}
        return {"level": "province", "province_code": report.province.code, "province_name": report.province.name}


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-10"})
class MonthField(serializers.DateField):
    """A month as YYYY-MM (the report's period is the first day of its month)."""

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m", **kwargs)


class _ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = MonthField()
    scope = _ScopeField(source="*")
    version = serializers.IntegerField()
    published_at = serializers.DateTimeField()
    content_hash = serializers.CharField()
    code_version = serializers.CharField()
    reason = serializers.CharField()
    supersedes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    page = serializers.SerializerMethodField()
    downloads = serializers.SerializerMethodField()

    def get_page(self, report) -> str:
        return self.context["request"].build_absolute_uri(reverse("reports:detail", args=[report.pk]))

    def get_downloads(self, report) -> dict[str, str]:
        request = self.context["request"]
        return {
            fmt: request.build_absolute_uri(reverse("api-report-download", args=[report.pk, fmt])) for fmt in FORMATS
        }


class MonthlyReportListApi(OwnApiView):
    pagination_class = CursorPage
    ordering = ("-id",)

    class OutputSerializer(_ReportSerializer):
        latest = serializers.BooleanField(source="is_latest")

    @extend_schema(
        operation_id="reports_list",
        summary="Monthly reports the analyst may read",
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="Only this month (YYYY-MM)."),
            OpenApiParameter("versions", OpenApiTypes.STR, enum=["latest", "all"],
                             description="Newest version of each report (default) or every version."),
        ],
        responses=responses(200, OutputSerializer(many=True), 400, d400="Bad month or versions."),
        tags=["reports"],
    )
    def get(self, request):
        versions = request.query_params.get("versions", "latest")
        if versions not in ("latest", "all"):
            raise ValidationError({"versions": ["Use 'latest' or 'all'."]})
        queryset = monthly_report_list_visible_to(user=request.user, latest_only=versions == "latest")
        if "month" in request.query_params:
            try:
                queryset = queryset.filter(period=month_parse(request.query_params["month"]))
            except PeriodError as error:
                raise ValidationError({"month": [str(error)]}) from error
        page = self.paginate(queryset)
        return self.page_response(self.OutputSerializer(page, many=True, context={"request": request}).data)


class MonthlyReportDetailApi(OwnApiView):
    class OutputSerializer(_ReportSerializer):
        headlines = serializers.SerializerMethodField()
        data = serializers.JSONField()

        def get_headlines(self, report) -> list[dict]:
            return [
                {"key": h.key, "label": h.label, "value": h.value, "share": h.share} for h in headlines(report.data)
            ]

    @extend_schema(operation_id="reports_retrieve", summary="One monthly report with its published tables",
                   responses={200: OutputSerializer}, tags=["reports"])
    def get(self, request, report_id: int):
        report = monthly_report_get_for_user(user=request.user, report_id=report_id)
        return Response(self.OutputSerializer(report, context={"request": request}).data)


class MonthlyReportDownloadApi(OwnApiView):
    @extend_schema(
        operation_id="reports_download",
        summary="Download a monthly report as CSV, XLSX, PDF or DHIS2 dataValueSets JSON",
        parameters=[OpenApiParameter("fmt", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(FORMATS))],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "application/json"): OpenApiResponse(OpenApiTypes.OBJECT, description="DHIS2 dataValueSets."),
        },
        tags=["reports"],
    )
    def get(self, request, report_id: int, fmt: str):
        report = monthly_report_get_for_user(user=request.user, report_id=report_id)
        if fmt not in FORMATS:
            raise Http404
        return report_file_response(report_file(report, fmt))
