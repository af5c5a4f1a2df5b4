"""Benchmark: import a 30,000-volume NLC manifest (CSV, then XLSX) into PostgreSQL, from the
uploaded bytes to the commit (read, validate, check barcodes against the database, write titles,
items and their history rows), beside two raw baselines measured in the same run:

- read + COPY: the same file read by the plain reader of its format (openpyxl in read-only mode,
  `iter_rows(values_only=True)`, for XLSX; the csv module for CSV), its rows written by COPY
  into the same tables: what any import of that file pays before it checks anything;
- COPY alone: the same rows, already in memory, written by COPY: the floor of the writes.

Each import runs in a forked child so that its peak memory (ru_maxrss) is its own. Then the scan
desk: server time of single scans against the 30,000 expected items.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharedloan_bench \
        .venv/bin/python bench/import_consignment.py

    .venv/bin/python bench/import_consignment.py --quick     (3,000 volumes, 100 scans, for CI)

Targets: under 15 s and 300 MB per import on 2 cores; within 3x of read + COPY; scans < 100 ms.
The machine is shared: the ratios, each taken in one run, say more than the seconds.
"""

import csv
import io
import multiprocessing
import os
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

from bench.benchdb import fresh_database  # noqa: E402

fresh_database()

from datetime import date  # noqa: E402

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from collections_app.models import (  # noqa: E402
    Consignment,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
)
from collections_app.services.receiving import (  # noqa: E402
    consignment_import,
    consignment_scan,
    consignment_start_receiving,
)
from collections_app.tests.manifest_files import csv_bytes, rows, xlsx_bytes  # noqa: E402
from collections_app.title_keys import title_search_keys  # noqa: E402

QUICK = "--quick" in sys.argv
VOLUMES = 3_000 if QUICK else 30_000
SCANS = 100 if QUICK else 300
MB = 1024  # ru_maxrss is in KiB on Linux


def setup():
    nlc = Library.objects.create(code="NLC", name="国家图书馆", kind=Library.Kind.NATIONAL)
    county = Library.objects.create(code="BENCH", name="基准县图书馆", kind=Library.Kind.COUNTY)
    Site.objects.create(library=county, code="central", name="总馆", kind=Site.Kind.CENTRAL)
    librarian = User.objects.create_user(
        username="bench-librarian", password="x", library=county, role="librarian"
    )
    return nlc, county, librarian


def consignment(nlc, county, reference):
    return Consignment.objects.create(
        library=county, lender=nlc, reference=reference, agreement_date=date(2024, 3, 1)
    )


def in_child(function, *args):
    """Run `function` in a forked process; return (its result, its peak RSS in MB)."""
    connection.close()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()

    def child():
        result = function(*args)
        connection.close()
        queue.put((result, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / MB))

    process = context.Process(target=child)
    process.start()
    result = queue.get()
    process.join()
    assert process.exitcode == 0
    return result


def timed_import(librarian_pk, consignment_pk, data, filename):
    librarian = User.objects.get(pk=librarian_pk)
    target = Consignment.objects.get(pk=consignment_pk)
    started = time.perf_counter()
    result = consignment_import(user=librarian, consignment=target, data=data, filename=filename)
    elapsed = time.perf_counter() - started
    assert result.committed, result.summary()
    return elapsed


def read_plain(data: bytes, label: str) -> list[list[str]]:
    """The data rows of the file as its format's plain reader gives them, nothing checked."""
    if label == "XLSX":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet_rows = list(workbook.worksheets[0].iter_rows(values_only=True))
        workbook.close()
    else:
        sheet_rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    return [list(row) for row in sheet_rows[1:]]


