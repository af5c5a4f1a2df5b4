"""Benchmark: keeping the holdings summary current while desks change volumes at once, on
PostgreSQL — append-only rows (what `collections_app.services.holdings` does) against one
counter row per group updated in place (INSERT … ON CONFLICT DO UPDATE), beside the raw
baseline of the same transactions keeping no summary at all.

Every desk lends and takes back volumes of one site and one class, so under the counter design
they all update the same two rows (on the shelf, on loan): the hot row the design must avoid.
Each transaction locks one volume and changes its status through `item_transition`, as the
desk's checkout and return do.

    .venv/bin/python bench/holdings_contention.py [--quick]
    (DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/sharedloan_holdings_bench)
"""

import os
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_holdings_contention_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database, make_county  # noqa: E402

fresh_database()

from django.db import OperationalError, connection, transaction  # noqa: E402

import collections_app.services.items as items_module  # noqa: E402
from collections_app.models import HoldingCount, Item, ItemEvent  # noqa: E402
from collections_app.services import holdings  # noqa: E402

QUICK = "--quick" in sys.argv
SECONDS = 2 if QUICK else 8
DESKS = (1, 4)
H, KEY = HoldingCount._meta.db_table, holdings.KEY
COUNTER = "bench_holding_counter"


def counter_record_change(item_ids, *, status, **_unchanged):
    """The alternative: the same −1/+1 per group (a change of status here), added into one
    row per group in place, the rows taken in sorted order."""
    after = NOW_AFTER.replace("i.status", "CAST(%s AS varchar(20))")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {COUNTER} ({KEY}, volumes)
            SELECT {KEY}, SUM(n) FROM (
                SELECT {holdings.now_sql()}, -1 AS n {holdings.FROM_ITEMS} WHERE i.id = ANY(%s)
                UNION ALL
                SELECT {after}, 1 AS n {holdings.FROM_ITEMS} WHERE i.id = ANY(%s)
            ) d
            GROUP BY {KEY} HAVING SUM(n) <> 0 ORDER BY {KEY}
            ON CONFLICT ({KEY}) DO UPDATE SET volumes = {COUNTER}.volumes + EXCLUDED.volumes
            """,
            [list(item_ids), status, list(item_ids)],
        )


NOW_AFTER = (
    "i.library_id, i.owner_id, i.current_site_id, i.consignment_id, t.clc_top, i.display_id, "
    "i.status, CASE WHEN i.last_loan_at IS NULL THEN FALSE ELSE TRUE END, "
    "CAST(date_trunc('month', i.last_loan_at AT TIME ZONE 'UTC') AS date)"
)


VARIANTS = {
    "no summary (raw baseline)": lambda item_ids, **changes: None,
    "append-only rows (chosen)": holdings.record_change,
    "one counter row per group": counter_record_change,
}


def desk(ids, stop, results, index):
    done = waits = failures = 0
    longest = 0.0
    n = 0
    try:
        while not stop.is_set():
            pk = ids[n % len(ids)]
            n += 1
            begun = time.perf_counter()
            try:
                with transaction.atomic():
                    item = Item.objects.select_for_update().get(pk=pk)
                    to = "on_loan" if item.status == "available" else "available"
                    items_module.item_transition(
                        items=[item], kind=ItemEvent.Kind.STATUS_CHANGED, to_status=to
                    )
            except OperationalError:  # a deadlock PostgreSQL broke by aborting one side
                failures += 1
                continue
            elapsed = time.perf_counter() - begun
            longest = max(longest, elapsed)
            waits += elapsed > 0.05
            done += 1
    finally:
        results[index] = (done, waits, failures, longest)
        connection.close()


def run(variant, desks, volumes):
    items_module.record_change = VARIANTS[variant]
    stop, results = threading.Event(), [None] * desks
    per_desk = [volumes[k::desks] for k in range(desks)]  # no two desks lock one volume
    threads = [
        threading.Thread(target=desk, args=(per_desk[k], stop, results, k)) for k in range(desks)
    ]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join()
    done = sum(r[0] for r in results)
    return (
        done / SECONDS,
        sum(r[1] for r in results),
        sum(r[2] for r in results),
        max(r[3] for r in results),
    )


def main():
    county = make_county(volumes=200 if QUICK else 2000, sites=1)
    volumes = list(
        Item.objects.filter(library=county.library, title__clc_top="A").values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {COUNTER} (LIKE {H} INCLUDING DEFAULTS)")
        cursor.execute(f"ALTER TABLE {COUNTER} DROP COLUMN id")
        cursor.execute(f"CREATE UNIQUE INDEX ON {COUNTER} ({KEY}) NULLS NOT DISTINCT")
        cursor.execute(f"INSERT INTO {COUNTER} ({KEY}, volumes) SELECT {KEY}, volumes FROM {H}")
    print(
        f"{len(volumes)} volumes of one class at one site, {SECONDS} s per row; each "
        "transaction locks one volume and lends it or takes it back through item_transition"
    )
    print(
        f"  {'summary kept as':<28} {'desks':>5} {'tx/s':>8} {'÷ raw':>6} "
        f"{'tx > 50 ms':>10} {'deadlocks':>9} {'longest ms':>10}"
    )
    for desks in DESKS:
        raw = None
        for variant in VARIANTS:
            rate, waits, failures, longest = run(variant, desks, volumes)
            raw = rate if raw is None else raw
            print(
                f"  {variant:<28} {desks:>5} {rate:8.0f} {rate / raw:6.2f} {waits:>10} "
                f"{failures:>9} {longest * 1000:10.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
