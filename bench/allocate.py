"""Benchmark: allocate 5,000 volumes from the central library to a service point in one action
(draft transfer with 5,000 lines, dispatch: items in transit, 5,000 history rows), on
PostgreSQL, beside the raw baseline: one `UPDATE … FROM unnest(...)` of the same rows plus the
history insert, as hand-written SQL.

    .venv/bin/python bench/allocate.py      (DATABASE_URL defaults to sharedloan_allocate_bench)
    .venv/bin/python bench/allocate.py --quick     (500 volumes, for CI)
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_allocate_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database  # noqa: E402

fresh_database()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.benchdb import make_county  # noqa: E402
from collections_app.models import Item, ItemEvent, Transfer  # noqa: E402
from collections_app.services.transfers import (  # noqa: E402
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)

QUICK = "--quick" in sys.argv
VOLUMES = 500 if QUICK else 5000
ROUNDS = 3


def allocate(county, items):
    transfer = transfer_create(
        user=county.librarian,
        source=county.central,
        destination=county.sites[0],
        reason=Transfer.Reason.ALLOCATION,
    )
    transfer_add_items(user=county.librarian, transfer=transfer, items=items)
    transfer_dispatch(user=county.librarian, transfer=transfer)
    return transfer


def raw_allocate(county, ids):
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Item._meta.db_table} AS item SET status = 'in_transit', status_changed_at = %s
            FROM unnest(%s::bigint[]) AS moving(id) WHERE item.id = moving.id
            """,
            [now, ids],
        )
        cursor.execute(
            f"""
            INSERT INTO {ItemEvent._meta.db_table}
                (library_id, item_id, kind, at, from_status, to_status, from_site_id, to_site_id,
                 note, user_id)
            SELECT %s, moving.id, 'dispatched', %s, 'available', 'in_transit', %s, %s, '', %s
            FROM unnest(%s::bigint[]) AS moving(id)
            """,
            [
                county.library.pk,
                now,
                county.central.pk,
                county.sites[0].pk,
                county.librarian.pk,
                ids,
            ],
        )


def reset(ids):
    Item.objects.filter(pk__in=ids).update(status="available")
    ItemEvent.objects.all().delete()
    Transfer.objects.all().delete()


def main():
    county = make_county(volumes=VOLUMES, sites=3)
    items = list(Item.objects.filter(library=county.library).order_by("pk"))
    ids = [item.pk for item in items]
    ours, raw = [], []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        transfer = allocate(county, items)
        ours.append(time.perf_counter() - started)
        assert Item.objects.filter(status="in_transit").count() == VOLUMES
        assert transfer.lines.count() == VOLUMES
        reset(ids)
        started = time.perf_counter()
        raw_allocate(county, ids)
        raw.append(time.perf_counter() - started)
        assert ItemEvent.objects.count() == VOLUMES
        reset(ids)
    best, baseline = min(ours), min(raw)
    print(
        f"allocate {VOLUMES} volumes (create+lines+dispatch+history): {best:.3f} s "
        f"| raw UPDATE…FROM unnest + history INSERT: {baseline:.3f} s "
        f"| ratio {best / baseline:.1f}x | goal < 3 s for 5000"
    )


if __name__ == "__main__":
    main()
