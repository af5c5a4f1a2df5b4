"""The reports, each a few tables built from the engine's counts (queries.py). Python only
arranges aggregated rows: a handful per site, class, month or library."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import scoped
from circulation.models import Patron
from collections_app.models import Display, Library, Transfer, TransferLine
from reports.facts import local_midnight, month_start, next_month
from reports.queries import (
    DIMENSIONS,
    TIMES,
    Holdings,
    LoanScope,
    ReportError,
    item_counts,
    loan_counts,
    reader_counts,
)
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table, ratio

# Demand index (share of loans ÷ share of holdings) from which a class counts as short.
SHORTAGE_INDEX = 1.5
SHORTAGE_MIN_LOANS = 5


@dataclass
class Params:
    start: date
    end: date  # exclusive
    grain: str = "month"
    rows: str = "clc_top"
    cols: str = ""
    filters: dict = field(default_factory=dict)
    idle_days: int = 90


def time_steps(grain: str, start: date, end: date) -> list[date]:
    """Every period start of `grain` from the one holding `start` to before `end`."""
    if grain == "day":
        first, step = start, lambda d: d + timedelta(days=1)
    elif grain == "week":
        first, step = start - timedelta(days=start.weekday()), lambda d: d + timedelta(days=7)
    elif grain == "month":
        first, step = month_start(start), next_month
    else:
        first, step = date(start.year, 1, 1), lambda d: date(d.year + 1, 1, 1)
    steps, current = [], first
    while current < end:
        steps.append(current)
        current = step(current)
    return steps


def _loans_by_time(scope, p, labels) -> Table:
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


def _cross(counts, rows_dim, cols_dim, labels, *, key, title, value_label) -> Table:
    """A table of `rows_dim` × `cols_dim` (or × one column of counts) with totals."""
    if not cols_dim:
        total = sum(counts.values())
        table = Table(
            key,
            title,
            [
                Column(str(DIMENSIONS[rows_dim].label), TEXT),
                Column(value_label),
                Column(_("占比"), PCT),
            ],
            chart="bar",
        )
        for value in labels.order(rows_dim, {k[0] for k in counts}):
            n = counts[(value,)]
            table.rows.append([labels(rows_dim, value), n, ratio(n, total)])
        table.total = [_("合计"), total, 1.0 if total else None]
        return table
    row_values = labels.order(rows_dim, {k[0] for k in counts})
    col_values = labels.order(cols_dim, {k[1] for k in counts})
    columns = [Column(f"{DIMENSIONS[rows_dim].label} \\ {DIMENSIONS[cols_dim].label}", TEXT)]
    columns += [Column(labels(cols_dim, value)) for value in col_values]
    columns.append(Column(_("合计")))
    table = Table(key, title, columns, heat=True)
    for row_value in row_values:
        cells = [counts.get((row_value, c), 0) for c in col_values]
        table.rows.append([labels(rows_dim, row_value), *cells, sum(cells)])
    totals = [sum(counts.get((r, c), 0) for r in row_values) for c in col_values]
    table.total = [_("合计"), *totals, sum(totals)]
    return table


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
    cross = _cross(
        counts, p.rows, p.cols, labels, key="cross", title=title, value_label=_("借阅册次")
    )
    return [_loans_by_time(scope, p, labels), cross]


def new_readers(scope: LoanScope, start: date, end: date, by=None):
    """Readers who got their card in [start, end) (办证), in the scope's libraries and, for site
    staff, at their sites. Counts only: nobody outside a library sees who they are."""
    patrons = Patron.objects.filter(
        registered_at__gte=local_midnight(start), registered_at__lt=local_midnight(end)
    )
    if scope.library_ids is not None:
        patrons = patrons.filter(library_id__in=scope.library_ids)
    if scope.site_ids is not None:
        patrons = patrons.filter(home_site_id__in=scope.site_ids)
    if by is None:
        return patrons.count()
    return dict(patrons.values_list(by).annotate(n=Count("id")).order_by())


def readers_report(scope: LoanScope, p: Params, total: dict | None = None) -> list[Table]:
    labels = Labels()
    filters = {k: v for k, v in p.filters.items() if "reader" in DIMENSIONS[k].tables}
    by_month = reader_counts(scope, p.start, p.end, ["month"], filters)
    if total is None:
        total = reader_counts(scope, p.start, p.end, [], filters).get((), {})
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
    cross = _cross(
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
    filters = {k: v for k, v in p.filters.items() if "reader" in DIMENSIONS[k].tables}
    return reader_counts(scope, p.start, p.end, [], filters).get((), {})


def reader_totals(scope: LoanScope, p: Params, total: dict | None = None) -> dict:
    if total is None:
        total = reader_total(scope, p)
    return {
        "readers": total.get("readers", 0),
        "visits": total.get("visits", 0),
        "loans": total.get("loans", 0),
        "new_readers": new_readers(scope, p.start, p.end),
    }


def _item_filters(p):
    return {
        k: v
        for k, v in p.filters.items()
        if k in ("library", "site", "site_kind", "consignment", "clc_top", "clc2")
    }


def holdings_report(scope: LoanScope, p: Params) -> list[Table]:
    labels = Labels()
    idle_since = timezone.now() - timedelta(days=p.idle_days)
    holdings = Holdings(scope, _item_filters(p), idle_since=idle_since)
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


def displays_table(scope: LoanScope, p: Params, labels, holdings=None) -> Table:
    filters = {
        k: v for k, v in p.filters.items() if k in ("library", "site", "site_kind", "consignment")
    }
    loans = loan_counts(scope, p.start, p.end, ["display"], filters)
    items = (holdings or Holdings(scope, _item_filters(p))).by(["display"])
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


def preferences_report(scope: LoanScope, p: Params) -> list[Table]:
    """What each reader category and age band borrows by class, against what is held: a class
    whose share of loans outruns its share of the shelf is one to rotate more of."""
    labels = Labels()
    filters = {k: v for k, v in p.filters.items() if k != "clc_top"}
    by_category = loan_counts(scope, p.start, p.end, ["clc_top", "category"], filters)
    holdings = Holdings(scope, _item_filters(p))
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
    age_table = _cross(
        ages,
        "age_band",
        "clc_top",
        labels,
        key="preferences-by-age",
        title=_("借阅册次：年龄段 × 中图法大类"),
        value_label=_("借阅册次"),
    )
    return [table, age_table, shortage_table(scope, p, labels, holdings)]


def shortage_table(scope: LoanScope, p: Params, labels, holdings=None) -> Table:
    """Site × class where the site's demand outruns its shelf: the rotation suggestions."""
    filters = {k: v for k, v in p.filters.items() if k != "clc_top"}
    loans = loan_counts(scope, p.start, p.end, ["site", "clc_top"], filters)
    items = (holdings or Holdings(scope, _item_filters(p))).by(["site", "clc_top"])
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


