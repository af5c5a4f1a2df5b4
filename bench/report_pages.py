"""Benchmark: the report pages at 1 million and at 10 million loans, on PostgreSQL, beside the
raw baseline (the same aggregate as hand-written SQL over the raw loans), and the memory of a
100,000-row CSV export.

A province of 20 counties, 10 sites each, 25,000 volumes and 5,000 readers per county; loans
spread over the 365 days before today, generated with set-based SQL (generate_series). The
summary tables are built once with `refresh_report_tables`, as the nightly job would.

    .venv/bin/python bench/report_pages.py  (DATABASE_URL defaults to sharedloan_reports_bench)
    BENCH_SKIP_10M=1 .venv/bin/python bench/report_pages.py     (stop after the 1 M round)
    .venv/bin/python bench/report_pages.py --quick   (3 counties, 50,000 loans, one round; CI)
    .venv/bin/python bench/report_pages.py --reuse --loans 10000000 [--no-measure]
        (keep the database: migrate it, top the loans up to the target, then measure;
        without --reuse the same on a fresh database)

Loans are generated with the loan table's secondary indexes dropped and rebuilt afterwards
(a bulk load sorts once instead of updating ten indexes row by row).
"""

import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
# The quick run (CI, `make bench-quick`) has a database of its own: it must never drop the
# 10 M-loan database a full run took minutes to build.
os.environ.setdefault(
    "DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/sharedloan_reports"
    + ("_quick_bench" if "--quick" in sys.argv else "_bench"),
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import argparse  # noqa: E402

from bench.benchdb import best_of, ensure_database, fresh_database  # noqa: E402

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--reuse", action="store_true", help="keep the database, migrate it")
ARGS.add_argument("--loans", type=int, help="top the loans up to this many, then measure")
ARGS.add_argument("--no-measure", action="store_true")
ARGS.add_argument("--pages-only", action="store_true", help="measure without refreshing")
ARGS.add_argument("--quick", action="store_true", help="3 counties, 50,000 loans: for CI")
OPTIONS = ARGS.parse_args()

if OPTIONS.reuse:
    ensure_database()
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
else:
    fresh_database()

import logging  # noqa: E402
from datetime import date, datetime, timedelta  # noqa: E402
from unittest import mock  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from circulation.models import Loan, Patron  # noqa: E402
from collections_app.models import (  # noqa: E402
    ClcClass,
    Consignment,
    Item,
    Library,
    Site,
    Title,
)
from collections_app.services.holdings import holdings_rebuild  # noqa: E402
from reports.facts import TIMINGS, local_midnight, refresh_report_tables  # noqa: E402
from reports.models import ReaderCount, ReaderMonth  # noqa: E402

# The sign-in log of each test client would bury the figures.
logging.getLogger("axes").setLevel(logging.WARNING)

if OPTIONS.quick:
    COUNTIES, SITES, VOLUMES, READERS, TITLES = 3, 4, 2_000, 500, 500
    ROUNDS, FIRST_ROUND = 1, 50_000
else:
    COUNTIES, SITES, VOLUMES, READERS, TITLES = 20, 10, 25_000, 5_000, 5_000
    ROUNDS, FIRST_ROUND = 3, 1_000_000


def table(model):
    return model._meta.db_table


def build_province():
    nlc = Library.objects.create(code="NLC", name="国家图书馆", kind=Library.Kind.NATIONAL)
    hubei = Library.objects.create(code="HB", name="湖北省图书馆", kind=Library.Kind.PROVINCIAL)
    User.objects.create_user("nlc", password="x", library=nlc, role="lender")
    User.objects.create_user("hubei", password="x", library=hubei, role="provincial")
    codes = list(
        ClcClass.objects.filter(level=2).exclude(code__contains="/").values_list("code", flat=True)
    )
    now = timezone.now()
    for n in range(COUNTIES):
        county = Library.objects.create(
            code=f"C{n:02}", name=f"基准县{n:02}", kind=Library.Kind.COUNTY, province=hubei
        )
        central = Site.objects.create(library=county, code="central", name="总馆", kind="central")
        for s in range(1, SITES):
            Site.objects.create(
                library=county,
                code=f"sp{s:02}",
                name=f"服务点{s:02}",
                kind="branch" if s < 3 else "service_point",
                parent=central,
            )
        User.objects.create_user(f"c{n:02}", password="x", library=county, role="librarian")
        consignment = Consignment.objects.create(
            library=county, lender=nlc, reference=f"NLC-{n:02}", agreement_date=date(2021, 3, 1)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {table(Title)} (library_id, isbn, title, responsibility, publisher,
                    clc, clc_top, marc, created_at, title_pinyin, title_initials)
                SELECT %s, '', '基准书目 ' || g, '', '', c.code || (g %% 90), left(c.code, 1),
                    '', %s, 'jizhunshumu ' || g, 'jzsm'
                FROM generate_series(1, %s) g
                JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS k
                      FROM unnest(%s::text[]) code) c ON c.k = g %% %s""",
                [county.pk, now, TITLES, codes, len(codes)],
            )
            cursor.execute(f"SELECT min(id) FROM {table(Title)} WHERE library_id = %s", [county.pk])
            first_title = cursor.fetchone()[0]
            cursor.execute(
                f"""INSERT INTO {table(Item)} (library_id, barcode, title_id, consignment_id,
                    owner_id, call_number, home_site_id, current_site_id, status,
                    status_changed_at, last_loan_at)
                SELECT %s, 'B' || %s || lpad(g::text, 7, '0'), %s + g %% %s, %s, %s, '',
                    %s + g %% %s, %s + g %% %s, 'available', %s,
                    CASE WHEN g %% 5 = 0 THEN NULL ELSE %s - (g %% 400) * interval '1 day' END
                FROM generate_series(0, %s - 1) g""",
                [
                    county.pk,
                    f"{n:02}",
                    first_title,
                    TITLES,
                    consignment.pk,
                    nlc.pk,
                    central.pk,
                    SITES,
                    central.pk,
                    SITES,
                    now,
                    now,
                    VOLUMES,
                ],
            )
            cursor.execute(
                f"""INSERT INTO {table(Patron)} (library_id, card_number, name, phone, category,
                    home_site_id, birth_year, registered_at, is_suspended, suspended_reason,
                    keeps_reading_history, pin)
                SELECT %s, 'P' || g, '读者', '',
                    (ARRAY['child','student','adult','senior'])[1 + g %% 4], %s + g %% %s,
                    1940 + g %% 80, %s - (g %% 700) * interval '1 day', false, '', true, ''
                FROM generate_series(1, %s) g""",
                [county.pk, central.pk, SITES, now, READERS],
            )


def county_ranges():
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT l.id, (SELECT min(id) FROM {table(Item)} WHERE library_id = l.id),
                (SELECT min(id) FROM {table(Patron)} WHERE library_id = l.id),
                (SELECT min(id) FROM {table(Site)} WHERE library_id = l.id)
            FROM {table(Library)} l WHERE kind = 'county' ORDER BY id"""
        )
        return cursor.fetchall()


