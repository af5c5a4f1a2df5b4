"""Benchmark: loan history partitioned by month, with "one open loan per item" still a database
constraint, beside the unpartitioned loan table as the raw baseline, on the same loans.

PostgreSQL requires a partitioned table's unique indexes to include its partition key, so the
partial unique index behind "one open loan per item" cannot stay as it is on a table
partitioned by checkout month. The design measured here (docs/scale.md, "Loan history
partitioned by time"):

    loan_part                   PARTITION BY LIST ((returned_at IS NULL))
    ├── loan_part_open          FOR VALUES IN (true): a plain table, UNIQUE (item_id)
    └── loan_part_closed        FOR VALUES IN (false), PARTITION BY RANGE (checked_out_at)
        ├── loan_part_y2025m12  one partition a month
        └── …

Open loans live apart from closed ones, in one small table whose unique index on the item is
a plain one; a return is the same UPDATE as today (returned_at, return_site), which PostgreSQL
carries out as a move of the row into its month. The application, the reports and the admin
still see one table with the columns of circulation's Loan.

The script builds a synthetic province with set-based SQL (generate_series), loads the loans
into circulation_loan (the baseline, with its real indexes and constraints) and copies them
into loan_part, then prints, each beside the same on the baseline and with the ratio:

- checkout and return transactions a second on one connection (item locked, loan written,
  item updated), in alternating rounds;
- the report refresh of one past month (`refresh_report_tables`, the nightly job's code, run
  twice on each table) and its part that reads the loans (the facts of the month), once with
  PostgreSQL's default planner settings and once with the parallel settings the migration
  would set for the refresh (`PARALLEL`, the same on both tables), with the parallel workers
  the planner gave that read;
- a count of one month's loans and a count by month over the whole year;
- which partitions the plan of a month's query reads (EXPLAIN), and the open-loan lookup;
- that the design refuses a second open loan of an item, and that partial unique indexes on
  the month partitions alone do not (two open loans of one item in two months pass);
- the time of the copy and the size on disk of each table.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharedloan_bench \\
        .venv/bin/python bench/loan_partitions.py                 (10,000,000 loans)
    .venv/bin/python bench/loan_partitions.py --loans 1000000     (a first run, to size it)
    .venv/bin/python bench/loan_partitions.py --quick             (200,000 loans, for CI)
    .venv/bin/python bench/loan_partitions.py --reuse       (measure the tables of the last run)

The machine is shared: the ratios, each taken in one run, say more than the seconds.
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--quick", action="store_true", help="200,000 loans: for CI")
ARGS.add_argument("--loans", type=int, help="this many loans instead of 10,000,000")
ARGS.add_argument("--reuse", action="store_true", help="measure the tables a run left")
OPTIONS = ARGS.parse_args()

if OPTIONS.reuse:
    import django
    from django.core.management import call_command

    django.setup()
    # The code's migrations since the last run (a new summary table the refresh writes); a
    # change to the loan table itself needs a fresh run, whose copy is made after it.
    call_command("migrate", verbosity=0)
else:
    from bench.benchdb import fresh_database

    fresh_database()

import json  # noqa: E402
from datetime import date, timedelta  # noqa: E402

import psycopg  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from circulation.models import Loan, Patron  # noqa: E402
from collections_app.models import (  # noqa: E402
    ClcClass,
    Consignment,
    Item,
    Library,
    Site,
    Title,
)
from reports.facts import (  # noqa: E402
    TIMINGS,
    local_midnight,
    month_start,
    next_month,
    refresh_report_tables,
)
from reports.models import RefreshState  # noqa: E402

if OPTIONS.quick:
    COUNTIES, SITES, VOLUMES, READERS, TITLES, LOANS, DESK = 2, 4, 5_000, 500, 500, 200_000, 100
else:
    COUNTIES, SITES, VOLUMES, READERS, TITLES = 10, 10, 30_000, 3_000, 5_000
    LOANS, DESK = OPTIONS.loans or 10_000_000, 300
ROUNDS = 2 if OPTIONS.quick else 4
LOAN = Loan._meta.db_table
ITEM = Item._meta.db_table
PART = "loan_part"
FACTS = "reports_refresh_facts"  # the refresh's temporary table of the window's loan facts


def table(model):
    return model._meta.db_table


def run(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def timed(label, sql, params=()):
    started = time.perf_counter()
    result = run(sql, params)
    elapsed = time.perf_counter() - started
    print(f"    {label:<52} {elapsed:7.1f} s", flush=True)
    return result, elapsed


def build_province():
    """Counties with sites, titles, volumes and readers, written by SQL (as in report_pages)."""
    nlc = Library.objects.create(code="NLC", name="国家图书馆", kind=Library.Kind.NATIONAL)
    codes = list(
        ClcClass.objects.filter(level=2).exclude(code__contains="/").values_list("code", flat=True)
    )
    now = timezone.now()
    for n in range(COUNTIES):
        county = Library.objects.create(code=f"C{n:02}", name=f"基准县{n:02}", kind="county")
        central = Site.objects.create(library=county, code="central", name="总馆", kind="central")
        for s in range(1, SITES):
            Site.objects.create(
                library=county, code=f"sp{s:02}", name=f"服务点{s:02}", kind="service_point",
                parent=central,
            )  # fmt: skip
        consignment = Consignment.objects.create(
            library=county, lender=nlc, reference=f"NLC-{n:02}", agreement_date=date(2021, 3, 1)
        )
        run(
            f"""INSERT INTO {table(Title)} (library_id, isbn, title, responsibility, publisher,
                clc, clc_top, marc, created_at, title_pinyin, title_initials)
            SELECT %s, '', '基准书目 ' || g, '', '', c.code || (g %% 90), left(c.code, 1), '', %s,
                'jizhunshumu ' || g, 'jzsm'
            FROM generate_series(1, %s) g
            JOIN (SELECT code, row_number() OVER (ORDER BY code) - 1 AS k
                  FROM unnest(%s::text[]) code) c ON c.k = g %% %s""",
            [county.pk, now, TITLES, codes, len(codes)],
        )
        first_title = run(f"SELECT min(id) FROM {table(Title)} WHERE library_id = %s", [county.pk])
        run(
            f"""INSERT INTO {ITEM} (library_id, barcode, title_id, consignment_id, owner_id,
                call_number, home_site_id, current_site_id, status, status_changed_at)
            SELECT %s, 'B' || %s || lpad(g::text, 7, '0'), %s + g %% %s, %s, %s, '',
                %s + g %% %s, %s + g %% %s, 'available', %s
            FROM generate_series(0, %s - 1) g""",
            [county.pk, f"{n:02}", first_title[0][0], TITLES, consignment.pk, nlc.pk,
             central.pk, SITES, central.pk, SITES, now, VOLUMES],
        )  # fmt: skip
        run(
            f"""INSERT INTO {table(Patron)} (library_id, card_number, name, phone, category,
                home_site_id, birth_year, registered_at, is_suspended, suspended_reason, pin,
                keeps_reading_history)
            SELECT %s, 'P' || g, '读者', '',
                (ARRAY['child','student','adult','senior'])[1 + g %% 4], %s + g %% %s,
                1940 + g %% 80, %s - (g %% 700) * interval '1 day', false, '', '', false
            FROM generate_series(1, %s) g""",
            [county.pk, central.pk, SITES, now, READERS],
        )


def county_ranges():
    return run(
        f"""SELECT l.id, (SELECT min(id) FROM {ITEM} WHERE library_id = l.id),
            (SELECT min(id) FROM {table(Patron)} WHERE library_id = l.id),
            (SELECT min(id) FROM {table(Site)} WHERE library_id = l.id)
        FROM {table(Library)} l WHERE kind = 'county' ORDER BY id"""
    )


def secondary_indexes(name):
    return run(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
        "AND indexname NOT LIKE '%%pkey' ORDER BY indexname",
        [name],
    )


def foreign_keys(name):
    return run(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [name],
    )


def load_baseline(now):
    """LOANS returned loans over the year before today, in checkout order as a live table
    fills, then one open loan for every tenth volume; secondary indexes and foreign keys
    (whose per-row checks would be most of the load) added after it."""
    ranges = county_ranges()
    libraries, items, patrons, sites = ([r[k] for r in ranges] for k in range(4))
    indexes, keys = secondary_indexes(LOAN), foreign_keys(LOAN)
    for name, _definition in keys:
        run(f'ALTER TABLE {LOAN} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        run(f'DROP INDEX "{name}"')
    start = now - timedelta(days=365)
    chunk = 1_000_000
    began = time.perf_counter()
    for first in range(0, LOANS, chunk):
        run(
            f"""INSERT INTO {LOAN} (library_id, item_id, patron_id, site_id, checked_out_at,
                due_at, returned_at, return_site_id, renewals)
            SELECT lib, item, patron, site, t, t + interval '30 days',
                LEAST(t + (1 + g %% 28) * interval '1 day' + (g %% 3600) * interval '1 second',
                      %(now)s), site, 0
            FROM generate_series(%(first)s::bigint, %(last)s) g,
            LATERAL (SELECT (%(libraries)s::int[])[1 + g %% %(c)s] AS lib,
                (%(items)s::int[])[1 + g %% %(c)s] + (g / %(c)s * 7919) %% %(v)s AS item,
                (%(patrons)s::int[])[1 + g %% %(c)s] + (g / %(c)s) %% %(r)s AS patron,
                (%(sites)s::int[])[1 + g %% %(c)s] + (g / %(c)s) %% %(s)s AS site,
                %(start)s + (g::float8 / %(n)s) * interval '364 days' AS t) x""",
            {"now": now, "first": first, "last": min(first + chunk, LOANS) - 1,
             "libraries": libraries, "items": items, "patrons": patrons, "sites": sites,
             "c": COUNTIES, "v": VOLUMES, "r": READERS, "s": SITES, "start": start, "n": LOANS},
        )  # fmt: skip
    # Every tenth volume is out now: its open loan began in the last 20 days.
    run(
        f"""INSERT INTO {LOAN} (library_id, item_id, patron_id, site_id, checked_out_at, due_at,
            renewals)
        SELECT i.library_id, i.id, p.first + i.id %% %s, i.home_site_id,
            %s - (i.id %% 20) * interval '1 day' - interval '1 hour',
            %s + (30 - i.id %% 20) * interval '1 day', 0
        FROM {ITEM} i JOIN (SELECT library_id, min(id) AS first FROM {table(Patron)}
                            GROUP BY library_id) p ON p.library_id = i.library_id
        WHERE i.id %% 10 = 0""",
        [READERS, now, now],
    )
    print(f"    {'rows written':<52} {time.perf_counter() - began:7.1f} s")
    for name, definition in indexes:
        timed(f"index {name[:44]}", definition)
    for name, definition in keys:
        timed(
            f"foreign key {name[:40]}", f'ALTER TABLE {LOAN} ADD CONSTRAINT "{name}" {definition}'
        )
    timed("VACUUM ANALYZE", f"VACUUM ANALYZE {LOAN}")


def months_between(first: date, last: date):
    month = month_start(first)
    while month <= last:
        yield month
        month = next_month(month)


def build_partitioned(now):
    """loan_part: the same columns, checks, foreign keys and indexes as the baseline, open
    loans apart (UNIQUE item), closed ones by checkout month; filled from the baseline."""
    run(
        f"CREATE TABLE {PART} (LIKE {LOAN} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
        "PARTITION BY LIST ((returned_at IS NULL))"
    )
    run(f"CREATE SEQUENCE {PART}_id_seq OWNED BY {PART}.id")
    run(f"ALTER TABLE {PART} ALTER id SET DEFAULT nextval('{PART}_id_seq')")
    run(f"CREATE TABLE {PART}_open PARTITION OF {PART} FOR VALUES IN (true)")
    run(
        f"CREATE TABLE {PART}_closed PARTITION OF {PART} FOR VALUES IN (false) "
        "PARTITION BY RANGE (checked_out_at)"
    )
    first = timezone.localdate(now - timedelta(days=400))
    for month in months_between(first, timezone.localdate(now) + timedelta(days=62)):
        # Local months, as the reports count them: a month's query reads one partition.
        run(
            f"CREATE TABLE {PART}_y{month:%Y}m{month:%m} PARTITION OF {PART}_closed "
            "FOR VALUES FROM (%s) TO (%s)",
            [local_midnight(month), local_midnight(next_month(month))],
        )
    print(f"  copy of the {LOANS:,} + open loans into {PART}:")
    _rows, copy_seconds = timed("INSERT INTO loan_part SELECT * FROM circulation_loan",
                                f"INSERT INTO {PART} SELECT * FROM {LOAN}")  # fmt: skip
    run(f"SELECT setval('{PART}_id_seq', (SELECT max(id) FROM {PART}))")
    index_seconds = 0.0
    timed("primary key of the open loans (id)", f"ALTER TABLE {PART}_open ADD PRIMARY KEY (id)")
    _r, seconds = timed(
        "primary key of the closed (id, checked_out_at)",
        f"ALTER TABLE {PART}_closed ADD PRIMARY KEY (id, checked_out_at)",
    )
    index_seconds += seconds
    _r, seconds = timed(
        "UNIQUE (item_id) on the open loans",
        f"CREATE UNIQUE INDEX {PART}_open_one_per_item ON {PART}_open (item_id)",
    )
    index_seconds += seconds
    for name, definition in secondary_indexes(LOAN):
        if "UNIQUE" in definition:
            continue  # one_open_loan_per_item: on the open partition, above
        definition = definition.replace(
            f"INDEX {name} ON public.{LOAN}", f"INDEX {name}_p ON {PART}"
        )
        _r, seconds = timed(f"index {name[:44]}", definition)
        index_seconds += seconds
    for name, definition in foreign_keys(LOAN):
        _r, seconds = timed(
            f"foreign key {name[:40]}", f'ALTER TABLE {PART} ADD CONSTRAINT "{name}_p" {definition}'
        )
        index_seconds += seconds
    timed("VACUUM ANALYZE", f"VACUUM ANALYZE {PART}")
    return copy_seconds, index_seconds


def size(name):
    """Bytes on disk of a table with its indexes, over all its partitions if it has any."""
    return run(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), pg_total_relation_size(%s)) "
        "FROM pg_partition_tree(%s::regclass)",
        [name, name],
    )[0][0]


def desk(conn, loans, item_ids, patrons_of, *, checkout):
    """One transaction a volume, as the desk's service writes it: the item locked, the loan
    written (or closed), the item's status set. Returns transactions a second."""
    started = time.perf_counter()
    for item_id in item_ids:
        library_id, patron_id, site_id = patrons_of[item_id]
        with conn.transaction():
            conn.execute(f"SELECT status FROM {ITEM} WHERE id = %s FOR UPDATE", [item_id])
            if checkout:
                conn.execute(
                    f"INSERT INTO {loans} (library_id, item_id, patron_id, site_id, "
                    "checked_out_at, due_at, renewals) VALUES (%s, %s, %s, %s, now(), "
                    "now() + interval '30 days', 0) RETURNING id",
                    [library_id, item_id, patron_id, site_id],
                ).fetchone()
                status = "on_loan"
            else:
                closed = conn.execute(
                    f"UPDATE {loans} SET returned_at = now(), return_site_id = %s "
                    "WHERE item_id = %s AND returned_at IS NULL RETURNING id",
                    [site_id, item_id],
                ).fetchall()
                assert len(closed) == 1, closed
                status = "available"
            conn.execute(
                f"UPDATE {ITEM} SET status = %s, status_changed_at = now() WHERE id = %s",
                [status, item_id],
            )
    return len(item_ids) / (time.perf_counter() - started)


