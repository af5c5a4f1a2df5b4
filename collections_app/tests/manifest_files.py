"""Manifest files made in the tests: CSV in any encoding, XLSX, ISO 2709 in any encoding."""

import csv
import io
from pathlib import Path

from openpyxl import Workbook
from pymarc import Field, Indicators, Record, Subfield
from stdnum import ean

DATA = Path(__file__).resolve().parent / "data"
HEADERS = ["条码号", "ISBN", "题名", "责任者", "出版社", "出版年", "中图分类号", "索书号", "价格"]
CLASSES = ["I247.5", "K825.6", "TP311.13", "G634.413", "D922.291", "F124", "H319.4", "O13"]


def isbn13(n: int) -> str:
    body = f"97875{n % 10_000_000:07d}"
    return body + ean.calc_check_digit(body)


def rows(count: int, start: int = 1, prefix: str = "NL21") -> list[list[str]]:
    return [
        [
            f"{prefix}{number:08d}",
            isbn13(number),
            f"测试图书第{number}号",
            "某某著",
            "人民文学出版社",
            str(2000 + number % 24),
            CLASSES[number % len(CLASSES)],
            f"{CLASSES[number % len(CLASSES)]}/{number % 97}",
            f"{20 + number % 50}.00",
        ]
        for number in range(start, start + count)
    ]


def csv_bytes(data_rows, headers=HEADERS, encoding="utf-8", bom=False) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(data_rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode(encoding)


def xlsx_bytes(data_rows, headers=HEADERS) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("清单")
    sheet.append(headers)
    for row in data_rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def iso2709(records, encoding="utf-8") -> bytes:
    """ISO 2709 in any encoding (pymarc writes only UTF-8 or Latin-1): lengths in bytes."""
    out = b""
    for record in records:
        directory, body = b"", b""
        for field in record.fields:
            if field.control_field:
                data = field.data.encode(encoding) + b"\x1e"
            else:
                data = (field.indicator1 + field.indicator2).encode("ascii")
                for sub in field.subfields:
                    data += b"\x1f" + sub.code.encode("ascii") + sub.value.encode(encoding)
                data += b"\x1e"
            directory += f"{field.tag}{len(data):04d}{len(body):05d}".encode("ascii")
            body += data
        directory += b"\x1e"
        base = 24 + len(directory)
        total = base + len(body) + 1
        leader = f"{total:05d}nam0 22{base:05d}   450 ".encode("ascii")
        out += leader + directory + body + b"\x1d"
    return out


def cnmarc_record(control, title, isbn, clc, barcodes=(), price="CNY26.00"):
    record = Record(leader="00000nam0 2200000   450 ")
    record.add_field(Field(tag="001", data=control))
    record.add_field(
        Field("010", Indicators(" ", " "), [Subfield("a", isbn), Subfield("d", price)])
    )
    record.add_field(
        Field("100", Indicators(" ", " "), [Subfield("a", "20210301d2019    em y0chiy0120    ea")])
    )
    record.add_field(
        Field("200", Indicators("1", " "), [Subfield("a", title), Subfield("f", "费孝通著")])
    )
    record.add_field(
        Field(
            "210",
            Indicators(" ", " "),
            [Subfield("a", "北京"), Subfield("c", "中华书局"), Subfield("d", "2019")],
        )
    )
    record.add_field(Field("690", Indicators(" ", " "), [Subfield("a", clc), Subfield("v", "5")]))
    for code in barcodes:
        record.add_field(
            Field(
                "906",
                Indicators(" ", " "),
                [Subfield("b", code), Subfield("d", clc), Subfield("e", "7")],
            )
        )
    return record
