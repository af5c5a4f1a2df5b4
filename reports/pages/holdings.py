"""馆藏与周转: per site and per class, the volumes held now, the loans of the window, turnover,
never lent and idle; and the displays with what they hold and lent."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from collections_app.models import Display
from reports.engine.dimensions import DIMENSIONS, Params
from reports.engine.holdings import Holdings, item_filters
from reports.engine.loans import loan_counts
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table, ratio


def holdings_report(scope: LoanScope, p: Params) -> list[Table]:
    labels = Labels()
    idle_since = timezone.now() - timedelta(days=p.idle_days)
    holdings = Holdings(scope, item_filters(p.filters), idle_since=idle_since)
    tables = []
    for dim, key, title in (
        ("site", "turnover-by-site", _("各站点馆藏与周转")),
        ("clc_top", "turnover-by-class", _("各大类馆藏与周转")),
    ):
        loans = loan_counts(scope, p.start, p.end, [dim], p.filters)
        items = holdings.by([dim])
        table = Table(
            key,
            title,
            [
                Column(str(DIMENSIONS[dim].label), TEXT),
                Column(_("在藏册数")),
                Column(_("借阅册次")),
                Column(_("周转率（次/册）"), RATIO),
                Column(_("从未借出册数")),
                Column(_("从未借出占比"), PCT),
                Column(_("闲置册数（%(days)d 天无借阅）") % {"days": p.idle_days}),
            ],
            chart="bar",
        )
        keys = labels.order(dim, {k[0] for k in items} | {k[0] for k in loans})
        sums = [0, 0, 0, 0]
        for value in keys:
            held = items.get((value,), {"held": 0, "never": 0, "idle": 0})
            n = loans.get((value,), 0)
            table.rows.append(
                [
                    labels(dim, value),
                    held["held"],
                    n,
                    ratio(n, held["held"]),
                    held["never"],
                    ratio(held["never"], held["held"]),
                    held["idle"],
                ]
            )
            sums = [
                sums[0] + held["held"],
                sums[1] + n,
                sums[2] + held["never"],
                sums[3] + held["idle"],
            ]
        table.total = [
            _("合计"),
            sums[0],
            sums[1],
            ratio(sums[1], sums[0]),
            sums[2],
            ratio(sums[2], sums[0]),
            sums[3],
        ]
        table.note = _("在藏册数按图书现在所在站点统计；借阅册次按借出站点统计。")
        tables.append(table)
    tables.append(displays_table(scope, p, labels, holdings))
    return tables


def displays_table(scope: LoanScope, p: Params, labels: Labels, holdings=None) -> Table:
    filters = {
        k: v for k, v in p.filters.items() if k in ("library", "site", "site_kind", "consignment")
    }
    loans = loan_counts(scope, p.start, p.end, ["display"], filters)
    items = (holdings or Holdings(scope, item_filters(p.filters))).by(["display"])
    displays = Display.objects.select_related("site")
    if scope.library_ids is not None:
        displays = displays.filter(library_id__in=scope.library_ids)
    if scope.site_ids is not None:
        displays = displays.filter(site_id__in=scope.site_ids)
    if "site" in filters:
        displays = displays.filter(site_id=filters["site"])
    displays = displays.filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=p.start), starts_on__lt=p.end
    ).order_by("site__code", "starts_on")
    table = Table(
        "displays",
        _("专架与展柜"),
        [
            Column(_("专架/展柜"), TEXT),
            Column(_("站点"), TEXT),
            Column(_("起止日期"), TEXT),
            Column(_("现陈列册数")),
            Column(_("期间借出册次")),
        ],
    )
    for display in displays:
        span = (
            f"{display.starts_on} ~ {display.ends_on}"
            if display.ends_on
            else _("%(start)s 起至今") % {"start": display.starts_on}
        )
        table.rows.append(
            [
                display.name,
                display.site.name,
                span,
                items.get((display.pk,), {"held": 0})["held"],
                loans.get((display.pk,), 0),
            ]
        )
    return table