def measure_desk():
    rows = run(
        f"""SELECT i.id, i.library_id, (SELECT min(p.id) FROM {table(Patron)} p
                WHERE p.library_id = i.library_id), i.home_site_id
            FROM {ITEM} i WHERE i.id %% 10 <> 0 ORDER BY i.id %% 7919, i.id LIMIT %s""",
        [DESK * ROUNDS + 20],
    )
    patrons_of = {r[0]: (r[1], r[2], r[3]) for r in rows}
    ids = [r[0] for r in rows]
    figures = {key: [] for key in ("checkout", "return")}
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        warm = ids[-20:]  # the connection's caches and prepared statements, untimed
        for name in (LOAN, PART):
            desk(conn, name, warm, patrons_of, checkout=True)
            desk(conn, name, warm, patrons_of, checkout=False)
        for r in range(ROUNDS):
            batch = ids[r * DESK : (r + 1) * DESK]
            for kind in ("checkout", "return"):
                pair = [desk(conn, t, batch, patrons_of, checkout=kind == "checkout")
                        for t in ((LOAN, PART) if r % 2 == 0 else (PART, LOAN))]  # fmt: skip
                figures[kind].append(pair if r % 2 == 0 else pair[::-1])
    print(f"  desk transactions on one connection ({ROUNDS} rounds of {DESK}, alternating):")
    for kind, pairs in figures.items():
        base = sum(DESK for _ in pairs) / sum(DESK / p[0] for p in pairs)
        part = sum(DESK for _ in pairs) / sum(DESK / p[1] for p in pairs)
        print(
            f"    {kind:<8} partitioned {part:7.0f}/s   baseline (unpartitioned) {base:7.0f}/s"
            f"   ratio {part / base:4.2f}"
        )