def loan_count():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table(Loan)}")
        return cursor.fetchone()[0]


def add_loans(count, *, chunk=2_000_000):
    """`count` returned loans over the 365 days up to the end of today, spread evenly over
    counties; each reader borrows at their home site, as county readers mostly do. Today holds
    a whole day's loans whatever the hour of the run: the pages count today's loans live, and
    their figures must not depend on when the benchmark ran. The loan table's secondary
    indexes are dropped for the load and rebuilt once after it."""
    ranges = county_ranges()
    libraries = [r[0] for r in ranges]
    items = [r[1] for r in ranges]
    patrons = [r[2] for r in ranges]
    sites = [r[3] for r in ranges]
    now = timezone.make_aware(
        datetime.combine(timezone.localdate() + timedelta(days=1), datetime.min.time())
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
            "AND indexname NOT LIKE '%%pkey'",
            [table(Loan)],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    done = 0
    while done < count:
        size = min(chunk, count - done)
        with connection.cursor() as cursor:
            # FK triggers off for the bulk load (the ids are correct by construction).
            cursor.execute("SET session_replication_role = replica")
            cursor.execute(
                f"""INSERT INTO {table(Loan)} (library_id, item_id, patron_id, site_id,
                    checked_out_at, due_at, returned_at, return_site_id, renewals)
                SELECT lib[c], item0[c] + (random() * {VOLUMES - 1})::int,
                    patron0[c] + k, site0[c] + (k + 1) %% {SITES},
                    at, at + interval '30 days', at + interval '10 days',
                    site0[c] + (k + 1) %% {SITES}, 0
                FROM (
                    SELECT 1 + g %% {COUNTIES} AS c, (random() * {READERS - 1})::int AS k,
                        %s - random() * interval '365 days' AS at, g
                    FROM generate_series(1, %s) g
                ) s,
                LATERAL (SELECT %s::bigint[] AS lib, %s::bigint[] AS item0,
                    %s::bigint[] AS patron0, %s::bigint[] AS site0) a""",
                [now, size, libraries, items, patrons, sites],
            )
            cursor.execute("SET session_replication_role = DEFAULT")
        done += size
        print(f"  loans {done:,}/{count:,}", flush=True)
    begun = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"VACUUM ANALYZE {table(Loan)}")
    print(f"  {len(indexes)} loan indexes rebuilt in {time.perf_counter() - begun:.1f} s")


