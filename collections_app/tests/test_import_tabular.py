"""CSV and XLSX manifests: encodings, Chinese or English headers, row-numbered problems."""

import io
import zipfile

import pytest

from collections_app.importing import read_manifest
from collections_app.tests.manifest_files import HEADERS, csv_bytes, rows, xlsx_bytes

pytestmark = pytest.mark.django_db

ENGLISH = ["barcode", "ISBN", "title", "author", "publisher", "year", "CLC", "call number", "price"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (csv_bytes(rows(3)), "utf-8"),
        (csv_bytes(rows(3), bom=True), "utf-8"),
        (csv_bytes(rows(3), encoding="gb18030"), "gb18030"),
        (csv_bytes(rows(3), encoding="gbk"), "gb18030"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk"],
)
def test_a_csv_reads_the_same_in_every_encoding(data, encoding):
    manifest = read_manifest(data)
    assert (manifest.file_format, manifest.encoding) == ("csv", encoding)
    assert manifest.errors == []
    assert [t.title for t in manifest.titles] == ["测试图书第1号", "测试图书第2号", "测试图书第3号"]
    assert manifest.titles[0].publisher == "人民文学出版社"


def test_english_headers_and_an_xlsx_file_read_like_chinese_ones():
    manifest = read_manifest(xlsx_bytes(rows(2), headers=ENGLISH))
    assert manifest.file_format == "xlsx"
    assert manifest.errors == []
    first = manifest.titles[0]
    assert (first.isbn, first.clc, first.year, str(first.price)) == (
        rows(1)[0][1],
        "K825.6",
        2001,
        "21.00",
    )
    assert [c.barcode for c in first.copies] == ["NL2100000001"]
    assert first.copies[0].call_number == "K825.6/1"


def test_the_format_comes_from_the_content_not_the_file_name():
    assert read_manifest(xlsx_bytes(rows(1))).file_format == "xlsx"
    assert read_manifest(csv_bytes(rows(1))).file_format == "csv"


def test_numbers_typed_into_excel_cells_keep_their_digits():
    data = rows(1)
    data[0][0] = 2100000001  # a numeric barcode cell
    data[0][1] = int(data[0][1])  # ISBN as a number
    data[0][5] = 2013
    data[0][8] = 26.5
    title = read_manifest(xlsx_bytes(data)).titles[0]
    assert [c.barcode for c in title.copies] == ["2100000001"]
    assert (title.year, str(title.price)) == (2013, "26.5")


def test_every_bad_value_is_reported_with_its_row_column_and_value():
    data = rows(6)
    data[0][1] = "9787500000010"  # bad ISBN checksum
    data[1][2] = ""  # no title
    data[2][6] = "L12"  # no class L in the CLC
    data[3][8] = "二十元"  # price
    data[4][5] = "20x3"  # year
    data[5][0] = "NL2100000001"  # the first row's barcode again
    errors = read_manifest(csv_bytes(data)).errors
    assert [(e.where, e.field, e.value) for e in errors] == [
        ("第 2 行", "ISBN", "9787500000010"),
        ("第 3 行", "题名", ""),
        ("第 4 行", "中图分类号", "L12"),
        ("第 5 行", "价格", "二十元"),
        ("第 6 行", "出版年", "20x3"),
    ]
    # duplicates are found by the service, against the file and the database (see the tests
    # of the import service)


def test_non_filing_markers_are_stripped_from_titles():
    data = rows(1)
    data[0][2] = "\x88The \x89hobbit"
    assert read_manifest(csv_bytes(data)).titles[0].title == "The hobbit"


def test_rows_of_one_title_share_one_title_and_copies_without_barcodes_await_them():
    headers = ["题名", "ISBN", "条码号", "册数"]
    data = [
        ["乡土中国", "9787101066418", "SX01;SX02", "3"],
        ["乡土中国", "9787101066418", "SX03", ""],
        ["活着", "", "", "2"],
    ]
    manifest = read_manifest(csv_bytes(data, headers=headers))
    assert manifest.errors == []
    assert [(t.title, len(t.copies), t.awaiting) for t in manifest.titles] == [
        ("乡土中国", 3, 1),
        ("活着", 0, 2),
    ]


def test_a_row_without_barcode_or_copies_is_an_error_when_the_file_has_barcodes():
    data = rows(2)
    data[1][0] = ""
    [error] = read_manifest(csv_bytes(data)).errors
    assert (error.where, error.field) == ("第 3 行", "条码号")


def test_unknown_columns_are_a_warning_and_a_missing_title_column_an_error():
    manifest = read_manifest(
        csv_bytes([["SX001", "9787101066418", "甲"]], headers=["条码号", "ISBN", "备注"])
    )
    assert [e.message for e in manifest.errors] == ["缺少“题名”列。"]
    warned = read_manifest(csv_bytes([["SX001", "甲", "乙"]], headers=["条码号", "题名", "备注"]))
    assert warned.errors == []
    assert [(w.field, w.is_error) for w in warned.warnings] == [("备注", False)]


def test_an_xlsx_whose_content_inflates_past_the_cap_is_refused_before_parsing(settings):
    settings.CONSIGNMENT_IMPORT_MAX_XLSX_BYTES = 1000
    manifest = read_manifest(xlsx_bytes(rows(50)))
    assert manifest.titles == []
    assert "解压后" in manifest.errors[0].message


def test_an_oversized_upload_is_refused(settings):
    settings.CONSIGNMENT_IMPORT_MAX_BYTES = 100
    manifest = read_manifest(csv_bytes(rows(5)))
    assert "超过了" in manifest.errors[0].message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        (b"PK\x03\x04broken", "损坏"),
        (b"a,b\n1,2\n", "表头"),
    ],
    ids=["empty", "xls", "broken-zip", "no-headers"],
)
def test_files_that_are_no_manifest_get_a_clear_message(data, message):
    manifest = read_manifest(data)
    assert message in manifest.errors[0].message


