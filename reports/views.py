"""Report pages, their exports, and the period report's workflow. Thin views: scope check →
filters → report or service → render, redirect or file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import (
    LoanScope,
    can_prepare_period_report,
    can_read_reports,
    can_read_rollups,
    can_review_period_report,
    get_scoped_or_404,
    is_lender_staff,
    period_reports_visible,
    scoped,
)
from collections_app.errors import Refused
from collections_app.exports import csv_response, pdf_response, table_response, xlsx_response
from collections_app.models import Consignment, Item
from jobs.models import Job
from reports.engine.dimensions import ReportError
from reports.engine.plan import consistently
from reports.filters import ReportFilter, validate
from reports.forms import NarrativeForm, PrepareForm, ReviewForm, RollupForm
from reports.jobs import period_report_pdf_job
from reports.models import PeriodReport
from reports.pages.compare import compare_report
from reports.pages.demand import demand_report, preference_figures
from reports.pages.holdings import holdings_report
from reports.pages.preferences import preferences_report
from reports.pages.readers import reader_total, reader_totals, readers_report
from reports.pages.transit import transit_report
from reports.pages.volume import volume_report
from reports.services import (
    TOTAL_LABELS,
    frozen_tables,
    period_figures,
    period_report_prepare,
    period_report_review,
    period_report_save,
    period_report_submit,
    rollup,
)
from reports.tables import Table

# LoanScope helpers


def _require_reader(request):
    """Reports are for every staff role; accounts without one see nothing (404)."""
    if not can_read_reports(request.user):
        raise Http404
    return LoanScope.for_user(request.user)


def _reports_for(user):
    return period_reports_visible(
        PeriodReport.objects.select_related("library", "consignment"), user
    )


def _get_report_for_user(request, pk):
    return get_scoped_or_404(_reports_for(request.user), request.user, pk=pk)


# Report pages


@dataclass(frozen=True)
class Page:
    name: str
    title: str
    fields: tuple
    default_period: str
    intro: str = ""


COMMON = ("period", "start", "end", "library", "site", "site_kind", "consignment")
PAGES = {
    "volume": Page(
        "volume",
        gettext_lazy("借阅量"),
        (*COMMON, "grain", "rows", "cols", "clc_top", "category", "age_band"),
        "month",
        gettext_lazy("借阅册次按借出日期和借出站点统计，续借不计。任选两个维度交叉。"),
    ),
    "readers": Page(
        "readers",
        gettext_lazy("读者"),
        (*COMMON, "category", "age_band"),
        "year",
        gettext_lazy("读者人数按人去重；借阅到馆人次为读者在一个站点借书的天数。"),
    ),
    "holdings": Page(
        "holdings",
        gettext_lazy("馆藏与周转"),
        (*COMMON, "clc_top", "idle_days"),
        "year",
        gettext_lazy("周转率 = 期间借阅册次 ÷ 现在藏册数（在架、借出、在途）。"),
    ),
    "preferences": Page(
        "preferences",
        gettext_lazy("读者偏好"),
        (*COMMON, "category", "age_band"),
        "year",
        gettext_lazy("各类读者借什么，与站点馆藏相比哪些类别供不应求。"),
    ),
    "transit": Page(
        "transit",
        gettext_lazy("调拨与在途"),
        ("period", "start", "end", "library", "site"),
        "month",
    ),
    "compare": Page(
        "compare",
        gettext_lazy("馆际对比"),
        ("period", "start", "end", "library", "consignment"),
        "month",
    ),
    "demand": Page(
        "demand",
        gettext_lazy("读者需求"),
        ("period", "start", "end", "library", "site", "clc_top"),
        "year",
        gettext_lazy("读者在公共目录中检索而未找到（或均已借出且有人排队）的，和等待最久的预约。"),
    ),
}


def _build(name, request, scope, params) -> list[Table]:
    if name == "volume":
        return volume_report(scope, params)
    if name == "readers":
        return readers_report(scope, params)
    if name == "holdings":
        return holdings_report(scope, params)
    if name == "preferences":
        return preferences_report(scope, params)
    if name == "transit":
        return transit_report(request.user, params)
    if name == "demand":
        preferences = preference_figures(scope, params)
        return demand_report(scope, params, preferences=preferences)
    # The lender compares the libraries it lends to by consignment; the province by library.
    by = "consignment" if is_lender_staff(request.user) else "library"
    return compare_report(scope, params, by=by)


def _report(request, name):
    scope = _require_reader(request)
    page = PAGES[name]
    filterset = ReportFilter(request.GET, request=request, fields=page.fields)
    errors = validate(filterset)
    tables, params, figures = [], None, None
    if not errors:
        params = filterset.params(default_period=page.default_period)
        filterset.show(params)

        def count():
            if name == "readers":  # the page's total is counted once, for both uses
                total = reader_total(scope, params)
                tables = readers_report(scope, params, total)
                return tables, reader_totals(scope, params, total)
            return _build(name, request, scope, params), None

        try:
            tables, figures = consistently(count)
        except ReportError as error:
            errors = [str(error)]
    export, fmt = request.GET.get("export"), request.GET.get("format", "csv")
    if export and not errors:
        if fmt not in ("csv", "xlsx"):
            errors = [_("导出格式只能是 CSV 或 XLSX。")]
        else:
            table = next((t for t in tables if t.key == export), None)
            if table is None:
                raise Http404
            last = params.end - timedelta(days=1)
            stem = f"{page.title}-{table.title}-{params.start:%Y%m%d}-{last:%Y%m%d}"
            return table_response(table, fmt, stem)
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("format", None)
    context = {
        "page": page,
        "pages": PAGES.values(),
        "filter": filterset,
        "errors": errors,
        "tables": tables,
        "params": params,
        "last_day": params.end - timedelta(days=1) if params else None,
        "figures": figures,
        "query": query.urlencode(),
        "charts": [
            {"key": t.key, "type": t.chart, "data": t.chart_data()} for t in tables if t.chart
        ],
    }
    return render(request, "reports/report.html", context, status=400 if errors else 200)


@login_required
def volume(request):
    return _report(request, "volume")


@login_required
def readers(request):
    return _report(request, "readers")


@login_required
def holdings(request):
    return _report(request, "holdings")


@login_required
def preferences(request):
    return _report(request, "preferences")


@login_required
def transit(request):
    return _report(request, "transit")


@login_required
def compare(request):
    return _report(request, "compare")


@login_required
def demand_page(request):
    return _report(request, "demand")


IDLE_HEADERS = (
    gettext_lazy("条码号"),
    gettext_lazy("题名"),
    gettext_lazy("索书号"),
    gettext_lazy("中图分类号"),
    gettext_lazy("当前站点"),
    gettext_lazy("最近借出日期"),
)


@login_required
def idle_items(request):
    """The idle volumes themselves (no loan in N days), streamed: the list to rotate from."""
    _require_reader(request)
    filterset = ReportFilter(request.GET, request=request, fields=("site", "idle_days"))
    errors = validate(filterset)
    fmt = request.GET.get("format", "csv")
    if errors or fmt not in ("csv", "xlsx"):
        messages.error(request, "；".join(errors) or _("导出格式只能是 CSV 或 XLSX。"))
        return redirect("reports:holdings")
    params = filterset.params()
    since = timezone.now() - timedelta(days=params.idle_days)
    items = scoped(Item.objects.available(), request.user).filter(
        Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=since)
    )
    if "site" in params.filters:
        items = items.filter(current_site_id=params.filters["site"])
    rows = (
        items.order_by("current_site_id", "call_number", "pk")
        .annotate(last_day=TruncDate("last_loan_at"))  # the local day, in the database
        .values_list(
            "barcode",
            "title__title",
            "call_number",
            "title__clc",
            "current_site__name",
            "last_day",
        )
        .iterator(chunk_size=5000)
    )
    never = _("从未借出")

    def lines():
        for barcode, title, call_number, clc, site, last in rows:
            yield [barcode, title, call_number, clc, site, last.isoformat() if last else never]

    headers = [str(h) for h in IDLE_HEADERS]
    stem = _("闲置图书-%(days)d天") % {"days": params.idle_days}
    if fmt == "xlsx":
        return xlsx_response(f"{stem}.xlsx", [(stem, headers, lines())])
    return csv_response(f"{stem}.csv", headers, lines())


# Period reports


@login_required
def period_list(request):
    _require_reader(request)
    user = request.user
    reports = _reports_for(user).order_by("-starts_on", "library__code", "consignment__reference")
    prepare = None
    if can_prepare_period_report(user):
        consignments = Consignment.objects.filter(library=user.library)
        prepare = PrepareForm(
            consignments=consignments,
            initial={"period": _last_month_text(), "consignment": _in_service(consignments)},
        )
    rollup_form = (
        RollupForm(initial={"period": _last_month_text()}) if can_read_rollups(user) else None
    )
    return render(
        request,
        "reports/period_list.html",
        {
            "reports": reports[:200],
            "prepare": prepare,
            "rollup_form": rollup_form,
            "pages": PAGES.values(),
        },
    )


def _in_service(consignments):
    """The consignment a report is most likely about: the newest one in service, not one only
    announced whose volumes have not arrived."""
    order = ("-agreement_date", "-pk")
    Status = Consignment.Status
    return (
        consignments.filter(status=Status.ACTIVE).order_by(*order).first()
        or consignments.exclude(status=Status.ANNOUNCED).order_by(*order).first()
    )


def _last_month_text():
    last = timezone.localdate().replace(day=1) - timedelta(days=1)
    return f"{last.year}-{last.month:02d}"


@login_required
@require_POST
def period_create(request):
    _require_reader(request)
    if not can_prepare_period_report(request.user):
        raise PermissionDenied
    form = PrepareForm(
        request.POST, consignments=Consignment.objects.filter(library=request.user.library)
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("reports:period-list")
    try:
        report = period_report_prepare(
            user=request.user,
            library=request.user.library,
            consignment=form.cleaned_data["consignment"],
            period=form.cleaned_data["period"],
        )
    except Refused as error:
        messages.error(request, str(error))
        return redirect("reports:period-list")
    return redirect("reports:period-detail", pk=report.pk)


def _figures_of(report):
    if report.figures is not None and not report.is_editable:
        return report.figures
    return period_figures(
        library=report.library,
        consignment=report.consignment,
        start=report.starts_on,
        end=report.ends_on + timedelta(days=1),
    )


def _detail_context(request, report):
    figures = _figures_of(report)
    totals = [(TOTAL_LABELS[k], figures["totals"].get(k), k) for k in TOTAL_LABELS]
    return {
        "report": report,
        "figures": figures,
        "totals": totals,
        "tables": [Table.from_json(t) for t in frozen_tables(figures)],
        "is_frozen": report.figures is not None and not report.is_editable,
        "events": report.events.select_related("user"),
    }


@login_required
def period_detail(request, pk):
    return _render_detail(request, _get_report_for_user(request, pk))


def _render_detail(request, report, narrative_form=None, status=200):
    context = _detail_context(request, report)
    user = request.user
    can_edit = report.is_editable and can_prepare_period_report(user, report.library)
    can_review = report.is_submitted and can_review_period_report(user, report)
    if can_edit and narrative_form is None:
        narrative_form = NarrativeForm(initial={"narrative": report.narrative})
    context.update(
        narrative_form=narrative_form if can_edit else None,
        review_form=ReviewForm() if can_review else None,
        pages=PAGES.values(),
        can_submit=can_edit and report.ends_on < timezone.localdate(),
    )
    return render(request, "reports/period_detail.html", context, status=status)


@login_required
@require_POST
def period_save(request, pk):
    report = _get_report_for_user(request, pk)
    form = NarrativeForm(request.POST)
    if not form.is_valid():
        # Shown again with the text as typed and the reason, nothing saved or submitted.
        return _render_detail(request, report, narrative_form=form, status=400)
    narrative = form.cleaned_data["narrative"]
    try:
        if request.POST.get("action") == "submit":
            period_report_submit(user=request.user, report=report, narrative=narrative)
            messages.success(request, _("报表已报送省馆审核，数据已冻结。"))
        else:
            period_report_save(user=request.user, report=report, narrative=narrative)
            messages.success(request, _("工作说明已保存。"))
    except Refused as error:
        messages.error(request, str(error))
    return redirect("reports:period-detail", pk=report.pk)


@login_required
@require_POST
def period_review(request, pk):
    report = _get_report_for_user(request, pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择通过或退回。"))
        return redirect("reports:period-detail", pk=report.pk)
    accept = form.cleaned_data["decision"] == "accept"
    try:
        period_report_review(
            user=request.user, report=report, accept=accept, comment=form.cleaned_data["comment"]
        )
        messages.success(request, _("报表已通过。") if accept else _("报表已退回县馆修改。"))
    except Refused as error:
        messages.error(request, str(error))
    return redirect("reports:period-detail", pk=report.pk)


def _report_stem(report):
    return f"共享借阅工作报表-{report.library.name}-{report.period}-{report.consignment.reference}"


@login_required
def period_download(request, pk, fmt):
    report = _get_report_for_user(request, pk)
    if fmt == "pdf":
        # Laid out by a background job; handed over at once when the job has already run.
        job = period_report_pdf_job(report=report, user=request.user, language=get_language())
        if job.status != Job.Status.SUCCEEDED:
            return redirect("jobs:job-detail", job.pk)
        response = HttpResponse(bytes(job.output.data), content_type="application/pdf")
        response["Content-Disposition"] = content_disposition_header(True, job.output.name)
        return response
    if fmt != "xlsx":
        raise Http404
    context = _detail_context(request, report)
    summary = [
        (_("图书馆"), report.library.name),
        (_("批次"), report.consignment.reference),
        (_("期间"), report.period),
        (_("状态"), report.get_status_display()),
        (_("工作说明"), report.narrative),
    ]
    summary += [
        (label, value if value is not None else "") for label, value, _k in context["totals"]
    ]
    sheets = [(_("概况"), [_("项目"), _("数值")], summary)]
    sheets += [(t.title, t.headers, t.export_rows()) for t in context["tables"]]
    return xlsx_response(f"{_report_stem(report)}.xlsx", sheets)


@login_required
def period_rollup(request, fmt):
    _require_reader(request)
    if not can_read_rollups(request.user):
        raise Http404
    form = RollupForm(request.GET)
    if not form.is_valid() or fmt not in ("xlsx", "pdf"):
        messages.error(request, "；".join(form.errors.get("period", [])) or _("格式不对。"))
        return redirect("reports:period-list")
    period = form.cleaned_data["period"]
    reports = (
        _reports_for(request.user)
        .accepted()
        .filter(kind=period.kind, starts_on=period.start)
        .order_by("library__code", "consignment__reference")
    )
    data = rollup(reports)
    stem = _("共享借阅工作报表汇总-%(period)s") % {"period": period.text}
    if fmt == "pdf":
        return pdf_response(
            f"{stem}.pdf",
            "reports/rollup_pdf.html",
            {"data": data, "period": period, "reports": reports},
        )
    headers = [_("图书馆"), _("批次"), *data["labels"]]
    rows = [
        [row["library"], row["consignment"], *[row.get(k) for k in data["keys"]]]
        for row in data["rows"]
    ]
    rows.append([_("合计"), "", *[data["sums"].get(k) for k in data["keys"]]])
    return xlsx_response(
        f"{stem}.xlsx",
        [(_("汇总"), headers, [[v if v is not None else "" for v in r] for r in rows])],
    )
