"""读者: distinct readers, borrowing visits and loans by month, by category × age band and by
site, and the cards registered in the window."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from reports.engine.dimensions import DIMENSIONS, Params, time_steps
from reports.engine.readers import new_readers, reader_counts
from reports.tables import RATIO, TEXT, Column, Labels, Table, cross_table, ratio


def readers_report(scope: LoanScope, p: Params, total: dict | None = None) -> list[Table]:
    labels = Labels()
    filters = _reader_filters(p)
    by_month = reader_counts(scope, p.start, p.end, ["month"], filters)
    if total is None:
        total = reader_total(scope, p)
    series = Table(
        "readers-by-month",
        _("读者人数（按月）"),
        [
            Column(_("月份"), TEXT),
            Column(_("读者人数")),
            Column(_("借阅到馆人次")),
            Column(_("借阅册次")),
            Column(_("人均借阅册次"), RATIO),
        ],
        chart="bar",
    )
    for step in time_steps("month", p.start, p.end):
        f = by_month.get((step,), {"readers": 0, "visits": 0, "loans": 0})
        series.rows.append(
            [
                labels("month", step),
                f["readers"],
                f["visits"],
                f["loans"],
                ratio(f["loans"], f["readers"]),
            ]
        )
    t = {"readers": 0, "visits": 0, "loans": 0, **total}
    series.total = [
        _("期间合计（去重）"),
        t["readers"],
        t["visits"],
        t["loans"],
        ratio(t["loans"], t["readers"]),
    ]
    series.note = _("期间合计的读者人数按人去重，不等于各月相加。")

    cross_counts = reader_counts(scope, p.start, p.end, ["category", "age_band"], filters)
    cross = cross_table(
        {k: v["readers"] for k, v in cross_counts.items()},
        "category",
        "age_band",
        labels,
        key="readers-by-category",
        title=_("读者人数：读者类型 × 年龄段"),
        value_label=_("读者人数"),
    )
    cross.note = _("合计行和列按格相加：同一读者在期间内跨年龄段时会计入两格。")
    by_site = reader_counts(scope, p.start, p.end, ["site"], filters)
    sites = Table(
        "readers-by-site",
        _("读者人数（按借出站点）"),
        [
            Column(_("站点"), TEXT),
            Column(_("读者人数")),
            Column(_("借阅到馆人次")),
            Column(_("借阅册次")),
        ],
        chart="bar",
    )
    for site in labels.order("site", {k[0] for k in by_site}):
        f = by_site[(site,)]
        sites.rows.append([labels("site", site), f["readers"], f["visits"], f["loans"]])
    return [series, cross, sites]


def reader_total(scope: LoanScope, p: Params) -> dict:
    """Distinct readers, visits and loans of the whole window."""
    return reader_counts(scope, p.start, p.end, [], _reader_filters(p)).get((), {})


def reader_totals(scope: LoanScope, p: Params, total: dict | None = None) -> dict:
    """The page's figures above its tables: `reader_total` and the new readers."""
    if total is None:
        total = reader_total(scope, p)
    return {
        "readers": total.get("readers", 0),
        "visits": total.get("visits", 0),
        "loans": total.get("loans", 0),
        "new_readers": new_readers(scope, p.start, p.end),
    }


def _reader_filters(p: Params) -> dict:
    """The filters readers are counted by (not class or display)."""
    return {k: v for k, v in p.filters.items() if "reader" in DIMENSIONS[k].tables}
