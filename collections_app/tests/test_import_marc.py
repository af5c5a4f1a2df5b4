"""Real MARC files: CNMARC (ISO 2709 and XML in an SRU response), MARC21, GB18030, holdings."""

import re
from decimal import Decimal

import pytest
from pymarc import Field, Indicators, Subfield

from collections_app.importing import ImportOptions, read_manifest
from collections_app.importing.clc import ClcChecker
from collections_app.tests.manifest_files import DATA, cnmarc_record, iso2709

pytestmark = pytest.mark.django_db


def read(name, **options):
    return read_manifest((DATA / name).read_bytes(), options=ImportOptions(**options))


DP2_EXPECTED = [
    # title, ISBN-13, publisher, year, CLC, price, barcodes, awaiting
    ("'94中国发展报告", "9787503717444", "中国统计出版社", 1994, "F124", "68.00",
     ["1683011", "1683012", "1683013"], 0),
    ("'95中国发展报告", "9787503720208", "中国统计出版社", 1995, "F124", "80.00", ["1708903"], 0),
    ("'96 中国发展报告", "9787503722912", "中国统计出版社", 1996, "F124", "88.00", [], 1),
    ("'97中国发展报告", "9787503726231", "中国统计出版社", 1997, "F124", None, [], 1),
    ("'97中国发展报告", "9787503726231", "中国统计出版社", 1997, "F124", "90.00", [], 1),
    ("'98中国发展报告", "9787503727900", "中国统计出版社", 1998, "F124", "92.00", [], 1),
    ("'99中国发展报告", "9787503728990", "中国统计出版社", 1999, "F124", "95.00", [], 1),
    ("’92中国发展报告", "9787503707582", "中国统计出版社", 1993, "D668", "55.00", [], 1),
    ("`93中国发展报告", "9787503714252", "中国统计出版社", 1994, "F124", "56.00",
     ["1667201", "1667202", "1667203"], 0),
    ("1999 年中国发展状况与趋势", "9787801275554", "经济日报出版社", 1999, "D668", "20.00", [], 1),
]  # fmt: skip


def summary(manifest):
    return [
        (
            title.title,
            title.isbn,
            title.publisher,
            title.year,
            title.clc,
            str(title.price) if title.price is not None else None,
            [copy.barcode for copy in title.copies],
            title.awaiting,
        )
        for title in manifest.titles
    ]


@pytest.mark.parametrize("name", ["dp2_sample_cnmarcxml_sru.xml", "derived_dp2_cnmarc_utf8.iso"])
def test_the_dp2_cnmarc_records_read_by_tag_and_subfield(name):
    manifest = read(name)
    assert manifest.errors == []
    assert summary(manifest) == DP2_EXPECTED
    assert manifest.item_count == 7
    assert manifest.awaiting_count == 7


def test_the_sru_response_is_detected_as_marcxml_and_the_iso_file_as_marc():
    assert read("dp2_sample_cnmarcxml_sru.xml").file_format == "marcxml"
    assert read("derived_dp2_cnmarc_utf8.iso").file_format == "marc"


def test_cnmarc_gives_responsibility_and_call_numbers_from_905_and_906():
    first = read("dp2_sample_cnmarcxml_sru.xml").titles[0]
    assert first.responsibility == "国家统计局编"
    assert first.call_number == "F124/26"
    assert {copy.call_number for copy in first.copies} == {"F124/26"}
    assert {copy.field for copy in first.copies} == {"条码号（906$b）"}


def test_marc21_records_with_vernacular_880_fields_give_the_vernacular_title():
    manifest = read("traject_test_data.utf8.mrc")
    assert manifest.errors == []
    assert manifest.title_count == 30
    last = manifest.titles[-1]
    assert (last.title, last.isbn, last.publisher, last.year) == (
        "次按驟變",
        "9789573908678",
        "遠景出版事業有限公司",
        2008,
    )
    assert last.responsibility == "林行止著"
    # No 084 in these records: no CLC class, and every title awaits one barcodeless volume.
    assert {title.clc for title in manifest.titles} == {""}
    assert manifest.awaiting_count == 30


def test_marc21_isbn_qualifiers_are_dropped_and_isbn_10_becomes_isbn_13():
    manifest = read("pymarc_multi_isbn.dat")
    [title] = manifest.titles
    assert title.isbn == "9780914378280"
    assert title.title == "The town scold"
    assert title.publisher == "Countryman Press"
    assert title.year == 1977


def test_the_library_of_congress_906_field_of_marc21_is_not_taken_for_holdings():
    [title] = read("pymarc_multi_isbn.dat").titles
    assert title.copies == []
    assert title.awaiting == 1


