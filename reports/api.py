"""REST API of the reports, over the same filters, engine and exports as the report pages:

- /api/v1/reports/loan-volume/ — checkouts grouped by one or two dimensions, with the volume
  page's filters (ReportFilter) counted by the same engine (`engine.loans.loan_counts`), as JSON or,
  on `Accept: text/csv` or `?format=csv`, as CSV;
- /api/v1/period-reports/ — the submitted and accepted period reports the caller may see
  (`period_reports_visible`: a county its own, the province those of its libraries, the lender
  the accepted ones of the volumes it lent), each as JSON, XLSX (the page's export) and PDF
  (the page's background job: 202 with where to ask again until it is ready).

Loan figures are counts over the caller's `LoanScope`, so lenders and provincial reviewers get
how much their volumes circulate and never who borrowed them.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.http import HttpResponse
from django.urls import NoReverseMatch
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ErrorDetail, NotFound, ValidationError
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.reverse import reverse

from accounts.scope import (
    LoanScope,
    can_read_reports,
    period_reports_visible,
    scoped,
    visible_library_ids,
)
from collections_app.exports import XLSX, csv_lines
from collections_app.models import Consignment, Library, Site
from collections_app.selectors import sites_for
from jobs.models import Job
from reports.engine.dimensions import DIMENSIONS, TIMES, ReportError
from reports.engine.loans import loan_counts
from reports.engine.plan import consistently
from reports.filters import ReportFilter, validate
from reports.jobs import period_report_pdf_job
from reports.models import AgeBand, PeriodReport
from reports.tables import Labels
from sharedloan.api_schema import ErrorSerializer, not_found

GROUPS = (
    "day",
    "month",
    "year",
    "library",
    "site",
    "site_kind",
    "consignment",
    "clc_top",
    "clc2",
    "category",
    "age_band",
)
# The volume page's filters; the time grain follows the time dimension asked for, so that the
# page's limits on daily figures hold here too.
FILTERS = (
    "period",
    "start",
    "end",
    "library",
    "site",
    "site_kind",
    "consignment",
    "clc_top",
    "category",
    "age_band",
)


class CSVRenderer(BaseRenderer):
    """A report's rows as CSV (UTF-8 with a BOM, cells safe from formula injection): a column
    per dimension's code and label, then the count."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        headers, rows = data["csv"]
        return b"".join(csv_lines(headers, rows))


class FileRenderer(BaseRenderer):
    """Lets an action that answers a file accept a client asking for that file's own media
    type. The file itself is a finished HttpResponse; what such an action answers through
    DRF (a 202, an error) is JSON whatever was asked (see `finalize_response`)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        raise NotImplementedError("answered as JSON by finalize_response")


class PDFRenderer(FileRenderer):
    media_type = "application/pdf"
    format = "pdf"


class XLSXRenderer(FileRenderer):
    media_type = XLSX
    format = "xlsx"


def _as_json(response):
    """Errors (and a PDF's 202) are JSON whatever media type the client asked for."""
    if isinstance(response, Response) and not isinstance(response.accepted_renderer, JSONRenderer):
        response.accepted_renderer = JSONRenderer()
        response.accepted_media_type = "application/json"
    return response


# Loan volume


class LoanVolumeRowSerializer(serializers.Serializer):
    group = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text="The row's value of each dimension of group_by: a day as 2026-06-01, a "
        "month as 2026-06, a year as 2026, a library by code, a site as LIBRARY.site, a "
        "consignment by reference, a CLC class by its code (null: not classified), a site "
        "kind, reader category or age band by its value.",
    )
    labels = serializers.DictField(
        child=serializers.CharField(), help_text="The same values as people read them"
    )
    loans = serializers.IntegerField(help_text="Checkouts (renewals not counted)")


