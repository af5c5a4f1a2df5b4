"""Loans as report facts, and the refresh of the summary tables built from them.

`loan_facts(loans)` annotates raw loans with every report dimension. The same expressions feed
the summary tables (one INSERT … SELECT … GROUP BY per table) and the live part of a report (the
days not yet summarised), so the two can never disagree on what a dimension means:

- a loan counts once, on the local day it was checked out, at the checkout site (renewals are
  not loans; the return site plays no part);
- site kind, consignment and owner are the site's and the item's at refresh time;
- the age band is the reader's age in the calendar year of the checkout (AgeBand);
- the CLC classes are the title's: its top letter and the level-2 class from TitleClass.
"""

from __future__ import annotations

import logging
import time
from datetime import date, datetime, timedelta
from datetime import time as day_time

from django.db import connection, transaction
from django.db.models import Case, CharField, DateField, F, Value, When
from django.db.models.functions import (
    Coalesce,
    ExtractYear,
    TruncDate,
    TruncMonth,
    TruncWeek,
    TruncYear,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from circulation.models import Loan
from collections_app.models import Title
from collections_app.services.holdings import holdings_fold
from reports.clc import SecondLevel
from reports.models import (
    AGE_BOUNDS,
    AgeBand,
    ClcNumber,
    DemandMonth,
    DemandSearch,
    DemandSiteMonth,
    LibraryMonthClass,
    LibraryMonthClassAge,
    LoanDay,
    LoanMonth,
    LoanMonthClass,
    LoanMonthClassAge,
    LoanMonthClc2,
    LoanMonthPlace,
    LoanMonthReader,
    LoanMonthTop,
    ReaderCount,
    ReaderMonth,
    RefreshState,
    TitleClass,
)


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, day_time.min))


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def age_band_expression():
    age = ExtractYear("checked_out_at") - F("patron__birth_year")
    return Case(
        When(patron__birth_year__isnull=True, then=Value(AgeBand.UNKNOWN.value)),
        *[When(LessThanOrEqual(age, bound), then=Value(band.value)) for bound, band in AGE_BOUNDS],
        default=Value(AgeBand.SENIOR.value),
        output_field=CharField(),
    )


# Every dimension of a loan, as an expression over Loan. Keys are the summary columns.
def fact_expressions() -> dict:
    return {
        "library_id": F("library_id"),
        "owner_id": F("item__owner_id"),
        "day": TruncDate("checked_out_at"),
        "month": TruncMonth("checked_out_at", output_field=DateField()),
        "site_id": F("site_id"),
        "site_kind": F("site__kind"),
        "consignment_id": F("item__consignment_id"),
        "display_id": F("display_id"),
        "clc_top": F("item__title__clc_top"),
        "clc2": Coalesce(F("item__title__report_class__clc2"), Value(""), output_field=CharField()),
        "category": F("patron__category"),
        "age_band": age_band_expression(),
        "patron_id": F("patron_id"),
    }


TIME_TRUNC = {"day": TruncDate, "week": TruncWeek, "month": TruncMonth, "year": TruncYear}


def loan_facts(loans, columns):
    """`loans` annotated with the named dimensions, as `f_<column>`."""
    expressions = fact_expressions()
    return loans.annotate(**{f"f_{name}": expressions[name] for name in columns})


def instant(moment: date | datetime) -> datetime:
    """A day as its local midnight; an instant as it is."""
    return moment if isinstance(moment, datetime) else local_midnight(moment)


def day_after(moment: datetime) -> date:
    """The first local day that begins at or after `moment`: the days before it hold
    `moment`'s loans in part or in whole."""
    day = timezone.localdate(moment)
    return day if local_midnight(day) == moment else day + timedelta(days=1)


def loans_between(start: date | datetime, end: date | datetime):
    """Loans checked out from `start` until `end`: a day means its local midnight."""
    return Loan.objects.filter(checked_out_at__gte=instant(start), checked_out_at__lt=instant(end))


