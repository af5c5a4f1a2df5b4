"""CSV and XLSX manifests: one row per volume (or per title with a number of copies), with
Chinese or English column headers. `COLUMNS` is the documented list of accepted headers; the
import page and the downloadable template are built from it."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.barcodes import split_barcodes
from collections_app.importing.clc import ClcChecker
from collections_app.importing.fields import (
    check_barcode,
    clean_text,
    clean_title,
    parse_copies,
    parse_price,
    parse_year,
)
from collections_app.importing.isbn import normalise_isbn
from collections_app.importing.limits import (
    TooLarge,
    check_cells,
    check_row_count,
    max_cell_chars,
    max_cells,
    max_rows,
)
from collections_app.importing.manifest import Manifest, ManifestCopy, ManifestTitle, check_lengths

# key: (header written in the template, description, every accepted header)
COLUMNS = {
    "barcode": (
        "条码号",
        gettext_lazy("每册一个条码；一格写多个条码时用分号隔开。没有条码的行请填册数。"),
        ["条码号", "条码", "条形码", "册条码", "册条码号", "barcode", "item barcode", "barcodes"],
    ),
    "isbn": (
        "ISBN",
        gettext_lazy("ISBN-10 或 ISBN-13，可带连字符；校验位必须正确。"),
        ["isbn", "isbn号", "国际标准书号", "标准书号", "isbn13", "isbn-13"],
    ),
    "title": (
        "题名",
        gettext_lazy("必填。"),
        ["题名", "书名", "正题名", "title", "book title"],
    ),
    "author": (
        "责任者",
        "",
        ["责任者", "责任说明", "著者", "作者", "author", "authors", "responsibility", "creator"],
    ),
    "publisher": (
        "出版社",
        "",
        ["出版社", "出版者", "出版发行者", "publisher"],
    ),
    "year": (
        "出版年",
        gettext_lazy("四位年份，例如 2013。"),
        ["出版年", "出版年份", "出版日期", "出版时间", "year", "publication year", "pub year"],
    ),
    "clc": (
        "中图分类号",
        gettext_lazy("中图法分类号，例如 I247.5。"),
        ["中图分类号", "分类号", "中图法分类号", "clc", "clc number", "classification"],
    ),
    "call_number": (
        "索书号",
        gettext_lazy("例如 I247.5/12。"),
        ["索书号", "索取号", "call number", "callnumber", "call no", "call no."],
    ),
    "price": (
        "价格",
        gettext_lazy("元，例如 26.00。"),
        ["价格", "定价", "单价", "price"],
    ),
    "copies": (
        "册数",
        gettext_lazy("可选；多于条码个数的册数记为待贴条码。"),
        ["册数", "复本数", "复本", "数量", "copies", "quantity", "qty"],
    ),
}
EXAMPLE_ROWS = [
    [
        "NL21000001",
        "978-7-5302-1440-4",
        "活着",
        "余华著",
        "北京十月文艺出版社",
        "2017",
        "I247.57",
        "I247.57/12",
        "35.00",
        "",
    ],
    [
        "NL21000002;NL21000003",
        "9787101066418",
        "乡土中国",
        "费孝通著",
        "中华书局",
        "2013",
        "C912.82",
        "C912.82/3",
        "26.00",
        "2",
    ],
]


def _key(header) -> str:
    """ "题名（必填）", " Title* ", "ISBN号" → a lookup key."""
    text = unicodedata.normalize("NFKC", str(header or "")).strip().lstrip("\ufeff").lower()
    text = re.sub(r"[(（\[].*?[)）\]]", "", text)
    return re.sub(r"[\s*_:：]+", " ", text).strip()


HEADER_KEYS = {_key(alias): key for key, (_h, _d, aliases) in COLUMNS.items() for alias in aliases}


def _label(key: str, header: str) -> str:
    """A column as the librarian knows it: "题名", or "题名（title）" when the file says so."""
    name = COLUMNS[key][0]
    return name if _key(header) == _key(name) else f"{name}（{header}）"


def _cell(value) -> str:
    if value.__class__ is str:  # nearly every cell: first, before the rarer kinds
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, datetime | date):
        return str(value.year)
    return str(value).strip()


def _find_header(rows: Iterator[tuple[int, list[str]]]):
    """The first row, among the first ten non-empty ones, with at least two known headers."""
    for seen, (number, cells) in enumerate(rows):
        mapping = {index: HEADER_KEYS.get(_key(cell)) for index, cell in enumerate(cells)}
        if sum(1 for key in mapping.values() if key) >= 2:
            return number, cells, mapping
        if seen >= 9:
            break
    return None, None, None


# The first columns of a sheet are read, the rest ignored: a sheet that claims 16,384 columns
# does not make every row that wide.
MAX_COLUMNS = 64


def rows_of_csv(text: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every non-empty row; the delimiter is read off the first line.
    Rows and cells are capped while they stream in (see `limits`)."""
    first_line = text.split("\n", 1)[0]
    delimiter = max([",", "\t", ";"], key=first_line.count)
    if text.count(delimiter) > max_cells():
        # Counted before csv builds a row: one line of millions of commas would fill the memory.
        raise TooLarge(
            _("表格超过 %(n)s 个单元格，请分成几个文件导入。") % {"n": f"{max_cells():,}"}
        )
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows_cap, cell_cap = max_rows(), max_cell_chars()
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise ValueError(
                _("第 %(row)s 行的格式有误（引号不配对或内容过长），请检查这一行。")
                % {"row": reader.line_num}
            ) from None
        number += 1
        if number > rows_cap:
            check_row_count(number)
        if any(cell.strip() for cell in cells):
            yield (
                number,
                check_cells([cell.strip() for cell in cells[:MAX_COLUMNS]], number, cell_cap),
            )


