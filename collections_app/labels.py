"""Printable labels for NLC volumes: a barcode label (Code 128, the barcode in text, a short title,
the call number) and a spine label (CLC class over book number), each with the marking
国家图书馆共享借阅, on A4 sheets with a configurable grid.

The PDF is written here directly — bars as filled rectangles, text in the Chinese font
(WenQuanYi Zen Hei, the fonts-wqy-zenhei package) embedded as a subset, the digits in Courier —
rather than through an HTML renderer: WeasyPrint lays out about one sheet a second on these
machines, so a consignment of 30,000 volumes (60,000 labels, 2,500 sheets) took most of an hour;
this writer does it in well under a minute (bench/labels.py prints both)."""

from __future__ import annotations

import io
import logging
import os
import re
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

MAX_LABELS = 30000
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 210, 297
MARGIN_MM, GAP_MM = 8, 2
PAD_X_MM, PAD_Y_MM = 2, 1.2
FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
]
# The NLC's marking on its property, in Chinese whatever the page language.
MARK = "国家图书馆共享借阅"
PT_PER_MM = 72 / 25.4
MARK_RGB = "0.62 0.106 0.106"


def mm(value: float) -> float:
    return value * PT_PER_MM


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


def code128_modules(code: str) -> str:
    """The bar pattern of `code` in Code 128, one character per module ("1" a bar)."""
    from barcode.codex import Code128

    return Code128(code).build()[0]


_RUN = re.compile("1+")


def _bars(modules: str) -> str:
    """The bars of a module pattern as unit-high rectangles, one module wide each unit."""
    return " ".join(
        f"{run.start()} 0 {run.end() - run.start()} 1 re" for run in _RUN.finditer(modules)
    )


def short_title(title: str, length: int = 14) -> str:
    return title if len(title) <= length else title[: length - 1] + "…"


def split_call_number(call_number: str, clc: str) -> tuple[str, str]:
    """ "I247.57/12" → ("I247.57", "12"); without a book number, the class alone."""
    call_number = (call_number or clc or "").strip()
    head, _sep, tail = call_number.partition("/")
    return head, tail


@dataclass(frozen=True)
class Volume:
    barcode: str
    call_number: str
    title: str
    clc: str


def volumes(items) -> Iterable[Volume]:
    """The four fields a label needs, read in chunks (30,000 model instances would not)."""
    rows = items.values_list("barcode", "call_number", "title__title", "title__clc")
    for barcode, call_number, title, clc in rows.iterator(chunk_size=2000):
        yield Volume(barcode, call_number or "", title or "", clc or "")


class CjkFont:
    """The embedded Chinese font: glyph ids and widths for the text drawn, then a subset of the
    glyphs used (ids kept, so the page streams need no renumbering)."""

    def __init__(self, path: str):
        from fontTools.ttLib import TTFont

        self.path = path
        self.font = TTFont(path, fontNumber=0, lazy=True)
        self.cmap = self.font.getBestCmap()
        self.hmtx = self.font["hmtx"]
        self.scale = 1000 / self.font["head"].unitsPerEm
        self.used: dict[int, str] = {}
        self.widths: dict[int, int] = {}
        self._glyph: dict[str, tuple[int, float]] = {}

    def glyph(self, char: str) -> tuple[int, float]:
        found = self._glyph.get(char)
        if found is None:
            name = self.cmap.get(ord(char))
            if name is None:
                found = (0, 500.0)
            else:
                gid = self.font.getGlyphID(name)
                found = (gid, round(self.hmtx[name][0] * self.scale))
                self.used[gid] = char
                self.widths[gid] = found[1]
            self._glyph[char] = found
        return found

    def width(self, text: str, size: float) -> float:
        return sum(self.glyph(char)[1] for char in text) * size / 1000

    def fit(self, text: str, size: float, room: float) -> str:
        if self.width(text, size) <= room:
            return text
        while text and self.width(text + "…", size) > room:
            text = text[:-1]
        return text + "…"

    def encode(self, text: str) -> str:
        return "<" + "".join(f"{self.glyph(char)[0]:04X}" for char in text) + ">"

    def subset(self) -> bytes:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        # The subsetter reports every table it drops, which the project's root logger would show.
        logging.getLogger("fontTools").setLevel(logging.ERROR)

        options = subset.Options()
        options.retain_gids = True
        options.hinting = False
        options.notdef_outline = True
        options.name_IDs = []
        options.layout_features = []
        font = TTFont(self.path, fontNumber=0)
        subsetter = subset.Subsetter(options)
        subsetter.populate(gids=sorted({0, *self.used}))
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()


