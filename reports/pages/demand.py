"""读者需求: what readers looked for in the public catalogue and did not find, counted by
`reports.demand.demand_record`, and the holds that waited longest: the report page
(`demand_report`, beside the preference report's figures by class) and the section of the
period report (`period_tables`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from circulation.models import Hold
from collections_app.models import Item, Library, Site, Title
from reports.engine.dimensions import Params, ReportError
from reports.engine.searches import search_counts, top_queries
from reports.facts import month_start
from reports.pages.preferences import preferences_report
from reports.tables import PCT, RATIO, TEXT, Column, Labels, Table

# Rows a table of queries or holds shows (and a period report freezes).
TOP = 100
PERIOD_TOP = 20


def demand_report(scope: LoanScope, p, *, preferences: Table | None = None) -> list[Table]:
    """The 读者需求 report: the queries, their classes (beside the preference figures), the
    sites and months, and the holds that waited longest."""
    labels = Labels()
    by_class = search_counts(scope, p.start, p.end, ["clc_top"], p.filters)
    classes = classes_table(by_class, labels, preferences)
    top = top_queries(scope, p.start, p.end, p.filters, limit=TOP)
    by_site = search_counts(scope, p.start, p.end, ["site", "month"], p.filters)
    waited = holds_waited(scope, p.start, p.end, p.filters)
    # The classes add up to every search: the queries' total is theirs, not counted again.
    return [
        queries_table(top, labels, totals=classes.total[1:4]),
        classes,
        sites_table(by_site, labels, p.start, p.end),
        holds_table(waited),
    ]


def preference_figures(scope: LoanScope, p) -> Table | None:
    """The first table of the preference report for the same window, or None when it cannot
    be counted (the demand report stands without it)."""
    params = Params(start=p.start, end=p.end, grain="month", filters=dict(p.filters))
    params.filters.pop("clc_top", None)
    try:
        return preferences_report(scope, params)[0]
    except ReportError:
        return None


# The period report's section


def period_tables(library: Library, start: date, end: date, *, now=None) -> list[Table]:
    """What the period report freezes of readers' demand: the library's whole demand in the
    period (searches are not tied to a consignment)."""
    scope = LoanScope.for_library(library)
    labels = Labels()
    classes = classes_table(search_counts(scope, start, end, ["clc_top"]), labels)
    top = top_queries(scope, start, end, limit=PERIOD_TOP)
    queries = queries_table(top, labels, PERIOD_TOP, totals=classes.total[1:4])
    classes.columns = classes.columns[:4]
    classes.rows = [row[:4] for row in classes.rows]
    classes.total = classes.total[:4]
    holds = holds_table(holds_waited(scope, start, end, now=now, limit=PERIOD_TOP), PERIOD_TOP)
    for table in (queries, classes, holds):
        table.key = f"period-{table.key}"
    return [queries, classes, holds]


def unfound_total(library: Library, start: date, end: date) -> int:
    scope = LoanScope.for_library(library)
    return search_counts(scope, start, end).get((), {}).get("total", 0)


# The holds


def scoped_holds(scope: LoanScope, filters: dict | None = None):
    """Holds of the libraries in `scope` (counted, never listed by reader). The lender sees
    the holds for titles of which it lent a copy."""
    filters = filters or {}
    holds = Hold.objects.all()
    if scope.library_ids is not None:
        holds = holds.filter(library_id__in=scope.library_ids)
    if scope.site_ids is not None:
        holds = holds.filter(pickup_site_id__in=scope.site_ids)
    if scope.owner_id is not None:
        lent = Item.objects.filter(title=OuterRef("title"), owner_id=scope.owner_id)
        holds = holds.filter(Exists(lent))
    if filters.get("library"):
        holds = holds.filter(library_id=filters["library"])
    if filters.get("site"):
        holds = holds.filter(pickup_site_id=filters["site"])
    if filters.get("clc_top"):
        holds = holds.filter(title__clc_top=filters["clc_top"])
    return holds


# The tables


def queries_table(top: list, labels: Labels, limit: int = TOP, *, totals: list) -> Table:
    """The most sought queries (`top_queries`); `totals`: every search not found, queued and
    all, counted by class."""
    table = Table(
        "demand-queries",
        _("读者检索而未找到的（按检索次数）"),
        [
            Column(_("检索词"), TEXT),
            Column(_("中图法大类"), TEXT),
            Column(_("未找到")),
            Column(_("均已借出且有人排队")),
            Column(_("合计")),
        ],
    )
    for row in top:
        table.rows.append(
            [
                row["query"],
                labels("clc_top", row["clc_top"]),
                row["none"],
                row["queued"],
                row["total"],
            ]
        )
    table.total = [_("合计"), "", *totals]
    table.note = _("只列检索次数最多的 %(n)d 个检索词；合计为全部检索。") % {"n": limit}
    return table


class _SearchesChart(Table):
    """A table whose chart shows the searches not found and queued, not their sum again."""

    def chart_data(self, *, series_columns=None) -> dict:
        return super().chart_data(series_columns=series_columns or [1, 2])


def classes_table(counts: dict, labels: Labels, preferences: Table | None = None) -> Table:
    """Searches by class (`search_counts` by clc_top); beside them, from the preference
    report, the class's share of loans and of the shelf and its demand index."""
    share = {}
    if preferences is not None:
        share = {row[0]: (row[4], row[2], row[5]) for row in preferences.rows}
    table = _SearchesChart(
        "demand-classes",
        _("未找到的检索（按中图法大类）"),
        [
            Column(_("中图法大类"), TEXT),
            Column(_("未找到")),
            Column(_("均已借出且有人排队")),
            Column(_("合计")),
            Column(_("借阅占比"), PCT),
            Column(_("馆藏占比"), PCT),
            Column(_("需求指数"), RATIO),
        ],
        chart="bar",
    )
    counted = {clc: figures for (clc,), figures in counts.items()}
    for clc in labels.order("clc_top", counted):
        row = counted[clc]
        label = labels("clc_top", clc)
        loans, held, index = share.get(label, (None, None, None)) if clc else (None, None, None)
        table.rows.append([label, row["none"], row["queued"], row["total"], loans, held, index])
    table.total = [
        _("合计"),
        sum(r["none"] for r in counted.values()),
        sum(r["queued"] for r in counted.values()),
        sum(r["total"] for r in counted.values()),
        None,
        None,
        None,
    ]
    table.note = _(
        "类别由检索词推断：分类号、所选的大类或检索词中的类名；推断不出的记为未分类。"
        "借阅占比、馆藏占比和需求指数取自读者偏好报表。"
    )
    return table


