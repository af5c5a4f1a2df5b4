"""Which format a manifest file is in, and which text encoding, read from its bytes: the file
name is only a hint, since files are renamed and exported with the wrong extension."""

import codecs
import io
import re
import zipfile

from django.utils.translation import gettext as _

ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "gb18030": "gb18030",
    "gbk": "gb18030",  # GB18030 is a superset of GBK and GB2312: decode all of them as GB18030.
    "gb2312": "gb18030",
    "marc-8": "marc-8",
    "marc8": "marc-8",
}

_LEADER = re.compile(rb"^\d{5}[ a-z0-9\-|#]{5}\d[ \d]\d{5}")


def normalise_encoding(name: str) -> str:
    name = (name or "").strip().lower()
    if not name:
        return ""
    if name not in ENCODINGS:
        raise ValueError(_("不支持的编码“%(name)s”，可选 UTF-8、GB18030、GBK。") % {"name": name})
    return ENCODINGS[name]


def detect_format(data: bytes) -> str:
    """ "csv", "xlsx", "marc" or "marcxml"; ValueError for what cannot be a manifest."""
    if not data.strip():
        raise ValueError(_("文件是空的。"))
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            raise ValueError(_("XLSX 文件已损坏，无法打开。")) from None
        if "xl/workbook.xml" not in names:
            raise ValueError(_("这是一个压缩包，但不是 XLSX 工作簿。"))
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValueError(_("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后再导入。"))
    head = data[:64].lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<"):
        return "marcxml"
    if _LEADER.match(data[:24]) and b"\x1d" in data[:200000]:
        return "marc"
    return "csv"


def decode_text(data: bytes, encoding: str = "") -> tuple[str, str]:
    """The text of a CSV file and the encoding used: a BOM decides, then UTF-8 if every byte
    fits, then GB18030 (which covers GBK and GB2312)."""
    if encoding:
        try:
            return data.decode(encoding).lstrip("\ufeff"), encoding
        except UnicodeDecodeError as error:
            raise ValueError(
                _("文件不是 %(encoding)s 编码（第 %(pos)s 字节无法解码）。")
                % {"encoding": encoding.upper(), "pos": error.start + 1}
            ) from None
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="strict"), "utf-8"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    for candidate in ("utf-8", "gb18030"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    raise ValueError(_("无法识别文件的文字编码，请另存为 UTF-8 后再导入。"))


def marc_encoding(data: bytes) -> str:
    """ISO 2709 structure is ASCII, so a file whose bytes all decode as UTF-8 is UTF-8; Chinese
    systems that do not write UTF-8 write GB18030/GBK."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"