def swap_tables():
    """The two tables trade names: the application's code and SQL, unchanged, then read the
    other one as circulation_loan."""
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute(f"ALTER TABLE {LOAN} RENAME TO loan_swap")
        cursor.execute(f"ALTER TABLE {PART} RENAME TO {LOAN}")
        cursor.execute(f"ALTER TABLE loan_swap RENAME TO {PART}")
        cursor.execute("COMMIT")


# The refresh reads one month. Over the whole table the planner shares the scan and the joins
# among parallel workers; over one month's partition the scan looks too cheap to be worth a
# worker's start-up, and the same joins of the same loans run in one process. These make it
# count a worker's start-up as free and a row handed back from one as cheap, so the month's
# partition gets workers too. The benchmark sets them for both tables alike.
PARALLEL = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0.01"}


def planner(settings: dict | None) -> None:
    """The session's planner settings: `settings`, or PostgreSQL's defaults (None)."""
    for name in PARALLEL:
        run(f"RESET {name}")
    for name, value in (settings or {}).items():
        run(f"SET {name} = {value}")


def workers_planned(plans: list):
    """An execute wrapper that, before the refresh's read of the month's loans (the SELECT
    that fills its temporary table of facts), asks the planner for that statement's plan in
    the same transaction and settings (EXPLAIN only: milliseconds), and appends the parallel
    workers it plans to `plans`."""

    def explain(execute, sql, params, many, context):
        prefix = f"CREATE TEMPORARY TABLE {FACTS} AS "
        if sql.startswith(prefix):
            context["cursor"].execute("EXPLAIN (FORMAT JSON) " + sql.removeprefix(prefix), params)
            plan = context["cursor"].fetchone()[0]
            plan = plan if isinstance(plan, list) else json.loads(plan)
            plans.append(workers(plan[0]["Plan"]))
        return execute(sql, params, many, context)

    def workers(node):
        return max([node.get("Workers Planned", 0), *map(workers, node.get("Plans", []))])

    return explain