def sites_table(counts: dict, labels: Labels, start: date, end: date) -> Table:
    """Searches by site and month (`search_counts` by site and month)."""
    months = []
    current = month_start(start)
    while current < end:
        months.append(current)
        current = month_start(current + timedelta(days=32))
    counted = {key: figures["total"] for key, figures in counts.items()}
    sites = labels.order("site", {site for site, _month in counted})
    table = Table(
        "demand-sites",
        _("未找到的检索：站点 × 月份"),
        [
            Column(_("站点"), TEXT),
            *[Column(labels("month", m)) for m in months],
            Column(_("合计")),
        ],
        heat=True,
    )
    for site in sites:
        values = [counted.get((site, m), 0) for m in months]
        label = labels("site", site) if site else _("未选站点")
        table.rows.append([label, *values, sum(values)])
    column_sums = [sum(counted.get((s, m), 0) for s in sites) for m in months]
    table.total = [_("合计"), *column_sums, sum(column_sums)]
    table.note = _("站点为读者选择的或读者证登记的服务点；不知道时记为未选站点。")
    return table


@dataclass
class Waited:
    title: str
    site: str
    holds: int
    waiting: int
    longest_days: int
    average_days: float


def holds_waited(
    scope: LoanScope, start: date, end: date, filters=None, *, now=None, limit: int = TOP
):
    """Holds placed in [start, end), by title and pickup site, longest wait first. A hold
    waited from placing until its copy was ready (trapped), or until it was cancelled or
    expired unserved, or until now when it still waits."""
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    window = (
        timezone.make_aware(datetime.combine(start, datetime.min.time()), tz),
        timezone.make_aware(datetime.combine(end, datetime.min.time()), tz),
    )
    holds = list(
        scoped_holds(scope, filters)
        .filter(placed_at__gte=window[0], placed_at__lt=window[1])
        .values_list("title_id", "pickup_site_id", "placed_at", "trapped_at", "closed_at", "status")
    )
    grouped: dict[tuple, list] = {}
    for title_id, site_id, placed, trapped, closed, status in holds:
        ended = trapped or closed or (now if status == Hold.Status.WAITING else placed)
        wait = max((ended - placed).total_seconds() / 86400, 0.0)
        entry = grouped.setdefault((title_id, site_id), [0, 0, 0.0, 0.0])
        entry[0] += 1
        entry[1] += status == Hold.Status.WAITING
        entry[2] = max(entry[2], wait)
        entry[3] += wait
    top = sorted(grouped.items(), key=lambda kv: (-kv[1][2], -kv[1][0], kv[0]))[:limit]
    titles = Title.objects.in_bulk([key[0] for key, _v in top])
    sites = Site.objects.in_bulk([key[1] for key, _v in top])
    return [
        Waited(
            titles[title_id].title if title_id in titles else str(title_id),
            sites[site_id].name if site_id in sites else "",
            n,
            waiting,
            int(longest),
            round(total / n, 1),
        )
        for (title_id, site_id), (n, waiting, longest, total) in top
    ]


def holds_table(waited: list[Waited], limit: int = TOP) -> Table:
    table = Table(
        "holds-waited",
        _("等待最久的预约"),
        [
            Column(_("题名"), TEXT),
            Column(_("取书站点"), TEXT),
            Column(_("预约数")),
            Column(_("仍在等待")),
            Column(_("最长等待（天）")),
            Column(_("平均等待（天）"), RATIO),
        ],
    )
    for row in waited:
        table.rows.append(
            [row.title, row.site, row.holds, row.waiting, row.longest_days, row.average_days]
        )
    table.note = _(
        "本期提出的预约，从提出到留书（或取消、过期，或至今仍在等待）的天数；只列最久的 %(n)d 条。"
    ) % {"n": limit}
    return table
