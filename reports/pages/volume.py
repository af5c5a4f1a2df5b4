"""借阅量: loans by day, week, month or year, and by any dimension or two crossed."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from reports.engine.dimensions import DIMENSIONS, TIMES, Params, ReportError, time_steps
from reports.engine.loans import loan_counts
from reports.tables import TEXT, Column, Labels, Table, cross_table


def volume_report(scope: LoanScope, p: Params) -> list[Table]:
    labels = Labels()
    if p.cols and p.cols == p.rows:
        raise ReportError(_("行和列不能是同一个维度。"))
    dims = [p.rows] + ([p.cols] if p.cols else [])
    counts = loan_counts(scope, p.start, p.end, dims, p.filters)
    title = _("借阅册次：%(rows)s") % {"rows": DIMENSIONS[p.rows].label}
    if p.cols:
        title = _("借阅册次：%(rows)s × %(cols)s") % {
            "rows": DIMENSIONS[p.rows].label,
            "cols": DIMENSIONS[p.cols].label,
        }
    cross = cross_table(
        counts, p.rows, p.cols, labels, key="cross", title=title, value_label=_("借阅册次")
    )
    return [loans_by_time(scope, p, labels), cross]


def loans_by_time(scope: LoanScope, p: Params, labels: Labels) -> Table:
    counts = loan_counts(scope, p.start, p.end, [p.grain], p.filters)
    table = Table(
        "series",
        _("借阅册次（按%(grain)s）") % {"grain": TIMES[p.grain]},
        [Column(str(TIMES[p.grain]), TEXT), Column(_("借阅册次"))],
        chart="line" if p.grain in ("day", "week") else "bar",
    )
    for step in time_steps(p.grain, p.start, p.end):
        table.rows.append([labels(p.grain, step), counts.get((step,), 0)])
    table.total = [_("合计"), sum(counts.values())]
    return table