def refresh_month(month: date, name: str) -> tuple[float, float, int]:
    """The nightly refresh's code over one month, reading `name` as the loan table: seconds in
    all, seconds reading the loans, parallel workers planned for that read."""
    if name == PART:
        swap_tables()
    try:
        TIMINGS.clear()
        plans = []
        started = time.perf_counter()
        with connection.execute_wrapper(workers_planned(plans)):
            refresh_report_tables(since=month, until=next_month(month))
        total = time.perf_counter() - started
        facts = sum(
            v for k, v in TIMINGS.items() if k.startswith(f"CREATE TEMPORARY TABLE {FACTS}")
        )
        return total, facts, plans[0]
    finally:
        if name == PART:
            swap_tables()


def measure_reports(now):
    RefreshState.objects.update_or_create(
        name="loans", defaults={"summarised_until": timezone.localdate(now)}
    )
    month = month_start(timezone.localdate(now) - timedelta(days=62))
    refresh_report_tables(since=month, until=next_month(month))  # title classes, warm cache
    start, end = local_midnight(month), local_midnight(next_month(month))
    loans = run(
        f"SELECT count(*) FROM {LOAN} WHERE checked_out_at >= %s AND checked_out_at < %s",
        [start, end],
    )[0][0]
    print(f"  report refresh of {month:%Y-%m} ({loans:,} loans), best of two each:")
    for label, settings in (("PostgreSQL's defaults", None), ("parallel settings", PARALLEL)):
        planner(settings)
        runs = {LOAN: [], PART: []}
        for order in ((LOAN, PART), (PART, LOAN)):
            for name in order:
                runs[name].append(refresh_month(month, name))
        base, part = min(runs[LOAN]), min(runs[PART])
        print(
            f"    with {label}, parallel workers planned to read the month's loans: partitioned "
            f"{part[2]}, baseline {base[2]}\n"
            f"    {'whole refresh':<30} partitioned {part[0]:6.2f} s   baseline {base[0]:6.2f} s"
            f"   ratio {part[0] / base[0]:4.2f}\n"
            f"    {'its loan facts':<30} partitioned {part[1]:6.2f} s   baseline {base[1]:6.2f} s"
            f"   ratio {part[1] / base[1]:4.2f}",
            flush=True,
        )
    planner(None)
    queries = {
        "one month's loans, counted": (
            "SELECT count(*) FROM {t} WHERE checked_out_at >= %s AND checked_out_at < %s",
            [start, end],
        ),
        "the year's loans by month": (
            "SELECT date_trunc('month', checked_out_at), count(*) FROM {t} GROUP BY 1",
            [],
        ),
    }
    for label, (sql, params) in queries.items():
        seconds = {}
        for name in (LOAN, PART, LOAN, PART):
            began = time.perf_counter()
            run(sql.format(t=name), params)
            elapsed = time.perf_counter() - began
            seconds[name] = min(seconds.get(name, elapsed), elapsed)
        print(
            f"    {label:<30} partitioned {seconds[PART]:6.2f} s   baseline "
            f"{seconds[LOAN]:6.2f} s   ratio {seconds[PART] / seconds[LOAN]:4.2f}"
        )
    return start, end


