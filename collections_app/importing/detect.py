"""Which format a manifest file is in, and which text encoding, read from its bytes: the file
name is only a hint, since files are renamed and exported with the wrong extension."""

import codecs
import io
import re
import zipfile

from django.utils.translation import get_language, gettext_lazy
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


# What a file that is no manifest at all turns out to be, from its first bytes.
_MAGIC = [
    (b"\x89PNG\r\n\x1a\n", gettext_lazy("PNG 图片")),
    (b"\xff\xd8\xff", gettext_lazy("JPEG 图片")),
    (b"GIF87a", gettext_lazy("GIF 图片")),
    (b"GIF89a", gettext_lazy("GIF 图片")),
    (b"II*\x00", gettext_lazy("TIFF 图片")),
    (b"MM\x00*", gettext_lazy("TIFF 图片")),
    (b"%PDF-", gettext_lazy("PDF 文档")),
    (b"\x1f\x8b", gettext_lazy("gzip 压缩包")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("7z 压缩包")),
    (b"Rar!\x1a\x07", gettext_lazy("RAR 压缩包")),
    (b"BZh", gettext_lazy("bzip2 压缩包")),
    (b"\xfd7zXZ\x00", gettext_lazy("xz 压缩包")),
    (b"{\\rtf", gettext_lazy("RTF 文档")),
    (b"MZ\x90\x00", gettext_lazy("Windows 程序")),
    (b"\x7fELF", gettext_lazy("程序文件")),
    (b"ID3", gettext_lazy("MP3 音频")),
    (b"OggS", gettext_lazy("音频文件")),
    (b"\x1a\x45\xdf\xa3", gettext_lazy("视频文件")),
    (b"SQLite format 3\x00", gettext_lazy("SQLite 数据库")),
    (b"\x00\x00\x01\x00", gettext_lazy("图标文件")),
]
_RIFF = {
    b"WEBP": gettext_lazy("WebP 图片"),
    b"WAVE": gettext_lazy("WAV 音频"),
    b"AVI ": gettext_lazy("视频文件"),
}
_ZIP_KINDS = [
    ("word/document.xml", gettext_lazy("Word 文档（.docx）")),
    ("ppt/presentation.xml", gettext_lazy("PowerPoint 演示文稿（.pptx）")),
]
_ACCEPTED = gettext_lazy("请上传 CSV、XLSX、ISO 2709 MARC 或 MARCXML 格式的清单文件。")


def not_a_manifest(kind) -> ValueError:
    kind = str(kind)
    if kind[:1].isascii() and (get_language() or "").startswith("zh"):
        kind = f" {kind}"  # a space between Chinese and Latin text: "一个 PNG 图片"
    return ValueError(
        _("这是一个%(kind)s，不是清单文件。%(accepted)s") % {"kind": kind, "accepted": _ACCEPTED}
    )


def sniff_kind(data: bytes) -> str:
    """What a file is when its first bytes say it is no text, table or MARC file ("" else)."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return str(kind)
    if data.startswith(b"RIFF") and data[8:12] in _RIFF:
        return str(_RIFF[data[8:12]])
    if data[4:8] == b"ftyp":
        return str(_("视频或图片文件（MP4/HEIC）"))
    return ""


def _utf16_head(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data[:128].decode("utf-16", errors="ignore").lstrip("\ufeff").lstrip()
    return ""


def detect_format(data: bytes) -> str:
    """ "csv", "xlsx", "marc" or "marcxml"; ValueError for what cannot be a manifest, naming
    what it is when the first bytes tell (a PNG image, a PDF, a Word document…)."""
    if not data.strip(b" \t\r\n\x00"):
        raise ValueError(_("文件是空的。"))
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
            raise ValueError(
                _("XLSX 文件已损坏，无法打开：请用 Excel 或 WPS 打开后重新保存。")
            ) from None
        if "mimetype" in names and any(name == "content.xml" for name in names):
            raise ValueError(
                _("这是一个 OpenDocument（WPS/LibreOffice）文件，请另存为 .xlsx 或 CSV 后再导入。")
            )
        for part, kind in _ZIP_KINDS:
            if part in names:
                raise not_a_manifest(kind)
        if not any(name.startswith("xl/") for name in names):
            raise not_a_manifest(_("压缩包（ZIP）"))
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ValueError(
            _("这是旧版 Excel（.xls）或加了密码的 Excel 文件，请另存为 .xlsx 或 CSV 再导入。")
        )
    kind = sniff_kind(data)
    if kind:
        raise not_a_manifest(kind)
    head = data[:64].lstrip(codecs.BOM_UTF8).lstrip()
    if head.startswith(b"<") or _utf16_head(data).startswith("<"):
        return "marcxml"
    start = data[:4096].lstrip(b" \t\r\n\x00")
    if _LEADER.match(start[:24]):
        return "marc"
    if b"\x00" in data[:4096] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise not_a_manifest(_("二进制文件"))
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
