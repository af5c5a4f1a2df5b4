"""读者偏好: what each reader category and age band borrows by class, against what is held: a
class whose share of loans outruns its share of the shelf is one to rotate more of; per site,
the classes short of the demand (the rotation suggestions)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from reports.engine.dimensions import Params
from reports.engine.holdings import Holdings, item_filters
from reports.engine.loans import loan_counts
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table, cross_table, ratio

# Demand index (share of loans ÷ share of holdings) from which a class counts as short.
SHORTAGE_INDEX = 1.5
SHORTAGE_MIN_LOANS = 5


def preferences_report(scope: LoanScope, p: Params) -> list[Table]:
    labels = Labels()
    filters = {k: v for k, v in p.filters.items() if k != "clc_top"}
    by_category = loan_counts(scope, p.start, p.end, ["clc_top", "category"], filters)
    holdings = Holdings(scope, item_filters(p.filters))
    items = holdings.by(["clc_top"])
    held_total = sum(v["held"] for v in items.values())
    loans_total = sum(by_category.values())
    categories = labels.order("category", {k[1] for k in by_category})
    table = Table(
        "preferences",
        _("借阅偏好与馆藏对比（按中图法大类）"),
        [
            Column(_("中图法大类"), TEXT),
            Column(_("在藏册数")),
            Column(_("馆藏占比"), PCT),
            Column(_("借阅册次")),
            Column(_("借阅占比"), PCT),
            Column(_("需求指数"), RATIO),
            *[Column(labels("category", c)) for c in categories],
        ],
        chart="bar",
    )
    for clc in labels.order("clc_top", {k[0] for k in by_category} | {k[0] for k in items}):
        held = items.get((clc,), {"held": 0})["held"]
        per_category = [by_category.get((clc, c), 0) for c in categories]
        loans = sum(per_category)
        index = ratio(ratio(loans, loans_total) or 0, ratio(held, held_total)) if held else None
        table.rows.append(
            [
                labels("clc_top", clc),
                held,
                ratio(held, held_total),
                loans,
                ratio(loans, loans_total),
                index,
                *per_category,
            ]
        )
    table.total = [
        _("合计"),
        held_total,
        1.0 if held_total else None,
        loans_total,
        1.0 if loans_total else None,
        None,
    ]
    table.total += [
        sum(n for (_clc, c), n in by_category.items() if c == cat) for cat in categories
    ]
    table.note = _("需求指数 = 借阅占比 ÷ 馆藏占比；大于 %(index)s 表示借阅需求超过馆藏。") % {
        "index": SHORTAGE_INDEX
    }
    ages = loan_counts(scope, p.start, p.end, ["age_band", "clc_top"], filters)
    age_table = cross_table(
        ages,
        "age_band",
        "clc_top",
        labels,
        key="preferences-by-age",
        title=_("借阅册次：年龄段 × 中图法大类"),
        value_label=_("借阅册次"),
    )
    return [table, age_table, shortage_table(scope, p, labels, holdings)]


def shortage_table(scope: LoanScope, p: Params, labels: Labels, holdings=None) -> Table:
    """Site × class where the site's demand outruns its shelf: the rotation suggestions."""
    filters = {k: v for k, v in p.filters.items() if k != "clc_top"}
    loans = loan_counts(scope, p.start, p.end, ["site", "clc_top"], filters)
    items = (holdings or Holdings(scope, item_filters(p.filters))).by(["site", "clc_top"])
    site_loans, site_held = {}, {}
    for (site, _clc), n in loans.items():
        site_loans[site] = site_loans.get(site, 0) + n
    for (site, _clc), v in items.items():
        site_held[site] = site_held.get(site, 0) + v["held"]
    table = Table(
        "shortages",
        _("需求超过馆藏的站点与类别（轮换建议依据）"),
        [
            Column(_("站点"), TEXT),
            Column(_("中图法大类"), TEXT),
            Column(_("在藏册数")),
            Column(_("借阅册次")),
            Column(_("需求指数"), RATIO),
        ],
    )
    found = []
    for (site, clc), n in loans.items():
        if n < SHORTAGE_MIN_LOANS or not site_loans.get(site):
            continue
        held = items.get((site, clc), {"held": 0})["held"]
        held_share = ratio(held, site_held.get(site, 0)) or 0
        loan_share = n / site_loans[site]
        index = loan_share / held_share if held_share else None
        if index is None or index >= SHORTAGE_INDEX:
            found.append((-(index or 99), site, clc, held, n, index))
    for _key, site, clc, held, n, index in sorted(found, key=lambda r: (r[0], str(r[1]), r[2]))[
        :50
    ]:
        table.rows.append(
            [
                labels("site", site),
                labels("clc_top", clc),
                held,
                n,
                round(index, 2) if index else None,
            ]
        )
    table.note = _(
        "只列借阅不少于 %(loans)d 册次、需求指数不低于 %(index)s 的组合；无在藏时需求指数为空。"
    ) % {
        "loans": SHORTAGE_MIN_LOANS,
        "index": SHORTAGE_INDEX,
    }
    return table