def timed(fn, rounds=ROUNDS):
    return best_of(fn, rounds)


def raw(sql, params=()):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return run


def page(client, url):
    def run():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return run


def report_cases():
    """(user, name, page URL, its raw SQL over the loans) for each page measured."""
    today = timezone.localdate()
    year = str(today.year)
    month = f"{today.year}-{today.month:02d}"
    lo = f"'{today.year}-01-01'::timestamptz"
    mlo = f"'{month}-01'::timestamptz"
    county = Library.objects.get(code="C00")
    L, I, T, P = table(Loan), table(Item), table(Title), table(Patron)  # noqa: E741
    cases = [
        (
            "c00",
            "借阅量 本月（县馆）",
            f"/reports/?period={month}",
            f"SELECT date_trunc('day', checked_out_at), count(*) FROM {L} "
            f"WHERE library_id = {county.pk} AND checked_out_at >= {mlo} GROUP BY 1",
        ),
        (
            "c00",
            "中图法大类×站点 本年（县馆）",
            f"/reports/?period={year}&rows=clc_top&cols=site",
            f"SELECT t.clc_top, l.site_id, count(*) FROM {L} l JOIN {I} i ON i.id = l.item_id "
            f"JOIN {T} t ON t.id = i.title_id WHERE l.library_id = {county.pk} "
            f"AND l.checked_out_at >= {lo} GROUP BY 1, 2",
        ),
        (
            "hubei",
            "中图法大类×站点 本年（全省）",
            f"/reports/?period={year}&rows=clc_top&cols=site",
            f"SELECT t.clc_top, l.site_id, count(*) FROM {L} l JOIN {I} i ON i.id = l.item_id "
            f"JOIN {T} t ON t.id = i.title_id WHERE l.checked_out_at >= {lo} GROUP BY 1, 2",
        ),
        (
            "hubei",
            "读者 本年（全省）",
            f"/reports/readers/?period={year}",
            f"SELECT date_trunc('month', l.checked_out_at), count(DISTINCT l.patron_id), "
            f"count(*) FROM {L} l WHERE l.checked_out_at >= {lo} GROUP BY 1",
        ),
        (
            "hubei",
            "读者偏好 本年（全省）",
            f"/reports/preferences/?period={year}",
            f"SELECT t.clc_top, p.category, count(*) FROM {L} l JOIN {I} i ON i.id = l.item_id "
            f"JOIN {T} t ON t.id = i.title_id JOIN {P} p ON p.id = l.patron_id "
            f"WHERE l.checked_out_at >= {lo} GROUP BY 1, 2",
        ),
        (
            "hubei",
            "馆藏与周转 本年（全省）",
            f"/reports/holdings/?period={year}",
            f"SELECT l.site_id, count(*) FROM {L} l WHERE l.checked_out_at >= {lo} GROUP BY 1",
        ),
        (
            "hubei",
            "各县馆对比 本年（全省）",
            f"/reports/compare/?period={year}",
            f"SELECT library_id, count(*), count(DISTINCT patron_id) FROM {L} "
            f"WHERE checked_out_at >= {lo} GROUP BY 1",
        ),
        (
            "nlc",
            "各接收馆对比 本年（国图）",
            f"/reports/compare/?period={year}",
            f"SELECT i.consignment_id, count(*), count(DISTINCT l.patron_id) FROM {L} l "
            f"JOIN {I} i ON i.id = l.item_id WHERE l.checked_out_at >= {lo} GROUP BY 1",
        ),
    ]
    return cases


