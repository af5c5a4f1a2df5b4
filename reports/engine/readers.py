"""Distinct readers, borrowing visits and loans in a window (`reader_counts`), and the cards
registered in it (`new_readers`).

Readers do not add up across months, so whole calendar periods read the readers counted at
refresh time (ReaderCount) and add those of the live days not already counted in the same
group; any other window counts distinct reader ids over the union of the summary part
(ReaderMonth) and the live part.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

from django.db.models import Count, Exists, F, OuterRef, Subquery, Sum
from django.db.models.functions import ExtractMonth, ExtractYear
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import LoanScope
from circulation.models import Patron
from reports.engine.dimensions import DIMENSIONS, TIMES, ReportError
from reports.engine.plan import (
    as_key,
    filter_columns,
    grouped,
    live_key,
    live_loans,
    plan,
    summary_key,
)
from reports.facts import (
    PERIOD_KINDS,
    READER_ROLLUPS,
    day_after,
    instant,
    local_midnight,
    period_of,
    summary_reach,
    visits_column,
)
from reports.models import LoanDay, ReaderCount, ReaderMonth
from sharedloan.db_routers import connection_for_reads


def reader_counts(scope: LoanScope, start: date, end: date, dims=(), filters=None) -> dict:
    """Distinct readers, borrowing visits (reader × site × day) and loans in [start, end),
    grouped by `dims`: {(value, …): {"readers": n, "visits": n, "loans": n}}."""
    filters = filters or {}
    reach = summary_reach()
    parts = _reader_parts(start, end, dims, filters, reach)
    whole = _whole_periods(start, end, dims, reach)
    counted = _reader_rollup(scope, [*dims, *filters]) is not None
    if whole and counted and summary_reach("readers") == reach:
        return _counted_reader_counts(scope, dims, filters, reach, *whole)
    keys_out = [f"k{i}" for i in range(len(dims))]
    patron_sql, patron_params, visit_sql = [], [], []
    sums: dict = {}
    for source, a, b in parts:
        if source == "summary":
            rows = scope.apply(ReaderMonth.objects.all()).filter(
                month__gte=a, month__lt=b, **filter_columns(filters)
            )
            keys = {f"k{i}": _union_key(name, "month") for i, name in enumerate(dims)}
            rows = rows.annotate(**keys, k_patron=F("patron_id"))
            sql, params = _sql(rows.values(*keys, "k_patron").order_by())
            visits = Sum(visits_column(_columns_kept(scope, [*dims, *filters])))
            for row in grouped(rows, keys, v=visits, n=Sum("loans")):
                key = tuple(as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
                entry = sums.setdefault(key, Counter())
                entry["visits"] += row["v"]
                entry["loans"] += row["n"]
        else:
            rows = live_loans(scope, a, b, dims, filters, extra=("patron_id", "day", "site_id"))
            keys = {f"k{i}": _union_key(name, "checked_out_at") for i, name in enumerate(dims)}
            rows = rows.annotate(**keys, k_patron=F("f_patron_id"))
            sql, params = _sql(rows.values(*keys, "k_patron").order_by())
            visits = rows.values(*keys, "k_patron", "f_site_id", "f_day").distinct().order_by()
            visit_sql.append((*_sql(visits), 1))
            continued = _continued_visits(rows, keys, scope, a, dims, filters)
            if continued is not None:
                visit_sql.append((*_sql(continued), -1))
            for row in grouped(rows, keys, n=Count("id")):
                key = tuple(as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
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
            key = tuple(as_key(name, value) for name, value in zip(dims, row[:-1], strict=True))
            result[key] = {"readers": row[-1], "visits": 0, "loans": 0}
        for vsql, vparams, sign in visit_sql:
            cursor.execute(f"SELECT {select_keys}COUNT(*) FROM ({vsql}) visits{group}", vparams)
            for row in cursor.fetchall():
                key = tuple(as_key(n, v) for n, v in zip(dims, row[:-1], strict=True))
                sums.setdefault(key, Counter())["visits"] += sign * row[-1]
    for key, entry in sums.items():
        figures = result.setdefault(key, {"readers": 0, "visits": 0, "loans": 0})
        figures["visits"] += entry["visits"]
        figures["loans"] += entry["loans"]
    return result


def _reader_parts(start, end, dims, filters, reach):
    for name in [*dims, *filters]:
        if name in ("day", "week") or (
            name in DIMENSIONS and "reader" not in DIMENSIONS[name].tables
        ):
            raise ReportError(
                _("读者人数只能按月或按年、按图书馆、站点、批次、读者类型和年龄段统计。")
            )
    return plan(start, end, reach, monthly=True)


def _whole_periods(start: date, end: date, dims, reach: datetime | None):
    """(kind, [(start, end), …]) when [start, end) is calendar periods counted in ReaderCount
    — every month (or year) of the window when grouped by month (or year), else the window
    itself as one month, quarter or year; else None. The last period may end early where the
    window reaches past the summary (this year or this month to date): its counted readers
    are then all in the window. Periods begun after `reach` are simply all live."""
    if reach is None:
        return None
    to_date = instant(end) >= reach  # nothing summarised after the window's end
    times = [name for name in dims if name in TIMES]
    if times in (["month"], ["year"]):
        kind, periods, day = times[0], [], start
        while day < end:
            a, b = period_of(kind, day)
            if a != day or not (b <= end or to_date):
                return None
            periods.append((a, min(b, end)))
            day = b
    elif times:
        return None
    else:
        # The shortest period starting with the window and ending with it or, to date, after it.
        cuts = (k for k in PERIOD_KINDS if _cut(period_of(k, start), start, end, to_date))
        kind = next(cuts, None)
        periods = [(start, end)]
    if kind is None or not periods:
        return None
    return kind, periods


def _cut(period, start, end, to_date) -> bool:
    """Whether the window [start, end) is `period`, or its beginning up to date."""
    a, b = period
    return a == start and (b == end or (b > end and to_date))


def _columns_kept(scope: LoanScope, names) -> int:
    """The columns among the four that do not add up (a ReaderCount rollup mask) that the
    query groups, filters or is scoped by."""
    rollup = ReaderCount.OWNER if scope.owner_id is not None else 0
    if "consignment" in names:
        rollup |= ReaderCount.CONSIGNMENT
    if "site" in names or scope.site_ids is not None:
        rollup |= ReaderCount.SITE | ReaderCount.SITE_KIND
    if "site_kind" in names:
        rollup |= ReaderCount.SITE_KIND
    return rollup


def _reader_rollup(scope: LoanScope, names) -> int | None:
    """The ReaderCount rows to read: those keeping exactly `_columns_kept`, when counted."""
    rollup = _columns_kept(scope, names)
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
        **filter_columns(filters),
    )
    keys = {
        f"k{i}": F("period") if name in TIMES else F(DIMENSIONS[name].column)
        for i, name in enumerate(dims)
    }
    sums = {"readers": Sum("readers"), "visits": Sum("visits"), "loans": Sum("loans")}
    for row in grouped(scope.apply(rows).annotate(**keys), keys, **sums):
        key = tuple(as_key(name, row[f"k{i}"]) for i, name in enumerate(dims))
        result[key] = {name: row[name] or 0 for name in sums}
    for a, b in periods:
        if instant(b) > reach:
            live_from = a if instant(a) >= reach else reach
            _add_live_readers(result, scope, a, live_from, b, dims, filters)
    return result


def _add_live_readers(result, scope, period, a, b, dims, filters):
    """Add the loans of [a, b) — the live end of the period starting `period` — to `result`;
    `a` is an instant when the summary holds its day up to it."""
    places = [name for name in dims if name not in TIMES]
    loans = live_loans(scope, a, b, places, filters, extra=("patron_id", "day", "site_id"))
    keys = {f"k{i}": live_key(name) for i, name in enumerate(places)}
    loans = loans.annotate(**keys)
    seen = ReaderMonth.objects.filter(
        patron_id=OuterRef("f_patron_id"),
        month__gte=period,
        month__lt=day_after(instant(a)),
        **{DIMENSIONS[n].column: OuterRef(f"f_{DIMENSIONS[n].column}") for n in places},
        **filter_columns(filters),
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
    group = ", ".join(keys)

    def per_group(queryset, aggregates):
        sql, params = _sql(queryset)
        cursor.execute(
            f"SELECT {group + ', ' if keys else ''}{aggregates} FROM ({sql}) visits"
            + (f" GROUP BY {group}" if keys else ""),
            params,
        )
        return cursor.fetchall()

    with connection_for_reads(LoanDay).cursor() as cursor:
        visit_rows = per_group(per_visit, "COUNT(*), SUM(n)")
        continued = _continued_visits(loans, keys, scope, a, places, filters)
        if continued is not None:
            held = {tuple(r[:-1]): r[-1] for r in per_group(continued, "COUNT(*)")}
            visit_rows = [(*r[:-2], r[-2] - held.get(r[:-2], 0), r[-1]) for r in visit_rows]
    figures = (
        ("readers", grouped(fresh, keys, n=Count("f_patron_id", distinct=True))),
        ("visits", [{**dict(zip(keys, r[:-2], strict=True)), "n": r[-2]} for r in visit_rows]),
        (
            "loans",
            [{**dict(zip(keys, r[:-2], strict=True)), "n": int(r[-1] or 0)} for r in visit_rows],
        ),
    )

    def key_of(row):
        values = iter(as_key(name, row[f"k{i}"]) for i, name in enumerate(places))
        return tuple(period if name in TIMES else next(values) for name in dims)

    for figure, rows in figures:
        for row in rows:
            if not row["n"]:
                continue
            entry = result.setdefault(key_of(row), {"readers": 0, "visits": 0, "loans": 0})
            entry[figure] += row["n"]


# What one reader's loans at one site on one day all share: matching the reader and the site
# matches these. The other dimensions (the volume's owner, consignment, class) must match too.
SAME_FOR_A_VISIT = {"library", "site", "site_kind", "category", "age_band", *TIMES}


def _continued_visits(loans, keys, scope, a, dims, filters):
    """The visits (reader × site × day, per group) among the live `loans`, annotated with
    `keys` (one per name of `dims`), that the summary already holds: on the day of `a`, the
    same reader at the same site and in the same group borrowed earlier that day, before `a`.
    None when `a` is a day: the summary then holds nothing of it."""
    if not isinstance(a, datetime):
        return None
    day = timezone.localdate(a)
    own = {key: name for key, name in zip(keys, dims, strict=True) if name not in SAME_FOR_A_VISIT}
    earlier = live_loans(
        scope,
        day,
        a,
        list(own.values()),
        {name: value for name, value in filters.items() if name not in SAME_FOR_A_VISIT},
        extra=("patron_id", "site_id"),
    )
    earlier = earlier.annotate(**{key: keys[key] for key in own}).filter(
        f_patron_id=OuterRef("f_patron_id"),
        f_site_id=OuterRef("f_site_id"),
        **{key: OuterRef(key) for key in own},
    )
    on_the_day = loans.filter(checked_out_at__lt=instant(day_after(a)))
    visits = on_the_day.filter(Exists(earlier)).values(*keys, "f_patron_id", "f_site_id")
    return visits.distinct().order_by()


def _union_key(name, column):
    """A time key both backends write the same way (YYYYMM or YYYY as an integer), so that
    the union of summary and live reader ids groups one month as one group."""
    if name == "month":
        return ExtractYear(column) * 100 + ExtractMonth(column)
    if name == "year":
        return ExtractYear(column)
    return summary_key(name, column) if column == "month" else live_key(name)


def _sql(queryset):
    sql, params = queryset.query.sql_with_params()
    return sql, list(params)


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
