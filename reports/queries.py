"""The report engine: loan, reader and holding counts for a scope, a period and up to two
dimensions, read from the summary tables where they reach and from the raw loans after that.

A window [start, end) of local days is split in parts (see `plan`): whole months (or days, for
the narrow daily table) that the summary holds, and the rest — the still-open days since the
last refresh, and part months at the edges of a custom window when a monthly table is needed —
counted live from the loans with the same expressions (facts.py). The parts are disjoint, so
counts add up; distinct readers are counted over the union of the parts' reader ids.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import (
    ExtractMonth,
    ExtractYear,
    TruncMonth,
    TruncWeek,
    TruncYear,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.scope import LoanScope
from collections_app.models import HoldingCount, Item
from collections_app.services.holdings import lent_month
from reports.facts import (
    LIBRARY_COLUMNS,
    LIBRARY_CUBES,
    MONTH_CUBES,
    PERIOD_KINDS,
    PLACE_COLUMNS,
    READER_ROLLUPS,
    TIME_TRUNC,
    loan_facts,
    loans_between,
    month_start,
    next_month,
    period_of,
    refresh_title_classes,
    summarised_until,
)
from reports.models import LoanDay, LoanMonth, ReaderCount, ReaderMonth
from sharedloan.db_routers import connection_for_reads

IN_SERVICE = (Item.Status.AVAILABLE, Item.Status.ON_LOAN, Item.Status.IN_TRANSIT)


class ReportError(ValueError):
    """A request the reports cannot answer as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class Dimension:
    label: str
    column: str  # in the summary tables and, prefixed f_, in the live facts
    tables: frozenset  # "day", "month", "reader": the summaries that hold it


_ALL = frozenset({"day", "month", "reader"})
DIMENSIONS = {
    "library": Dimension(gettext_lazy("图书馆"), "library_id", _ALL),
    "site": Dimension(gettext_lazy("站点"), "site_id", _ALL),
    "site_kind": Dimension(gettext_lazy("站点类型"), "site_kind", _ALL),
    "consignment": Dimension(gettext_lazy("批次"), "consignment_id", _ALL),
    "clc_top": Dimension(gettext_lazy("中图法大类"), "clc_top", frozenset({"month"})),
    "clc2": Dimension(gettext_lazy("中图法二级类"), "clc2", frozenset({"month"})),
    "category": Dimension(gettext_lazy("读者类型"), "category", frozenset({"month", "reader"})),
    "age_band": Dimension(gettext_lazy("年龄段"), "age_band", frozenset({"month", "reader"})),
    "display": Dimension(gettext_lazy("专架/展柜"), "display_id", frozenset({"day"})),
}
TIMES = {
    "day": gettext_lazy("日"),
    "week": gettext_lazy("周"),
    "month": gettext_lazy("月"),
    "year": gettext_lazy("年"),
}


def plan(start: date, end: date, reach: date | None, *, monthly: bool) -> list[tuple]:
    """Disjoint parts of [start, end): ("summary", a, b) or ("live", a, b)."""
    parts: list[list] = []

    def add(source, a, b):
        if a >= b:
            return
        if parts and parts[-1][0] == source and parts[-1][2] == a:
            parts[-1][2] = b
        else:
            parts.append([source, a, b])

    if reach is None:
        add("live", start, end)
    elif not monthly:
        add("summary", start, min(end, reach))
        add("live", max(start, reach), end)
    else:
        month = month_start(start)
        while month < end:
            following = next_month(month)
            a, b = max(start, month), min(end, following)
            held_until = min(following, reach)
            if a == month and held_until > month and b >= held_until:
                add("summary", month, held_until)
                add("live", held_until, b)
            else:
                add("live", a, b)
            month = following
    return [tuple(part) for part in parts]


def _check(dims, filters):
    for name in [*dims, *filters]:
        if name not in DIMENSIONS and name not in TIMES:
            raise ReportError(_("未知的统计维度：%(name)s") % {"name": name})


