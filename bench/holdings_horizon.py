"""Benchmark: the holdings summary's rows and the province's holdings read when the volumes'
last loans spread over ten years (docs/scale.md, "The holdings summary's rows grow with the
months of last loan").

On the province bench/report_pages.py builds (20 counties, 500,000 volumes) when DATABASE_URL
names its database, or else on a province of the same size built here in a fresh database
(`--quick`: 3 counties of 2,000 volumes, as CI runs it), inside one transaction that is rolled
back: every lent volume's last loan is spread over the `--years`
before today, the summary is counted afresh (`holdings_rebuild`) and folded (`holdings_fold`,
the nightly job), and then the province's holdings (held, never lent, idle by site × class,
what 馆藏与周转 shows) are read from the summary for idle questions of 90 days and of one, two,
five and ten years, each beside the same figures counted by one SQL statement over the volumes
(the raw baseline), with the same `work_mem`. The figures must agree.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharedloan_reports_bench \
        .venv/bin/python bench/holdings_horizon.py [--years 10]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharedloan_bench \
        .venv/bin/python bench/holdings_horizon.py --quick

The province built here has volumes and their last loans but no loan history: its figures are
the holdings', comparable with report_pages.py's only in what they read.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_reports_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

import argparse  # noqa: E402

import django  # noqa: E402

ARGS = argparse.ArgumentParser()
ARGS.add_argument("--years", type=int, default=10, help="last loans spread over these years")
ARGS.add_argument("--rounds", type=int, default=5, help="best of this many reads")
ARGS.add_argument("--quick", action="store_true", help="3 counties of 2,000 volumes: for CI")
OPTIONS = ARGS.parse_args()
if OPTIONS.quick:
    OPTIONS.rounds = 1
django.setup()

from datetime import timedelta  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.scope import LoanScope  # noqa: E402
from bench.benchdb import best_of, ensure_database, fresh_database, make_county  # noqa: E402
from circulation.integrity import CHECKS, run_check  # noqa: E402
from circulation.models import Loan  # noqa: E402
from collections_app.models import HoldingCount, Item, Library, Title  # noqa: E402
from collections_app.services.holdings import holdings_fold, holdings_rebuild  # noqa: E402
from reports.engine.holdings import Holdings  # noqa: E402


def timed(fn, rounds=OPTIONS.rounds):
    return best_of(fn, rounds)


def raw_counts(province, idle_since) -> dict:
    """The page's figures as one statement over the volumes: the baseline."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '64MB'")  # as the summary's read has it
        cursor.execute(
            f"""
            SELECT i.current_site_id, t.clc_top, COUNT(*),
                COUNT(*) FILTER (WHERE i.last_loan_at IS NULL),
                COUNT(*) FILTER (WHERE i.status = 'available'
                    AND (i.last_loan_at IS NULL OR i.last_loan_at < %s))
            FROM {Item._meta.db_table} i JOIN {Title._meta.db_table} t ON t.id = i.title_id
            WHERE i.status IN ('available', 'on_loan', 'in_transit')
              AND i.library_id IN (SELECT id FROM {Library._meta.db_table} WHERE province_id = %s)
            GROUP BY 1, 2
            """,
            [idle_since, province.pk],
        )
        return {
            (site, clc): {"held": held, "never": never, "idle": idle}
            for site, clc, held, never, idle in cursor.fetchall()
        }


def province_of_its_own(counties: int, volumes: int):
    """A province of `counties` counties in a fresh database, two volumes in three lent once
    (the spread below moves their last loans over the years)."""
    connection.close()  # the look for a province left it open on the database dropped here
    fresh_database()
    hubei = Library.objects.create(code="HB", name="湖北省图书馆", kind=Library.Kind.PROVINCIAL)
    User.objects.create_user("hubei", password="x", library=hubei, role="provincial")
    for n in range(counties):
        county = make_county(volumes=volumes, sites=4, code=f"C{n:02}")
        Library.objects.filter(pk=county.library.pk).update(province=hubei)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Item._meta.db_table} SET last_loan_at = %s WHERE id %% 3 <> 0",
            [timezone.now()],
        )
    holdings_rebuild()


def main():
    ensure_database()
    built = User._meta.db_table in connection.introspection.table_names()
    if OPTIONS.quick and built and Loan.objects.count() > 1_000_000:
        raise SystemExit(
            "refusing --quick on a database of over a million loans: it would drop a full "
            "benchmark province (name a database of its own in DATABASE_URL)"
        )
    if OPTIONS.quick or not (built and User.objects.filter(username="hubei").exists()):
        province_of_its_own(*((3, 2_000) if OPTIONS.quick else (20, 25_000)))
    hubei = User.objects.get(username="hubei")
    scope = LoanScope.for_user(hubei)
    now = timezone.now()
    check = next(c for c in CHECKS if c.name == "holdings_summary_matches_items")
    with transaction.atomic():
        start = time.perf_counter()
        with connection.cursor() as cursor:
            # Every lent volume's last loan somewhere in the years before today, to the second.
            cursor.execute(
                f"""
                UPDATE {Item._meta.db_table}
                SET last_loan_at = %s - ((id * 7919) %% %s) * interval '1 day'
                                      - ((id * 31) %% 86400) * interval '1 second'
                WHERE last_loan_at IS NOT NULL
                """,
                [now, OPTIONS.years * 365],
            )
            spread = cursor.rowcount
            # As autovacuum would after so large a change (rolled back with the rest).
            cursor.execute(f"ANALYZE {Item._meta.db_table}, {Title._meta.db_table}")
            cursor.execute(
                f"SELECT COUNT(DISTINCT date_trunc('month', last_loan_at AT TIME ZONE 'UTC')) "
                f"FROM {Item._meta.db_table}"
            )
            months = cursor.fetchone()[0]
        print(
            f"{Item.objects.count():,} volumes, {spread:,} lent over {OPTIONS.years} years "
            f"({months} months), spread in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        start = time.perf_counter()
        holdings_rebuild()
        rebuilt = time.perf_counter() - start
        start = time.perf_counter()
        rows = holdings_fold()
        folded = time.perf_counter() - start
        groups = (
            HoldingCount.objects.values(
                "library", "owner", "site", "consignment", "clc_top", "display", "status", "lent"
            )
            .distinct()
            .order_by()
            .count()
        )
        print(
            f"summary after the fold: {rows:,} rows for {groups:,} groups "
            f"(rebuild {rebuilt:.1f} s, fold {folded:.1f} s)",
            flush=True,
        )
        check_s = timed(lambda: run_check(check, None), rounds=2)
        assert run_check(check, None).count == 0, "check_integrity finds the summary wrong"
        print(f"check_integrity's holdings comparison: {check_s:.2f} s, clean", flush=True)
        print(f"\n  {'idle question':<16} {'summary s':>10} {'raw SQL s':>10} {'raw/summary':>12}")
        for days in (90, 365, 730, 1825, 3650):
            since = now - timedelta(days=days)
            got = {}

            def read(since=since, got=got):
                got.update(Holdings(scope, idle_since=since).by(["site", "clc_top"]))

            summary_s = timed(read)
            raw = {}
            raw_s = timed(lambda since=since, raw=raw: raw.update(raw_counts(hubei.library, since)))
            assert got == raw, f"the summary disagrees with the volumes at {days} days"
            print(
                f"  {days:>4} days{'':8} {summary_s:10.3f} {raw_s:10.3f}"
                f" {raw_s / summary_s:11.1f}×  (same figures)",
                flush=True,
            )
        transaction.set_rollback(True)


if __name__ == "__main__":
    main()
