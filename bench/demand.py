"""Benchmark: the 读者需求 counter and report on PostgreSQL, each figure beside a raw baseline
measured in the same run.

1. Counting: searches counted one by one through reports.demand.demand_record (what a reader's
   unmet search costs), beside the same INSERT … ON CONFLICT sent on a bare psycopg connection;
   then four threads counting at once, beside four bare connections doing the same.
2. The report: demand_report over a year of a busy county's rows (every site, month and class,
   many distinct queries), read from the counters (before the nightly refresh) and from the
   monthly rollups (after it), beside the raw SQL statements of its tables over the counters.

    .venv/bin/python bench/demand.py
    .venv/bin/python bench/demand.py --quick     (small figures, for CI)
    .venv/bin/python bench/demand.py --province  (the report only, over 2.4 M rows: a
                                                  province's year of unmet searches)

The machine is shared and noisy: read the ratios, not the absolute figures.
"""

import os
import sys
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_demand_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database  # noqa: E402

fresh_database()

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.scope import LoanScope  # noqa: E402
from collections_app.models import Library, Site  # noqa: E402
from reports.demand import _key, demand_record  # noqa: E402
from reports.engine.dimensions import Params  # noqa: E402
from reports.facts import refresh_report_tables  # noqa: E402
from reports.models import DemandSearch  # noqa: E402
from reports.pages.demand import demand_report  # noqa: E402

QUICK = "--quick" in sys.argv
PROVINCE = "--province" in sys.argv
COUNTS = 500 if QUICK else 5_000
THREADS = 4
SITES = 10 if QUICK else 40
# Distinct queries a month at each site: the full run is about eight years of a busy county's
# unmet searches in one year (a county counts tens of thousands of searches a year).
QUERIES = 200 if QUICK else 5_000 if PROVINCE else 500
CLASSES = "ABCDEFGHIJKNOPQRSTUVXZ"
TABLE = DemandSearch._meta.db_table
RAW_UPSERT = (
    f'INSERT INTO {TABLE} ("key", library_id, site_id, "month", clc_top, "query", outcome, '
    'title_id, searches) VALUES (%s, %s, %s, %s, %s, %s, %s, NULL, 1) ON CONFLICT ("key") '
    f"DO UPDATE SET searches = {TABLE}.searches + EXCLUDED.searches"
)


def line(what, figure, baseline, unit):
    ratio = figure / baseline
    print(f"{what:<58} {figure:>10.1f} {unit}  raw {baseline:>10.1f} {unit}  ratio {ratio:5.2f}")


def dsn():
    return os.environ["DATABASE_URL"]


def count_with_django(library, sites, n, offset=0):
    for i in range(n):
        demand_record(
            library=library,
            site=sites[(i + offset) % len(sites)],
            query=f"检索{(i + offset) % 300}",
            outcome="none",
            clc_top=CLASSES[i % len(CLASSES)],
        )


def count_raw(conn, library, sites, n, offset=0):
    month = date.today().replace(day=1)
    with conn.cursor() as cursor:
        for i in range(n):
            site = sites[(i + offset) % len(sites)]
            query, clc = f"原始{(i + offset) % 300}", CLASSES[i % len(CLASSES)]
            key = _key(library.pk, site.pk, month, clc, "none", None, query)
            cursor.execute(RAW_UPSERT, [key, library.pk, site.pk, month, clc, query, "none"])


def in_threads(action):
    barrier = threading.Barrier(THREADS)

    def run(index):
        barrier.wait()
        action(index)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(THREADS)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


