"""Writes of the period report (共享借阅工作报表): prepare a draft, save its narrative, submit
(freezing the figures), review (accept or return with comments)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import LoanScope, can_prepare_period_report, can_review_period_report
from collections_app.errors import Refused
from reports.engine.dimensions import Params
from reports.engine.holdings import item_counts
from reports.engine.loans import loan_counts
from reports.engine.plan import consistently
from reports.models import PeriodReport, PeriodReportEvent
from reports.pages.demand import period_tables as demand_tables
from reports.pages.demand import unfound_total
from reports.pages.holdings import holdings_report
from reports.pages.readers import reader_totals, readers_report
from reports.pages.transit import transit_report
from reports.pages.volume import volume_report
from reports.periods import Period
from reports.tables import ratio

FIGURES_VERSION = 1


def period_figures(*, library, consignment, start, end, now=None) -> dict:
    """Every figure of the fixed layout, for one library and consignment, as plain JSON, as
    of one state of the summary tables."""
    return consistently(
        lambda: _period_figures(
            library=library, consignment=consignment, start=start, end=end, now=now
        )
    )


def _period_figures(*, library, consignment, start, end, now=None) -> dict:
    now = now or timezone.now()
    scope = LoanScope.for_library(library)
    filters = {"consignment": consignment.pk}
    grain = "day" if (end - start).days <= 62 else "month"
    p = Params(start=start, end=end, grain=grain, rows="site", filters=filters)
    readers = reader_totals(scope, p)
    held = item_counts(scope, [], filters).get((), {"held": 0, "never": 0})
    loans = sum(loan_counts(scope, start, end, [], filters).values())
    transit = transit_report(scope, p, now=now)
    tables = volume_report(scope, p)
    for rows in ("clc_top", "category", "age_band"):
        tables.append(volume_report(scope, Params(**{**p.__dict__, "rows": rows}))[1])
    tables[1].key, tables[2].key, tables[3].key, tables[4].key = (
        "loans-by-site",
        "loans-by-class",
        "loans-by-category",
        "loans-by-age",
    )
    tables += readers_report(scope, p)[:1]
    tables += holdings_report(scope, p)[:2]
    tables += transit[:1]
    tables += demand_tables(library, start, end, now=now)
    return {
        "version": FIGURES_VERSION,
        "library": library.name,
        "library_code": library.code,
        "consignment": consignment.reference,
        "starts_on": start.isoformat(),
        "ends_on": end.isoformat(),
        "computed_at": timezone.localtime(now).isoformat(timespec="seconds"),
        "totals": {
            "loans": loans,
            "readers": readers["readers"],
            "new_readers": readers["new_readers"],
            "visits": readers["visits"],
            "held": held["held"],
            "turnover": ratio(loans, held["held"]),
            "never_share": ratio(held["never"], held["held"]),
            "transfers": transit[0].total[1],
            "moved": transit[0].total[2],
            "overdue_transits": len(transit[1].rows),
            "unmet_searches": unfound_total(library, start, end),
        },
        "tables": [table.as_json() for table in tables],
    }


TOTAL_LABELS = {
    "loans": gettext_lazy("借阅册次"),
    "readers": gettext_lazy("读者人数"),
    "new_readers": gettext_lazy("新办证读者"),
    "visits": gettext_lazy("借阅到馆人次"),
    "held": gettext_lazy("在藏册数"),
    "turnover": gettext_lazy("周转率（次/册）"),
    "never_share": gettext_lazy("从未借出占比"),
    "transfers": gettext_lazy("调拨单"),
    "moved": gettext_lazy("调拨册数"),
    "overdue_transits": gettext_lazy("超期在途调拨单"),
    "unmet_searches": gettext_lazy("未满足的读者检索（全馆）"),
}


def _require_preparer(user, library):
    if not can_prepare_period_report(user, library):
        raise PermissionDenied


def period_report_prepare(*, user, library, consignment, period: Period, now=None) -> PeriodReport:
    """The report of this period and consignment, created as a draft when missing. `user` is
    None for the scheduled command."""
    if user is not None:
        _require_preparer(user, library)
    if consignment.library_id != library.pk:
        raise Refused(_("这个批次不属于本馆。"))
    report, _created = PeriodReport.objects.get_or_create(
        library=library,
        consignment=consignment,
        kind=period.kind,
        starts_on=period.start,
        defaults={
            "period": period.text,
            "ends_on": period.last_day,
            "created_by": user,
            "created_at": now or timezone.now(),
        },
    )
    return report


def _locked(report) -> PeriodReport:
    return (
        PeriodReport.objects.select_for_update()
        .select_related("library", "consignment")
        .get(pk=report.pk)
    )


NARRATIVE_MAX_LENGTH = 4000  # characters of the preparer's 工作说明
COMMENT_MAX_LENGTH = 2000  # characters of the reviewer's 审核意见


def _within(text: str, limit: int, what) -> str:
    """`text` when it is at most `limit` characters; else refused, so that no door (the page,
    the API, a script) stores a longer one."""
    if len(text) > limit:
        raise Refused(
            _("%(what)s最多 %(limit)d 字，现在是 %(count)d 字。没有保存，请删减后再保存。")
            % {"what": what, "limit": limit, "count": len(text)}
        )
    return text


def period_report_save(*, user, report, narrative: str) -> PeriodReport:
    _require_preparer(user, report.library)
    narrative = _within(narrative, NARRATIVE_MAX_LENGTH, _("工作说明"))
    with transaction.atomic():
        report = _locked(report)
        if not report.is_editable:
            raise Refused(_("报表已报送，不能再修改。"))
        report.narrative = narrative
        report.save(update_fields=["narrative"])
    return report


def period_report_submit(*, user, report, narrative: str, now=None) -> PeriodReport:
    """Freeze the figures as they are now and send the report to the provincial library."""
    _require_preparer(user, report.library)
    narrative = _within(narrative, NARRATIVE_MAX_LENGTH, _("工作说明"))
    now = now or timezone.now()
    with transaction.atomic():
        report = _locked(report)
        if not report.is_editable:
            raise Refused(_("报表已报送，不能重复报送。"))
        if report.ends_on >= timezone.localdate(now):
            raise Refused(_("期间尚未结束，结束后才能报送。"))
        report.figures = _frozen_figures(report, now)
        report.narrative = narrative
        report.status = PeriodReport.Status.SUBMITTED
        report.submitted_by, report.submitted_at = user, now
        report.save()
        PeriodReportEvent.objects.create(
            report=report, action=PeriodReportEvent.Action.SUBMITTED, user=user, at=now
        )
    return report


def _numbers(tables) -> list:
    """The tables' figures without their labels."""
    return [
        [cell for row in table["rows"] for cell in row if not isinstance(cell, str)]
        for table in tables
    ]


