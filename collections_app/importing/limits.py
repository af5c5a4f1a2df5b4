"""Size limits checked before and while parsing: an upload too large, an XLSX file (a zip)
whose members would inflate past a cap (a "zip bomb") or that lacks the parts of a workbook,
and caps on rows, records and the length of one cell, enforced while the file is read so that
no file holds a worker for long or fills its memory.

The caps are settings, read at each upload so that a test or a deployment can change them:
`CONSIGNMENT_IMPORT_MAX_BYTES`, `CONSIGNMENT_IMPORT_MAX_XLSX_BYTES`, and (with defaults here)
`CONSIGNMENT_IMPORT_MAX_ROWS`, `CONSIGNMENT_IMPORT_MAX_CELL_CHARS`,
`CONSIGNMENT_IMPORT_MAX_SHARED_STRINGS_BYTES`."""

import io
import re
import zipfile
import zlib

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

# The parts every workbook written by Excel, WPS or LibreOffice has; openpyxl needs them all.
XLSX_PARTS = ("[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


def max_upload_bytes() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_BYTES


def max_xlsx_bytes() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_XLSX_BYTES


def max_rows() -> int:
    """Rows of a table (or records of a MARC file) read from one file: a manifest of a whole
    NLC consignment is some 30,000 volumes."""
    return settings.CONSIGNMENT_IMPORT_MAX_ROWS


def max_cell_chars() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_CELL_CHARS


def max_shared_strings_bytes() -> int:
    """openpyxl holds a workbook's shared strings in memory: cap them apart from the sheets."""
    return settings.CONSIGNMENT_IMPORT_MAX_SHARED_STRINGS_BYTES


def intcomma(number: int) -> str:
    """ "100,000": the same in every message, whatever the locale settings."""
    return f"{number:,}"


class TooLarge(ValueError):
    pass


def check_upload_size(size: int) -> None:
    if size > max_upload_bytes():
        raise TooLarge(
            _("文件有 %(size)s，超过了 %(limit)s 的上限，请分成几个文件导入。")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())}
        )


def check_row_count(number: int) -> None:
    """Called with each row number as the rows stream in: refuse at the first one past the cap."""
    if number > max_rows():
        raise TooLarge(
            _("表格超过 %(n)s 行，一次最多导入 %(n)s 行，请分成几个文件导入。")
            % {"n": intcomma(max_rows())}
        )


def check_record_count(number: int) -> None:
    if number > max_rows():
        raise TooLarge(
            _("文件超过 %(n)s 条记录，一次最多导入 %(n)s 条，请分成几个文件导入。")
            % {"n": intcomma(max_rows())}
        )


def check_cells(cells: list[str], row: int, limit: int) -> list[str]:
    """`cells` of one row, each at most `limit` characters (`max_cell_chars()`, read once per
    file by the caller): TooLarge naming the first cell past it."""
    if cells and max(map(len, cells)) > limit:
        for column, text in enumerate(cells, 1):
            check_cell(text, row, column, limit=limit)
    return cells


def check_cell(text: str, row: int, column: int, *, limit: int | None = None) -> str:
    limit = max_cell_chars() if limit is None else limit
    if len(text) > limit:
        raise TooLarge(
            _("第 %(row)s 行第 %(column)s 列的内容有 %(size)s 字，超过了 %(limit)s 字的上限。")
            % {
                "row": row,
                "column": column,
                "size": intcomma(len(text)),
                "limit": intcomma(limit),
            }
        )
    return text


