"""Printable labels for NLC volumes: a barcode label (Code 128, the barcode in text, a short title,
the call number) and a spine label (CLC class over book number), each with the marking
国家图书馆共享借阅. A4 sheets with a configurable grid; WeasyPrint embeds the Chinese font
(WenQuanYi Zen Hei, the fonts-wqy-zenhei package) as a subset in the PDF."""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass

from django.template.loader import render_to_string

MAX_LABELS = 1000
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_MM, GAP_MM = 8, 2
FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
]


@dataclass(frozen=True)
class Layout:
    columns: int = 3
    rows: int = 8
    kind: str = "both"  # "barcode", "spine" or "both"
    skip: int = 0

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def label_width_mm(self) -> float:
        return (PAGE_WIDTH_MM - 2 * MARGIN_MM - (self.columns - 1) * GAP_MM) / self.columns

    @property
    def label_height_mm(self) -> float:
        return (PAGE_HEIGHT_MM - 2 * MARGIN_MM - (self.rows - 1) * GAP_MM) / self.rows


def barcode_svg(code: str) -> str:
    """Code 128 as an SVG data URI, bars only (the digits are printed as text below)."""
    from barcode import Code128
    from barcode.writer import SVGWriter

    out = io.BytesIO()
    Code128(code, writer=SVGWriter()).write(
        out,
        options={
            "module_width": 0.25,
            "module_height": 10,
            "quiet_zone": 2,
            "write_text": False,
            "background": "white",
            "foreground": "black",
        },
    )
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def short_title(title: str, length: int = 14) -> str:
    return title if len(title) <= length else title[: length - 1] + "…"


def split_call_number(call_number: str, clc: str) -> tuple[str, str]:
    """ "I247.57/12" → ("I247.57", "12"); without a book number, the class alone."""
    call_number = (call_number or clc or "").strip()
    head, _sep, tail = call_number.partition("/")
    return head, tail


def _labels(items, layout: Layout) -> list[dict]:
    out: list[dict] = [{"kind": "blank"} for _ in range(layout.skip)]
    for item in items:
        klass, book = split_call_number(item.call_number, item.title.clc)
        common = {
            "barcode": item.barcode,
            "title": short_title(item.title.title),
            "call_number": item.call_number or item.title.clc,
            "klass": klass,
            "book": book,
        }
        if layout.kind in ("barcode", "both"):
            out.append({**common, "kind": "barcode", "svg": barcode_svg(item.barcode)})
        if layout.kind in ("spine", "both"):
            out.append({**common, "kind": "spine"})
    return out


def labels_html(items, *, layout: Layout) -> str:
    labels = _labels(items, layout)
    pages = [labels[i : i + layout.per_page] for i in range(0, len(labels), layout.per_page)]
    font = next((path for path in FONT_FILES if os.path.exists(path)), "")
    return render_to_string(
        "collections_app/receiving/labels_pdf.html",
        {
            "pages": pages,
            "layout": layout,
            "width": f"{layout.label_width_mm:.2f}mm",
            "height": f"{layout.label_height_mm:.2f}mm",
            "margin": f"{MARGIN_MM}mm",
            "gap": f"{GAP_MM}mm",
            "font_url": f"file://{font}" if font else "",
        },
    )


def labels_pdf(items, *, layout: Layout, **options) -> bytes:
    """`options` go to WeasyPrint's write_pdf (the tests ask for an uncompressed file)."""
    from weasyprint import HTML

    return HTML(string=labels_html(items, layout=layout)).write_pdf(**options)