class LoanVolumeSerializer(serializers.Serializer):
    start = serializers.DateField(help_text="First day counted")
    end = serializers.DateField(help_text="Last day counted (inclusive)")
    group_by = serializers.ListField(child=serializers.ChoiceField(choices=GROUPS))
    rows = LoanVolumeRowSerializer(
        many=True, help_text="One row per group with loans; groups without any are left out"
    )
    total = serializers.IntegerField(help_text="All checkouts counted")


def _group_by(request) -> list[str]:
    raw = request.query_params.getlist("group_by") or ["month"]
    names = [name.strip() for value in raw for name in value.split(",") if name.strip()]
    problems = []
    if not 1 <= len(names) <= 2 or len(set(names)) != len(names):
        problems.append(_("请按一个或两个不同的维度分组。"))
    unknown = [name for name in names if name not in GROUPS]
    if unknown:
        problems.append(_("未知的统计维度：%(name)s") % {"name": "、".join(unknown)})
    if sum(name in TIMES for name in names) > 1:
        problems.append(_("最多按一个时间维度分组。"))
    if problems:
        raise ValidationError({"group_by": [ErrorDetail(p, code="invalid") for p in problems]})
    return names


def _filter_data(request) -> dict:
    """The query as the report form takes it: libraries, sites and consignments by their id
    when the caller may see them; anything else is left as typed, for the form to refuse."""
    params = request.query_params
    user = request.user
    data = {name: params[name] for name in FILTERS if params.get(name, "") != ""}
    if "library" in data:
        libraries = Library.objects.filter(kind=Library.Kind.COUNTY, code=data["library"])
        visible = visible_library_ids(user)
        if visible is not None:
            libraries = libraries.filter(pk__in=visible)
        library = libraries.first()
        data["library"] = library.pk if library else data["library"]
    if "site" in data:
        library_code, dot, site_code = data["site"].partition(".")
        sites = sites_for(user)
        found = sites.filter(library__code=library_code, code=site_code) if dot else sites.none()
        site = found.first()
        data["site"] = site.pk if site else data["site"]
    if "consignment" in data:
        consignments = scoped(Consignment.objects.all(), user)
        key = data["consignment"]
        found = consignments.filter(reference=key)
        if key.isdigit() and not found.exists():
            found = consignments.filter(pk=key)
        found = list(found[:2])
        data["consignment"] = found[0].pk if len(found) == 1 else key
    return data


def _report_filter(request, group_by) -> ReportFilter:
    data = _filter_data(request)
    times = [name for name in group_by if name in TIMES]
    if times:
        data["grain"] = times[0]
    filterset = ReportFilter(data, request=request, fields=(*FILTERS, "grain"))
    fields = filterset.form.fields
    if "library" in data and "library" not in fields:
        # One library in scope: the form has no choice to make, but another library's code
        # must not quietly count this one.
        own = visible_library_ids(request.user)
        if not (isinstance(data["library"], int) and (own is None or data["library"] in own)):
            raise ValidationError(
                {"library": [ErrorDetail(_("没有这个图书馆，或您看不到它。"), "invalid_choice")]}
            )
    if not filterset.is_valid():
        raise ValidationError(
            {
                name: [ErrorDetail(e["message"], e["code"] or "invalid") for e in errors]
                for name, errors in filterset.form.errors.get_json_data().items()
            }
        )
    problems = validate(filterset)
    if problems:
        raise ValidationError({"non_field_errors": problems})
    return filterset


class _Codes:
    """Codes of dimension values for programs: libraries by code, sites as LIBRARY.site,
    consignments by reference."""

    def __init__(self, counts, group_by):
        self.names = {}
        for index, name in enumerate(group_by):
            ids = {key[index] for key in counts if key[index] is not None}
            if name == "library":
                rows = Library.objects.filter(pk__in=ids).values_list("pk", "code")
            elif name == "site":
                rows = (
                    (pk, f"{library}.{code}")
                    for pk, library, code in Site.objects.filter(pk__in=ids).values_list(
                        "pk", "library__code", "code"
                    )
                )
            elif name == "consignment":
                rows = Consignment.objects.filter(pk__in=ids).values_list("pk", "reference")
            else:
                continue
            self.names[name] = dict(rows)

    def __call__(self, name, value):
        if value is None or value == "":
            return None
        if name == "day":
            return value.isoformat()
        if name == "month":
            return value.strftime("%Y-%m")
        if name == "year":
            return str(value.year)
        if name in self.names:
            return self.names[name].get(value, str(value))
        return str(value)