def scanned(sql, params):
    plan = run("EXPLAIN (FORMAT JSON) " + sql, params)[0][0]
    plan = plan if isinstance(plan, list) else json.loads(plan)
    names = []

    def walk(node):
        if "Relation Name" in node:
            names.append(node["Relation Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return sorted(set(names))


def show_pruning(start, end):
    months = run(
        "SELECT count(*) FROM pg_partition_tree(%s::regclass) WHERE isleaf", [f"{PART}_closed"]
    )[0][0]
    month = scanned(
        f"SELECT count(*) FROM {PART} WHERE checked_out_at >= %s AND checked_out_at < %s",
        [start, end],
    )
    item = run(f"SELECT min(item_id) FROM {PART}_open")[0][0]
    open_loan = scanned(f"SELECT id FROM {PART} WHERE item_id = %s AND returned_at IS NULL", [item])
    print(f"  partition pruning (EXPLAIN), {months} month partitions of closed loans:")
    print(f"    a month's loans read   {', '.join(month)}")
    print(f"    an item's open loan    {', '.join(open_loan)}")


def prove_the_constraint(now):
    """The design refuses a second open loan of an item; month partitions with a partial
    unique index each do not."""
    item = run(f"SELECT min(id) FROM {ITEM} WHERE id %% 10 <> 0")[0][0]
    library_id, site_id = run(f"SELECT library_id, home_site_id FROM {ITEM} WHERE id = %s",
                              [item])[0]  # fmt: skip
    patron = run(f"SELECT min(id) FROM {table(Patron)} WHERE library_id = %s", [library_id])[0][0]
    columns = "library_id, item_id, patron_id, site_id, checked_out_at, due_at, renewals"

    def open_loan(name, at):
        run(
            f"INSERT INTO {name} ({columns}) VALUES (%s, %s, %s, %s, %s, %s, 0)",
            [library_id, item, patron, site_id, at, at + timedelta(days=30)],
        )

    earlier, later = now - timedelta(days=40), now - timedelta(days=5)
    print('  "one open loan per item":')
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        open_loan(PART, earlier)
        try:
            open_loan(PART, later)
            verdict = "ACCEPTED (broken)"
        except Exception as error:  # the unique violation
            verdict = f"refused: {type(error.__cause__ or error).__name__}"
        cursor.execute("ROLLBACK")
    print(f"    this design, a second open loan of one item          {verdict}")
    run(f"CREATE TABLE naive (LIKE {LOAN} INCLUDING DEFAULTS) PARTITION BY RANGE (checked_out_at)")
    run("CREATE SEQUENCE naive_id_seq OWNED BY naive.id")
    run("ALTER TABLE naive ALTER id SET DEFAULT nextval('naive_id_seq')")
    try:
        run("CREATE UNIQUE INDEX ON naive (item_id) WHERE returned_at IS NULL")
        message = "created"
    except Exception as error:  # PostgreSQL refuses it: the partition key is not in it
        message = "refused: " + str(error.__cause__ or error).splitlines()[0]
    print(f"    by month alone, a partial unique index on the parent  {message}")
    for n, at in enumerate((earlier, later)):
        month = month_start(timezone.localdate(at))
        run(
            f"CREATE TABLE naive_{n} PARTITION OF naive FOR VALUES FROM (%s) TO (%s)",
            [local_midnight(month), local_midnight(next_month(month))],
        )
        run(f"CREATE UNIQUE INDEX ON naive_{n} (item_id) WHERE returned_at IS NULL")
    open_loan("naive", earlier)
    open_loan("naive", later)
    count = run("SELECT count(*) FROM naive WHERE item_id = %s AND returned_at IS NULL", [item])
    print(
        "    by month, a partial unique index on each month        "
        f"{count[0][0]} open loans of one item accepted (broken)"
    )
    run("DROP TABLE naive")


def main():
    now = timezone.now()
    print(
        f"loan history partitioned by month: {LOANS:,} returned loans over a year, "
        f"{COUNTIES} counties, {COUNTIES * VOLUMES:,} volumes (every tenth on loan now)"
    )
    copy_seconds = index_seconds = 0.0
    if not OPTIONS.reuse:
        build_province()
        # The planner's estimates of the report's joins need the statistics of what SQL wrote.
        run("ANALYZE")
        started = time.perf_counter()
        print("  the baseline, circulation_loan:")
        load_baseline(now)
        seconds = time.perf_counter() - started
        print(f"  baseline load (generate_series, indexes after): {seconds:.1f} s")
        copy_seconds, index_seconds = build_partitioned(now)
    run("ANALYZE")
    base_size, part_size = size(LOAN), size(PART)
    print(
        f"  on disk: partitioned {part_size / 2**20:,.0f} MB   baseline {base_size / 2**20:,.0f} MB"
        f"   ratio {part_size / base_size:4.2f}; copy {copy_seconds:.1f} s + indexes and keys "
        f"{index_seconds:.1f} s"
    )
    prove_the_constraint(now)
    measure_desk()
    start, end = measure_reports(now)
    show_pruning(start, end)


if __name__ == "__main__":
    main()
