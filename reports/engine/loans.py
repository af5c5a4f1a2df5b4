"""Checkouts in a window grouped by up to two dimensions (`loan_counts`), from the narrowest
summary table that holds the question, up to its reach, and live after it."""

from __future__ import annotations

from collections import Counter
from datetime import date

from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from reports.engine.dimensions import DIMENSIONS, ReportError, check
from reports.engine.plan import (
    as_key,
    filter_columns,
    grouped,
    live_key,
    live_loans,
    needs_days,
    plan,
    summary_key,
)
from reports.facts import (
    LIBRARY_COLUMNS,
    LIBRARY_CUBES,
    MONTH_CUBES,
    PLACE_COLUMNS,
    summary_reach,
)
from reports.models import LoanDay, LoanMonth


def loan_counts(scope: LoanScope, start: date, end: date, dims=(), filters=None) -> Counter:
    """Checkouts in [start, end) grouped by `dims`: {(value, …): count}."""
    filters = filters or {}
    table = _table_for(dims, filters)
    reach = summary_reach()
    if table == "day" and not needs_days(start, end, dims, filters, reach):
        # Whole months read from the monthly place cube: a dozen rows per site and year
        # instead of 365.
        table = "month"
    model = LoanDay if table == "day" else _month_cube(dims, filters, scope)
    time_column = "month" if table == "month" else "day"
    counts: Counter = Counter()
    for source, a, b in plan(start, end, reach, monthly=table == "month"):
        if source == "summary":
            rows = scope.apply(model.objects.all()).filter(
                **{f"{time_column}__gte": a, f"{time_column}__lt": b}, **filter_columns(filters)
            )
            keys = {f"k{i}": summary_key(name, time_column) for i, name in enumerate(dims)}
            rows = grouped(rows.annotate(**keys), keys, n=Sum("loans"))
        else:
            rows = live_loans(scope, a, b, dims, filters)
            keys = {f"k{i}": live_key(name) for i, name in enumerate(dims)}
            rows = grouped(rows.annotate(**keys), keys, n=Count("id"))
        for row in rows:
            key = tuple(as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
            counts[key] += row["n"]
    return counts


def _table_for(dims, filters) -> str:
    """The grain that holds every dimension: "day" (LoanDay) or "month" (a month cube)."""
    check(dims, filters)
    names = [n for n in [*dims, *filters] if n in DIMENSIONS]
    needs_month = any("day" not in DIMENSIONS[n].tables for n in names)
    needs_day = any(n in ("day", "week") for n in dims) or any(
        "month" not in DIMENSIONS[n].tables for n in names
    )
    if needs_month and needs_day:
        raise ReportError(
            _("按日、按周或按专架统计时不能按中图法分类、读者类型或年龄段细分，请改为按月或按年。")
        )
    return "month" if needs_month else "day"


def _month_cube(dims, filters, scope: LoanScope):
    wanted = {DIMENSIONS[n].column for n in [*dims, *filters] if n in DIMENSIONS}
    if scope.site_ids is None and not wanted <= set(PLACE_COLUMNS):
        # Only a question by class or reader: by place alone the place cube is smaller.
        for cube, extra in LIBRARY_CUBES:
            if wanted <= set(LIBRARY_COLUMNS) | set(extra):
                return cube
    for cube, extra in MONTH_CUBES:
        if wanted <= set(PLACE_COLUMNS) | set(extra):
            return cube
    return LoanMonth