DAY_COLUMNS = ("library_id", "owner_id", "day", "site_id", "site_kind", "consignment_id")
DAY_COLUMNS += ("display_id",)
PLACE_COLUMNS = ("library_id", "owner_id", "month", "site_id", "site_kind", "consignment_id")
# The month cubes, narrowest first: the extra dimensions each one holds.
MONTH_CUBES = (
    (LoanMonthPlace, ()),
    (LoanMonthTop, ("clc_top",)),
    (LoanMonthReader, ("category", "age_band")),
    (LoanMonthClass, ("clc_top", "category")),
    (LoanMonthClassAge, ("clc_top", "age_band")),
    (LoanMonthClc2, ("clc_top", "clc2")),
    (LoanMonth, ("clc_top", "clc2", "category", "age_band")),
)
# The same questions without the site, read when a query neither groups, filters nor is scoped
# by site or site kind (engine.loans._month_cube): a tenth of the rows.
LIBRARY_COLUMNS = ("library_id", "owner_id", "month", "consignment_id")
LIBRARY_CUBES = (
    (LibraryMonthClass, ("clc_top", "category")),
    (LibraryMonthClassAge, ("clc_top", "age_band")),
)
READER_COLUMNS = ("library_id", "owner_id", "consignment_id", "month", "site_id", "site_kind")
READER_COLUMNS += ("patron_id", "category", "age_band")


logger = logging.getLogger(__name__)

FACTS_TABLE = "reports_refresh_facts"
PERIODS_TABLE = "reports_refresh_periods"
READER_PERIODS_TABLE = "reports_refresh_reader_periods"


# Seconds spent per statement kind in the last refresh (for the benchmark's breakdown).
TIMINGS: dict = {}


def _execute(sql, params=()) -> int:
    begun = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.rowcount
    label = " ".join(sql.split()[:4])[:60]
    TIMINGS[label] = TIMINGS.get(label, 0) + time.perf_counter() - begun
    return rows


def _temporary(name, sql, params=()):
    _execute(f"DROP TABLE IF EXISTS {name}")
    _execute(f"CREATE TEMPORARY TABLE {name} AS {sql}", params)
    if connection.vendor == "postgresql":
        # Without statistics the planner guesses millions of groups and sorts instead of
        # hashing (seconds instead of a fraction of one).
        _execute(f"ANALYZE {name}")


def _collect_facts(loans):
    """Every dimension of the window's loans, joined once into a temporary table: each summary
    is then one GROUP BY over it, with no join (seven joins of a million loans were most of
    the old refresh)."""
    columns = sorted({*DAY_COLUMNS, *PLACE_COLUMNS, *READER_COLUMNS, "clc_top", "clc2"})
    rows = loan_facts(loans, columns).values(*[f"f_{name}" for name in columns]).order_by()
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    select = ", ".join(f"{quote('f_' + name)} AS {quote(name)}" for name in columns)
    _temporary(FACTS_TABLE, f"SELECT {select} FROM ({sql}) facts", params)


def _insert_grouped(model, columns, aggregates: dict, source=FACTS_TABLE, params=()) -> int:
    """INSERT … SELECT … GROUP BY `columns` over `source` (the facts unless told);
    `aggregates`: column → SQL."""
    quote = connection.ops.quote_name
    keys = ", ".join(map(quote, columns))
    targets = ", ".join(map(quote, [*columns, *aggregates]))
    return _execute(
        f"INSERT INTO {quote(model._meta.db_table)} ({targets}) "
        f"SELECT {keys}, {', '.join(aggregates.values())} FROM {source} GROUP BY {keys}",
        params,
    )


# Readers' unmet searches summed per month without the site (the most sought queries of a
# library or a province) and without the query (classes, sites × months).
DEMAND_ROLLUPS = (
    (DemandMonth, ("library_id", "month", "clc_top", "query", "outcome")),
    (DemandSiteMonth, ("library_id", "site_id", "month", "clc_top", "outcome")),
)


def refresh_demand_months(since: date, until: date) -> int:
    """Sum the counted searches (DemandSearch) into the monthly rollups for the whole months
    before `until`'s, from `since`'s month or the rollups' reach if earlier; later months are
    read live. The counters of a month go on changing while it lasts, so it is summed once it
    has ended; a search counted afterwards into a month already summed (dated back, as the
    demo does) moves the reach back to that month (demand.demand_record), and the next
    refresh sums it again."""
    state = RefreshState.objects.select_for_update().filter(name="demand").first()
    current = state.summarised_until if state else None
    reach = month_start(min(until, timezone.localdate()))
    if current is None:
        first = DemandSearch.objects.order_by("month").values_list("month", flat=True).first()
        start = min(first, reach) if first else reach
    else:
        start = min(month_start(since), current)
        reach = max(reach, current)
    table = connection.ops.quote_name(DemandSearch._meta.db_table)
    month = connection.ops.quote_name("month")
    source = f"(SELECT * FROM {table} WHERE {month} >= %s AND {month} < %s) searches"
    rows = 0
    for model, columns in DEMAND_ROLLUPS:
        model.objects.filter(month__gte=start, month__lt=reach).delete()
        rows += _insert_grouped(
            model, columns, {"searches": "SUM(searches)"}, source, [start, reach]
        )
    RefreshState.objects.update_or_create(
        name="demand", defaults={"summarised_until": reach, "refreshed_at": timezone.now()}
    )
    return rows