def _dimension_label(name) -> str:
    return str(TIMES[name] if name in TIMES else DIMENSIONS[name].label)


def loan_volume_figures(request, group_by) -> dict:
    """The figures of the volume page for the request's filters, grouped by `group_by`."""
    filterset = _report_filter(request, group_by)
    params = filterset.params(default_period="month")
    try:
        scope = LoanScope.for_user(request.user)
        counts = consistently(
            lambda: loan_counts(scope, params.start, params.end, group_by, params.filters)
        )
    except ReportError as error:
        raise ValidationError({"non_field_errors": [str(error)]}) from None
    labels, codes = Labels(), _Codes(counts, group_by)
    # Rows in the pages' reading order: time ascending, sites by kind, choices as listed.
    ranks = {
        name: {value: n for n, value in enumerate(labels.order(name, {k[i] for k in counts}))}
        for i, name in enumerate(group_by)
    }
    ordered = sorted(
        counts.items(),
        key=lambda pair: tuple(ranks[n][v] for n, v in zip(group_by, pair[0], strict=True)),
    )
    rows = [
        {
            "group": {name: codes(name, value) for name, value in zip(group_by, key, strict=True)},
            "labels": {
                name: labels(name, value) for name, value in zip(group_by, key, strict=True)
            },
            "loans": n,
        }
        for key, n in ordered
        if n
    ]
    return {
        "start": params.start,
        "end": params.end - timedelta(days=1),
        "group_by": group_by,
        "rows": rows,
        "total": sum(counts.values()),
    }


def _csv(body, group_by):
    headers = []
    for name in group_by:
        headers += [name, f"{name}_label"]
    headers.append("loans")
    rows = (
        [*(cell for name in group_by for cell in (r["group"][name], r["labels"][name])), r["loans"]]
        for r in body["rows"]
    )
    return headers, rows


class ReportViewSet(viewsets.ViewSet):
    """Loan figures of the report pages, for programs."""

    @extend_schema(
        summary="Loan volume",
        description="Checkouts grouped by one or two dimensions, with the filters of the "
        "report page 借阅量 and the same figures. JSON by default; CSV on `Accept: text/csv` "
        "or `?format=csv`. Without a period or dates, the current month.",
        parameters=[
            OpenApiParameter(
                "group_by",
                str,
                description="One or two of " + ", ".join(GROUPS) + ", comma separated "
                "(default month); at most one of day, month and year. Day cannot be crossed "
                "with CLC classes, reader category or age band.",
            ),
            OpenApiParameter("period", str, description="2026-06, 2026-Q2 or 2026"),
            OpenApiParameter(
                "start", OpenApiTypes.DATE, description="First day, instead of a period"
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATE, description="Last day (inclusive), not a period"
            ),
            OpenApiParameter("library", str, description="Library code, e.g. SUIXIAN"),
            OpenApiParameter("site", str, description="LIBRARY.site, e.g. SUIXIAN.xiaolin"),
            OpenApiParameter("site_kind", str, enum=["central", "branch", "service_point"]),
            OpenApiParameter("consignment", str, description="Consignment reference (or id)"),
            OpenApiParameter("clc_top", str, description="CLC top class, e.g. I"),
            OpenApiParameter("category", str, enum=["child", "student", "adult", "senior"]),
            OpenApiParameter("age_band", str, enum=list(AgeBand.values)),
        ],
        responses={
            (200, "application/json"): LoanVolumeSerializer,
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="Columns: each dimension's code and label, then loans",
            ),
            (404, "application/json"): not_found("The caller has no role that reads reports"),
        },
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="loan-volume",
        url_name="loan-volume",
        renderer_classes=[JSONRenderer, CSVRenderer],
    )
    def loan_volume(self, request):
        if not can_read_reports(request.user):
            raise NotFound
        group_by = _group_by(request)
        body = loan_volume_figures(request, group_by)
        if getattr(request.accepted_renderer, "format", "") == "csv":
            response = Response({"csv": _csv(body, group_by)})
            stem = f"loan-volume-{'-'.join(group_by)}-{body['start']:%Y%m%d}-{body['end']:%Y%m%d}"
            response["Content-Disposition"] = content_disposition_header(True, f"{stem}.csv")
            return response
        return Response(LoanVolumeSerializer(body).data)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400:
            # Errors are JSON whatever the client asked the figures in.
            return _as_json(response)
        return response


