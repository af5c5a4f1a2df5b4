"""Every file the platform hands out — report tables, missing and extra lists, manifest
templates: CSV (streamed, UTF-8 with a BOM so that Excel on a Chinese Windows opens it), XLSX
(openpyxl, write-only, every cell a number or text, never a formula, sheet titles Excel accepts)
and PDF (WeasyPrint with the WenQuanYi Zen Hei font embedded).

A text cell starting with =, +, -, @, a tab or a carriage return is a formula to Excel and
LibreOffice (CSV injection), so it is written with a leading apostrophe. Numbers stay numbers, so
that a spreadsheet can add them up; a barcode or an ISBN is text and stays text."""

import csv
import io
import os
from urllib.parse import quote

from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FONT_FILES = [
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _disposition(filename: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(filename)}"


class _Echo:
    def write(self, value):
        return value


def csv_lines(headers, rows, *, batch=500):
    """Yield the encoded lines `batch` rows at a time: memory stays flat however many rows
    there are, and the response is not handed a hundred thousand tiny chunks."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield b"\xef\xbb\xbf" + writer.writerow([safe_cell(h) for h in headers]).encode("utf-8")
    lines = []
    for row in rows:
        lines.append(writer.writerow([_csv_value(v) for v in row]))
        if len(lines) >= batch:
            yield "".join(lines).encode("utf-8")
            lines = []
    if lines:
        yield "".join(lines).encode("utf-8")


def _csv_value(value):
    return (
        value
        if isinstance(value, int | float) and not isinstance(value, bool)
        else safe_cell(value)
    )


def csv_response(filename, headers, rows) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(headers, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = _disposition(filename)
    return response


def _cells(sheet, values):
    cells = []
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool):
            cells.append(WriteOnlyCell(sheet, value=value))
        else:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            cell.data_type = "s"
            cells.append(cell)
    return cells


def xlsx_bytes(sheets) -> bytes:
    """`sheets`: (title, headers, rows) triples; write-only, so rows may be a generator."""
    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(_sheet_title(title))
        sheet.append(_cells(sheet, headers))
        for row in rows:
            sheet.append(_cells(sheet, row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _sheet_title(title) -> str:
    text = str(title)
    for char in "[]:*?/\\":
        text = text.replace(char, " ")
    return text[:31] or "Sheet"


def xlsx_response(filename, sheets) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(sheets), content_type=XLSX)
    response["Content-Disposition"] = _disposition(filename)
    return response


def table_response(table, fmt, filename_stem):
    if fmt == "xlsx":
        return xlsx_response(
            f"{filename_stem}.xlsx", [(table.title, table.headers, table.export_rows())]
        )
    return csv_response(f"{filename_stem}.csv", table.headers, table.export_rows())


def font_url() -> str:
    font = next((path for path in FONT_FILES if os.path.exists(path)), "")
    return f"file://{font}" if font else ""


def pdf_bytes(template, context) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, {**context, "font_url": font_url()})
    return HTML(string=html).write_pdf()


def pdf_response(filename, template, context) -> HttpResponse:
    response = HttpResponse(pdf_bytes(template, context), content_type="application/pdf")
    response["Content-Disposition"] = _disposition(filename)
    return response