PERIOD_KINDS = ("month", "quarter", "year")


def period_of(kind: str, day: date) -> tuple[date, date]:
    """The calendar month, quarter or year holding `day`: [start, end)."""
    if kind == "month":
        start = month_start(day)
        return start, next_month(start)
    if kind == "quarter":
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return start, next_month(next_month(next_month(start)))
    return date(day.year, 1, 1), date(day.year + 1, 1, 1)


# The kept-column combinations counted for each period (ReaderCount.rollup): owner and
# consignment, each kept or not, × the site (with its kind) kept or not. A query by site kind
# without the site is rare enough to be counted from ReaderMonth (engine.readers.reader_counts).
_OWNERSHIP = (0, ReaderCount.OWNER, ReaderCount.CONSIGNMENT)
_OWNERSHIP += (ReaderCount.OWNER | ReaderCount.CONSIGNMENT,)
_PLACE = (0, ReaderCount.SITE | ReaderCount.SITE_KIND)
READER_ROLLUPS = tuple(own | place for own in _OWNERSHIP for place in _PLACE)
_ROLLUP_COLUMNS = (
    (ReaderCount.OWNER, "owner_id"),
    (ReaderCount.CONSIGNMENT, "consignment_id"),
    (ReaderCount.SITE, "site_id"),
    (ReaderCount.SITE_KIND, "site_kind"),
)


# Columns that follow from the integer keys of a reader row: a site has one kind, a reader
# one category and, within a calendar year, one age band. Grouping by the integer keys and
# taking these with MIN() gives the same rows as grouping by them, hashing far less text.
READER_KEYS = ("library_id", "owner_id", "consignment_id", "site_id", "patron_id")
READER_FOLLOWERS = ("site_kind", "category", "age_band")


def _insert_reader_months() -> int:
    """ReaderMonth from the facts: per reader, month and place, the loans and the days; and
    each visit (reader × site × day) once more in the row of its first consignment of each
    owner (`owner_visits`) and of its first consignment of all (`site_visits`)."""
    quote = connection.ops.quote_name
    keys = ", ".join(map(quote, [*READER_KEYS, "month"]))
    followers = ", ".join(f"MIN({quote(c)}) AS {quote(c)}" for c in READER_FOLLOWERS)
    day = quote("day")
    per_day = (
        f"SELECT {keys}, {day}, {followers}, COUNT(*) AS loans FROM {FACTS_TABLE} "
        f"GROUP BY {keys}, {day}"
    )
    visit = f"PARTITION BY library_id, site_id, patron_id, {day}"
    firsts = (
        f"SELECT per_day.*, "
        f"CASE WHEN ROW_NUMBER() OVER ({visit}, owner_id ORDER BY consignment_id) = 1 "
        "THEN 1 ELSE 0 END AS first_of_owner, "
        f"CASE WHEN ROW_NUMBER() OVER ({visit} ORDER BY owner_id, consignment_id) = 1 "
        f"THEN 1 ELSE 0 END AS first_at_site FROM ({per_day}) per_day"
    )
    columns = ", ".join(map(quote, [*READER_KEYS, "month", *READER_FOLLOWERS]))
    return _execute(
        f"INSERT INTO {quote(ReaderMonth._meta.db_table)} "
        f"({columns}, loans, visits, owner_visits, site_visits) "
        f"SELECT {keys}, {followers}, SUM(loans), COUNT(*), SUM(first_of_owner), "
        f"SUM(first_at_site) FROM ({firsts}) firsts GROUP BY {keys}"
    )


def visits_column(rollup: int) -> str:
    """The ReaderMonth column that counts each visit once in the rows kept by `rollup`."""
    if rollup & ReaderCount.CONSIGNMENT:
        return "visits"
    return "owner_visits" if rollup & ReaderCount.OWNER else "site_visits"


