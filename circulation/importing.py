"""Read a readers file (CSV or XLSX, Chinese or English headers) into rows for `patron_import`.

Small on purpose: one sheet, one header row, six known columns. A file that cannot be read, a
missing required column or a malformed cell is reported with its row and column, and nothing is
imported (the service is all or nothing too).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils.translation import gettext as _

from circulation.services.patrons import PatronRow
from collections_app.errors import Problem, Refused
from collections_app.importing.detect import decode_text, detect_format
from collections_app.importing.limits import check_xlsx_contents, check_xlsx_size
from collections_app.importing.tabular import rows_of_csv, rows_of_xlsx

MAX_ROWS = 50_000
MAX_BYTES = 10 * 1024 * 1024

COLUMNS = {
    "card_number": ("读者证号", "证号", "card_number", "card"),
    "name": ("姓名", "name"),
    "category": ("读者类型", "类型", "category"),
    "home_site": ("办证站点", "站点", "home_site", "site"),
    "phone": ("联系电话", "电话", "phone"),
    "birth_year": ("出生年份", "birth_year"),
}
REQUIRED = ("card_number", "name", "category", "home_site")


def _header_map(header: list[str], number: int) -> dict[str, int]:
    names = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
    found = {}
    for index, cell in enumerate(header):
        key = names.get(str(cell or "").strip().lower())
        if key and key not in found:
            found[key] = index
    missing = [COLUMNS[key][0] for key in REQUIRED if key not in found]
    if missing:
        raise Refused(
            _("第 %(n)s 行（表头）缺少列：%(columns)s。")
            % {"n": number, "columns": "、".join(missing)}
        )
    return found


def _table_rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the non-empty rows, read as the consignment importer reads its
    files: format and encoding from the content, the XLSX checked before it is opened, and the
    rows streamed, so that a file of two million rows stops at the cap instead of being read."""
    if len(data) > MAX_BYTES:
        raise Refused(_("文件太大（最多 10 MB）。"))
    try:
        kind = detect_format(data)
    except ValueError as error:
        raise Refused(_readers_file(str(error))) from None
    if kind == "xlsx":
        try:
            check_xlsx_size(data)
            check_xlsx_contents(data)
        except ValueError as error:
            raise Refused(str(error)) from None
        return _refusing(rows_of_xlsx(data))
    if kind == "csv":
        try:
            text = decode_text(data)[0]
        except ValueError as error:
            raise Refused(str(error)) from None
        return _refusing(rows_of_csv(text))
    raise Refused(_("这是 MARC 书目文件，不是读者文件。请上传 CSV 或 XLSX 格式的读者名单。"))


def _readers_file(message: str) -> str:
    return message.replace(_("不是清单文件"), _("不是读者文件")).replace(
        _("请上传 CSV、XLSX、ISO 2709 MARC 或 MARCXML 格式的清单文件。"),
        _("请上传 CSV 或 XLSX 格式的读者名单。"),
    )


def _refusing(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
    """The rows, with any reading error (a damaged workbook, a row past the cap) as Refused."""
    try:
        yield from rows
    except ValueError as error:
        raise Refused(str(error)) from None


def read_patron_rows(name: str, data: bytes) -> list[PatronRow]:
    table = _table_rows(data)
    first = next(table, None)
    if first is None:
        raise Refused(_("文件是空的。"))
    header_number, header = first
    columns = _header_map(header, header_number)
    rows, problems = [], []
    for number, raw in table:
        if len(rows) >= MAX_ROWS:
            raise Refused(_("一次最多导入 %(n)s 位读者，请分成几个文件导入。") % {"n": MAX_ROWS})
        values = {key: raw[i] if i < len(raw) else "" for key, i in columns.items()}
        if not any(values.values()):
            continue
        birth_year = None
        if values.get("birth_year"):
            try:
                birth_year = int(values["birth_year"])
            except ValueError:
                problems.append(
                    Problem(
                        _("第 %(n)s 行“%(column)s”列") % {"n": number, "column": "出生年份"},
                        _("“%(value)s”不是年份") % {"value": values["birth_year"][:20]},
                    )
                )
        rows.append(
            PatronRow(
                line=number,
                card_number=values["card_number"],
                name=values["name"],
                category=values["category"],
                home_site=values["home_site"],
                phone=values.get("phone", ""),
                birth_year=birth_year,
            )
        )
    if problems:
        raise Refused(
            _("%(count)s 处错误，没有导入任何读者。") % {"count": len(problems)}, problems
        )
    return rows
