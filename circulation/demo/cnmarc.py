"""Read the sample CNMARC records (XML inside an SRU response) that the demo catalogue includes.

CNMARC is UNIMARC as used in China, so the fields are read by tag and subfield, never through
pymarc's MARC21 shortcuts: ISBN 010$a, price 010$d, title 200$a, responsibility 200$f,
publisher 210$c, year 210$d, CLC class number 690$a.
"""

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from stdnum import isbn

SAMPLE = Path(__file__).resolve().parent / "data" / "dp2_sample_cnmarcxml_sru.xml"
NS = "{http://www.nlc.cn/}"


@dataclass(frozen=True)
class MarcTitle:
    isbn: str
    title: str
    responsibility: str
    publisher: str
    year: int | None
    clc: str
    price: Decimal | None
    marc: str


def _first(record: ET.Element, tag: str, code: str) -> str:
    for datafield in record.iter(f"{NS}datafield"):
        if datafield.get("tag") != tag:
            continue
        for subfield in datafield.iter(f"{NS}subfield"):
            if subfield.get("code") == code and subfield.text:
                return subfield.text.strip()
    return ""


def _price(text: str) -> Decimal | None:
    # Prices come as "CNY68.00" and sometimes "CNY赠90.00" (a gift copy with its list price).
    match = re.search(r"\d+(?:\.\d+)?", text)
    return Decimal(match.group()).quantize(Decimal("0.01")) if match else None


def _isbn13(text: str) -> str:
    return isbn.compact(isbn.to_isbn13(text)) if text and isbn.is_valid(text) else ""


def read_sample(path: Path = SAMPLE) -> list[MarcTitle]:
    # Without this the stored records would spell every tag "ns0:datafield".
    ET.register_namespace("", NS.strip("{}"))
    root = ET.parse(path).getroot()
    titles = []
    for record in root.iter(f"{NS}record"):
        year = _first(record, "210", "d")
        titles.append(
            MarcTitle(
                isbn=_isbn13(_first(record, "010", "a")),
                title=_first(record, "200", "a"),
                responsibility=_first(record, "200", "f"),
                publisher=_first(record, "210", "c"),
                year=int(year[:4]) if year[:4].isdigit() else None,
                clc=_first(record, "690", "a"),
                price=_price(_first(record, "010", "d")),
                marc=ET.tostring(record, encoding="unicode"),
            )
        )
    return titles