def _periods(kind: str, start: date, end: date, reach: date) -> list[tuple]:
    """(month, period, until) for every month summarised in the `kind` periods overlapping
    [start, end): each period counts up to min(its end, reach)."""
    rows = []
    period, _ = period_of(kind, start)
    while period < end:
        _, following = period_of(kind, period)
        until = min(following, reach)
        month = period
        while month < until:
            rows.append((month, period, until))
            month = next_month(month)
        period = following
    return rows


def refresh_reader_counts(start: date, end: date, reach: date) -> int:
    """Recount the distinct readers of every month, quarter and year overlapping [start, end),
    from ReaderMonth, each up to min(its end, reach), for every rollup (READER_ROLLUPS)."""
    target = connection.ops.quote_name(ReaderCount._meta.db_table)
    readers = connection.ops.quote_name(ReaderMonth._meta.db_table)
    rows = 0
    for kind in PERIOD_KINDS:
        first, _ = period_of(kind, start)
        ReaderCount.objects.filter(kind=kind, period__gte=first, period__lt=end).delete()
        mapping = _periods(kind, start, end, reach)
        if not mapping:
            continue
        values = ", ".join(["(%s, %s, %s)"] * len(mapping))
        _temporary(
            PERIODS_TABLE,
            "SELECT column1 AS month, column2 AS period, column3 AS until "
            f"FROM (VALUES {values}) v",
            [value for row in mapping for value in row],
        )
        keys = ", ".join(f"r.{c}" for c in READER_KEYS)
        if kind == "month":  # ReaderMonth rows are already one per reader, month and place
            source = (
                f"(SELECT p.period, p.until, {keys}, r.site_kind, r.category, r.age_band, "
                f"r.loans, r.visits, r.owner_visits, r.site_visits "
                f"FROM {readers} r JOIN {PERIODS_TABLE} p "
                "ON p.month = r.month) by_month"
            )
        else:
            _temporary(
                READER_PERIODS_TABLE,
                f"SELECT p.period, p.until, {keys}, MIN(r.site_kind) AS site_kind, "
                "MIN(r.category) AS category, MIN(r.age_band) AS age_band, "
                "SUM(r.loans) AS loans, SUM(r.visits) AS visits, "
                "SUM(r.owner_visits) AS owner_visits, SUM(r.site_visits) AS site_visits "
                f"FROM {readers} r "
                f"JOIN {PERIODS_TABLE} p ON p.month = r.month GROUP BY p.period, p.until, {keys}",
            )
            source = READER_PERIODS_TABLE
        for rollup in READER_ROLLUPS:
            kept = [column for bit, column in _ROLLUP_COLUMNS if rollup & bit]
            select = [c if c in kept else "NULL" for _bit, c in _ROLLUP_COLUMNS]
            # A site has one kind: with the site kept, its kind follows (MIN) as a reader's
            # category and age band do.
            group_keys = [c for c in kept if not (c == "site_kind" and "site_id" in kept)]
            followers = ["category", "age_band"] + (["site_kind"] if "site_id" in kept else [])
            # A visit taking two consignments' volumes is one visit where they are not apart.
            visits = visits_column(rollup)
            inner = ", ".join(["period", "until", "library_id", *group_keys])
            outer = ", ".join(["period", "until", "library_id", *kept])
            # One row per reader first, so that readers are COUNT(*): two hash aggregates.
            rows += _execute(
                f"INSERT INTO {target} (kind, period, until, rollup, library_id, owner_id, "
                "consignment_id, site_id, site_kind, category, age_band, readers, visits, "
                f"loans) SELECT '{kind}', period, until, {rollup}, library_id, "
                f"{', '.join(select)}, category, age_band, COUNT(*), SUM(visits), SUM(loans) "
                f"FROM (SELECT {inner}, "
                + ", ".join(f"MIN({c}) AS {c}" for c in followers)
                + f", SUM({visits}) AS visits, SUM(loans) AS loans FROM {source} "
                f"GROUP BY {inner}, patron_id) per_reader "
                f"GROUP BY {outer}, category, age_band"
            )
        _execute(f"DROP TABLE IF EXISTS {READER_PERIODS_TABLE}")
        _execute(f"DROP TABLE {PERIODS_TABLE}")
    return rows


