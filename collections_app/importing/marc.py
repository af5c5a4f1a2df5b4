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
import logging
import re
import warnings
from xml.sax import SAXParseException
from xml.sax.handler import feature_namespaces

from defusedxml import DefusedXmlException
from defusedxml.sax import make_parser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from pymarc import Field, Indicators, Record, Subfield, exceptions, marc8_to_unicode
from pymarc.marcxml import XmlHandler

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
from collections_app.importing.limits import TooLarge, check_record_count
from collections_app.importing.manifest import (
    Manifest,
    ManifestCopy,
    ManifestTitle,
    check_lengths,
)

logger = logging.getLogger(__name__)

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


# Bytes that some systems write between or after records: one record per line, padding to a
# block size. Other MARC tools skip them; so do we.
_PADDING = b" \t\r\n\x00\x1a"
END_OF_RECORD = b"\x1d"
_PYMARC_ERRORS = {
    exceptions.RecordLeaderInvalid: "记录头标区不完整",
    exceptions.BaseAddressNotFound: "记录头标区中的数据起始地址无效",
    exceptions.BaseAddressInvalid: "记录头标区中的数据起始地址超出了记录长度",
    exceptions.RecordDirectoryInvalid: "记录的目次区长度不对",
    exceptions.TruncatedRecord: "记录不完整，文件可能只传了一部分",
    exceptions.NoFieldsFound: "记录中没有字段",
}


def iso2709_chunks(data: bytes):
    """(record number, bytes of one record, or None and the reason it cannot be read) for each
    record of an ISO 2709 file. Whitespace and NULs between and after records are skipped; a
    record whose leader lies about its length is reported, and reading goes on at the next
    record terminator."""
    position, number = 0, 0
    while True:
        while position < len(data) and data[position] in _PADDING:
            position += 1
        if position >= len(data):
            return
        number += 1
        check_record_count(number)
        head = data[position : position + 5]
        terminator = data.find(END_OF_RECORD, position)
        if not head.isdigit() or int(head) < 25:
            yield (
                number,
                None,
                _("记录头标区的记录长度“%(value)s”不是数字")
                % {"value": head.decode("ascii", "replace").strip()},
            )
        else:
            length = int(head)
            chunk = data[position : position + length]
            if len(chunk) < length:
                yield (
                    number,
                    None,
                    _(
                        "记录头标区说记录有 %(length)s 字节，文件中只剩 %(left)s 字节，"
                        "文件可能只传了一部分"
                    )
                    % {"length": length, "left": len(chunk)},
                )
                return
            if chunk.endswith(END_OF_RECORD):
                yield number, chunk, ""
                position += length
                continue
            yield (
                number,
                None,
                _("记录头标区的记录长度（%(length)s 字节）与记录的实际长度不符")
                % {"length": length},
            )
        if terminator < 0:
            return
        position = terminator + 1