def test_a_zip_that_is_not_a_workbook_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hi")
    assert "不是清单文件" in read_manifest(out.getvalue()).errors[0].message


def test_the_documented_headers_are_those_of_the_template():
    from collections_app.importing.tabular import COLUMNS

    assert [header for header, _d, _a in COLUMNS.values()][:3] == ["条码号", "ISBN", "题名"]
    assert set(HEADERS) <= {header for header, _d, _a in COLUMNS.values()}


def test_problems_name_the_column_in_chinese_with_the_files_own_header():
    data = rows(2)
    data[1][1] = "9787500000010"
    manifest = read_manifest(csv_bytes(data, headers=ENGLISH))
    assert [e.field for e in manifest.errors] == ["ISBN"]
    data[1][1], data[1][2] = "", ""
    manifest = read_manifest(csv_bytes(data, headers=ENGLISH))
    assert [e.field for e in manifest.errors] == ["题名（title）"]


def test_a_value_longer_than_its_column_is_refused_with_row_and_field_not_cut():
    data = rows(2)
    data[1][4] = "出版社" * 70
    data[1][7] = "I247.5/" + "1" * 60
    manifest = read_manifest(csv_bytes(data))
    assert [(e.where, e.field) for e in manifest.errors] == [
        ("第 3 行", "出版社"),
        ("第 3 行", "索书号"),
    ]
    assert "出版者有 210 字，最多 200 字" in manifest.errors[0].message


def test_a_sheet_that_claims_every_column_and_row_reads_only_what_it_holds():
    """A <dimension> of A1:XFD1048576 (some exporters write it) must not make every row
    16,384 cells wide, nor the sheet a million rows long."""
    import time

    from collections_app.tests.malformed import inline_row, sheet_zip

    data = sheet_zip(
        [inline_row(1, HEADERS)] + [inline_row(n, row) for n, row in enumerate(rows(5), 2)],
        dimension="A1:XFD1048576",
    )
    started = time.monotonic()
    manifest = read_manifest(data)
    assert time.monotonic() - started < 5
    assert manifest.errors == []
    assert manifest.item_count == 5


def test_rows_past_the_cap_stop_the_reading_of_a_workbook(settings):
    from collections_app.tests.malformed import many_rows, sheet_zip

    settings.CONSIGNMENT_IMPORT_MAX_ROWS = 500
    manifest = read_manifest(sheet_zip(many_rows(5_000)))
    assert [e.message for e in manifest.errors] == [
        "表格超过 500 行，一次最多导入 500 行，请分成几个文件导入。"
    ]


@pytest.mark.parametrize(
    ("part", "message"),
    [
        ("[Content_Types].xml", "缺少“[Content_Types].xml”"),
        ("_rels/.rels", "缺少“_rels/.rels”"),
        ("xl/_rels/workbook.xml.rels", "缺少“xl/_rels/workbook.xml.rels”"),
    ],
)
def test_a_workbook_without_its_parts_is_refused_with_a_message(part, message):
    from collections_app.tests.malformed import rezip

    manifest = read_manifest(rezip(xlsx_bytes(rows(3)), drop=[part]))
    assert message in manifest.errors[0].message