def refresh_title_classes() -> int:
    """Map every title whose class number is new or changed to its level-2 class."""
    TitleClass.objects.exclude(clc=F("title__clc")).delete()
    unmapped = Title.objects.filter(report_class__isnull=True)
    known = ClcNumber.objects.values_list("clc", flat=True)
    fresh = set(unmapped.exclude(clc__in=known).values_list("clc", flat=True).distinct())
    if fresh:
        classes = SecondLevel.from_database()
        ClcNumber.objects.bulk_create(
            [ClcNumber(clc=number, clc2=classes.of(number)) for number in fresh],
            ignore_conflicts=True,
        )
    from django.db.models import OuterRef, Subquery

    rows = unmapped.annotate(
        f_clc2=Subquery(ClcNumber.objects.filter(clc=OuterRef("clc")).values("clc2")[:1])
    ).values("pk", "clc", "f_clc2")
    sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(TitleClass._meta.db_table)} (title_id, clc, clc2) "
            # A page may map new titles while the nightly refresh does: the first one wins.
            f"SELECT * FROM ({sql}) mapped WHERE true ON CONFLICT DO NOTHING",
            params,
        )
        return cursor.rowcount


def summarised_until(name="loans") -> date | None:
    state = RefreshState.objects.filter(name=name).first()
    return state.summarised_until if state else None


def summary_reach(name="loans") -> datetime | None:
    """The instant before which every loan is in the summary tables (None: nothing is)."""
    state = RefreshState.objects.filter(name=name).first()
    if state is None:
        return None
    return state.summarised_through or local_midnight(state.summarised_until)


def reach_text(reach: datetime) -> str:
    """The summary's reach as a librarian reads it: the local minute, "2026-06-12 12:00"."""
    return timezone.localtime(reach).strftime("%Y-%m-%d %H:%M")


# A checkout stamps its loan with its server's clock once it holds its locks, and commits a
# few milliseconds later. A refresh summarises only the loans stamped at least this long
# before it starts, and before the start of every transaction still writing: a loan stamped
# earlier is then committed, whatever the clocks of the web servers, the worker and the
# database disagree by (less than this).
SETTLED = timedelta(minutes=1)
# A writing transaction open longer than this holds the reach back far: say so in the log.
HELD_BACK = timedelta(hours=1)


def settled_instant() -> datetime:
    """The latest instant before which no loan can still be written: SETTLED before now and
    before the start of the oldest transaction that is writing (has a transaction id: the
    desk's row locks take one before the loan is stamped), on the database, but this one.
    Sessions that only read — a report, a backup's pg_dump, a psql left open — hold nothing
    back. Sessions of another database role count only if this role may see them (it is the
    same role, or has pg_read_all_stats): run the web servers and the refresh as one role."""
    now = timezone.now()
    settled = now - SETTLED
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The activity seen is kept until the transaction ends: see it as it is now.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT MIN(xact_start) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend' AND backend_xid IS NOT NULL"
            )
            oldest = cursor.fetchone()[0]
        if oldest is not None:
            settled = min(settled, oldest - SETTLED)
            if now - oldest > HELD_BACK:
                logger.warning(
                    "A transaction writing since %s holds the report summary's reach back; "
                    "the pages count the loans since live until it ends.",
                    reach_text(oldest),
                )
    return settled


def refresh_window(*, until: date, since: date | None, current: date | None):
    """The days [start, end) to rebuild so that the tables stay whole months without gaps.

    It starts on a month boundary, never after the current reach (no gap), and ends at
    `until` when that reaches further than now, or else at the end of `until`'s month (capped
    at the current reach), so a fix of an old period rebuilds only the months it touches.
    """
    if current is None:
        first = Loan.objects.order_by("checked_out_at").values_list("checked_out_at", flat=True)
        first = first.first()
        start = timezone.localdate(first) if first else until
        if since is not None:
            start = min(start, since)
    else:
        start = current - timedelta(days=7) if since is None else min(since, current)
    start = month_start(start)
    if current is None or until >= current:
        end = until
    else:
        end = min(next_month(until - timedelta(days=1)), current)
    return start, max(start, end)