@lru_cache(maxsize=1)
def _font_path() -> str:
    return next((path for path in FONT_FILES if os.path.exists(path)), "")


def _pdf_text(text: str) -> str:
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


class Sheet:
    """Draws labels on pages; `pdf()` writes the file."""

    def __init__(self, layout: Layout, font: CjkFont | None):
        self.layout = layout
        self.font = font
        self.pages: list[list[str]] = []
        self.slot = 0
        self.w = mm(layout.label_width_mm)
        self.h = mm(layout.label_height_mm)
        self._shaped: dict[tuple, tuple[float, str]] = {}

    def _cell(self) -> tuple[float, float]:
        """The next label's bottom-left corner, starting a page when the last one is full."""
        index = self.slot % self.layout.per_page
        if index == 0:
            self.pages.append([])
        self.slot += 1
        row, column = divmod(index, self.layout.columns)
        x = mm(MARGIN_MM) + column * (self.w + mm(GAP_MM))
        top = mm(PAGE_HEIGHT_MM - MARGIN_MM) - row * (self.h + mm(GAP_MM))
        return x, top - self.h

    def blank(self) -> None:
        self._cell()

    def _cjk(self, ops: list[str], text: str, size: float, cx: float, y: float, room: float):
        if self.font is None:
            text = text.encode("ascii", "replace").decode()
            ops.append(
                f"BT /F2 {size:g} Tf {cx - len(text) * size * 0.3:.2f} {y:.2f} Td "
                f"{_pdf_text(text)} Tj ET"
            )
            return
        key = (text, size, room)
        shaped = self._shaped.get(key)
        if shaped is None:
            text = self.font.fit(text, size, room)
            shaped = (self.font.width(text, size) / 2, self.font.encode(text))
            if len(self._shaped) < 64:  # the marking and other repeated lines
                self._shaped[key] = shaped
        ops.append(f"BT /F1 {size:g} Tf {cx - shaped[0]:.2f} {y:.2f} Td {shaped[1]} Tj ET")

    def _mono(self, ops: list[str], text: str, font: str, size: float, cx: float, y: float):
        x = cx - len(text) * size * 0.6 / 2
        ops.append(f"BT /{font} {size:g} Tf {x:.2f} {y:.2f} Td {_pdf_text(text)} Tj ET")

    def _frame(self, ops: list[str], x: float, y: float) -> None:
        ops.append(
            f"0.73 0.73 0.73 RG 0.57 w [1.7 1.1] 0 d {x:.2f} {y:.2f} {self.w:.2f} {self.h:.2f} re S"
        )

    def barcode_label(self, volume: Volume) -> None:
        x, y = self._cell()
        ops = self.pages[-1]
        self._frame(ops, x, y)
        cx, room = x + self.w / 2, self.w - 2 * mm(PAD_X_MM)
        top = y + self.h - mm(PAD_Y_MM)
        ops.append(f"{MARK_RGB} rg")
        self._cjk(ops, MARK, 6.5, cx, top - 6.0, room)
        ops.append("0 g")
        bars_h = max(self.h * 0.4, mm(6))
        bars_top = top - 8.5
        modules = code128_modules(volume.barcode)
        # Ten modules of quiet zone on each side, as Code 128 asks for a scanner to lock on.
        unit = room / (len(modules) + 20)
        left = x + mm(PAD_X_MM) + 10 * unit
        # Drawn in module units (a matrix scales them to the label), so each bar is a few
        # integers: 60,000 labels would otherwise spend most of their time formatting floats.
        ops.append(
            f"q {unit:.4f} 0 0 {bars_h:.2f} {left:.2f} {bars_top - bars_h:.2f} cm "
            + _bars(modules)
            + " f Q"
        )
        self._mono(ops, volume.barcode, "F2", 8, cx, bars_top - bars_h - 8.5)
        meta = f"{short_title(volume.title)} · {volume.call_number or volume.clc}"
        self._cjk(ops, meta, 6.5, cx, y + mm(PAD_Y_MM) + 1.5, room)

    def spine_label(self, volume: Volume) -> None:
        x, y = self._cell()
        ops = self.pages[-1]
        self._frame(ops, x, y)
        klass, book = split_call_number(volume.call_number, volume.clc)
        cx, room = x + self.w / 2, self.w - 2 * mm(PAD_X_MM)
        middle = y + self.h / 2
        block = 13 * 1.15 + (12 * 1.15 + mm(0.8) if book else 0) + 6.5 * 1.4
        line = middle + block / 2 - 13 * 0.85
        self._mono(ops, klass, "F3", 13, cx, line)
        if book:
            rule = line - 13 * 0.3 - mm(0.5)
            half = self.w * 0.35
            ops.append(
                f"0 G 0.85 w [] 0 d {cx - half:.2f} {rule:.2f} m {cx + half:.2f} {rule:.2f} l S"
            )
            line = rule - 12 * 0.95
            self._mono(ops, book, "F2", 12, cx, line)
        ops.append(f"{MARK_RGB} rg")
        self._cjk(ops, MARK, 6.5, cx, line - 6.5 * 1.6, room)
        ops.append("0 g")

    def pdf(self, *, compress: bool = True) -> bytes:
        return _write_pdf(self.pages or [[]], self.font, compress=compress)