@pytest.mark.parametrize("false", [{"crc": 1234}, {"size": 10}, {"size": 5_000_000}])
def test_a_workbook_with_false_sizes_or_checksums_is_refused_with_a_message(false):
    from collections_app.tests.malformed import patch_zip_headers

    manifest = read_manifest(patch_zip_headers(xlsx_bytes(rows(3)), **false))
    assert manifest.titles == []
    assert "XLSX 文件已损坏" in manifest.errors[0].message


def test_a_png_renamed_csv_is_named_for_what_it_is_not_an_encoding_problem():
    manifest = read_manifest(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert manifest.errors[0].message.startswith("这是一个 PNG 图片，不是清单文件。")


def test_an_xlsx_row_is_read_as_wide_as_its_cells_and_a_long_cell_far_right_is_refused(
    settings,
):
    """Rows are read at most 64 columns wide, as wide as the cells the file has (not padded to
    64); the cap on a cell's length holds in every one of those columns, under a header or not."""
    from collections_app.importing.tabular import MAX_COLUMNS, rows_of_xlsx
    from collections_app.tests.malformed import inline_row, sheet_zip

    settings.CONSIGNMENT_IMPORT_MAX_CELL_CHARS = 100
    blank_tail = [*rows(1)[0], "", " ", ""]
    data = sheet_zip([inline_row(1, HEADERS), inline_row(2, blank_tail)])
    assert [cells for _number, cells in rows_of_xlsx(data)] == [HEADERS, [*rows(1)[0], "", "", ""]]
    for column in (len(HEADERS) + 1, 40, MAX_COLUMNS):
        row = [*rows(1)[0], *[""] * (column - len(HEADERS) - 1), "长" * 101]
        manifest = read_manifest(sheet_zip([inline_row(1, HEADERS), inline_row(2, row)]))
        assert [e.message for e in manifest.errors] == [
            f"第 2 行第 {column} 列的内容有 101 字，超过了 100 字的上限。"
        ]
    past = [*rows(1)[0], *[""] * (MAX_COLUMNS - len(HEADERS)), "长" * 101]
    manifest = read_manifest(sheet_zip([inline_row(1, HEADERS), inline_row(2, past)]))
    assert manifest.errors == []
    assert manifest.item_count == 1


def _suspect_reason_a_character_at_a_time(text: str, *, chinese: bool) -> str:
    """The definition `suspect_reason` keeps, written out as it reads."""
    import unicodedata

    from collections_app.importing.manifest import _ALWAYS_SUSPECT, _LATIN_EXTRA

    for char in text:
        if unicodedata.category(char) in ("Cc", "Cs") and char not in "\t\n\r":
            return "有控制字符"
        for low, high, reason in _ALWAYS_SUSPECT:
            if low <= char <= high:
                return str(reason)
    if chinese:
        latin = sum(1 for char in text for low, high in _LATIN_EXTRA if low <= char <= high)
        han = sum(1 for char in text if "\u3400" <= char <= "\u9fff")
        if latin >= 2 and latin > han:
            return "有大量西文符号和带重音的字母，不像中文书目"
    return ""


def _near_the_edges() -> list[str]:
    from collections_app.importing.manifest import _ALWAYS_SUSPECT, _LATIN_EXTRA

    edges = [0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x7E, 0x7F, 0x9F, 0xD800, 0xDFFF, 0x3400, 0x9FFF]
    for low, high, *_reason in [*_ALWAYS_SUSPECT, *_LATIN_EXTRA]:
        edges += [ord(low), ord(high)]
    return [chr(code + step) for code in edges for step in (-1, 0, 1)] + ["中", "a", "é", " "]


_EDGES = _near_the_edges()


@pytest.mark.django_db(False)
def test_text_is_suspect_exactly_when_one_of_its_characters_or_their_mix_says_so():
    """Mis-decoded text is found by a search over the whole value; the verdict is the one a
    character-at-a-time reading gives, at every edge of every range, alone and mixed."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from collections_app.importing.manifest import suspect_reason

    mixed = st.text(alphabet=st.sampled_from(_EDGES) | st.characters(), max_size=12)

    @settings(max_examples=1500, deadline=None)
    @given(text=st.one_of(st.sampled_from(_EDGES), mixed), chinese=st.booleans())
    def agrees(text, chinese):
        assert suspect_reason(text, chinese=chinese) == _suspect_reason_a_character_at_a_time(
            text, chinese=chinese
        )

    agrees()
