"""MARC manifests: ISO 2709 (CNMARC/UNIMARC or MARC21, UTF-8, GB18030/GBK or MARC-8) and
MARCXML, including CNMARC XML inside an SRU response.

pymarc's shortcuts (`record.title`, `.isbn`) assume MARC21, so every value is read by tag and
subfield. Records are parsed without decoding, then decoded here with the detected or chosen
encoding, so that a GB18030 file is never read as Latin-1 because of its leader.

Field map (CNMARC/UNIMARC · MARC21): ISBN 010$a · 020$a; price 010$d · 020$c; title 200$a ·
245$a$b (the 880 vernacular form first); responsibility 200$f$g · 245$c; publisher 210$c or
214$c · 264$b or 260$b; year 100$a/09-12 or 210$d · 008/07-10 or 264$c/260$c; CLC 690$a ·
084$a ($2 clc); call number 905$d/$e. Holdings (one field per volume): 906$b (dp2), 995$f
(UNIMARC Koha), 952$p (MARC21 Koha), or a field chosen per import.
"""

from __future__ import annotations

import io
import re

from django.utils.translation import gettext as _
from pymarc import Field, Indicators, MARCReader, Record, Subfield, marc8_to_unicode
from pymarc.marcxml import XmlHandler, parse_xml

from collections_app.importing.clc import ClcChecker
from collections_app.importing.detect import marc_encoding
from collections_app.importing.fields import (
    check_barcode,
    clean_name,
    clean_text,
    clean_title,
    parse_price,
    parse_year,
)
from collections_app.importing.isbn import normalise_isbn
from collections_app.importing.manifest import Manifest, ManifestCopy, ManifestTitle

# Holdings fields tried in order when the import does not name one, with the subfields of the
# item's call number in each. Per flavour: in MARC21, 906 is the Library of Congress's local
# processing field ($b "cbc"), not holdings.
HOLDINGS = {
    "unimarc": [("906", "b", ("d", "e")), ("995", "f", ("k",))],
    "marc21": [("952", "p", ("o",))],
}
HOLDINGS_CHOICES = ["906$b", "995$f", "952$p"]
_HOLDINGS_SPEC = re.compile(r"^\s*(\d{3})\s*\$?\s*([0-9a-zA-Z])\s*$")


def parse_holdings(spec: str) -> tuple[str, str] | None:
    """ "995$f", "995f", "995 $f" → ("995", "f"); "" → None (try the defaults)."""
    if not (spec or "").strip():
        return None
    match = _HOLDINGS_SPEC.match(spec)
    if not match:
        raise ValueError(_("馆藏字段应写成“字段号$子字段”，例如 906$b。"))
    return match.group(1), match.group(2)


def read_iso2709(data: bytes, *, encoding: str, holdings, clc: ClcChecker) -> Manifest:
    encoding = encoding or marc_encoding(data)
    manifest = Manifest("marc", encoding)
    reader = MARCReader(io.BytesIO(data), to_unicode=False, permissive=True)
    for number, raw in enumerate(reader, start=1):
        where = _("第 %(n)s 条记录") % {"n": number}
        if raw is None:
            manifest.error(
                where,
                "",
                "",
                _("记录结构有误，无法读取：%(error)s") % {"error": reader.current_exception},
            )
            continue
        try:
            record = _decode(raw, encoding)
        except UnicodeDecodeError:
            manifest.error(
                where,
                "",
                "",
                _("按 %(encoding)s 编码无法解码，请选择正确的编码。")
                % {"encoding": encoding.upper()},
            )
            continue
        _add_record(manifest, record, number, holdings, clc)
    if not manifest.titles and not manifest.errors:
        manifest.error(_("文件"), "", "", _("文件中没有 MARC 记录。"))
    return manifest


