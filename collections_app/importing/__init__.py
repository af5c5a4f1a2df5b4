"""Reading consignment manifests: detect the format and encoding from the bytes, read CSV,
XLSX, ISO 2709 MARC or MARCXML into a `Manifest`, and validate every value on the way.
Nothing here writes to the database; `collections_app.services.receiving` does."""

from django.utils.translation import gettext as _

from collections_app.importing.clc import ClcChecker
from collections_app.importing.detect import decode_text, detect_format, normalise_encoding
from collections_app.importing.limits import check_upload_size, check_xlsx_size
from collections_app.importing.manifest import ImportOptions, Manifest
from collections_app.importing.marc import parse_holdings, read_iso2709, read_marcxml
from collections_app.importing.tabular import read_csv, read_xlsx

__all__ = ["ImportOptions", "Manifest", "read_manifest"]


def read_manifest(data: bytes, *, options: ImportOptions | None = None, clc=None) -> Manifest:
    """Every problem ends up in `manifest.problems`; nothing raises for bad content."""
    options = options or ImportOptions()
    clc = clc or ClcChecker.from_database()
    try:
        check_upload_size(len(data))
        file_format = detect_format(data)
        encoding = normalise_encoding(options.encoding)
        if file_format == "xlsx":
            check_xlsx_size(data)
            return read_xlsx(data, clc=clc)
        if file_format == "csv":
            text, encoding = decode_text(data, "" if encoding == "marc-8" else encoding)
            return read_csv(text, encoding=encoding, clc=clc)
        holdings = parse_holdings(options.holdings)
        reader = read_iso2709 if file_format == "marc" else read_marcxml
        return reader(data, encoding=encoding, holdings=holdings, clc=clc)
    except ValueError as error:
        manifest = Manifest("")
        manifest.error(_("文件"), "", "", str(error))
        return manifest
