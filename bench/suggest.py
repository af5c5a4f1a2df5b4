"""Benchmark: plan suggested moves for 30,000 volumes over 50 sites from half a year of
checkouts, on PostgreSQL. Printed beside the raw baseline (the same per-site, per-class counts
as hand-written SQL) and, for the plan's quality, the expected extra loans of the optimal plan
against a greedy one.

    .venv/bin/python bench/suggest.py
    .venv/bin/python bench/suggest.py --quick     (3,000 volumes over 10 sites, for CI)
"""

import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_suggest_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database  # noqa: E402

fresh_database()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.benchdb import make_county  # noqa: E402
from collections_app import move_planning as planner  # noqa: E402
from collections_app.models import Item, ItemEvent, Site  # noqa: E402

QUICK = "--quick" in sys.argv
VOLUMES = 3_000 if QUICK else 30_000
SITES = 10 if QUICK else 50
CHECKOUTS = VOLUMES  # half a year of a county that lends about 60,000 a year


def spread(county):
    """Scatter the volumes over the sites, and give each site its own tastes."""
    rng = random.Random(2021)
    sites = [county.central, *county.sites]
    Site.objects.filter(pk__in=[s.pk for s in county.sites]).update(
        capacity=VOLUMES // SITES * 7 // 6  # a sixth of room to spare
    )
    ids = list(Item.objects.filter(library=county.library).values_list("pk", flat=True))
    rng.shuffle(ids)
    with connection.cursor() as cursor:
        for n, site in enumerate(sites):
            share = ids[n :: len(sites)]
            cursor.execute(
                f"UPDATE {Item._meta.db_table} SET current_site_id = %s, home_site_id = %s "
                "WHERE id = ANY(%s)",
                [site.pk, site.pk, share],
            )
    items = list(
        Item.objects.filter(library=county.library).values_list(
            "pk", "current_site", "title__clc_top"
        )
    )
    by_site = {}
    for pk, site_id, clc in items:
        by_site.setdefault(site_id, []).append((pk, clc))
    classes = "ABCDEFGHIJKNOPQRSTUVXZ"
    now = timezone.now()
    events = []
    for site in sites:
        liked = set(rng.sample(classes, 3))
        everything = by_site[site.pk]
        pool = [(pk, clc) for pk, clc in everything if clc in liked] or everything
        for _ in range(CHECKOUTS // len(sites)):
            # Two loans in three come from the site's favourite classes.
            pk, _clc = rng.choice(pool if rng.random() < 2 / 3 else everything)
            events.append(
                ItemEvent(
                    library=county.library,
                    item_id=pk,
                    kind="checked_out",
                    at=now - timedelta(days=rng.randint(0, 170)),
                    from_status="available",
                    to_status="on_loan",
                    from_site=site,
                    to_site=site,
                )
            )
    ItemEvent.objects.bulk_create(events, batch_size=10_000)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Item._meta.db_table} AS item SET last_loan_at = recent.at FROM "
            f"(SELECT item_id, max(at) AS at FROM {ItemEvent._meta.db_table} GROUP BY item_id) "
            "AS recent WHERE recent.item_id = item.id"
        )
        cursor.execute("ANALYZE")


def raw_counts(county):
    now = timezone.now()
    items, events = Item._meta.db_table, ItemEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.current_site_id, t.clc_top, count(*) FROM {items} i "
            "JOIN collections_app_title t ON t.id = i.title_id WHERE i.library_id = %s "
            "AND i.status IN ('available', 'on_loan') GROUP BY 1, 2",
            [county.library.pk],
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT i.current_site_id, t.clc_top, count(*) FROM {items} i "
            "JOIN collections_app_title t ON t.id = i.title_id WHERE i.library_id = %s "
            "AND i.status = 'available' AND (i.last_loan_at IS NULL OR i.last_loan_at < %s) "
            "GROUP BY 1, 2",
            [county.library.pk, now - timedelta(days=90)],
        )
        cursor.fetchall()
        cursor.execute(
            f"SELECT e.from_site_id, t.clc_top, count(*) FROM {events} e JOIN {items} i "
            "ON i.id = e.item_id JOIN collections_app_title t ON t.id = i.title_id "
            "WHERE e.library_id = %s AND e.kind = 'checked_out' AND e.at >= %s GROUP BY 1, 2",
            [county.library.pk, now - timedelta(days=180)],
        )
        cursor.fetchall()


def main():
    county = make_county(volumes=VOLUMES, sites=SITES - 1)
    spread(county)
    timings, raws = [], []
    for _ in range(3):
        started = time.perf_counter()
        inputs = planner.gather(county.library)
        gathered = time.perf_counter()
        plan = planner.plan_moves(inputs)
        timings.append((time.perf_counter() - started, gathered - started))
        started = time.perf_counter()
        raw_counts(county)
        raws.append(time.perf_counter() - started)
    (total, gather), raw = min(timings), min(raws)
    print(
        f"suggestions for {VOLUMES} volumes over {SITES} sites: {total:.3f} s "
        f"(counts {gather:.3f} s, optimisation {total - gather:.3f} s) | raw SQL counts: "
        f"{raw:.3f} s | counts ratio {gather / raw:.1f}x | goal < 10 s for 30000"
    )
    print(
        f"plan moves {plan.volumes} volumes in {len(plan.suggestions)} moves; expected extra "
        f"loans {plan.gain:.0f} against {plan.greedy_gain:.0f} for a greedy plan "
        f"(+{100 * (plan.gain / plan.greedy_gain - 1) if plan.greedy_gain else 0:.1f}%)"
    )


if __name__ == "__main__":
    main()