def _raw_record(chunk: bytes) -> Record:
    """pymarc's record from the bytes of one record, without decoding the text."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Record(data=chunk, to_unicode=False)


def _pymarc_message(error: Exception) -> str:
    for kind, message in _PYMARC_ERRORS.items():
        if isinstance(error, kind):
            return _(message)
    return _("记录结构有误，无法读取")


def read_iso2709(data: bytes, *, encoding: str, holdings, clc: ClcChecker) -> Manifest:
    encoding = encoding or marc_encoding(data)
    manifest = Manifest("marc", encoding)
    for number, chunk, reason in iso2709_chunks(data):
        where = _("第 %(n)s 条记录") % {"n": number}
        if chunk is None:
            manifest.error(where, "", "", reason)
            continue
        try:
            raw = _raw_record(chunk)
        except (exceptions.PymarcException, ValueError, IndexError) as error:
            manifest.error(where, "", "", _pymarc_message(error))
            continue
        try:
            record = _decode(raw, encoding)
        except (UnicodeDecodeError, ValueError, IndexError, KeyError):
            manifest.error(
                where,
                "",
                "",
                _("按 %(encoding)s 编码无法解码，请选择正确的编码。")
                % {"encoding": encoding.upper()},
            )
            continue
        _add_record_safely(manifest, record, number, holdings, clc)
    if not manifest.titles and not manifest.errors:
        manifest.error(_("文件"), "", "", _("文件中没有 MARC 记录。"))
    return manifest


def _add_record_safely(manifest, record, number, holdings, clc) -> None:
    """A record that the field map cannot make sense of is one error, not a failed upload."""
    try:
        _add_record(manifest, record, number, holdings, clc)
    except Exception:
        logger.warning("MARC record %s could not be read", number, exc_info=True)
        manifest.error(_("第 %(n)s 条记录") % {"n": number}, "", "", _("记录内容有误，无法读取"))


# Fields and subfields of one record: real records have a few dozen; a record of thousands is a
# file made to fill the memory.
MAX_FIELDS_PER_RECORD = 2_000
MAX_SUBFIELDS_PER_RECORD = 20_000


class _Records(XmlHandler):
    """pymarc's MARCXML handler, handing each record on as soon as it ends (`on_record`) instead
    of keeping them all, and refusing records past the caps while the XML streams in."""

    def __init__(self, on_record):
        super().__init__(strict=False)
        self.on_record = on_record
        self.count = 0
        self._fields = self._subfields = 0

    def startElementNS(self, name, qname, attrs):
        # An SRU response wraps each MARC record in its own <record>; only a record element that
        # holds a leader, control or data fields is a MARC record, so start one lazily.
        if name[1] == "record":
            self._text = []
            return
        if name[1] in ("leader", "controlfield", "datafield") and self._record is None:
            self._record = Record()
            self._fields = self._subfields = 0
        if name[1] in ("controlfield", "datafield"):
            self._fields += 1
        elif name[1] == "subfield":
            self._subfields += 1
        if self._fields > MAX_FIELDS_PER_RECORD or self._subfields > MAX_SUBFIELDS_PER_RECORD:
            raise TooLarge(
                _("第 %(n)s 条记录的字段超过 %(limit)s 个，不像是书目记录。")
                % {"n": self.count + 1, "limit": f"{MAX_FIELDS_PER_RECORD:,}"}
            )
        super().startElementNS(name, qname, attrs)

    def endElementNS(self, name, qname):
        if name[1] == "record" and self._record is not None and not self._record.fields:
            return
        super().endElementNS(name, qname)

    def process_record(self, record):
        self.count += 1
        check_record_count(self.count)
        self.on_record(self.count, record)


_XML_DECLARATION = re.compile(rb"^(\xef\xbb\xbf)?\s*<\?xml[^>]*encoding=[\"']([\w\-]+)[\"']")
# expat's messages, as a librarian would read them.
_EXPAT_MESSAGES = {
    "no element found": "文件在这里中断了，可能只传了一部分",
    "mismatched tag": "开始标签和结束标签不配对",
    "not well-formed (invalid token)": "有不符合 XML 规则的字符",
    "unclosed token": "有没有结束的标签",
    "junk after document element": "根元素结束之后还有多余的内容",
    "undefined entity": "用了没有定义的实体",
    "unbound prefix": "用了没有声明的命名空间前缀",
    "duplicate attribute": "同一个属性写了两次",
    "syntax error": "XML 语法有误",
    "unknown encoding": "XML 声明中的编码无法识别",
    "encoding specified in XML declaration is incorrect": "XML 声明中的编码与文件实际的编码不符",
    "XML declaration not well-formed": "XML 声明写得不对",
    "partial character": "文件末尾有不完整的字符，可能只传了一部分",
    "reference to invalid character number": "引用了不允许的字符",
    "text declaration not well-formed": "XML 声明写得不对",
}


def xml_error_message(error: Exception, lines: int = 0) -> str:
    """A Chinese sentence for why an XML file cannot be read, with the line and column; an
    error on the last line of the file (`lines`) is a file cut short."""
    if isinstance(error, DefusedXmlException):
        return _("不接受带 DOCTYPE 或实体声明的 XML 文件，请导出不带 DOCTYPE 的 MARCXML。")
    if isinstance(error, LookupError):
        return _("XML 声明中的文字编码无法识别，请导出 UTF-8 编码的 MARCXML。")
    if isinstance(error, SAXParseException):
        if lines and error.getLineNumber() >= lines:
            return _("XML 文件在第 %(line)s 行中断了，文件可能只传了一部分。") % {
                "line": error.getLineNumber()
            }
        raw = str(error.getMessage() or "")
        text = next(
            (_(message) for key, message in _EXPAT_MESSAGES.items() if raw.startswith(key)),
            _("XML 结构有误"),
        )
        return _("XML 格式有误：第 %(line)s 行第 %(column)s 列，%(problem)s。") % {
            "line": error.getLineNumber(),
            "column": (error.getColumnNumber() or 0) + 1,
            "problem": text,
        }
    return _("XML 格式有误，无法读取。")


def parse_xml_safely(data: bytes, handler) -> None:
    """Parse with defusedxml: no DOCTYPE, no entity declarations, no external references,
    wherever they are in the file and in whatever encoding."""
    parser = make_parser()
    parser.forbid_dtd = True
    parser.forbid_entities = True
    parser.forbid_external = True
    parser.setContentHandler(handler)
    parser.setFeature(feature_namespaces, 1)
    parser.parse(io.BytesIO(data))


def read_marcxml(data: bytes, *, encoding: str, holdings, clc: ClcChecker) -> Manifest:
    declared = _XML_DECLARATION.match(data)
    declared = declared.group(2).decode("ascii").lower() if declared else "utf-8"
    manifest = Manifest("marcxml", encoding or declared)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        manifest.encoding = "utf-16"
    elif (encoding and encoding not in ("utf-8", "marc-8")) or declared.startswith("gb"):
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
    handler = _Records(
        lambda number, record: _add_record_safely(manifest, record, number, holdings, clc)
    )
    try:
        parse_xml_safely(data, handler)
    except TooLarge:
        raise
    except Exception as error:  # expat, defusedxml, pymarc's handler on odd structure
        lines = data.count(b"\n") + 1 if manifest.encoding != "utf-16" else 0
        manifest.error(_("文件"), "", "", xml_error_message(error, lines))
        return manifest
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


def _control_field(record: Record, tag: str) -> str:
    """The data of a control field (001, 008), or "" when the record has none: records from
    real systems often come without them."""
    for field in record.get_fields(tag):
        if field.data:
            return str(field.data)
    return ""


def _control_number(record: Record) -> str:
    return _control_field(record, "001").strip()


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
        manifest.error(where, _field_label("title", fields["title"]), "", _("缺少题名"))
    entry.responsibility = values["responsibility"]
    entry.publisher = values["publisher"]
    entry.price = parse_price(values["price"], lenient=True)
    entry.year = parse_year(values["year"], lenient=True)
    for key, parse in (("isbn", normalise_isbn), ("clc", clc.check)):
        try:
            setattr(entry, key, parse(values[key]))
        except ValueError as error:
            manifest.error(where, _field_label(key, fields[key]), values[key], str(error))
    entry.call_number = values["call_number"]
    _add_holdings(manifest, record, entry, holdings, flavour)
    check_lengths(manifest, entry, {key: _field_label(key, tag) for key, tag in fields.items()})
    if flavour == "unimarc":
        manifest.chinese_records += 1
    manifest.titles.append(entry)


_FIELD_NAMES = {
    "title": gettext_lazy("题名"),
    "isbn": "ISBN",
    "clc": gettext_lazy("中图分类号"),
    "responsibility": gettext_lazy("责任者"),
    "publisher": gettext_lazy("出版者"),
    "call_number": gettext_lazy("索书号"),
}


def _field_label(key: str, tag: str) -> str:
    """ "题名（200$a）": the field as a librarian says it, with its MARC tag."""
    return f"{_FIELD_NAMES[key]}（{tag}）" if key in _FIELD_NAMES else tag


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
        "fields": {
            "title": "200$a",
            "isbn": "010$a",
            "clc": "690$a",
            "responsibility": "200$f",
            "publisher": "210$c",
            "call_number": "905$d",
        },
    }


def _marc21(record: Record) -> dict:
    title_field = _linked_880(record, "245") or record.get_fields("245")[0]
    imprint = None
    for tag in ("264", "260"):
        imprint = _linked_880(record, tag) or (record.get_fields(tag) or [None])[0]
        if imprint is not None:
            break
    fixed = _control_field(record, "008")
    year = fixed[7:11] if fixed[7:11].isdigit() else ""
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
        "fields": {
            "title": "245$a",
            "isbn": "020$a",
            "clc": "084$a",
            "responsibility": "245$c",
            "publisher": "264$b",
        },
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
        label = f"{_('条码号')}（{tag}${code}）"
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