def _transfers(user_or_scope):
    if isinstance(user_or_scope, LoanScope):
        return Transfer.objects.filter(library_id__in=user_or_scope.library_ids or [])
    return scoped(Transfer.objects.all(), user_or_scope)


def transit_report(user_or_scope, p: Params, now: datetime | None = None) -> list[Table]:
    now = now or timezone.now()
    transfers = _transfers(user_or_scope)
    if "site" in p.filters:
        site = p.filters["site"]
        transfers = transfers.filter(Q(source_id=site) | Q(destination_id=site))
    if "library" in p.filters:
        transfers = transfers.filter(library_id=p.filters["library"])
    moved = transfers.filter(
        dispatched_at__gte=local_midnight(p.start), dispatched_at__lt=local_midnight(p.end)
    )
    rows = (
        moved.values("reason")
        .annotate(transfers=Count("id", distinct=True), volumes=Count("lines"))
        .order_by()
    )
    volumes = {r["reason"]: (r["transfers"], r["volumes"]) for r in rows}
    # Time in transit per transfer: a handful of transfers per day, arranged here.
    durations: dict[str, list[float]] = {}
    for reason, dispatched, received in moved.filter(received_at__isnull=False).values_list(
        "reason", "dispatched_at", "received_at"
    ):
        durations.setdefault(reason, []).append((received - dispatched).total_seconds() / 86400)
    table = Table(
        "transit-by-reason",
        _("调拨与轮换（按原因）"),
        [
            Column(_("原因"), TEXT),
            Column(_("发出调拨单")),
            Column(_("调拨册数")),
            Column(_("已接收调拨单")),
            Column(_("平均在途天数"), RATIO),
            Column(_("最长在途天数"), RATIO),
        ],
        chart="bar",
    )
    all_durations = []
    for reason, label in Transfer.Reason.choices:
        if reason not in volumes:
            continue
        spans = durations.get(reason, [])
        all_durations += spans
        table.rows.append(
            [
                str(label),
                volumes[reason][0],
                volumes[reason][1],
                len(spans),
                round(sum(spans) / len(spans), 2) if spans else None,
                round(max(spans), 2) if spans else None,
            ]
        )
    table.total = [
        _("合计"),
        sum(v[0] for v in volumes.values()),
        sum(v[1] for v in volumes.values()),
        len(all_durations),
        round(sum(all_durations) / len(all_durations), 2) if all_durations else None,
        round(max(all_durations), 2) if all_durations else None,
    ]
    cutoff = now - timedelta(days=settings.TRANSIT_OVERDUE_DAYS)
    overdue = (
        transfers.filter(status=Transfer.Status.DISPATCHED, dispatched_at__lt=cutoff)
        .select_related("source", "destination")
        .annotate(volumes=Count("lines"))
        .order_by("dispatched_at", "id")
    )
    late = Table(
        "overdue-transits",
        _("超期在途（发出超过 %(days)d 天未接收）") % {"days": settings.TRANSIT_OVERDUE_DAYS},
        [
            Column(_("调拨单"), TEXT),
            Column(_("发出站点"), TEXT),
            Column(_("接收站点"), TEXT),
            Column(_("发出日期"), TEXT),
            Column(_("在途天数")),
            Column(_("册数")),
        ],
    )
    for transfer in overdue[:200]:
        late.rows.append(
            [
                f"#{transfer.pk}",
                transfer.source.name,
                transfer.destination.name if transfer.destination else _("国家图书馆"),
                timezone.localtime(transfer.dispatched_at).date().isoformat(),
                (now - transfer.dispatched_at).days,
                transfer.volumes,
            ]
        )
    routes = (
        TransferLine.objects.filter(transfer__in=moved)
        .values("transfer__source__name", "transfer__destination__name")
        .annotate(n=Count("id"))
        .order_by("-n", "transfer__source__name")[:30]
    )
    route_table = Table(
        "transit-routes",
        _("主要调拨路线"),
        [Column(_("发出站点"), TEXT), Column(_("接收站点"), TEXT), Column(_("调拨册数"))],
    )
    for r in routes:
        route_table.rows.append(
            [
                r["transfer__source__name"],
                r["transfer__destination__name"] or _("国家图书馆"),
                r["n"],
            ]
        )
    return [table, late, route_table]


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
