"""Readers from a CSV or XLSX file: Chinese or English headers, all or nothing, every bad row
reported with its row number."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from circulation.models import Patron

HEADER = ["读者证号", "姓名", "读者类型", "办证站点", "出生年份"]


def csv_upload(rows, encoding="utf-8-sig", name="readers.csv"):
    text = "\n".join(",".join(str(cell) for cell in row) for row in rows)
    return SimpleUploadedFile(name, text.encode(encoding))


def xlsx_upload(rows):
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile("readers.xlsx", buffer.getvalue())


def post(client, upload):
    return client.post(reverse("circulation:patron-import"), {"file": upload}, follow=True)


def test_a_gbk_csv_with_chinese_headers_imports_every_reader(
    client_for, sui_librarian, sui_central
):
    rows = [
        HEADER,
        ["SX100001", "李明", "成人", "central", 1980],
        ["SX100002", "王芳", "学生", "central", 2010],
    ]
    response = post(client_for(sui_librarian), csv_upload(rows, encoding="gb18030"))
    assert response.status_code == 200
    assert sorted(Patron.objects.values_list("name", flat=True)) == ["李明", "王芳"]


def test_an_xlsx_file_with_english_headers_imports(client_for, sui_librarian, sui_central):
    rows = [
        ["card_number", "name", "category", "home_site"],
        ["SX200001", "张伟", "senior", "central"],
    ]
    post(client_for(sui_librarian), xlsx_upload(rows))
    assert Patron.objects.get().category == "senior"


def test_bad_rows_are_listed_by_row_and_nothing_is_imported(client_for, sui_librarian, sui_central):
    rows = [
        HEADER,
        ["SX300001", "好读者", "成人", "central", 1990],
        ["SX300002", "坏年份", "成人", "central", "一九九零"],
    ]
    response = post(client_for(sui_librarian), csv_upload(rows))
    page = response.content.decode()
    assert "第 3 行" in page and "一九九零" in page
    assert not Patron.objects.exists()


def test_a_missing_column_names_the_header_row(client_for, sui_librarian, sui_central):
    response = post(client_for(sui_librarian), csv_upload([["姓名"], ["李明"]]))
    assert "第 1 行（表头）缺少列" in response.content.decode()
    assert not Patron.objects.exists()


def test_a_file_that_is_no_table_is_refused_without_a_500(client_for, sui_librarian):
    for upload in (
        SimpleUploadedFile("readers.xlsx", b"PK\x03\x04 not really a zip"),
        SimpleUploadedFile("readers.csv", b"\x00\xff\xfe\x00" * 10),
    ):
        assert post(client_for(sui_librarian), upload).status_code == 200
    assert not Patron.objects.exists()


def test_an_unknown_reader_category_is_a_row_error_not_a_crash(
    client_for, sui_librarian, sui_central
):
    rows = [HEADER, ["SX400001", "李明", "教师", "central", 1980]]
    response = post(client_for(sui_librarian), csv_upload(rows))
    assert response.status_code == 200
    page = response.content.decode()
    assert "读者类型“教师”无效，应为：少儿、学生、成人、老年" in page
    assert not Patron.objects.exists()


def test_the_row_cap_stops_the_reading_instead_of_coming_after_it(monkeypatch):
    """A file of two million rows is not read to the end to be refused: reading stops at the
    first row past the cap."""
    import pytest

    from circulation import importing
    from collections_app.errors import Refused

    read = []

    def rows_of_csv(text):
        yield 1, HEADER[:4]
        for number in range(2, 2_000_000):
            read.append(number)
            yield number, [f"SX{number:06d}", "李明", "成人", "central"]

    monkeypatch.setattr(importing, "MAX_ROWS", 100)
    monkeypatch.setattr(importing, "rows_of_csv", rows_of_csv)
    with pytest.raises(Refused, match="一次最多导入 100 位读者"):
        importing.read_patron_rows("readers.csv", "读者证号,姓名\n".encode())
    assert len(read) <= 102


def test_a_workbook_of_many_rows_is_refused_at_the_cap_quickly(
    client_for, sui_librarian, sui_central, settings
):
    import time

    from collections_app.tests.malformed import inline_row, sheet_zip

    settings.CONSIGNMENT_IMPORT_MAX_ROWS = 1_000
    data = sheet_zip(
        [inline_row(1, HEADER[:4])]
        + [inline_row(n, [f"SX{n:06d}", "李明", "成人", "central"]) for n in range(2, 50_000)]
    )
    started = time.monotonic()
    response = post(client_for(sui_librarian), SimpleUploadedFile("readers.xlsx", data))
    assert time.monotonic() - started < 10
    assert "表格超过 1,000 行" in response.content.decode()
    assert not Patron.objects.exists()


def test_a_png_renamed_csv_is_named_for_what_it_is(client_for, sui_librarian, sui_central):
    png = b"\x89PNG\r\n\x1a\n" + bytes(200)
    response = post(client_for(sui_librarian), SimpleUploadedFile("readers.csv", png))
    assert "这是一个 PNG 图片，不是读者文件" in response.content.decode()