def check_xlsx_size(data: bytes) -> None:
    """Check the parts and the declared sizes of the zip members; refuse before openpyxl
    inflates anything. zipfile never inflates a member past its declared size (it stops with
    BadZipFile), so the declared sizes are a true bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise ValueError(
            _("XLSX 文件已损坏，无法打开：请用 Excel 或 WPS 打开后重新保存。")
        ) from None
    names = {member.filename for member in members}
    missing = [part for part in XLSX_PARTS if part not in names]
    if missing:
        raise ValueError(
            _(
                "XLSX 文件不完整，缺少“%(parts)s”，可能不是 Excel 保存的文件：请用 Excel 或 WPS "
                "打开后另存为 .xlsx 再导入。"
            )
            % {"parts": "”“".join(missing)}
        )
    if any(member.flag_bits & 0x1 for member in members):
        raise ValueError(_("XLSX 文件有密码保护，请先取消密码再导入。"))
    total = sum(member.file_size for member in members)
    if total > max_xlsx_bytes():
        raise TooLarge(
            _("XLSX 文件解压后有 %(size)s，超过了 %(limit)s 的上限，请分成几个文件导入。")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_xlsx_bytes())}
        )
    shared = sum(
        member.file_size for member in members if member.filename == "xl/sharedStrings.xml"
    )
    if shared > max_shared_strings_bytes():
        raise TooLarge(
            _("XLSX 文件中的文字解压后有 %(size)s，超过了 %(limit)s 的上限，请分成几个文件导入。")
            % {"size": filesizeformat(shared), "limit": filesizeformat(max_shared_strings_bytes())}
        )


def max_cells() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_CELLS


# One row of a real manifest is a few hundred bytes of sheet XML; a row of a megabyte is a
# sheet made to be wide.
MAX_ROW_XML_BYTES = 1024 * 1024
_ROW_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?row[\s>/]")
_CELL_TAGS = (b"<c ", b"<c>", b":c ")
_STRING_TAGS = (b"<si>", b"<si ", b":si>", b":si ")
_CHUNK = 1024 * 1024
_OVERLAP = 16


def _count(buffer: bytes, patterns, end: int) -> int:
    return sum(buffer.count(pattern, 0, end + len(pattern) - 1) for pattern in patterns)


def check_xlsx_contents(data: bytes) -> None:
    """Stream every member of a workbook, inflating a megabyte at a time: each must inflate to
    its declared size with its declared checksum, and the sheets (and shared strings) are
    counted, rows and cells, before openpyxl builds anything: stop at the first row or cell
    past the caps, and refuse a row so wide that reading it would fill the memory."""
    cells_cap, rows_cap = max_cells(), max_rows()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.infolist():
                name = member.filename
                if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                    patterns, is_sheet = _CELL_TAGS, True
                elif name == "xl/sharedStrings.xml":
                    patterns, is_sheet = _STRING_TAGS, False
                else:
                    patterns, is_sheet = (), False
                size = _scan_member(archive, member, patterns, is_sheet, cells_cap, rows_cap)
                if size != member.file_size:
                    raise zipfile.BadZipFile(name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, TooLarge):
            raise
        raise ValueError(
            _("XLSX 文件已损坏（压缩数据或校验和有误）：请用 Excel 或 WPS 打开后重新保存。")
        ) from None
    except zlib.error:
        raise ValueError(
            _("XLSX 文件已损坏（压缩数据有误），无法打开：请用 Excel 或 WPS 打开后重新保存。")
        ) from None


def _scan_member(archive, member, patterns, is_sheet, cells_cap, rows_cap) -> int:
    """The inflated size of a member, its rows and cells counted on the way."""
    cells = rows = 0
    offset = 0  # bytes of the member before `buffer`
    last_row = None
    tail = b""
    with archive.open(member) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            buffer = tail + chunk
            end = len(buffer) if not chunk else max(0, len(buffer) - _OVERLAP)
            cells += _count(buffer, patterns, end)
            if is_sheet:
                for match in _ROW_TAG.finditer(buffer, 0, end + 8):
                    if match.start() >= end:
                        break
                    at = offset + match.start()
                    rows += 1
                    if last_row is not None and at - last_row > MAX_ROW_XML_BYTES:
                        raise _too_wide(rows - 1)
                    last_row = at
                    if rows > rows_cap:
                        check_row_count(rows)
                if last_row is not None and offset + end - last_row > MAX_ROW_XML_BYTES:
                    raise _too_wide(rows)
            if cells > cells_cap:
                raise TooLarge(
                    _("表格超过 %(n)s 个单元格，请分成几个文件导入。") % {"n": intcomma(cells_cap)}
                )
            if not chunk:
                return offset + len(buffer)
            tail = buffer[end:]
            offset += end


def _too_wide(row: int) -> TooLarge:
    return TooLarge(
        _("表格第 %(row)s 行太宽（内容超过 1 MB），不像是清单：请检查这一行。") % {"row": row}
    )