def copy_baseline(nlc, county, prefix, data_rows=None, *, data=None, label="", keys=None):
    """The same titles, items and history rows, written by COPY with ids drawn in one query:
    the floor of what any import can do on this machine. With `data`, the timed part starts
    from the file's bytes, read by the plain reader of its format (`read_plain`). `keys`: the
    titles' pinyin search keys, worked out before the clock starts (the import works them out
    as it goes; here only the bytes written must be the same)."""
    target = consignment(nlc, county, f"COPY-{prefix}")
    site = Site.objects.get(library=county, kind=Site.Kind.CENTRAL)
    now = timezone.now()
    started = time.perf_counter()
    if data is not None:
        data_rows = read_plain(data, label)
    n = len(data_rows)
    with transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor, for COPY

        def ids(table):
            raw.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, n],
            )
            return [row[0] for row in raw.fetchall()]

        title_ids, item_ids = ids(Title._meta.db_table), ids(Item._meta.db_table)
        with raw.copy(
            f"COPY {Title._meta.db_table} (id, library_id, isbn, title, responsibility, "
            "publisher, year, clc, clc_top, price, marc, created_at, title_pinyin, "
            "title_initials) FROM STDIN"
        ) as copy:
            for pk, row in zip(title_ids, data_rows, strict=True):
                copy.write_row(
                    (pk, county.pk, row[1], row[2], row[3], row[4], int(row[5]), row[6],
                     row[6][0], row[8], "", now, *keys[row[2]])
                )  # fmt: skip
        with raw.copy(
            f"COPY {Item._meta.db_table} (id, library_id, barcode, title_id, consignment_id, "
            "owner_id, call_number, home_site_id, current_site_id, status, status_changed_at) "
            "FROM STDIN"
        ) as copy:
            for pk, title_pk, row in zip(item_ids, title_ids, data_rows, strict=True):
                copy.write_row(
                    (pk, county.pk, prefix + row[0], title_pk, target.pk, nlc.pk, row[7],
                     site.pk, site.pk, "expected", now)
                )  # fmt: skip
        with raw.copy(
            f"COPY {ItemEvent._meta.db_table} (library_id, item_id, kind, at, from_status, "
            "to_status, from_site_id, to_site_id, note) FROM STDIN"
        ) as copy:
            for pk in item_ids:
                copy.write_row(
                    (county.pk, pk, "imported", now, "", "expected", site.pk, site.pk, "")
                )
    return time.perf_counter() - started


def scan_latency(librarian, target):
    consignment_start_receiving(user=librarian, consignment=target)
    barcodes = list(target.items.order_by("?").values_list("barcode", flat=True)[:SCANS])
    barcodes[::10] = [f"UNKNOWN{n:05}" for n in range(len(barcodes[::10]))]
    times = []
    for code in barcodes:
        started = time.perf_counter()
        consignment_scan(user=librarian, consignment=target, barcode=code)
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return times


def main():
    nlc, county, librarian = setup()
    data_rows = rows(VOLUMES)
    xlsx_rows = rows(VOLUMES, prefix="XL21")
    files = {"CSV": (csv_bytes(data_rows), data_rows), "XLSX": (xlsx_bytes(xlsx_rows), xlsx_rows)}
    keys = {row[2]: tuple(title_search_keys(row[2]).values()) for row in data_rows + xlsx_rows}
    print(f"import of a {VOLUMES:,}-volume manifest into PostgreSQL (upload to commit)")
    first = None
    for label, (data, file_rows) in files.items():
        target = consignment(nlc, county, f"BENCH-{label}")
        first = first or target
        elapsed, peak = in_child(timed_import, librarian.pk, target.pk, data, f"m.{label}")
        assert target.items.count() == VOLUMES
        read_copy = copy_baseline(nlc, county, f"R{label[0]}", data=data, label=label, keys=keys)
        copy_only = copy_baseline(nlc, county, f"C{label[0]}", file_rows, keys=keys)
        reader = "openpyxl read-only" if label == "XLSX" else "csv module"
        print(
            f"  {label:<5} {len(data) / 1e6:5.1f} MB  import {elapsed:6.2f} s   "
            f"peak RSS {peak:5.0f} MB   {VOLUMES / elapsed:,.0f} volumes/s\n"
            f"        baseline read ({reader}) + COPY {read_copy:6.2f} s   "
            f"ratio {elapsed / read_copy:4.1f}x (goal within 3x)\n"
            f"        baseline COPY alone {copy_only:6.2f} s   ratio {elapsed / copy_only:4.1f}x"
        )
    times = scan_latency(librarian, first)
    print(
        f"scan-in with {VOLUMES:,} expected items ({SCANS} scans, 1 in 10 unknown): "
        f"median {statistics.median(times):.1f} ms, p95 {times[int(0.95 * len(times))]:.1f} ms, "
        f"max {times[-1]:.1f} ms (target < 100 ms)"
    )


if __name__ == "__main__":
    main()
