"""馆际对比: every county (by library, for the province) or every consignment (by
consignment, for the lender) side by side: held, loans, readers, visits, new readers,
turnover and never lent."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from collections_app.models import Library
from reports.engine.dimensions import DIMENSIONS, Params
from reports.engine.holdings import item_counts
from reports.engine.loans import loan_counts
from reports.engine.readers import new_readers, reader_counts
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table, ratio


def compare_report(scope: LoanScope, p: Params, *, by: str) -> list[Table]:
    """Every county (by="library") or every consignment (by="consignment") side by side."""
    labels = Labels()
    filters = {k: v for k, v in p.filters.items() if k in ("library", "consignment")}
    loans = loan_counts(scope, p.start, p.end, [by], filters)
    readers = reader_counts(scope, p.start, p.end, [by], filters)
    items = item_counts(scope, [by], filters)
    fresh = new_readers(scope, p.start, p.end, by="library_id") if by == "library" else {}
    keys = {k[0] for k in items} | {k[0] for k in loans}
    if by == "library" and scope.library_ids is not None:
        keys |= set(
            Library.objects.filter(pk__in=scope.library_ids, kind=Library.Kind.COUNTY).values_list(
                "pk", flat=True
            )
        )
    columns = [
        Column(str(DIMENSIONS[by].label), TEXT),
        Column(_("在藏册数")),
        Column(_("借阅册次")),
    ]
    columns += [Column(_("读者人数")), Column(_("借阅到馆人次"))]
    if by == "library":
        columns.append(Column(_("新办证读者")))
    columns += [Column(_("周转率（次/册）"), RATIO), Column(_("从未借出占比"), PCT)]
    table = Table(
        "compare",
        _("各县馆对比") if by == "library" else _("各接收馆对比（按批次）"),
        columns,
        chart="bar",
    )
    for key in sorted(keys, key=lambda k: labels(by, k)):
        held = items.get((key,), {"held": 0, "never": 0})
        n = loans.get((key,), 0)
        r = readers.get((key,), {"readers": 0, "visits": 0})
        row = [labels(by, key), held["held"], n, r["readers"], r["visits"]]
        if by == "library":
            row.append(fresh.get(key, 0))
        row += [ratio(n, held["held"]), ratio(held["never"], held["held"])]
        table.rows.append(row)
    return [table]
