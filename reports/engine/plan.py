"""The time plan every count follows: a window [start, end) of local days split into parts
read from a summary table up to the day it reaches, and parts counted live from the loans.

The summary parts are whole months (or any days, for the narrow daily table); the live parts
are the still-open days since the last refresh and, when a monthly table is needed, part
months at the edges of a custom window, counted with the same expressions as the refresh
(facts.py). The parts are disjoint, so counts add up. Below the plan: the keys a summary part
and a live part are grouped by, so that both give the same group the same key.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db.models import F
from django.db.models.functions import TruncMonth, TruncWeek, TruncYear
from django.utils import timezone

from reports.engine.dimensions import DIMENSIONS, TIMES
from reports.facts import (
    TIME_TRUNC,
    day_after,
    instant,
    loan_facts,
    loans_between,
    month_start,
    next_month,
    refresh_title_classes,
)
from reports.models import RefreshState


def plan(start: date, end: date, reach: datetime | None, *, monthly: bool) -> list[tuple]:
    """Disjoint parts of [start, end): ("summary", a, b) — whole days, the last of them held
    up to `reach` — or ("live", a, b), where `a` is `reach` itself when the live part begins
    inside a day the summary holds in part."""
    parts: list[list] = []

    def add(source, a, b):
        if instant(a) >= instant(b):
            return
        if isinstance(a, datetime) and day_after(a) == timezone.localdate(a):
            a = timezone.localdate(a)  # a midnight is its day
        if parts and parts[-1][0] == source and parts[-1][2] == a:
            parts[-1][2] = b
        else:
            parts.append([source, a, b])

    if reach is None:
        add("live", start, end)
        return [tuple(part) for part in parts]
    reach = instant(reach)
    held = day_after(reach)  # the days before it are in the summary, the last one up to reach
    if not monthly:
        if instant(end) <= reach:
            add("summary", start, end)
        else:
            add("summary", start, min(end, held))
            add("live", max(instant(start), reach), end)
        return [tuple(part) for part in parts]
    month = month_start(start)
    while month < end:
        following = next_month(month)
        a, b = max(start, month), min(end, following)
        held_to = min(instant(following), reach)  # how far the month's summary rows reach
        if a == month and held_to > instant(month) and instant(b) >= held_to:
            add("summary", month, min(following, held))
            add("live", held_to if held_to < instant(following) else following, b)
        else:
            add("live", a, b)
        month = following
    return [tuple(part) for part in parts]


def summary_state() -> tuple:
    """What every refresh changes when it commits: each summary's reach and refresh time."""
    return tuple(
        RefreshState.objects.order_by("name").values_list(
            "name", "summarised_until", "summarised_through", "refreshed_at"
        )
    )


def consistently(count, attempts: int = 3):
    """`count()`, its figures read as of one state of the summary tables. A count reads the
    reach and the tables in separate statements: a refresh committing between them would have
    the loans it just summarised counted twice, from the tables and live. When the state moved
    meanwhile, count again (a refresh commits at most every few minutes)."""
    for _attempt in range(attempts):
        before = summary_state()
        figures = count()
        if summary_state() == before:
            break
    return figures


def needs_days(start: date, end: date, dims, filters, reach: datetime | None) -> bool:
    """Whether a question the monthly cubes could answer is better read from LoanDay: by day
    or week, by display, or a window with part months at its edges (counted live otherwise)."""
    if any(n in ("day", "week") for n in dims) or "display" in [*dims, *filters]:
        return True
    whole_end = end.day == 1 or (reach is not None and instant(end) >= reach)
    return start.day != 1 or not whole_end


def summary_key(name, table_column_of_time):
    if name in TIMES:
        if name == "day":
            return F("day")
        if name == "week":
            return TruncWeek("day")
        trunc = TruncMonth if name == "month" else TruncYear
        return trunc(table_column_of_time)
    return F(DIMENSIONS[name].column)


def live_key(name):
    if name in TIMES:
        return TIME_TRUNC[name]("checked_out_at")
    return F(f"f_{DIMENSIONS[name].column}")


def as_key(name, value):
    if name in ("month", "year") and isinstance(value, int | float | Decimal):
        value = int(value)  # EXTRACT is numeric on PostgreSQL
        return date(value // 100, value % 100, 1) if name == "month" else date(value, 1, 1)
    if name in TIMES and value is not None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
    return value


def filter_columns(filters, prefix=""):
    return {f"{prefix}{DIMENSIONS[name].column}": value for name, value in filters.items()}


def live_loans(scope, a, b, dims, filters, extra=()):
    """The loans of [a, b) in `scope` as facts carrying the columns of `dims`, `filters` and
    `extra`, filtered."""
    columns = {DIMENSIONS[n].column for n in [*dims, *filters] if n in DIMENSIONS}
    if "clc2" in columns:
        # Titles catalogued since the last refresh get their level-2 class now (cheap: only
        # the new ones), so that live days never report a known class as unclassified.
        refresh_title_classes()
    loans = loan_facts(scope.loans(loans_between(a, b)), sorted(columns | set(extra)))
    return loans.filter(**filter_columns(filters, "f_"))


def grouped(queryset, keys, **aggregates) -> list[dict]:
    """GROUP BY `keys`; with no keys one row of totals (values() without fields would select
    every column and group by all of them)."""
    if keys:
        return list(queryset.values(*keys).annotate(**aggregates).order_by())
    totals = queryset.aggregate(**aggregates)
    return [{name: value or 0 for name, value in totals.items()}]