def rows_of_xlsx(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of every non-empty row of the first sheet, cells as text, streamed
    (openpyxl read-only) and capped while they stream in. Whatever a damaged workbook makes
    openpyxl raise becomes a ValueError with a message for the librarian."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except ValueError as error:
        if isinstance(error, TooLarge):
            raise
        raise ValueError(_damaged()) from None
    except Exception:  # zipfile, XML, KeyError for a missing part, defusedxml: all "damaged"
        raise ValueError(_damaged()) from None
    try:
        if not workbook.worksheets:
            raise ValueError(_("XLSX 文件中没有工作表。"))
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        # max_col pads every row to MAX_COLUMNS with None: the padding is cut before the cells
        # are read, so a row costs what it holds.
        rows = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
        rows_cap, cell_cap = max_rows(), max_cell_chars()
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                return
            except ValueError as error:
                if isinstance(error, TooLarge):
                    raise
                raise ValueError(_damaged(number + 1)) from None
            except Exception:
                raise ValueError(_damaged(number + 1)) from None
            number += 1
            if number > rows_cap:
                check_row_count(number)
            end = len(values)
            while end and values[end - 1] is None:
                end -= 1
            cells = check_cells([_cell(value) for value in values[:end]], number, cell_cap)
            if any(cells):
                yield number, cells
    finally:
        workbook.close()


def _damaged(row: int | None = None) -> str:
    if row:
        return _(
            "XLSX 文件已损坏，读到第 %(row)s 行时无法继续：请用 Excel 或 WPS 打开后重新保存。"
        ) % {"row": row}
    return _("XLSX 文件已损坏，无法打开：请用 Excel 或 WPS 打开后重新保存。")


def read_csv(text: str, *, encoding: str, clc: ClcChecker) -> Manifest:
    return _read(rows_of_csv(text), Manifest("csv", encoding), clc)


def read_xlsx(data: bytes, *, clc: ClcChecker) -> Manifest:
    return _read(rows_of_xlsx(data), Manifest("xlsx"), clc)


def _read(rows: Iterable[tuple[int, list[str]]], manifest: Manifest, clc: ClcChecker):
    rows = iter(rows)
    header_row, headers, mapping = _find_header(rows)
    if header_row is None:
        manifest.error(
            _("文件"), "", "", _("没有找到表头行：第一行应是列名，例如“条码号”“题名”“ISBN”。")
        )
        return manifest
    if "title" not in mapping.values():
        manifest.error(_("第 %(row)s 行") % {"row": header_row}, "", "", _("缺少“题名”列。"))
        return manifest
    for index, key in mapping.items():
        if key is None and headers[index]:
            manifest.warn(
                _("第 %(row)s 行") % {"row": header_row},
                headers[index],
                "",
                _("未识别的列，已忽略。"),
            )
    columns = {key: (index, headers[index]) for index, key in reversed(mapping.items()) if key}
    labels = {key: _label(key, header) for key, (_index, header) in columns.items()}
    has_barcodes = "barcode" in columns
    titles: dict[tuple, ManifestTitle] = {}
    row_label = _("第 %(row)s 行")  # translated once, not once a row
    for number, cells in rows:
        where = row_label % {"row": number}
        values = {
            key: cells[index] if index < len(cells) else "" for key, (index, _h) in columns.items()
        }

        def fail(key, message, values=values, where=where):
            manifest.error(where, labels[key], values.get(key, ""), message)

        record = {}
        for key, parse in (
            ("isbn", normalise_isbn),
            ("clc", clc.check),
            ("year", parse_year),
            ("price", parse_price),
            ("copies", parse_copies),
        ):
            try:
                record[key] = parse(values.get(key, ""))
            except ValueError as error:
                fail(key, str(error))
                record[key] = None
        title = clean_title(values.get("title"))
        if not title:
            fail("title", _("缺少题名"))
        barcodes = []
        for code in split_barcodes(values.get("barcode")):
            try:
                barcodes.append(check_barcode(code))
            except ValueError as error:
                manifest.error(where, labels["barcode"], code, str(error))
        copies = record["copies"]
        if copies is not None and copies < len(barcodes):
            fail("copies", _("册数少于这一行的条码个数（%(n)s 个）") % {"n": len(barcodes)})
        if has_barcodes and not barcodes and copies is None and values.get("barcode", "") == "":
            fail("barcode", _("缺少条码号；没有条码的图书请填写册数"))
        key = (
            record["isbn"],
            title,
            clean_text(values.get("author")),
            clean_text(values.get("publisher")),
            record["year"],
            record["clc"],
        )
        entry = titles.get(key)
        if entry is None:
            entry = titles[key] = ManifestTitle(
                where=where,
                title=title,
                responsibility=key[2],
                publisher=key[3],
                isbn=record["isbn"] or "",
                year=record["year"],
                clc=record["clc"] or "",
                price=record["price"],
                call_number=clean_text(values.get("call_number")),
            )
        call_number = clean_text(values.get("call_number")) or entry.call_number
        field = labels["barcode"] if has_barcodes else ""
        entry.copies.extend(ManifestCopy(code, call_number, where, field) for code in barcodes)
        entry.awaiting += max(0, (copies or (0 if barcodes else 1)) - len(barcodes))
    manifest.titles = [entry for entry in titles.values() if check_lengths(manifest, entry, labels)]
    if not manifest.titles and not manifest.errors:
        manifest.error(_("文件"), "", "", _("表头之后没有数据行。"))
    return manifest
