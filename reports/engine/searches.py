"""Readers' unmet searches counted in a window (`search_counts`, `top_queries`): the months
the refresh has summed from its monthly rollups, the later months live from the counters.

A question by query reads the rollup without the site (DemandMonth), any other the rollup
without the query (DemandSiteMonth); a question by query that groups, filters or is scoped by
site reads the counters themselves (DemandSearch), which keep both.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Q, Sum

from accounts.scope import LoanScope
from reports.engine.plan import plan
from reports.facts import month_start, summarised_until
from reports.models import DemandMonth, DemandSearch, DemandSiteMonth
from sharedloan.db_routers import connection_for_reads

FIGURES = {
    "none": Sum("searches", filter=Q(outcome=DemandSearch.Outcome.NONE), default=0),
    "queued": Sum("searches", filter=Q(outcome=DemandSearch.Outcome.QUEUED), default=0),
    "total": Sum("searches", default=0),
}


def search_counts(scope: LoanScope, start: date, end: date, dims=(), filters=None) -> dict:
    """Searches in the months that [start, end) touches, grouped by `dims` (among query,
    clc_top, site and month): {(value, …): {"none": n, "queued": n, "total": n}}."""
    counts: dict = {}
    for rows in _parts(scope, start, end, dims, filters or {}):
        if dims:
            grouped = rows.values(*dims).annotate(**FIGURES).order_by()
        else:  # values() without fields would group by every column
            grouped = [rows.aggregate(**FIGURES)]
        for row in grouped:
            key = tuple(row[name] for name in dims)
            entry = counts.setdefault(key, {"none": 0, "queued": 0, "total": 0})
            for figure in FIGURES:
                entry[figure] += row[figure]
    return counts


def top_queries(scope: LoanScope, start: date, end: date, filters=None, *, limit: int) -> list:
    """The `limit` most sought queries (with their class) in the months that [start, end)
    touches, most searches first: [{"query", "clc_top", "none", "queued", "total"}, …]."""
    dims = ("query", "clc_top")
    parts = _parts(scope, start, end, dims, filters or {})
    if len(parts) == 1:
        ranked = parts[0].values(*dims).annotate(**FIGURES)
        return list(ranked.order_by("-total", "query", "clc_top")[:limit])
    # Summed and live months: the top of their union, ranked in the database.
    quote = connection_for_reads(DemandSearch).ops.quote_name
    sqls, params = [], []
    for rows in parts:
        sql, part_params = rows.values(*dims).annotate(**FIGURES).order_by().query.sql_with_params()
        sqls.append(f"SELECT * FROM ({sql}) p{len(sqls)}")
        params += part_params
    query, clc, none, queued, total = map(quote, ("query", "clc_top", *FIGURES))
    with connection_for_reads(DemandSearch).cursor() as cursor:
        cursor.execute(
            f"SELECT {query}, {clc}, SUM({none}), SUM({queued}), SUM({total}) AS {total} "
            f"FROM ({' UNION ALL '.join(sqls)}) parts GROUP BY {query}, {clc} "
            f"ORDER BY {total} DESC, {query}, {clc} LIMIT %s",
            [*params, limit],
        )
        names = ("query", "clc_top", "none", "queued", "total")
        return [
            {name: int(v) if name in FIGURES else v for name, v in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]


def _parts(scope: LoanScope, start: date, end: date, dims, filters) -> list:
    """One queryset per part of the plan: the summed months, then the live ones."""
    by_site = "site" in [*dims, *filters] or scope.site_ids is not None
    summary = DemandSiteMonth
    if "query" in dims:
        summary = None if by_site else DemandMonth
    reach = summarised_until("demand") if summary is not None else None
    parts = []
    for source, a, b in plan(month_start(start), end, reach, monthly=True):
        model = summary if source == "summary" else DemandSearch
        rows = model.objects.filter(month__gte=a, month__lt=b)
        if scope.library_ids is not None:
            rows = rows.filter(library_id__in=scope.library_ids)
        if scope.site_ids is not None:
            rows = rows.filter(site_id__in=scope.site_ids)
        for name in ("library", "site", "clc_top"):
            if filters.get(name):
                rows = rows.filter(**{name if name == "clc_top" else f"{name}_id": filters[name]})
        parts.append(rows)
    return parts or [DemandSearch.objects.none()]