class _Records(XmlHandler):
    def __init__(self):
        super().__init__(strict=False)

    def startElementNS(self, name, qname, attrs):
        # An SRU response wraps each MARC record in its own <record>; only a record element that
        # holds a leader, control or data fields is a MARC record, so start one lazily.
        if name[1] == "record":
            self._text = []
            return
        if name[1] in ("leader", "controlfield", "datafield") and self._record is None:
            self._record = Record()
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name, qname):
        if name[1] == "record" and self._record is not None and not self._record.fields:
            return
        super().endElementNS(name, qname)


_XML_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([\w\-]+)[\"']")


def read_marcxml(data: bytes, *, encoding: str, holdings, clc: ClcChecker) -> Manifest:
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data[:4096]:
        manifest = Manifest("marcxml")
        manifest.error(_("文件"), "", "", _("不接受带 DOCTYPE 或实体声明的 XML 文件。"))
        return manifest
    declared = _XML_DECLARATION.match(data)
    declared = declared.group(2).decode("ascii").lower() if declared else "utf-8"
    manifest = Manifest("marcxml", encoding or declared)
    if (encoding and encoding != "utf-8") or declared.startswith("gb"):
        # expat reads only UTF-8/UTF-16/Latin-1: re-encode GB18030/GBK text as UTF-8 first.
        try:
            text = data.decode(encoding or "gb18030")
        except UnicodeDecodeError:
            manifest.error(
                _("文件"),
                "",
                "",
                _("按 %(encoding)s 编码无法解码，请选择正确的编码。")
                % {"encoding": (encoding or declared).upper()},
            )
            return manifest
        text = re.sub(r"^\s*<\?xml[^>]*\?>", '<?xml version="1.0" encoding="UTF-8"?>', text)
        data = text.encode("utf-8")
        manifest.encoding = encoding or "gb18030"
    handler = _Records()
    try:
        parse_xml(io.BytesIO(data), handler)
    except Exception as error:  # SAXParseException and friends: say where the XML breaks.
        manifest.error(_("文件"), "", "", _("XML 格式有误：%(error)s") % {"error": error})
        return manifest
    for number, record in enumerate(handler.records, start=1):
        _add_record(manifest, record, number, holdings, clc)
    if not manifest.titles and not manifest.errors:
        manifest.error(_("文件"), "", "", _("文件中没有 MARC 记录。"))
    return manifest


def _decode(raw: Record, encoding: str) -> Record:
    def text(value: bytes) -> str:
        if encoding == "marc-8":
            return marc8_to_unicode(value, hide_utf8_warnings=True)
        return value.decode(encoding)

    record = Record(leader=str(raw.leader))
    for field in raw.fields:
        if field.control_field:
            record.add_field(Field(tag=field.tag, data=text(field.data)))
        else:
            record.add_field(
                Field(
                    tag=field.tag,
                    indicators=Indicators(field.indicator1, field.indicator2),
                    subfields=[Subfield(sub.code, text(sub.value)) for sub in field.subfields],
                )
            )
    return record


def _first(record: Record, tags, code: str) -> str:
    for field in record.get_fields(*tags):
        for value in field.get_subfields(code):
            if value.strip():
                return value.strip()
    return ""


def _linked_880(record: Record, tag: str):
    """The vernacular (880) form of a MARC21 field, when the record has one."""
    for field in record.get_fields("880"):
        link = field.get_subfields("6")
        if link and link[0].startswith(f"{tag}-"):
            return field
    return None


def _control_number(record: Record) -> str:
    field = record["001"]
    return field.data.strip() if field is not None and field.data else ""


def _add_record(manifest: Manifest, record: Record, number: int, holdings, clc) -> None:
    control = _control_number(record)
    where = _("第 %(n)s 条记录") % {"n": number}
    if control:
        where = _("第 %(n)s 条记录（%(id)s）") % {"n": number, "id": control}
    if record.get_fields("200"):
        values, flavour = _unimarc(record), "unimarc"
    elif record.get_fields("245"):
        values, flavour = _marc21(record), "marc21"
    else:
        manifest.error(where, "", "", _("没有题名字段（CNMARC 200 或 MARC21 245）"))
        return
    fields = values.pop("fields")
    entry = ManifestTitle(where=where, title=values["title"], marc=str(record))
    if not entry.title:
        manifest.error(where, fields["title"], "", _("缺少题名"))
    entry.responsibility = values["responsibility"][:500]
    entry.publisher = values["publisher"][:200]
    entry.price = parse_price(values["price"], lenient=True)
    entry.year = parse_year(values["year"], lenient=True)
    for key, parse in (("isbn", normalise_isbn), ("clc", clc.check)):
        try:
            setattr(entry, key, parse(values[key]))
        except ValueError as error:
            manifest.error(where, fields[key], values[key], str(error))
    entry.call_number = values["call_number"]
    _add_holdings(manifest, record, entry, holdings, flavour)
    manifest.titles.append(entry)