def _table_for(dims, filters) -> str:
    _check(dims, filters)
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


def needs_days(start: date, end: date, dims, filters) -> bool:
    """Whether a question the monthly cubes could answer is better read from LoanDay: by day
    or week, by display, or a window with part months at its edges (counted live otherwise)."""
    if any(n in ("day", "week") for n in dims) or "display" in [*dims, *filters]:
        return True
    reach = summarised_until()
    whole_end = end.day == 1 or (reach is not None and end >= reach)
    return start.day != 1 or not whole_end


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


def _summary_key(name, table_column_of_time):
    if name in TIMES:
        if name == "day":
            return F("day")
        if name == "week":
            return TruncWeek("day")
        trunc = TruncMonth if name == "month" else TruncYear
        return trunc(table_column_of_time)
    return F(DIMENSIONS[name].column)


def _live_key(name):
    if name in TIMES:
        return TIME_TRUNC[name]("checked_out_at")
    return F(f"f_{DIMENSIONS[name].column}")


def _union_key(name, column):
    """A time key both backends write the same way (YYYYMM or YYYY as an integer), so that
    the union of summary and live reader ids groups one month as one group."""
    if name == "month":
        return ExtractYear(column) * 100 + ExtractMonth(column)
    if name == "year":
        return ExtractYear(column)
    return _summary_key(name, column) if column == "month" else _live_key(name)


