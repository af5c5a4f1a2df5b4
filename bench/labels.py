"""Benchmark: the barcode and spine label PDF for a whole consignment of 30,000 volumes (60,000
labels on 2,500 A4 sheets), as the label job writes it, beside two baselines:

- the floor: reading the four fields a label needs for every volume from PostgreSQL;
- the HTML route the labels took before: WeasyPrint rendering one sheet of the same labels
  (barcodes as SVG images), times the number of sheets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharedloan_bench \\
        .venv/bin/python bench/labels.py [--quick]

Target: under 60 s for 30,000 volumes on 2 cores. --quick does 3,000 volumes (about 3 s of
either run is the font subset, whatever the count).
"""

import base64
import io
import logging
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

from bench.benchdb import fresh_database, make_county  # noqa: E402

QUICK = "--quick" in sys.argv
VOLUMES = 3_000 if QUICK else 30_000
TARGET_S = 60  # for 30,000 volumes; --quick only checks the route and prints the rates

fresh_database()

from django.template.loader import render_to_string  # noqa: E402

from collections_app import labels  # noqa: E402
from jobs.models import Job  # noqa: E402
from jobs.services import job_start  # noqa: E402


def svg(code: str) -> str:
    from barcode import Code128
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    Code128(code, writer=SVGWriter()).write(
        out, options={"module_width": 0.25, "module_height": 10, "write_text": False}
    )
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def weasyprint_sheet(volumes: list, layout: labels.Layout) -> float:
    """Seconds WeasyPrint takes for one sheet of the labels, laid out as HTML."""
    for name in ("weasyprint", "weasyprint.progress"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from weasyprint import HTML

    page = []
    for volume in volumes:
        klass, book = labels.split_call_number(volume.call_number, volume.clc)
        common = {
            "barcode": volume.barcode,
            "title": labels.short_title(volume.title),
            "call_number": volume.call_number or volume.clc,
            "klass": klass,
            "book": book,
        }
        page.append({**common, "kind": "barcode", "svg": svg(volume.barcode)})
        page.append({**common, "kind": "spine"})
    font = labels._font_path()
    started = time.perf_counter()
    html = render_to_string(
        "collections_app/receiving/labels_pdf.html",
        {
            "pages": [page[: layout.per_page]],
            "layout": layout,
            "width": f"{layout.label_width_mm:.2f}mm",
            "height": f"{layout.label_height_mm:.2f}mm",
            "margin": f"{labels.MARGIN_MM}mm",
            "gap": f"{labels.GAP_MM}mm",
            "font_url": f"file://{font}" if font else "",
        },
    )
    HTML(string=html).write_pdf()
    return time.perf_counter() - started


def main():
    county = make_county(volumes=VOLUMES, sites=3)
    items = county.consignment.items.order_by("barcode")
    layout = labels.Layout(columns=3, rows=8, kind="both")
    sheets = -(-VOLUMES * 2 // layout.per_page)

    started = time.perf_counter()
    sample = list(labels.volumes(items))
    floor = time.perf_counter() - started

    one_sheet = weasyprint_sheet(sample[: layout.per_page // 2], layout)

    started = time.perf_counter()
    pdf = labels.labels_pdf(items, layout=layout)
    direct = time.perf_counter() - started

    # The same through a job, as the page starts it (immediate backend: inside this process).
    from django.test import override_settings

    immediate = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    started = time.perf_counter()
    with override_settings(TASKS=immediate):
        job = job_start(
            kind=Job.Kind.LABELS,
            user=county.librarian,
            library=county.library,
            params={
                "consignment": county.consignment.pk,
                "layout": {"columns": 3, "rows": 8, "kind": "both", "skip": 0},
            },
        )
    as_job = time.perf_counter() - started
    assert job.status == "succeeded", job.error

    print(f"labels for {VOLUMES:,} volumes ({VOLUMES * 2:,} labels, {sheets:,} sheets)")
    print(f"  floor: read the label fields from PostgreSQL  {floor:8.2f} s")
    print(
        f"  baseline: WeasyPrint, one sheet {one_sheet:.2f} s × {sheets:,} sheets"
        f"  {one_sheet * sheets:8.1f} s"
    )
    print(
        f"  PDF written directly  {direct:8.2f} s  ({len(pdf) / 1e6:.1f} MB; "
        f"{direct / floor:.0f}× the floor, "
        f"{one_sheet * sheets / direct:.0f}× faster than WeasyPrint)"
    )
    print(f"  as a background job (stored in the database)  {as_job:8.2f} s")
    ok = as_job < TARGET_S
    print(f"  target for {VOLUMES:,} volumes under {TARGET_S} s: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