# Period reports


class TotalSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)


class TableSerializer(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    columns = serializers.ListField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="[label, kind] per column; kind is text, int, pct (a share 0–1) or ratio",
    )
    rows = serializers.ListField(child=serializers.ListField(allow_empty=True))
    total = serializers.ListField(allow_null=True)


class PeriodReportSerializer(serializers.ModelSerializer):
    library = serializers.SlugRelatedField(slug_field="code", read_only=True)
    library_name = serializers.CharField(source="library.name", read_only=True)
    consignment = serializers.SlugRelatedField(slug_field="reference", read_only=True)
    xlsx = serializers.SerializerMethodField(help_text="The report as a spreadsheet")
    pdf = serializers.SerializerMethodField(help_text="The report as a PDF (see its answer)")

    class Meta:
        model = PeriodReport
        fields = [
            "id",
            "library",
            "library_name",
            "consignment",
            "kind",
            "period",
            "starts_on",
            "ends_on",
            "status",
            "submitted_at",
            "reviewed_at",
            "xlsx",
            "pdf",
        ]

    def _url(self, report, name) -> str:
        return reverse(name, args=[report.pk], request=self.context.get("request"))

    def get_xlsx(self, report) -> str:
        return self._url(report, "period-report-xlsx")

    def get_pdf(self, report) -> str:
        return self._url(report, "period-report-pdf")


class PeriodReportDetailSerializer(PeriodReportSerializer):
    totals = TotalSerializer(many=True, read_only=True)
    tables = TableSerializer(many=True, read_only=True)

    class Meta(PeriodReportSerializer.Meta):
        fields = [
            *PeriodReportSerializer.Meta.fields,
            "narrative",
            "review_comment",
            "totals",
            "tables",
        ]


class PdfJobSerializer(serializers.Serializer):
    job = serializers.UUIDField(help_text="The background job laying the PDF out")
    status = serializers.ChoiceField(choices=Job.Status.choices)
    percent = serializers.IntegerField()
    url = serializers.URLField(help_text="Ask here again: 202 until the PDF is ready, then it")
    status_url = serializers.URLField(
        allow_null=True, help_text="The job's own status, when the jobs API is there"
    )