def refresh_report_tables(
    *, until: date | None = None, since: date | None = None, through: datetime | None = None
) -> dict:
    """Rebuild the summary tables for [start, end) in one transaction; idempotent.

    `through` summarises today as well, up to that instant at most (the refresh during the
    day). Whenever the window goes past what the tables held, it stops where loans have
    settled (`settled_instant`), so that no loan still being written is missed."""
    if through is not None:
        until = max(until or timezone.localdate(), day_after(through))
    until = until or timezone.localdate()
    counts = {"titles": refresh_title_classes()}
    with transaction.atomic():
        # One refresh at a time: a second one waits here, then rebuilds on top of the first.
        state, _ = RefreshState.objects.select_for_update().get_or_create(
            name="loans", defaults={"summarised_until": date(1900, 1, 1)}
        )
        current = None if state.summarised_until.year == 1900 else state.summarised_until
        held = None if current is None else summary_reach()
        start, end = refresh_window(until=until, since=since, current=current)
        upto = local_midnight(end)
        if held is None or upto > held:
            # Past what the tables held: up to what has settled, and never before the window.
            upto = min(upto, settled_instant(), through or upto)
            upto = max(upto, local_midnight(start))
            reach = upto
        else:
            reach = held  # a fix of an old period: whole days, the reach stays
        if connection.vendor == "postgresql":
            # The GROUP BYs below sort a month or a year of loans: in memory, not on disk.
            _execute("SET LOCAL work_mem = '256MB'")
            _execute("SET LOCAL jit = off")  # compiling costs more than it saves here
        LoanDay.objects.filter(day__gte=start, day__lt=end).delete()
        for cube, _extra in (*MONTH_CUBES, *LIBRARY_CUBES):
            cube.objects.filter(month__gte=start, month__lt=end).delete()
        ReaderMonth.objects.filter(month__gte=start, month__lt=end).delete()
        _collect_facts(loans_between(start, upto))
        counts["loan_days"] = _insert_grouped(LoanDay, DAY_COLUMNS, {"loans": "COUNT(*)"})
        # The widest cube from the facts, the narrow ones from it (fewer rows to group).
        counts["loan_months"] = 0
        widest = connection.ops.quote_name(LoanMonth._meta.db_table)
        source = f"(SELECT * FROM {widest} WHERE month >= %s AND month < %s) widest"
        for cube, extra in reversed(MONTH_CUBES):
            if cube is LoanMonth:
                rows = _insert_grouped(cube, PLACE_COLUMNS + extra, {"loans": "COUNT(*)"})
            else:
                rows = _insert_grouped(
                    cube, PLACE_COLUMNS + extra, {"loans": "SUM(loans)"}, source, [start, end]
                )
            counts[cube._meta.model_name] = rows
            counts["loan_months"] += rows
        for cube, extra in LIBRARY_CUBES:
            rows = _insert_grouped(
                cube, LIBRARY_COLUMNS + extra, {"loans": "SUM(loans)"}, source, [start, end]
            )
            counts[cube._meta.model_name] = rows
            counts["loan_months"] += rows
        counts["reader_months"] = _insert_reader_months()
        _execute(f"DROP TABLE {FACTS_TABLE}")
        reach_day = day_after(reach)
        held_until = {
            "summarised_until": reach_day,
            "summarised_through": None if local_midnight(reach_day) == reach else reach,
        }
        reader_start, reader_end = start, end
        if summary_reach("readers") != held:
            # Reader counts missing or behind (a first refresh, a new install): count them
            # for every month the summary holds.
            first = ReaderMonth.objects.order_by("month").values_list("month", flat=True)
            reader_start, reader_end = min(start, first.first() or start), reach_day
        counts["reader_counts"] = refresh_reader_counts(reader_start, reader_end, reach_day)
        RefreshState.objects.update_or_create(name="readers", defaults=held_until)
        counts["demand_months"] = refresh_demand_months(start, until)
        state.summarised_until = held_until["summarised_until"]
        state.summarised_through = held_until["summarised_through"]
        state.refreshed_at = timezone.now()
        state.save()
    if connection.vendor == "postgresql":
        # Statistics for what was just written: without them the planner takes a year of a
        # month cube for a few rows and sorts it on disk (a province's page 2 s instead of
        # 0.4 s in the benchmark). Autovacuum gets there too, but only some time later.
        cubes = [cube for cube, _extra in (*MONTH_CUBES, *LIBRARY_CUBES)]
        demand = [model for model, _columns in DEMAND_ROLLUPS]
        for model in (LoanDay, *cubes, ReaderMonth, ReaderCount, *demand):
            _execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    # The holdings summary's rows of the day (one −1 and one +1 per change) folded into one
    # per group, in its own short transaction: desks keep inserting meanwhile.
    counts["holding_rows"] = holdings_fold()
    counts.update(
        start=start,
        end=end,
        summarised_until=state.summarised_until,
        summarised_through=reach,
    )
    return counts