def page_times(cases):
    """{name: the page's seconds, best of ROUNDS}, each user signed in once."""
    clients, times = {}, {}
    for username, name, url, _sql in cases:
        client = clients.get(username)
        if client is None:
            client = clients[username] = Client()
            client.force_login(User.objects.get(username=username))
            client.get(url)  # warm the connection and template caches
        times[name] = timed(page(client, url))
    return times


def pages_against_raw(label) -> dict:
    cases = report_cases()
    print(f"\n{label}: page (best of {ROUNDS}) beside the raw SQL aggregate over the loans")
    print(f"  {'report':<28} {'page s':>8} {'raw SQL s':>10} {'raw/page':>9}")
    times, raws = page_times(cases), {}
    for _username, name, _url, sql in cases:
        raws[name] = raw_s = timed(raw(sql), rounds=1 if "DISTINCT" in sql else ROUNDS)
        page_s = times[name]
        print(f"  {name:<28} {page_s:8.3f} {raw_s:10.3f} {raw_s / page_s:8.1f}×", flush=True)
    return {name: (times[name], raws[name]) for name in times}


def refreshed_during_the_day(label, nightly: dict):
    """The same pages at the end of a day, with the summary refreshed during it: an hourly
    refresh at 23:00 leaves the last hour's loans live, where the nightly one leaves the whole
    day. Today's loans are dated ahead of the clock (a whole day whatever the hour of the run),
    so the refresh runs as if the day had ended; all of it is rolled back afterwards."""
    end_of_day = local_midnight(timezone.localdate() + timedelta(days=1))
    through = end_of_day - timedelta(hours=1)
    with (
        transaction.atomic(),
        mock.patch("reports.facts.settled_instant", return_value=end_of_day),
    ):
        start = time.perf_counter()
        refresh_report_tables(through=through)
        took = time.perf_counter() - start
        since = Loan.objects.filter(checked_out_at__gte=through).count()
        whole_day = Loan.objects.filter(checked_out_at__gte=end_of_day - timedelta(days=1)).count()
        print(
            f"\n{label}, refreshed during the day (to 23:00, in {took:.1f} s): "
            f"{since:,} loans live instead of the whole day's {whole_day:,}"
        )
        print(f"  {'report':<28} {'page s':>8} {'nightly s':>10} {'raw SQL s':>10} {'raw/page':>9}")
        times = page_times(report_cases())
        for name, page_s in times.items():
            before, raw_s = nightly[name]
            print(
                f"  {name:<28} {page_s:8.3f} {before:10.3f} {raw_s:10.3f} {raw_s / page_s:8.1f}×",
                flush=True,
            )
        transaction.set_rollback(True)


