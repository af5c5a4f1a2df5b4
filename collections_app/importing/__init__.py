"""Reading consignment manifests: detect the format and encoding from the bytes, read CSV,
XLSX, ISO 2709 MARC or MARCXML into a `Manifest`, and validate every value on the way.
Nothing here writes to the database; `collections_app.services.receiving` does."""

from django.utils.translation import gettext as _

from collections_app.importing.clc import ClcChecker
from collections_app.importing.detect import decode_text, detect_format, normalise_encoding
from collections_app.importing.limits import (
    check_upload_size,
    check_xlsx_contents,
    check_xlsx_size,
)
from collections_app.importing.manifest import ImportOptions, Manifest, flag_suspect_text
from collections_app.importing.marc import parse_holdings, read_iso2709, read_marcxml
from collections_app.importing.tabular import read_csv, read_xlsx

__all__ = ["ImportOptions", "Manifest", "read_manifest"]


def read_manifest(data: bytes, *, options: ImportOptions | None = None, clc=None) -> Manifest:
    """Every problem ends up in `manifest.problems`; nothing raises for bad content. Titles
    whose text looks mis-decoded are marked and warned about (see `flag_suspect_text`)."""
    options = options or ImportOptions()
    clc = clc or ClcChecker.from_database()
    try:
        manifest = _read(data, options, clc)
    except ValueError as error:
        manifest = Manifest("")
        manifest.error(_("文件"), "", "", str(error))
        return manifest
    chinese = manifest.file_format in ("csv", "xlsx") or (
        manifest.chinese_records * 2 > len(manifest.titles)
    )
    _warn_of_a_forced_encoding(manifest, data, options.encoding)
    flag_suspect_text(manifest, chinese=chinese)
    return manifest


def _warn_of_a_forced_encoding(manifest: Manifest, data: bytes, chosen: str) -> None:
    """A file whose text is valid UTF-8, read as GB18030 or MARC-8 because the librarian chose
    so: Chinese text in UTF-8 is almost never also sensible GB18030, so say it."""
    try:
        chosen = normalise_encoding(chosen)
    except ValueError:
        return
    if manifest.file_format not in ("csv", "marc") or chosen not in ("gb18030", "marc-8"):
        return
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    manifest.warn(
        _("文字编码"),
        "",
        "",
        _("文件中的文字是 UTF-8 编码，却按 %(chosen)s 读取，可能选错了文字编码：请核对样例。")
        % {"chosen": chosen.upper()},
    )


def _read(data: bytes, options: ImportOptions, clc) -> Manifest:
    check_upload_size(len(data))
    file_format = detect_format(data)
    encoding = normalise_encoding(options.encoding)
    if file_format == "xlsx":
        check_xlsx_size(data)
        check_xlsx_contents(data)
        return read_xlsx(data, clc=clc)
    if file_format == "csv":
        text, encoding = decode_text(data, "" if encoding == "marc-8" else encoding)
        return read_csv(text, encoding=encoding, clc=clc)
    holdings = parse_holdings(options.holdings)
    reader = read_iso2709 if file_format == "marc" else read_marcxml
    return reader(data, encoding=encoding, holdings=holdings, clc=clc)
