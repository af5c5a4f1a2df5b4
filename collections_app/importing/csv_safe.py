"""Exports that a spreadsheet opens safely: a cell starting with =, +, -, @, a tab or a carriage
return is a formula to Excel and LibreOffice (CSV injection), so it is written with a leading
apostrophe; XLSX cells are always written as text, never as formulas."""

import csv
import io

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_bytes(headers, rows) -> bytes:
    """UTF-8 with a BOM, so that Excel on a Chinese Windows opens it without garbling."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(header) for header in headers])
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def xlsx_bytes(headers, rows, *, title="Sheet") -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])

    def text_cells(values):
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=safe_cell(value))
            cell.data_type = "s"
            cells.append(cell)
        return cells

    sheet.append(text_cells(headers))
    for row in rows:
        sheet.append(text_cells(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