def test_the_utf8_leader_flag_record_reads():
    [title] = read("pymarc_utf8_with_leader_flag.dat").titles
    assert title.title == "Escape from loneliness"
    assert title.publisher == "Westminster Press"
    assert title.year == 1962


def test_a_gb18030_cnmarc_file_is_detected_and_read_without_garbling():
    records = [
        cnmarc_record("A1", "乡土中国", "978-7-101-06641-8", "C912.82", ["SX0001", "SX0002"]),
        cnmarc_record("A2", "\x88The \x89中华文明史", "7-5037-1744-0", "K203", []),
    ]
    manifest = read_manifest(iso2709(records, "gb18030"))
    assert manifest.encoding == "gb18030"
    assert manifest.errors == []
    assert [t.title for t in manifest.titles] == ["乡土中国", "The 中华文明史"]
    assert [c.barcode for c in manifest.titles[0].copies] == ["SX0001", "SX0002"]
    assert manifest.titles[0].publisher == "中华书局"


def test_the_encoding_can_be_forced_and_a_wrong_choice_is_reported_per_record():
    data = iso2709([cnmarc_record("A1", "乡土中国", "9787101066418", "C912.82")], "gb18030")
    manifest = read_manifest(data, options=ImportOptions(encoding="utf-8"))
    assert manifest.titles == []
    assert "UTF-8" in manifest.errors[0].message
    assert read_manifest(data, options=ImportOptions(encoding="gbk")).titles[0].title == "乡土中国"


def test_the_holdings_field_is_configurable_per_import():
    record = cnmarc_record("A1", "乡土中国", "9787101066418", "C912.82")
    record.add_field(
        Field("995", Indicators(" ", " "), [Subfield("f", "KOHA0001"), Subfield("k", "C912.82/9")])
    )
    data = iso2709([record])
    default = read_manifest(data).titles[0]
    assert [c.barcode for c in default.copies] == ["KOHA0001"]
    assert default.copies[0].call_number == "C912.82/9"
    chosen = read_manifest(data, options=ImportOptions(holdings="906$b")).titles[0]
    assert chosen.copies == [] and chosen.awaiting == 1


def test_a_bad_isbn_or_clc_in_a_record_is_an_error_naming_record_and_field():
    data = iso2709([cnmarc_record("REC9", "乡土中国", "978-7-101-06641-9", "L123")])
    errors = read_manifest(data).errors
    assert [(e.where, e.field, e.value) for e in errors] == [
        ("第 1 条记录（REC9）", "ISBN（010$a）", "978-7-101-06641-9"),
        ("第 1 条记录（REC9）", "中图分类号（690$a）", "L123"),
    ]
    assert "校验位" in errors[0].message