class JobFailed(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "job_failed"
    default_detail = gettext_lazy("报表 PDF 没有生成。")


REPORTED = (PeriodReport.Status.SUBMITTED, PeriodReport.Status.ACCEPTED)


@extend_schema_view(
    list=extend_schema(
        summary="Period reports",
        description="The submitted and accepted period reports the caller may see: a county "
        "its own, a provincial library those of its counties, the lender the accepted reports "
        "on the volumes it lent.",
    ),
    retrieve=extend_schema(summary="One period report with its frozen figures"),
)
class PeriodReportViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PeriodReportSerializer
    filterset_fields = {
        "status": ["exact"],
        "kind": ["exact"],
        "period": ["exact"],
        "library__code": ["exact"],
        "consignment__reference": ["exact"],
    }

    def get_queryset(self):
        reports = PeriodReport.objects.select_related("library", "consignment")
        return (
            period_reports_visible(reports, self.request.user)
            .filter(status__in=REPORTED)
            .order_by("-starts_on", "library__code", "consignment__reference", "pk")
        )

    def get_serializer_class(self):
        return PeriodReportDetailSerializer if self.action == "retrieve" else PeriodReportSerializer

    def retrieve(self, request, pk=None):
        from reports.views import _detail_context

        report = self.get_object()
        context = _detail_context(None, report)
        report.totals = [
            {"key": key, "label": str(label), "value": value}
            for label, value, key in context["totals"]
        ]
        report.tables = [table.as_json() for table in context["tables"]]
        return Response(PeriodReportDetailSerializer(report, context={"request": request}).data)

    @extend_schema(
        summary="A period report as XLSX",
        responses={(200, XLSX): OpenApiResponse(OpenApiTypes.BINARY)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="xlsx",
        url_name="xlsx",
        renderer_classes=[JSONRenderer, XLSXRenderer],
    )
    def xlsx(self, request, pk=None):
        from reports.views import period_download

        report = self.get_object()
        # The page's own export: the same sheets, the same name.
        return period_download(request._request, report.pk, "xlsx")

    @extend_schema(
        summary="A period report as PDF",
        description="The PDF is laid out by a background job, as on the page: 200 with the "
        "file when it is ready at once, otherwise 202 with the job and `url`, to ask again "
        "(`?job=<id>`) until the file comes. 409 `job_failed` when the job failed. Asking "
        "the bare address again hands back the caller's job for this report and language "
        "(queued, running or done) rather than starting another; after a failure it starts "
        "a new one.",
        parameters=[
            OpenApiParameter(
                "job", OpenApiTypes.UUID, description="The job a previous 202 answered with"
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            (202, "application/json"): PdfJobSerializer,
            (409, "application/json"): OpenApiResponse(
                ErrorSerializer,
                description="The job laying the PDF out failed (`job_failed`, with the "
                "reason as its message); ask the bare address for a new one.",
            ),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="pdf",
        url_name="pdf",
        renderer_classes=[JSONRenderer, PDFRenderer],
    )
    def pdf(self, request, pk=None):
        report = self.get_object()
        job_id = request.query_params.get("job", "")
        if job_id:
            try:
                job_id = uuid.UUID(job_id)
            except ValueError:
                raise NotFound from None
            job = Job.objects.filter(
                pk=job_id,
                kind=Job.Kind.PERIOD_REPORT_PDF,
                created_by=request.user,
                params__report=report.pk,
            ).first()
            if job is None:
                raise NotFound
        else:
            job = period_report_pdf_job(report=report, user=request.user, language=get_language())
        if job.status == Job.Status.SUCCEEDED and job.output_id:
            output = job.output
            response = HttpResponse(bytes(output.data), content_type="application/pdf")
            response["Content-Disposition"] = content_disposition_header(True, output.name)
            return response
        if job.status == Job.Status.FAILED:
            raise JobFailed(job.error or None)
        url = reverse("period-report-pdf", args=[report.pk], request=request) + f"?job={job.pk}"
        try:
            status_url = reverse("job-detail", args=[job.pk], request=request)
        except NoReverseMatch:
            status_url = None
        body = {
            "job": job.pk,
            "status": job.status,
            "percent": job.percent,
            "url": url,
            "status_url": status_url,
        }
        return Response(PdfJobSerializer(body).data, status=202, headers={"Location": url})

    def finalize_response(self, request, response, *args, **kwargs):
        return _as_json(super().finalize_response(request, response, *args, **kwargs))


def register(router):
    router.register("reports", ReportViewSet, basename="report")
    router.register("period-reports", PeriodReportViewSet, basename="period-report")