def _stream(data: bytes, compress: bool, extra: str = "") -> bytes:
    if compress:
        data = zlib.compress(data, 6)
        extra += " /Filter /FlateDecode"
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra.encode()) + data + b"\nendstream"


def _to_unicode(used: dict[int, str]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    pairs = sorted(used.items())
    for start in range(0, len(pairs), 100):
        chunk = pairs[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        lines += [f"<{gid:04X}> <{char.encode('utf-16-be').hex().upper()}>" for gid, char in chunk]
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(lines).encode()


def _write_pdf(pages: list[list[str]], font: CjkFont | None, *, compress: bool) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")
    pages_id = add(b"")
    courier = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>"
    )
    courier_bold = add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier-Bold /Encoding /WinAnsiEncoding >>"
    )
    fonts = f"/F2 {courier} 0 R /F3 {courier_bold} 0 R"
    if font is not None:
        name = "SLABEL+WenQuanYiZenHei"
        file_data = font.subset()
        file_id = add(_stream(file_data, compress, f" /Length1 {len(file_data)}"))
        descriptor = add(
            (
                f"<< /Type /FontDescriptor /FontName /{name} /Flags 4 "
                f"/FontBBox [0 -300 1000 1000] /ItalicAngle 0 /Ascent 880 /Descent -120 "
                f"/CapHeight 700 /StemV 80 /FontFile2 {file_id} 0 R >>"
            ).encode()
        )
        widths = " ".join(f"{gid} [{width}]" for gid, width in sorted(font.widths.items()))
        cid_font = add(
            (
                f"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /{name} "
                f"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
                f"/FontDescriptor {descriptor} 0 R /DW 1000 /W [{widths}] "
                f"/CIDToGIDMap /Identity >>"
            ).encode()
        )
        cmap = add(_stream(_to_unicode(font.used), compress))
        type0 = add(
            (
                f"<< /Type /Font /Subtype /Type0 /BaseFont /{name} /Encoding /Identity-H "
                f"/DescendantFonts [{cid_font} 0 R] /ToUnicode {cmap} 0 R >>"
            ).encode()
        )
        fonts = f"/F1 {type0} 0 R " + fonts
    kids = []
    size = f"[0 0 {mm(PAGE_WIDTH_MM):.2f} {mm(PAGE_HEIGHT_MM):.2f}]"
    for ops in pages:
        content = add(_stream("\n".join(ops).encode("latin-1"), compress))
        kids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox {size} "
                    f"/Resources << /Font << {fonts} >> >> /Contents {content} 0 R >>"
                ).encode()
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
    objects[pages_id - 1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{kid} 0 R' for kid in kids)}] /Count {len(kids)} >>"
    ).encode()
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe5\xe5\xe5\xe5\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % offset for offset in offsets))
    out.write(
        b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
        % (len(objects) + 1, catalog, xref)
    )
    return out.getvalue()


def labels_pdf(
    items,
    *,
    layout: Layout,
    progress: Callable[[int], None] | None = None,
    compress: bool = True,
) -> bytes:
    """The label sheets for `items` (a queryset of Item) in their order. `progress(n)` hears
    how many volumes are drawn, every few hundred."""
    path = _font_path()
    sheet = Sheet(layout, CjkFont(path) if path else None)
    for _blank in range(layout.skip):
        sheet.blank()
    for count, volume in enumerate(volumes(items), start=1):
        if layout.kind in ("barcode", "both"):
            sheet.barcode_label(volume)
        if layout.kind in ("spine", "both"):
            sheet.spine_label(volume)
        if progress is not None and count % 500 == 0:
            progress(count)
    return sheet.pdf(compress=compress)