def holdings_against_live():
    """The holdings a province's page reads (held, never lent, idle 90 days per library, site,
    consignment, class and display): from the summary, beside the same figures counted live
    from the volumes (what every page did before the summary) in the same run."""
    from datetime import timedelta

    from accounts.scope import LoanScope
    from reports.engine.holdings import Holdings

    scope = LoanScope.for_user(User.objects.get(username="hubei"))
    since = timezone.now() - timedelta(days=90)
    summary = live = None

    def from_summary():
        nonlocal summary
        summary = Holdings(scope, idle_since=since).by(["site", "clc_top"])

    def counted_live():
        nonlocal live
        rows = Holdings._counted_live(scope, {}, since, ())
        holdings = Holdings.__new__(Holdings)
        holdings.rows = rows
        live = holdings.by(["site", "clc_top"])

    summary_s, live_s = timed(from_summary), timed(counted_live)
    assert summary == live, "the summary disagrees with the volumes"
    print(
        f"\nholdings of the province (held, never lent, idle): summary {summary_s:.3f} s, "
        f"counted live {live_s:.3f} s, live ÷ summary {live_s / summary_s:.1f}× (same figures)"
    )


def export_memory():
    client = Client()
    client.force_login(User.objects.get(username="hubei"))
    tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    response = client.get("/reports/holdings/idle/?format=csv&idle_days=30")
    rows, size = -1, 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
        if rows >= 100_000:
            break
    elapsed = time.perf_counter() - start
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"\nCSV export of idle volumes: {rows:,} rows, {size / 1e6:.1f} MB in {elapsed:.2f} s; "
        f"Python peak {peak / 1e6:.1f} MB (the data is {size / 1e6:.1f} MB), "
        f"max RSS growth {(rss_after - rss_before) / 1024:.1f} MB"
    )


def refresh(label):
    """A full rebuild (`--all`), then the nightly run on top of it (the last week to today)."""
    for kind, since in (("full rebuild", date(1900, 1, 1)), ("nightly", None)):
        start = time.perf_counter()
        counts = refresh_report_tables(since=since)
        print(
            f"refresh_report_tables ({label}, {kind}, {counts['start']} → {counts['end']}): "
            f"{time.perf_counter() - start:.1f} s — day rows {counts['loan_days']:,}, "
            f"month rows {counts['loan_months']:,}, reader-month rows "
            f"{counts['reader_months']:,}, reader-count rows {counts.get('reader_counts', 0):,}",
            flush=True,
        )
        for step, seconds in sorted(TIMINGS.items(), key=lambda kv: -kv[1])[:8]:
            print(f"    {seconds:6.1f} s  {step}")
        TIMINGS.clear()


def measure(label):
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the bulk-loaded items and titles have no statistics yet
    if not OPTIONS.pages_only:
        refresh(label)
    with connection.cursor() as cursor:
        # What autovacuum does after the refresh's inserts: statistics and the visibility
        # map (index-only probes of ReaderMonth for today's readers).
        for model in (ReaderMonth, ReaderCount):
            cursor.execute(f"VACUUM ANALYZE {table(model)}")
    nightly = pages_against_raw(label)
    refreshed_during_the_day(label, nightly)
    holdings_against_live()
    export_memory()


def grow_to(target):
    have = loan_count()
    if have < target:
        start = time.perf_counter()
        add_loans(target - have)
        print(f"{target - have:,} loans added in {time.perf_counter() - start:.1f} s", flush=True)


def main():
    if OPTIONS.reuse or OPTIONS.loans:
        if not Library.objects.filter(code="C00").exists():
            build_province()
            holdings_rebuild()
        grow_to(OPTIONS.loans or FIRST_ROUND)
        if OPTIONS.no_measure:
            # As the nightly job would: a later --pages-only run reads the summaries.
            refresh(f"{loan_count() / 1e6:.0f} M loans")
        else:
            measure(f"{loan_count() / 1e6:.0f} M loans")
        return
    start = time.perf_counter()
    build_province()
    holdings_rebuild()  # the volumes went in by SQL, around the services
    print(f"province built in {time.perf_counter() - start:.1f} s", flush=True)
    grow_to(FIRST_ROUND)
    measure(f"{FIRST_ROUND / 1e6:g} M loans")
    if OPTIONS.quick or os.environ.get("BENCH_SKIP_10M"):
        return
    grow_to(10_000_000)
    measure("10 M loans")


if __name__ == "__main__":
    main()