def _unimarc(record: Record) -> dict:
    title_field = record.get_fields("200")[0]
    year = ""
    coded = _first(record, ["100"], "a")
    if len(coded) >= 13 and coded[9:13].isdigit():
        year = coded[9:13]
    call = [_first(record, ["905"], "d"), _first(record, ["905"], "e")]
    return {
        "title": clean_title(" ".join(title_field.get_subfields("a"))),
        "responsibility": clean_text("；".join(title_field.get_subfields("f", "g"))),
        "publisher": clean_name(_first(record, ["210", "214"], "c")),
        "isbn": _first(record, ["010"], "a"),
        "price": _first(record, ["010"], "d"),
        "year": year or _first(record, ["210", "214"], "d"),
        "clc": _first(record, ["690"], "a"),
        "call_number": "/".join(part for part in call if part),
        "fields": {"title": "200$a", "isbn": "010$a", "clc": "690$a"},
    }


def _marc21(record: Record) -> dict:
    title_field = _linked_880(record, "245") or record.get_fields("245")[0]
    imprint = None
    for tag in ("264", "260"):
        imprint = _linked_880(record, tag) or (record.get_fields(tag) or [None])[0]
        if imprint is not None:
            break
    fixed = record["008"]
    year = fixed.data[7:11] if fixed is not None and fixed.data[7:11].isdigit() else ""
    if not year and imprint is not None:
        year = " ".join(imprint.get_subfields("c"))
    clc = ""
    for field in record.get_fields("084"):
        source = " ".join(field.get_subfields("2")).lower()
        if not source or "clc" in source or "ztf" in source:
            clc = " ".join(field.get_subfields("a")[:1])
            break
    isbn = _first(record, ["020"], "a")
    return {
        "title": clean_title(" ".join(title_field.get_subfields("a", "b", "n", "p"))),
        "responsibility": clean_title(" ".join(title_field.get_subfields("c"))),
        "publisher": clean_name(" ".join(imprint.get_subfields("b")))
        if imprint is not None
        else "",
        "isbn": isbn,
        "price": _first(record, ["020"], "c"),
        "year": year,
        "clc": clc,
        "call_number": "",
        "fields": {"title": "245$a", "isbn": "020$a", "clc": "084$a"},
    }


def _add_holdings(manifest: Manifest, record: Record, entry: ManifestTitle, holdings, flavour):
    if holdings is None:
        candidates = HOLDINGS[flavour]
    else:
        known = [spec for specs in HOLDINGS.values() for spec in specs if spec[:2] == holdings]
        candidates = known[:1] or [(*holdings, ())]
    for tag, code, call_codes in candidates:
        fields = record.get_fields(tag)
        if not fields:
            continue
        label = f"{tag}${code}"
        without = 0
        for field in fields:
            codes = [value.strip() for value in field.get_subfields(code) if value.strip()]
            if not codes:
                without += 1
                continue
            call = "/".join(part for c in call_codes for part in field.get_subfields(c)[:1])
            for value in codes:
                try:
                    barcode = check_barcode(value)
                except ValueError as error:
                    manifest.error(entry.where, label, value, str(error))
                    continue
                entry.copies.append(
                    ManifestCopy(barcode, call or entry.call_number, entry.where, label)
                )
        entry.awaiting = without
        return
    # No holdings at all: the title is expected with one volume, still without a barcode.
    entry.awaiting = 1
