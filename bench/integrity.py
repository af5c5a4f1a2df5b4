"""Benchmark: `manage.py check_integrity` over a county of 1 million volumes on PostgreSQL,
beside the raw baseline: one pass over each big table the checks read (items grouped by status,
their history rows, the loans), as hand-written SQL.

    .venv/bin/python bench/integrity.py            (1,000,000 items; a few minutes to build)
    .venv/bin/python bench/integrity.py --quick    (20,000 items; seconds, for CI)
    .venv/bin/python bench/integrity.py --items 200000
    .venv/bin/python bench/integrity.py --reuse    (measure the database built last time)

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/sharedloan_integrity_bench, dropped
and re-created. The data is written with set-based SQL (INSERT … SELECT over generate_series) and
is consistent, as the services would leave it: about two history rows per item, 10 % on loan
(two open loans per reader), 1 % in transit on dispatched transfers, 1 % on drafts, 1 % on
received transfers, 1 % missing, 2,000 book boxes, 1,000 trapped holds and one closed loan for
every other item. The check must find nothing, and must take under 60 s at a million items.
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_integrity_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database  # noqa: E402

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--quick", action="store_true", help="20,000 items: seconds, for CI")
ARGS.add_argument("--items", type=int, help="how many items (default 1,000,000)")
ARGS.add_argument("--reuse", action="store_true", help="measure the database built last time")
OPTIONS = ARGS.parse_args()
ITEMS = OPTIONS.items or (20_000 if OPTIONS.quick else 1_000_000)
GOAL = 60.0
SITES = 20  # service points, besides the central library
READERS = max(ITEMS // 20, 10)  # two open loans each
TITLES = max(ITEMS // 3, 1)

if OPTIONS.reuse:
    import django

    django.setup()
else:
    fresh_database()

from datetime import date  # noqa: E402

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from circulation.integrity import CHECKS, run_check  # noqa: E402
from circulation.models import Hold, Loan, LoanRule, Patron  # noqa: E402
from collections_app.models import (  # noqa: E402
    Box,
    Consignment,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
    Transfer,
    TransferLine,
)

T = {
    name: model._meta.db_table
    for name, model in {
        "item": Item,
        "event": ItemEvent,
        "loan": Loan,
        "patron": Patron,
        "hold": Hold,
        "title": Title,
        "box": Box,
        "transfer": Transfer,
        "line": TransferLine,
    }.items()
}


def build():
    nlc = Library.objects.create(code="NLC", name="国家图书馆", kind=Library.Kind.NATIONAL)
    county = Library.objects.create(code="BENCH", name="基准县图书馆", kind=Library.Kind.COUNTY)
    central = Site.objects.create(library=county, code="central", name="总馆", kind="central")
    points = [
        Site.objects.create(
            library=county,
            code=f"sp{n:02}",
            name=f"服务点{n:02}",
            kind="service_point",
            parent=central,
        )
        for n in range(SITES)
    ]
    sites = [central.pk, *(site.pk for site in points)]
    consignment = Consignment.objects.create(
        library=county,
        lender=nlc,
        reference="BENCH-2021",
        agreement_date=date(2021, 3, 1),
        expected_count=ITEMS,
        status=Consignment.Status.ACTIVE,
    )
    for category in Patron.Category.values:
        LoanRule.objects.create(library=county, category=category, loan_days=30, max_items=10)
    params = {
        "lib": county.pk,
        "nlc": nlc.pk,
        "central": central.pk,
        "cons": consignment.pk,
        "sites": sites,
        "n_sites": len(sites),
        "items": ITEMS,
        "titles": TITLES,
        "readers": READERS,
    }
    # Blocks of 100 consecutive items stand at one site: block b = n / 100 at sites[b % S].
    site_of = "(%(sites)s::int[])[1 + ((n / 100) %% %(n_sites)s)]"
    status_of = """CASE WHEN n %% 10 = 0 THEN 'on_loan' WHEN n %% 100 = 1 THEN 'in_transit'
                        WHEN n %% 100 = 2 THEN 'missing' ELSE 'available' END"""
    # Dispatched transfers 1…50·S (line of item n: 1 + b % 50S, whose source is sites[b % S]),
    # received ones after them, drafts after those.
    dispatched = 50 * len(sites)
    received = 50 * len(sites)  # a multiple of S, so the drafts' sources line up
    drafts = 10 * len(sites)
    params.update(dispatched=dispatched, received=received, drafts=drafts)
    statements = [
        f"""INSERT INTO {T["title"]} (id, library_id, isbn, title, responsibility, publisher,
                clc, clc_top, marc, created_at, title_pinyin, title_initials)
            SELECT n, %(lib)s, '', '基准书目 ' || n, '', '', 'I' || (n %% 97), 'I', '', now(),
                'jizhunshumu' || n, 'jzsm' || n
            FROM generate_series(1, %(titles)s) n""",
        f"""INSERT INTO {T["box"]} (id, library_id, code, name, is_active)
            SELECT n, %(lib)s, 'BOX' || n, '书箱 ' || n, true
            FROM generate_series(1, LEAST(2000, %(items)s / 100 + 1)) n""",
        f"""INSERT INTO {T["item"]} (id, library_id, barcode, title_id, consignment_id,
                owner_id, call_number, home_site_id, current_site_id, box_id, status,
                status_changed_at, last_loan_at)
            SELECT n, %(lib)s, 'NL' || lpad(n::text, 9, '0'), 1 + n %% %(titles)s, %(cons)s,
                %(nlc)s, 'I/1', {site_of}, {site_of},
                CASE WHEN n %% 100 BETWEEN 10 AND 19 AND n / 100 < 2000 THEN n / 100 + 1 END,
                {status_of}, now() - interval '1 day', NULL
            FROM generate_series(1, %(items)s) n""",
        f"""INSERT INTO {T["patron"]} (id, library_id, card_number, name, phone, category,
                home_site_id, registered_at, is_suspended, suspended_reason, pin,
                keeps_reading_history)
            SELECT n, %(lib)s, 'R' || n, '读者' || n, '', 'adult',
                (%(sites)s::int[])[1 + n %% %(n_sites)s], now(), false, '', '', false
            FROM generate_series(1, %(readers)s) n""",
        # Open loans of the items on loan, two per reader; a closed loan for every other item.
        f"""INSERT INTO {T["loan"]} (library_id, item_id, patron_id, site_id, checked_out_at,
                due_at, renewals)
            SELECT %(lib)s, n, 1 + (n / 10) %% %(readers)s, {site_of},
                now() - interval '3 days', now() + interval '27 days', 0
            FROM generate_series(10, %(items)s, 10) n""",
        f"""INSERT INTO {T["loan"]} (library_id, item_id, patron_id, site_id, checked_out_at,
                due_at, returned_at, return_site_id, renewals)
            SELECT %(lib)s, n, 1 + n %% %(readers)s, {site_of},
                now() - interval '200 days', now() - interval '170 days',
                now() - interval '180 days', {site_of}, 0
            FROM generate_series(1, %(items)s, 2) n""",
        f"""INSERT INTO {T["transfer"]} (id, library_id, source_id, destination_id, reason,
                status, note, created_at, dispatched_at, received_at)
            SELECT t, %(lib)s, (%(sites)s::int[])[1 + (t - 1) %% %(n_sites)s],
                (%(sites)s::int[])[1 + t %% %(n_sites)s], 'rotation',
                CASE WHEN t <= %(dispatched)s THEN 'dispatched'
                     WHEN t <= %(dispatched)s + %(received)s THEN 'received' ELSE 'draft' END,
                '', now() - interval '5 days',
                CASE WHEN t <= %(dispatched)s + %(received)s THEN now() - interval '4 days' END,
                CASE WHEN t > %(dispatched)s AND t <= %(dispatched)s + %(received)s
                     THEN now() - interval '3 days' END
            FROM generate_series(1, %(dispatched)s + %(received)s + %(drafts)s) t""",
        # In transit (n % 100 = 1) on dispatched transfers from their site; n % 100 = 3 on
        # received transfers (closed lines); n % 100 = 4 on drafts from their site.
        f"""INSERT INTO {T["line"]} (library_id, transfer_id, item_id, state, is_open)
            SELECT %(lib)s,
                CASE n %% 100
                    WHEN 1 THEN 1 + (n / 100) %% %(dispatched)s
                    WHEN 3 THEN %(dispatched)s + 1 + (n / 100) %% %(received)s
                    ELSE %(dispatched)s + %(received)s + 1 + (n / 100) %% %(drafts)s END,
                n, CASE WHEN n %% 100 = 3 THEN 'received' ELSE 'pending' END, n %% 100 <> 3
            FROM generate_series(1, %(items)s) n
            WHERE n %% 100 IN (1, 3) OR (n %% 100 = 4 AND n / 100 < 1000)""",
        f"""INSERT INTO {T["hold"]} (library_id, patron_id, title_id, pickup_site_id, status,
                placed_at, expires_at, item_id, trapped_at)
            SELECT %(lib)s, 1 + n %% %(readers)s, 1 + n %% %(titles)s, {site_of}, 'trapped',
                now() - interval '2 days', now() + interval '60 days', n, now() - interval '1 day'
            FROM generate_series(25, LEAST(%(items)s, 100000), 100) n""",
        # History: imported, received at the item's site, then its last change.
        f"""INSERT INTO {T["event"]} (library_id, item_id, kind, at, from_status, to_status,
                from_site_id, to_site_id, note)
            SELECT %(lib)s, n, 'imported', now() - interval '400 days', '', 'expected', NULL,
                %(central)s, ''
            FROM generate_series(1, %(items)s) n""",
        f"""INSERT INTO {T["event"]} (library_id, item_id, kind, at, from_status, to_status,
                from_site_id, to_site_id, note)
            SELECT %(lib)s, n, 'received', now() - interval '399 days', 'expected', 'available',
                %(central)s, {site_of}, ''
            FROM generate_series(1, %(items)s) n""",
        f"""INSERT INTO {T["event"]} (library_id, item_id, kind, at, from_status, to_status,
                from_site_id, to_site_id, transfer_id, note)
            SELECT %(lib)s, n,
                CASE WHEN n %% 10 = 0 THEN 'checked_out' WHEN n %% 100 = 1 THEN 'dispatched'
                     ELSE 'status_changed' END,
                now() - interval '3 days', 'available', {status_of}, {site_of}, {site_of},
                CASE WHEN n %% 100 = 1 THEN 1 + (n / 100) %% %(dispatched)s END, ''
            FROM generate_series(1, %(items)s) n
            WHERE n %% 10 = 0 OR n %% 100 IN (1, 2)""",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, params)
        for table in T.values():
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
    # The volumes went in by SQL, around the services: their holdings summary is counted afresh.
    from collections_app.services.holdings import holdings_rebuild

    holdings_rebuild(library_ids=[county.pk])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return county


def baseline() -> float:
    """One pass over each big table the checks read: the floor of any whole-database proof."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, COUNT(*) FROM {T['item']} GROUP BY status")
        cursor.fetchall()
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT item_id, MAX(at) FROM {T['event']} GROUP BY item_id) x"
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT patron_id, COUNT(*) FROM {T['loan']} "
            "WHERE returned_at IS NULL GROUP BY patron_id) x"
        )
        cursor.fetchall()
    return time.perf_counter() - started


def main():
    started = time.perf_counter()
    if not OPTIONS.reuse:
        build()
    items, events, loans = Item.objects.count(), ItemEvent.objects.count(), Loan.objects.count()
    print(
        f"{'reused' if OPTIONS.reuse else 'built'} {items:,} items, {events:,} history rows, "
        f"{loans:,} loans in {time.perf_counter() - started:.1f} s"
    )

    for check in CHECKS:  # each on its own, to see where the time goes
        started = time.perf_counter()
        result = run_check(check, None)
        assert result.count == 0, result
        print(f"  {check.name:40} {time.perf_counter() - started:6.2f} s")

    baseline()  # warm the cache the same way for both
    best_base = min(baseline() for _ in range(2))
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        call_command("check_integrity", stdout=io.StringIO())
        timings.append(time.perf_counter() - started)
    best = min(timings)
    verdict = "ok" if items < 1_000_000 or best < GOAL else "TOO SLOW"
    print(
        f"check_integrity {items:,} items: {best:6.2f} s | baseline (items by status, "
        f"last history row per item, open loans per reader) {best_base:5.2f} s | "
        f"ratio {best / best_base:4.1f}x | goal < {GOAL:.0f} s at 1 M: {verdict}"
    )


if __name__ == "__main__":
    main()