def bench_counting(library, sites):
    connection.ensure_connection()
    started = time.perf_counter()
    count_with_django(library, sites, COUNTS)
    django_rate = COUNTS / (time.perf_counter() - started)
    with psycopg.connect(dsn(), autocommit=True) as conn:
        started = time.perf_counter()
        count_raw(conn, library, sites, COUNTS)
        raw_rate = COUNTS / (time.perf_counter() - started)
    line("searches counted / s, one connection", django_rate, raw_rate, "/s")

    def django_worker(index):
        try:
            count_with_django(library, sites, COUNTS // THREADS, offset=index)
        finally:
            connection.close()

    def raw_worker(index):
        with psycopg.connect(dsn(), autocommit=True) as conn:
            count_raw(conn, library, sites, COUNTS // THREADS, offset=index)

    django_rate = COUNTS / in_threads(django_worker)
    raw_rate = COUNTS / in_threads(raw_worker)
    line(f"searches counted / s, {THREADS} connections at once", django_rate, raw_rate, "/s")
    counted = DemandSearch.objects.filter(query__startswith="检索").values_list("searches")
    total = sum(n for (n,) in counted)
    assert total == 2 * COUNTS, (total, 2 * COUNTS)  # every concurrent increment counted
    print(f"  all {2 * COUNTS} counts of the Django side found in the rows (none lost)")


def fill_year(library, sites, first=date(2025, 1, 1), last=date(2025, 12, 1)):
    """A year of rows (or the months from `first` to `last`): every site × month × a long
    tail of distinct queries, set-based."""
    site_ids = [s.pk for s in sites]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {TABLE} ("key", library_id, site_id, "month", clc_top, "query",
                                 outcome, title_id, searches)
            SELECT concat_ws('|', %(lib)s, s, to_char(m, 'YYYY-MM'), c, 'none', '', 'q' || q),
                   %(lib)s, s, m, c, 'q' || q, 'none', NULL, 1 + (q * 7 + s) %% 13
            FROM unnest(%(sites)s::bigint[]) AS s,
                 generate_series(%(first)s::date, %(last)s::date, interval '1 month') AS m,
                 generate_series(1, %(queries)s) AS q,
                 LATERAL (SELECT substr(%(classes)s, 1 + q %% 22, 1) AS c) AS k
            """,
            {
                "lib": library.pk,
                "sites": site_ids,
                "queries": QUERIES,
                "classes": CLASSES,
                "first": first,
                "last": last,
            },
        )
        cursor.execute(f"ANALYZE {TABLE}")
    return DemandSearch.objects.filter(library=library).count()


# The statements the report's tables need, written by hand: the most sought queries, the
# classes (whose sum is the total), the sites by month (the holds table reads holds, none here).
WHERE = 'library_id = %(lib)s AND "month" >= %(start)s AND "month" < %(end)s'
SUMS = (
    "SUM(searches) FILTER (WHERE outcome = 'none'), "
    "SUM(searches) FILTER (WHERE outcome = 'queued'), SUM(searches) AS total"
)
RAW_REPORT = [
    f'SELECT "query", clc_top, {SUMS} FROM {TABLE} WHERE {WHERE} '
    'GROUP BY "query", clc_top ORDER BY total DESC, "query", clc_top LIMIT 100',
    f"SELECT clc_top, {SUMS} FROM {TABLE} WHERE {WHERE} GROUP BY clc_top",
    f'SELECT site_id, "month", {SUMS} FROM {TABLE} WHERE {WHERE} GROUP BY site_id, "month"',
]


def best_of(times, action):
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    return best


def bench_report(library, sites):
    rows = fill_year(library, sites)
    scope = LoanScope.for_library(library)
    params = Params(start=date(2025, 1, 1), end=date(2026, 1, 1))
    counters = best_of(3, lambda: demand_report(scope, params))
    started = time.perf_counter()
    refresh_report_tables()
    refreshed = time.perf_counter() - started
    report = best_of(3, lambda: demand_report(scope, params))

    def raw(start=date(2025, 1, 1), end=date(2026, 1, 1)):
        values = {"lib": library.pk, "start": start, "end": end}
        with connection.cursor() as cursor:
            for sql in RAW_REPORT:
                cursor.execute(sql, values)
                cursor.fetchall()

    baseline = best_of(3, raw)
    line(f"demand report, a year over {rows:,} rows, from the counters", counters * 1000,
         baseline * 1000, "ms")  # fmt: skip
    line("  the same after the nightly refresh, from the monthly rollups", report * 1000,
         baseline * 1000, "ms")  # fmt: skip
    print(f"  the refresh summing them: {refreshed:.1f} s")
    # This year's window: its current month is read live from the counters.
    month = date.today().replace(day=1)
    live_rows = fill_year(library, sites, month, month) - rows
    year = date(month.year, 1, 1), date(month.year + 1, 1, 1)
    report = best_of(3, lambda: demand_report(scope, Params(*year)))
    baseline = best_of(3, lambda: raw(*year))
    line(f"  this year, its current month's {live_rows:,} rows live", report * 1000,
         baseline * 1000, "ms")  # fmt: skip


def main():
    library = Library.objects.create(code="DEMAND", name="基准县图书馆", kind=Library.Kind.COUNTY)
    central = Site.objects.create(library=library, code="central", name="总馆", kind="central")
    sites = [central] + [
        Site.objects.create(
            library=library,
            code=f"sp{n:02}",
            name=f"服务点{n:02}",
            kind="service_point",
            parent=central,
        )
        for n in range(SITES - 1)
    ]
    size = "quick" if QUICK else "province" if PROVINCE else "full"
    print(f"读者需求 benchmark ({size}); the machine is shared: read the ratios")
    if not PROVINCE:
        bench_counting(library, sites)
    bench_report(library, sites)


main()
