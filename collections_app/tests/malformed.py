"""Malformed manifest and readers files, made from real files: the MARC records of
`tests/data/` (copied from ../shared/data/marc, see the README there) and the CSV and XLSX
files the tests build. Each case names what a librarian must be told.

Truncated, bit-flipped, lengths lied about, fields removed, encodings mislabelled, zips with
parts missing or false sizes and checksums, files that inflate far past the caps (built
cheaply: repeated rows compress a thousandfold, and the caps are lowered by settings), and
files that are no manifest at all."""

from __future__ import annotations

import io
import random
import re
import struct
import zipfile
from dataclasses import dataclass, field

from collections_app.tests.manifest_files import DATA, cnmarc_record, csv_bytes, iso2709, rows
from collections_app.tests.manifest_files import xlsx_bytes as make_xlsx

CNMARC_ISO = (DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes()
MARC21_ISO = (DATA / "traject_test_data.utf8.mrc").read_bytes()
CNMARC_XML = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_bytes()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"


@dataclass
class Case:
    name: str
    filename: str
    data: bytes
    # What the consignment import must say (a fragment of one of its messages).
    says: str
    encoding: str = ""
    settings: dict = field(default_factory=dict)
    # False for bit flips: a flipped bit may leave a valid file; it must still never fail.
    must_refuse: bool = True

    def __repr__(self):
        return self.name


def csv_manifest(count=20) -> bytes:
    return csv_bytes(rows(count), encoding="utf-8")


def xlsx_manifest(count=20) -> bytes:
    return make_xlsx(rows(count))


def records(data: bytes) -> list[bytes]:
    return [chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk.strip()]


def with_leader_length(record: bytes, length: int) -> bytes:
    return f"{length:05d}".encode() + record[5:]


def rezip(data: bytes, *, drop=(), change=None) -> bytes:
    """The zip again, without the members in `drop`, each member's bytes passed to `change`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename in drop:
                continue
            body = source.read(info.filename)
            if change is not None:
                body = change(info.filename, body)
            target.writestr(info.filename, body, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def patch_zip_headers(data: bytes, *, crc=None, size=None) -> bytes:
    """Every member's CRC-32 or uncompressed size, false in both the local and central headers."""
    data = bytearray(data)
    for signature, crc_at, size_at in ((b"PK\x03\x04", 14, 22), (b"PK\x01\x02", 16, 24)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if crc is not None:
                data[start + crc_at : start + crc_at + 4] = struct.pack("<I", crc)
            if size is not None:
                data[start + size_at : start + size_at + 4] = struct.pack("<I", size)
            start += 4
    return bytes(data)


def flip_bits(data: bytes, seed: int, count: int, start: int = 0) -> bytes:
    rng = random.Random(seed)
    data = bytearray(data)
    for _ in range(count):
        at = rng.randrange(start, len(data))
        data[at] ^= 1 << rng.randrange(8)
    return bytes(data)


def sheet_zip(sheet_rows, *, shared_strings: bytes | None = None, dimension="A1") -> bytes:
    """A minimal but complete workbook whose first sheet is written row by row from
    `sheet_rows` (bytes of <row> elements), streamed into the zip: millions of rows cost
    little memory and, repeated, compress a thousandfold."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org'
            '/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
            'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
            '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
            '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            "schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
            '" Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats'
            '.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships"><sheets><sheet name="清单" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>',
        )
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target='
            '"worksheets/sheet1.xml"/></Relationships>',
        )
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><dimension ref="'
                + dimension.encode()
                + b'"/><sheetData>'
            )
            batch = []
            for row in sheet_rows:
                batch.append(row)
                if len(batch) >= 10_000:
                    sheet.write(b"".join(batch))
                    batch = []
            sheet.write(b"".join(batch) + b"</sheetData></worksheet>")
    return out.getvalue()


def inline_row(number: int, values) -> bytes:
    cells = b"".join(
        b'<c t="inlineStr"><is><t>' + str(value).encode() + b"</t></is></c>" for value in values
    )
    return b'<row r="%d">' % number + cells + b"</row>"


HEADER = ["条码号", "题名", "ISBN"]


def many_rows(count: int):
    yield inline_row(1, HEADER)
    for number in range(2, count + 2):
        yield inline_row(number, [f"NL{number:08d}", "测试图书", ""])


def xml_bomb() -> bytes:
    lol = '<!ENTITY a0 "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE collection [{lol}]>'
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam  2200000 '
        '  4500</leader><datafield tag="245" ind1="0" ind2="0"><subfield code="a">&a9;'
        "</subfield></datafield></record></collection>"
    ).encode()


def corpus() -> list[Case]:
    cases: list[Case] = []
    add = cases.append
    first, *rest = records(CNMARC_ISO)
    gb18030_marc = iso2709(
        [
            cnmarc_record(f"GB{n}", f"乡土中国第{n}卷", "", "C912.82", [f"NL3100000{n}"])
            for n in range(5)
        ],
        encoding="gb18030",
    )

    # ISO 2709 -----------------------------------------------------------------------------
    add(
        Case("iso-truncated-half", "cnmarc.iso", CNMARC_ISO[: len(CNMARC_ISO) // 2], "只传了一部分")
    )
    add(Case("iso-truncated-leader", "cnmarc.iso", CNMARC_ISO[:30], "只传了一部分"))
    add(Case("iso-truncated-marc21", "marc21.mrc", MARC21_ISO[:-700], "只传了一部分"))
    add(
        Case(
            "iso-leader-length-too-long",
            "cnmarc.iso",
            with_leader_length(first, len(first) + 40) + b"".join(rest),
            "记录长度",
        )
    )
    add(
        Case(
            "iso-leader-length-too-short",
            "cnmarc.iso",
            with_leader_length(first, len(first) - 40) + b"".join(rest),
            "记录长度",
        )
    )
    add(
        Case(
            "iso-leader-length-not-digits",
            "cnmarc.iso",
            first + b"ABCDE" + rest[0][5:] + b"".join(rest[1:]),
            "不是数字",
        )
    )
    add(
        Case(
            "iso-base-address-lies",
            "cnmarc.iso",
            first[:12] + b"99999" + first[17:] + b"".join(rest),
            "起始地址",
        )
    )
    add(Case("iso-terminators-removed", "cnmarc.iso", CNMARC_ISO.replace(b"\x1d", b""), "记录"))
    add(Case("iso-gb18030-read-as-utf8", "gb.iso", gb18030_marc, "按 UTF-8 编码无法解码", "utf-8"))
    add(Case("iso-garbage-between-records", "cnmarc.iso", first + b"GARBAGE!" + rest[0], "记录"))
    for seed in range(6):
        add(
            Case(
                f"iso-bit-flips-{seed}",
                "cnmarc.iso",
                flip_bits(CNMARC_ISO, seed, 8),
                "",
                must_refuse=False,
            )
        )
        add(
            Case(
                f"iso-leader-bit-flips-{seed}",
                "marc21.mrc",
                flip_bits(MARC21_ISO[:2000], seed, 3, start=0),
                "",
                must_refuse=False,
            )
        )

    # MARCXML ------------------------------------------------------------------------------
    add(Case("xml-truncated", "cnmarc.xml", CNMARC_XML[: len(CNMARC_XML) // 2], "只传了一部分"))
    add(
        Case(
            "xml-closing-tag-removed",
            "cnmarc.xml",
            CNMARC_XML.replace(b"</record>", b"", 1),
            "XML 格式有误",
        )
    )
    doctype = b'<!DOCTYPE r [<!ENTITY t "\xe4\xb9\xb1">]>'
    declaration_end = CNMARC_XML.index(b"?>") + 2
    late_doctype = (
        CNMARC_XML[:declaration_end]
        + b"<!--"
        + b"x" * 8000
        + b"-->"
        + doctype
        + CNMARC_XML[declaration_end:]
    )
    add(Case("xml-doctype-after-long-comment", "cnmarc.xml", late_doctype, "DOCTYPE"))
    utf16 = re.sub(
        r'encoding="utf-8"', 'encoding="utf-16"', late_doctype.decode("utf-8-sig"), flags=re.I
    )
    add(Case("xml-doctype-utf16", "cnmarc.xml", utf16.encode("utf-16"), "DOCTYPE"))
    add(Case("xml-billion-laughs", "bomb.xml", xml_bomb(), "DOCTYPE"))
    add(
        Case(
            "xml-external-entity",
            "xxe.xml",
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><datafield tag="245">'
            b'<subfield code="a">&x;</subfield></datafield></record></collection>',
            "DOCTYPE",
        )
    )
    add(
        Case(
            "xml-unknown-encoding",
            "cnmarc.xml",
            b'<?xml version="1.0" encoding="klingon"?>' + CNMARC_XML[declaration_end:],
            "编码",
        )
    )
    add(
        Case(
            "xml-no-records",
            "empty.xml",
            b'<?xml version="1.0"?><collection xmlns="http://www.loc.gov/MARC21/slim"/>',
            "没有 MARC 记录",
        )
    )
    add(
        Case(
            "xml-record-of-thousands-of-fields",
            "fields.xml",
            b'<collection xmlns="http://www.loc.gov/MARC21/slim"><record><leader>00000nam  22'
            b"00000   4500</leader>"
            + b'<datafield tag="500" ind1=" " ind2=" "><subfield code="a">x</subfield></datafield>'
            * 5_000
            + b"</record></collection>",
            "字段超过",
        )
    )
    add(
        Case(
            "xml-records-past-the-cap",
            "cnmarc.xml",
            CNMARC_XML,
            "条记录",
            settings={"CONSIGNMENT_IMPORT_MAX_ROWS": 5},
        )
    )
    add(
        Case(
            "iso-records-past-the-cap",
            "cnmarc.iso",
            CNMARC_ISO,
            "条记录",
            settings={"CONSIGNMENT_IMPORT_MAX_ROWS": 5},
        )
    )
    for seed in range(4):
        add(
            Case(
                f"xml-bit-flips-{seed}",
                "cnmarc.xml",
                flip_bits(CNMARC_XML, seed, 6),
                "",
                must_refuse=False,
            )
        )

    # XLSX ---------------------------------------------------------------------------------
    workbook = xlsx_manifest()
    for part in ("[Content_Types].xml", "_rels/.rels", "xl/_rels/workbook.xml.rels"):
        add(Case(f"xlsx-without-{part}", "manifest.xlsx", rezip(workbook, drop=[part]), part))
    add(Case("xlsx-false-crc", "manifest.xlsx", patch_zip_headers(workbook, crc=1234), "已损坏"))
    add(
        Case(
            "xlsx-false-size-small", "manifest.xlsx", patch_zip_headers(workbook, size=10), "已损坏"
        )
    )
    add(
        Case(
            "xlsx-false-size-large",
            "manifest.xlsx",
            patch_zip_headers(workbook, size=5_000_000),
            "已损坏",
        )
    )
    add(Case("xlsx-truncated", "manifest.xlsx", workbook[: len(workbook) // 2], "已损坏"))
    add(
        Case(
            "xlsx-sheet-with-entities",
            "manifest.xlsx",
            rezip(
                workbook,
                change=lambda name, body: (
                    body.replace(b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaa">]><worksheet', 1)
                    if name.startswith("xl/worksheets/")
                    else body
                ),
            ),
            "已损坏",
        )
    )
    add(
        Case(
            "xlsx-inflates-past-the-cap",
            "bomb.xlsx",
            sheet_zip(many_rows(20_000)),
            "解压后有",
            settings={"CONSIGNMENT_IMPORT_MAX_XLSX_BYTES": 256 * 1024},
        )
    )
    add(
        Case(
            "xlsx-rows-past-the-cap",
            "rows.xlsx",
            sheet_zip(many_rows(300_000)),
            "行",
        )
    )
    add(
        Case(
            "xlsx-cells-past-the-cap",
            "cells.xlsx",
            sheet_zip(inline_row(n, ["x"] * 60) for n in range(1, 2_000)),
            "单元格",
            settings={"CONSIGNMENT_IMPORT_MAX_CELLS": 50_000},
        )
    )
    add(
        Case(
            "xlsx-one-row-too-wide",
            "wide.xlsx",
            sheet_zip([inline_row(1, HEADER), inline_row(2, ["x"] * 200_000)]),
            "太宽",
        )
    )
    add(
        Case(
            "xlsx-huge-cell",
            "cell.xlsx",
            sheet_zip([inline_row(1, HEADER), inline_row(2, ["NL1", "题" * 20_000, ""])]),
            "字的上限",
        )
    )
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    add(Case("docx-renamed-xlsx", "manifest.xlsx", docx.getvalue(), "Word 文档"))
    for seed in range(4):
        add(
            Case(
                f"xlsx-bit-flips-{seed}",
                "manifest.xlsx",
                flip_bits(workbook, seed, 4, start=30),
                "",
                must_refuse=False,
            )
        )

    # CSV and files that are no manifest ---------------------------------------------------
    add(Case("png-renamed-csv", "manifest.csv", PNG + bytes(range(256)) * 4, "PNG 图片"))
    add(Case("pdf-renamed-csv", "manifest.csv", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"))
    add(Case("gzip-renamed-csv", "manifest.csv", b"\x1f\x8b\x08" + bytes(40), "gzip"))
    add(Case("binary-csv", "manifest.csv", bytes(range(256)) * 16, "二进制文件"))
    add(
        Case(
            "csv-gb18030-read-as-utf8",
            "manifest.csv",
            csv_bytes(rows(5), encoding="gb18030"),
            "不是 UTF-8 编码",
            "utf-8",
        )
    )
    long_title = rows(3)
    long_title[1][2] = "很长的题名" * 130
    add(Case("csv-title-over-500", "manifest.csv", csv_bytes(long_title), "最多 500 字"))
    add(
        Case(
            "csv-unclosed-quote",
            "manifest.csv",
            csv_manifest().replace(b"\r\nNL21", b'\r\n"NL21', 3) + b"x" * 200_000,
            "第",
        )
    )
    add(
        Case(
            "csv-rows-past-the-cap",
            "manifest.csv",
            csv_manifest(300),
            "行",
            settings={"CONSIGNMENT_IMPORT_MAX_ROWS": 100},
        )
    )
    add(
        Case(
            "csv-past-the-upload-cap",
            "manifest.csv",
            csv_manifest(400),
            "上限",
            settings={"CONSIGNMENT_IMPORT_MAX_BYTES": 10_000},
        )
    )
    add(Case("empty-file", "manifest.csv", b"\r\n  \r\n", "空"))
    add(
        Case(
            "csv-one-line-of-commas",
            "manifest.csv",
            csv_manifest() + b"," * 2_000_000,
            "单元格",
            settings={"CONSIGNMENT_IMPORT_MAX_CELLS": 100_000},
        )
    )
    for seed in range(3):
        add(
            Case(
                f"csv-bit-flips-{seed}",
                "manifest.csv",
                flip_bits(csv_bytes(rows(10), encoding="gb18030"), seed, 10),
                "",
                must_refuse=False,
            )
        )
    return cases