def _as_key(name, value):
    if name in ("month", "year") and isinstance(value, int | float | Decimal):
        value = int(value)  # EXTRACT is numeric on PostgreSQL
        return date(value // 100, value % 100, 1) if name == "month" else date(value, 1, 1)
    if name in TIMES and value is not None:
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            return date.fromisoformat(value[:10])
    return value


def _filter_columns(filters, prefix=""):
    return {f"{prefix}{DIMENSIONS[name].column}": value for name, value in filters.items()}


def _live_loans(scope, a, b, dims, filters, extra=()):
    columns = {DIMENSIONS[n].column for n in [*dims, *filters] if n in DIMENSIONS}
    if "clc2" in columns:
        # Titles catalogued since the last refresh get their level-2 class now (cheap: only
        # the new ones), so that live days never report a known class as unclassified.
        refresh_title_classes()
    loans = loan_facts(scope.loans(loans_between(a, b)), sorted(columns | set(extra)))
    return loans.filter(**_filter_columns(filters, "f_"))


def loan_counts(scope: LoanScope, start: date, end: date, dims=(), filters=None) -> Counter:
    """Checkouts in [start, end) grouped by `dims`: {(value, …): count}."""
    filters = filters or {}
    table = _table_for(dims, filters)
    if table == "day" and not needs_days(start, end, dims, filters):
        # Whole months read from the monthly place cube: a dozen rows per site and year
        # instead of 365.
        table = "month"
    model = LoanDay if table == "day" else _month_cube(dims, filters, scope)
    time_column = "month" if table == "month" else "day"
    counts: Counter = Counter()
    for source, a, b in plan(start, end, summarised_until(), monthly=table == "month"):
        if source == "summary":
            rows = scope.apply(model.objects.all()).filter(
                **{f"{time_column}__gte": a, f"{time_column}__lt": b}, **_filter_columns(filters)
            )
            keys = {f"k{i}": _summary_key(name, time_column) for i, name in enumerate(dims)}
            rows = _grouped(rows.annotate(**keys), keys, n=Sum("loans"))
        else:
            rows = _live_loans(scope, a, b, dims, filters)
            keys = {f"k{i}": _live_key(name) for i, name in enumerate(dims)}
            rows = _grouped(rows.annotate(**keys), keys, n=Count("id"))
        for row in rows:
            key = tuple(_as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
            counts[key] += row["n"]
    return counts


def _reader_parts(scope, start, end, dims, filters):
    for name in [*dims, *filters]:
        if name in ("day", "week") or (
            name in DIMENSIONS and "reader" not in DIMENSIONS[name].tables
        ):
            raise ReportError(
                _("读者人数只能按月或按年、按图书馆、站点、批次、读者类型和年龄段统计。")
            )
    return plan(start, end, summarised_until(), monthly=True)


def _grouped(queryset, keys, **aggregates) -> list[dict]:
    """GROUP BY `keys`; with no keys one row of totals (values() without fields would select
    every column and group by all of them)."""
    if keys:
        return list(queryset.values(*keys).annotate(**aggregates).order_by())
    totals = queryset.aggregate(**aggregates)
    return [{name: value or 0 for name, value in totals.items()}]


def _sql(queryset):
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


def _whole_periods(start: date, end: date, dims, reach: date | None):
    """(kind, [(start, end), …]) when [start, end) is whole calendar periods counted in
    ReaderCount — every month (or year) of the window when grouped by month (or year), else
    the window itself as one month, quarter or year; else None. Periods begun after `reach`
    are simply all live."""
    if reach is None:
        return None
    times = [name for name in dims if name in TIMES]
    if times in (["month"], ["year"]):
        kind, periods, day = times[0], [], start
        while day < end:
            a, b = period_of(kind, day)
            if a != day or b > end:
                return None
            periods.append((a, b))
            day = b
    elif times:
        return None
    else:
        kind = next((k for k in PERIOD_KINDS if period_of(k, start) == (start, end)), None)
        periods = [(start, end)]
    if kind is None or not periods:
        return None
    return kind, periods


def _reader_rollup(scope: LoanScope, names) -> int:
    """The ReaderCount rows to read: those keeping every column the query groups, filters or
    scopes by among the four that do not add up."""
    rollup = ReaderCount.OWNER if scope.owner_id is not None else 0
    if "consignment" in names:
        rollup |= ReaderCount.CONSIGNMENT
    if "site" in names or scope.site_ids is not None:
        rollup |= ReaderCount.SITE | ReaderCount.SITE_KIND
    if "site_kind" in names:
        rollup |= ReaderCount.SITE_KIND
    return rollup if rollup in READER_ROLLUPS else None


def _counted_reader_counts(scope, dims, filters, reach, kind, periods) -> dict:
    """Readers from ReaderCount, plus the live days after `reach`: a reader borrowing today
    counts only if not already counted in the same group earlier in the period."""
    result: dict = {}
    rows = ReaderCount.objects.filter(
        kind=kind,
        rollup=_reader_rollup(scope, [*dims, *filters]),
        period__gte=periods[0][0],
        period__lt=periods[-1][1],
        **_filter_columns(filters),
    )
    keys = {
        f"k{i}": F("period") if name in TIMES else F(DIMENSIONS[name].column)
        for i, name in enumerate(dims)
    }
    sums = {"readers": Sum("readers"), "visits": Sum("visits"), "loans": Sum("loans")}
    for row in _grouped(scope.apply(rows).annotate(**keys), keys, **sums):
        key = tuple(_as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
        result[key] = {name: row[name] or 0 for name in sums}
    for a, b in periods:
        if b > reach:
            _add_live_readers(result, scope, a, max(a, reach), b, dims, filters)
    return result


def _add_live_readers(result, scope, period, a, b, dims, filters):
    """Add the loans of [a, b) — the live end of the period starting `period` — to `result`."""
    places = [name for name in dims if name not in TIMES]
    loans = _live_loans(scope, a, b, places, filters, extra=("patron_id", "day", "site_id"))
    keys = {f"k{i}": _live_key(name) for i, name in enumerate(places)}
    loans = loans.annotate(**keys)
    seen = ReaderMonth.objects.filter(
        patron_id=OuterRef("f_patron_id"),
        month__gte=period,
        month__lt=a,
        **{DIMENSIONS[n].column: OuterRef(f"f_{DIMENSIONS[n].column}") for n in places},
        **_filter_columns(filters),
    )
    # A scalar subquery, not NOT EXISTS: PostgreSQL then probes the (patron, month) index
    # for each of today's few loans instead of hashing the whole year of ReaderMonth. The
    # scope's libraries need no check there: a reader's rows are all in their own library,
    # which the loan already passed (so a plain probe can be an index-only scan).
    inner_scope = LoanScope(owner_id=scope.owner_id, site_ids=scope.site_ids)
    seen = Subquery(inner_scope.apply(seen).values("patron_id")[:1])
    fresh = loans.annotate(seen=seen).filter(seen__isnull=True)
    # Loans and visits in one pass: per reader, site and day first, then per group.
    per_visit = (
        loans.values(*keys, "f_patron_id", "f_site_id", "f_day").annotate(n=Count("id")).order_by()
    )
    sql, params = _sql(per_visit)
    group = ", ".join(keys)
    with connection_for_reads(LoanDay).cursor() as cursor:
        cursor.execute(
            f"SELECT {group + ', ' if keys else ''}COUNT(*), SUM(n) FROM ({sql}) visits"
            + (f" GROUP BY {group}" if keys else ""),
            params,
        )
        visit_rows = cursor.fetchall()
    figures = (
        ("readers", _grouped(fresh, keys, n=Count("f_patron_id", distinct=True))),
        ("visits", [{**dict(zip(keys, r[:-2], strict=True)), "n": r[-2]} for r in visit_rows]),
        (
            "loans",
            [{**dict(zip(keys, r[:-2], strict=True)), "n": int(r[-1] or 0)} for r in visit_rows],
        ),
    )

    def key_of(row):
        values = iter(_as_key(name, row[f"k{i}"]) for i, name in enumerate(places))
        return tuple(period if name in TIMES else next(values) for name in dims)

    for figure, rows in figures:
        for row in rows:
            if not row["n"]:
                continue
            entry = result.setdefault(key_of(row), {"readers": 0, "visits": 0, "loans": 0})
            entry[figure] += row["n"]


def reader_counts(scope: LoanScope, start: date, end: date, dims=(), filters=None) -> dict:
    """Distinct readers, borrowing visits (reader × site × day) and loans in [start, end),
    grouped by `dims`: {(value, …): {"readers": n, "visits": n, "loans": n}}."""
    filters = filters or {}
    parts = _reader_parts(scope, start, end, dims, filters)
    reach = summarised_until()
    whole = _whole_periods(start, end, dims, reach)
    counted = _reader_rollup(scope, [*dims, *filters]) is not None
    if whole and counted and summarised_until("readers") == reach:
        return _counted_reader_counts(scope, dims, filters, reach, *whole)
    keys_out = [f"k{i}" for i in range(len(dims))]
    patron_sql, patron_params, visit_sql = [], [], []
    sums: dict = {}
    for source, a, b in parts:
        if source == "summary":
            rows = scope.apply(ReaderMonth.objects.all()).filter(
                month__gte=a, month__lt=b, **_filter_columns(filters)
            )
            keys = {f"k{i}": _union_key(name, "month") for i, name in enumerate(dims)}
            rows = rows.annotate(**keys, k_patron=F("patron_id"))
            sql, params = _sql(rows.values(*keys, "k_patron").order_by())
            for row in _grouped(rows, keys, v=Sum("visits"), n=Sum("loans")):
                key = tuple(_as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
                entry = sums.setdefault(key, Counter())
                entry["visits"] += row["v"]
                entry["loans"] += row["n"]
        else:
            rows = _live_loans(scope, a, b, dims, filters, extra=("patron_id", "day", "site_id"))
            keys = {f"k{i}": _union_key(name, "checked_out_at") for i, name in enumerate(dims)}
            rows = rows.annotate(**keys, k_patron=F("f_patron_id"))
            sql, params = _sql(rows.values(*keys, "k_patron").order_by())
            visits = rows.values(*keys, "k_patron", "f_site_id", "f_day").distinct().order_by()
            visit_sql.append(_sql(visits))
            for row in _grouped(rows, keys, n=Count("id")):
                key = tuple(_as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
                sums.setdefault(key, Counter())["loans"] += row["n"]
        patron_sql.append(sql)
        patron_params += params
    result: dict = {}
    if not patron_sql:
        return result
    columns = ", ".join([*keys_out, "k_patron"])
    union = " UNION ALL ".join(
        f"SELECT {columns} FROM ({sql}) p{n}" for n, sql in enumerate(patron_sql)
    )
    group = f" GROUP BY {', '.join(keys_out)}" if keys_out else ""
    select_keys = f"{', '.join(keys_out)}, " if keys_out else ""
    with connection_for_reads(LoanDay).cursor() as cursor:
        cursor.execute(
            f"SELECT {select_keys}COUNT(DISTINCT k_patron) FROM ({union}) readers{group}",
            patron_params,
        )
        for row in cursor.fetchall():
            key = tuple(_as_key(name, value) for name, value in zip(dims, row[:-1], strict=True))
            result[key] = {"readers": row[-1], "visits": 0, "loans": 0}
        for vsql, vparams in visit_sql:
            cursor.execute(f"SELECT {select_keys}COUNT(*) FROM ({vsql}) visits{group}", vparams)
            for row in cursor.fetchall():
                key = tuple(_as_key(n, v) for n, v in zip(dims, row[:-1], strict=True))
                sums.setdefault(key, Counter())["visits"] += row[-1]
    for key, entry in sums.items():
        figures = result.setdefault(key, {"readers": 0, "visits": 0, "loans": 0})
        figures["visits"] += entry["visits"]
        figures["loans"] += entry["loans"]
    return result


ITEM_COLUMNS = {
    "library": "library_id",
    "site": "current_site_id",
    "site_kind": "current_site__kind",
    "consignment": "consignment_id",
    "clc_top": "title__clc_top",
    "clc2": "title__report_class__clc2",
    "display": "display_id",
}


# The same dimensions in the holdings summary (collections_app.HoldingCount).
SUMMARY_COLUMNS = {
    "library": "library_id",
    "site": "site_id",
    "site_kind": "site__kind",
    "consignment": "consignment_id",
    "clc_top": "clc_top",
    "display": "display_id",
}


class Holdings:
    """The volumes in service now (on the shelf, on loan or in transit), where they are now,
    at the finest grain the pages show — library × site × consignment × class × display, a few
    thousand groups however many volumes — added up here for each table, so that a page reads
    them once. `never` counts volumes never lent; `idle` those on the shelf not lent since
    `idle_since` (a datetime) or never.

    Read from the holdings summary, kept current by every change of a volume: held and never
    lent are sums of its rows. Idle depends on the day asked: the summary keeps the (UTC) month
    each volume was last lent, so the shelf's volumes never lent or last lent in a month before
    `idle_since`'s are summed from it, and only those last lent in that one month before
    `idle_since` are counted live (an index on the shelf's last loans). A question by level-2
    class counts the volumes live, as before."""

    def __init__(self, scope: LoanScope, filters=None, *, idle_since=None, dims=()):
        filters = filters or {}
        for name in [*dims, *filters]:
            if name not in ITEM_COLUMNS:
                raise ReportError(_("馆藏不能按“%(name)s”统计。") % {"name": name})
        if "clc2" in [*dims, *filters]:
            self.rows = self._counted_live(scope, filters, idle_since, dims)
            return
        grain = list(SUMMARY_COLUMNS)
        groups: dict = {}
        summary = scope.apply(HoldingCount.objects.filter(status__in=IN_SERVICE))
        summary = summary.filter(
            **{SUMMARY_COLUMNS[name]: value for name, value in filters.items()}
        )
        keys = {f"g_{name}": F(SUMMARY_COLUMNS[name]) for name in grain}
        sums = {"held": Sum("volumes"), "never": Sum("volumes", filter=Q(lent=False))}
        if idle_since is not None:
            boundary = lent_month(idle_since)
            sums["idle"] = Sum(
                "volumes",
                filter=Q(status=Item.Status.AVAILABLE)
                & (Q(lent_month__isnull=True) | Q(lent_month__lt=boundary)),
            )
        reads = connection_for_reads(HoldingCount).alias
        summed = summary.annotate(**keys).values(*keys).annotate(**sums).order_by()
        for row in summed.using(reads):
            key = tuple(row[f"g_{name}"] for name in grain)
            groups[key] = [row["held"] or 0, row["never"] or 0, row.get("idle") or 0]
        if idle_since is not None:
            # The boundary month: its shelf volumes last lent before idle_since are idle too.
            month_began = datetime(boundary.year, boundary.month, 1, tzinfo=UTC)
            boundary_month = scope.items(
                Item.objects.filter(
                    status=Item.Status.AVAILABLE,
                    last_loan_at__gte=month_began,
                    last_loan_at__lt=idle_since,
                )
            ).filter(**{ITEM_COLUMNS[name]: value for name, value in filters.items()})
            keys = {f"g_{name}": F(ITEM_COLUMNS[name]) for name in grain}
            boundary_month = boundary_month.annotate(**keys).values(*keys)
            for row in boundary_month.annotate(n=Count("id")).order_by().using(reads):
                key = tuple(row[f"g_{name}"] for name in grain)
                groups.setdefault(key, [0, 0, 0])[2] += row["n"]
        self.rows = [
            (
                dict(zip(grain, key, strict=True)),
                (held, never, idle if idle_since is not None else 0),
            )
            for key, (held, never, idle) in groups.items()
            if held  # a group a volume left sums to nothing until the fold removes it
        ]

    @staticmethod
    def _counted_live(scope, filters, idle_since, dims) -> list:
        from django.db.models import Q

        grain = [n for n in ITEM_COLUMNS if n != "clc2" or "clc2" in [*dims, *filters]]
        items = scope.items(Item.objects.filter(status__in=IN_SERVICE))
        items = items.filter(**{ITEM_COLUMNS[name]: value for name, value in filters.items()})
        aggregates = {
            "held": Count("id"),
            "never": Count("id", filter=Q(last_loan_at__isnull=True)),
        }
        if idle_since is not None:
            aggregates["idle"] = Count(
                "id",
                filter=Q(status=Item.Status.AVAILABLE)
                & (Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=idle_since)),
            )
        keys = {f"g_{name}": F(ITEM_COLUMNS[name]) for name in grain}
        grouped = items.annotate(**keys).values(*keys).annotate(**aggregates).order_by()
        reads = connection_for_reads(Item)
        with transaction.atomic(using=reads.alias):
            if reads.vendor == "postgresql":
                # The planner cannot tell that half a million volumes fall in a few thousand
                # groups and, in the default 4 MB, sorts them on disk: room to hash instead.
                with reads.cursor() as cursor:
                    cursor.execute("SET LOCAL work_mem = '64MB'")
            rows = list(grouped.using(reads.alias))
        return [
            (
                {name: row[f"g_{name}"] for name in grain},
                (row["held"], row["never"], row.get("idle", 0)),
            )
            for row in rows
        ]

    def by(self, dims=()) -> dict:
        """{(value, …): {"held": n, "never": n, "idle": n}} grouped by `dims`."""
        sums: dict = {}
        for values, (held, never, idle) in self.rows:
            key = tuple(values[name] for name in dims)
            entry = sums.setdefault(key, [0, 0, 0])
            entry[0] += held
            entry[1] += never
            entry[2] += idle
        if not dims and not sums:
            sums[()] = [0, 0, 0]
        return {k: {"held": v[0], "never": v[1], "idle": v[2]} for k, v in sums.items()}


def item_counts(scope: LoanScope, dims=(), filters=None, *, idle_since=None) -> dict:
    """Volumes in service now grouped by `dims` (see Holdings)."""
    return Holdings(scope, filters, idle_since=idle_since, dims=dims).by(dims)
