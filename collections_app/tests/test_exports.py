"""The one export module: files a spreadsheet opens safely and adds up."""

import io

from openpyxl import load_workbook

from collections_app.exports import csv_lines, safe_cell, xlsx_bytes


def test_a_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    for dangerous in ('=HYPERLINK("x")', "+1", "-1+2", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("NL2100000001") == "NL2100000001"
    assert safe_cell(None) == ""


def test_csv_starts_with_a_bom_and_keeps_numbers_as_numbers():
    text = b"".join(csv_lines(["条码号", "册数"], [["=cmd", 3], ["NL1", True]])).decode("utf-8")
    assert text.startswith("\ufeff条码号,册数\r\n")
    assert "'=cmd,3\r\n" in text
    assert "NL1,True" in text


def test_xlsx_keeps_numbers_and_text_apart_and_accepts_any_sheet_title():
    content = xlsx_bytes(
        [("按月/按馆 [2026]: 借阅*?", ["类目", "册次"], [["=I", 12], ["0001", 1.5]])]
    )
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    assert "/" not in sheet.title and "[" not in sheet.title and len(sheet.title) <= 31
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [["类目", "册次"], ["'=I", 12], ["0001", 1.5]]
    assert sheet["A3"].data_type == "s"