def _frozen_figures(report, now) -> dict:
    """The figures frozen at submission, with their tables' titles, headings and row labels in
    every language of the platform (the figures are counted once per language: a frozen table's
    labels cannot be translated afterwards). The default language's are `tables`; the others
    are kept only when their numbers are the very same."""
    figures, by_language = None, {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            counted = period_figures(
                library=report.library,
                consignment=report.consignment,
                start=report.starts_on,
                end=report.ends_on + timedelta(days=1),
                now=now,
            )
        if figures is None:
            figures = counted
        elif _numbers(counted["tables"]) != _numbers(figures["tables"]):
            continue  # a loan committed between the two counts: that language falls back
        by_language[code] = counted["tables"]
    figures["tables_by_language"] = by_language
    return figures


def frozen_tables(figures: dict) -> list[dict]:
    """The frozen tables in the language of the request, else as first frozen."""
    return (
        figures.get("tables_by_language", {}).get(translation.get_language()) or figures["tables"]
    )


def period_report_review(*, user, report, accept: bool, comment: str, now=None) -> PeriodReport:
    if not can_review_period_report(user, report):
        raise PermissionDenied
    now = now or timezone.now()
    comment = _within(comment.strip(), COMMENT_MAX_LENGTH, _("审核意见"))
    if not accept and not comment:
        raise Refused(_("退回时请写明意见。"))
    with transaction.atomic():
        report = _locked(report)
        if not report.is_submitted:
            raise Refused(_("只有待审核的报表可以审核。"))
        report.status = PeriodReport.Status.ACCEPTED if accept else PeriodReport.Status.RETURNED
        report.reviewed_by, report.reviewed_at, report.review_comment = user, now, comment
        report.save()
        PeriodReportEvent.objects.create(
            report=report,
            action=PeriodReportEvent.Action.ACCEPTED
            if accept
            else PeriodReportEvent.Action.RETURNED,
            user=user,
            at=now,
            comment=comment,
        )
    return report


def rollup(reports) -> dict:
    """The accepted reports of one period side by side, from their frozen figures only."""
    keys = list(TOTAL_LABELS)
    rows, sums, searched = [], dict.fromkeys(keys, 0), set()
    for report in reports:
        totals = report.figures["totals"]
        rows.append(
            {
                "library": report.figures["library"],
                "consignment": report.figures["consignment"],
                **totals,
            }
        )
        for key in ("loans", "readers", "new_readers", "visits", "held", "transfers", "moved"):
            sums[key] += totals.get(key) or 0
        # Readers' searches are the library's, whatever the consignment: counted once each.
        if report.library_id not in searched:
            searched.add(report.library_id)
            sums["unmet_searches"] += totals.get("unmet_searches") or 0
        sums["overdue_transits"] += totals.get("overdue_transits") or 0
    sums["turnover"] = ratio(sums["loans"], sums["held"])
    sums["never_share"] = None
    return {
        "keys": keys,
        "labels": [str(TOTAL_LABELS[k]) for k in keys],
        "rows": rows,
        "sums": sums,
    }