def test_a_truncated_marc_file_is_refused_with_a_message_not_an_exception():
    data = (DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes()[:3000]
    manifest = read_manifest(data)
    assert manifest.errors


def test_prices_in_catalogue_data_are_read_only_when_they_are_yuan():
    titles = read("traject_test_data.utf8.mrc").titles
    assert {title.price for title in titles} == {None}
    assert read("derived_dp2_cnmarc_utf8.iso").titles[4].price == Decimal("90.00")


def test_clc_numbers_are_checked_against_the_classification():
    checker = ClcChecker.from_database()
    assert checker.check("i247.5") == "I247.5"
    assert checker.check("ＴＰ３１１") == "TP311"
    assert checker.check("[T-9]") == "[T-9]"
    assert checker.check("K825.6=74") == "K825.6=74"
    for bad in ("L12", "TW12", "12", "I24 7#"):
        with pytest.raises(ValueError):
            checker.check(bad)


# Malformed and unusual files from real systems ------------------------------------------


def _without(data: bytes, *tags: str) -> bytes:
    """The ISO 2709 records of `data` again, without the fields `tags`."""
    from pymarc import MARCReader

    kept = []
    for record in MARCReader(data, to_unicode=True, force_utf8=True):
        record.remove_fields(*tags)
        kept.append(record)
    return iso2709(kept)


@pytest.mark.parametrize("tags", [("001",), ("008",), ("001", "008")])
def test_marc21_records_without_001_or_008_are_read(tags):
    data = _without((DATA / "traject_test_data.utf8.mrc").read_bytes(), *tags)
    manifest = read_manifest(data)
    assert manifest.errors == []
    assert manifest.title_count == 30
    if "001" in tags:
        assert manifest.titles[0].where == "第 1 条记录"


def test_cnmarc_records_without_001_are_read():
    data = _without((DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes(), "001")
    manifest = read_manifest(data)
    assert manifest.errors == []
    assert [t.title for t in manifest.titles] == [row[0] for row in DP2_EXPECTED]


def test_marcxml_records_without_001_or_008_are_read():
    text = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_text(encoding="utf-8-sig")
    assert "<controlfield" in text
    text = re.sub(r"<controlfield[^>]*>.*?</controlfield>", "", text, flags=re.S)
    manifest = read_manifest(text.encode("utf-8"))
    assert manifest.errors == []
    assert manifest.title_count == 10


@pytest.mark.parametrize("between", [b"\n", b"\r\n", b"   ", b"\x00\x00\x00\x00"])
def test_whitespace_or_padding_between_and_after_iso2709_records_is_skipped(between):
    data = (DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes()
    records = [chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk.strip()]
    manifest = read_manifest(between.join(records) + between * 3)
    assert manifest.errors == []
    assert summary(manifest) == summary(read("derived_dp2_cnmarc_utf8.iso"))


def test_a_leader_that_lies_about_the_length_names_the_record_and_reading_goes_on():
    data = (DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes()
    first, *rest = [chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk.strip()]
    lying = f"{len(first) + 50:05d}".encode() + first[5:]
    manifest = read_manifest(lying + b"".join(rest))
    assert [(e.where, e.message) for e in manifest.errors] == [
        ("第 1 条记录", "记录头标区的记录长度（%s 字节）与记录的实际长度不符" % (len(first) + 50))
    ]
    assert manifest.title_count == 9


def test_a_doctype_anywhere_in_an_xml_file_is_refused_and_no_entity_is_expanded():
    data = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_bytes()
    end = data.index(b"?>") + 2
    late = data[:end] + b"<!--" + b"x" * 8000 + b'--><!DOCTYPE r [<!ENTITY t "x">]>' + data[end:]
    for variant in (late, late.decode("utf-8-sig").replace("UTF-8", "UTF-16").encode("utf-16")):
        manifest = read_manifest(variant)
        assert manifest.titles == []
        assert "DOCTYPE" in manifest.errors[0].message


def test_a_utf16_marcxml_file_is_read():
    text = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_text(encoding="utf-8-sig")
    manifest = read_manifest(text.replace("UTF-8", "UTF-16").encode("utf-16"))
    assert manifest.errors == []
    assert manifest.title_count == 10


def test_xml_errors_are_said_in_chinese_with_line_and_column():
    data = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_bytes()
    broken = read_manifest(data.replace(b"</record>", b"", 1)).errors[0].message
    assert broken.startswith("XML 格式有误：第 ") and "开始标签和结束标签不配对" in broken
    cut = read_manifest(data[:5000]).errors[0].message
    assert "可能只传了一部分" in cut
    for message in (broken, cut):
        assert "<unknown>" not in message and "element" not in message


def test_gb18030_cnmarc_read_as_marc8_is_warned_about_and_marked_as_garbled():
    records = [
        cnmarc_record(f"GB{n}", title, "", "C912.82", [f"NL3100000{n}"])
        for n, title in enumerate(["乡土中国", "活着", "平凡的世界"])
    ]
    manifest = read_manifest(iso2709(records, encoding="gb18030"), options=ImportOptions("marc-8"))
    assert manifest.errors == []
    assert len(manifest.suspect_titles) == 3
    assert [w.where for w in manifest.warnings] == ["文字编码"]
    assert "可能选错了文字编码" in manifest.warnings[0].message
    # Read with the right encoding, the same file reads well and warns of nothing.
    right = read_manifest(iso2709(records, encoding="gb18030"))
    assert right.warnings == [] and right.suspect_titles == []
    assert [t.title for t in right.sample] == ["乡土中国", "活着", "平凡的世界"]


def test_the_real_marc21_records_in_many_scripts_are_not_taken_for_garbled_text():
    assert read("traject_test_data.utf8.mrc").suspect_titles == []


def test_a_title_longer_than_its_column_is_refused_naming_record_and_field_not_cut():
    long_title = "乡土中国" * 130
    manifest = read_manifest(iso2709([cnmarc_record("R1", long_title, "", "C912.82", ["NL1"])]))
    assert [(e.where, e.field) for e in manifest.errors] == [("第 1 条记录（R1）", "题名（200$a）")]
    assert "题名有 520 字，最多 500 字" in manifest.errors[0].message


def test_a_utf8_file_read_as_marc8_because_it_was_chosen_is_warned_about():
    manifest = read("derived_dp2_cnmarc_utf8.iso", encoding="marc-8")
    assert manifest.errors == []
    messages = [w.message for w in manifest.warnings if w.where == "文字编码"]
    assert any("文件中的文字是 UTF-8 编码，却按 MARC-8 读取" in m for m in messages)
    assert any("看起来是乱码" in m for m in messages)
    assert read("derived_dp2_cnmarc_utf8.iso").warnings == []
