"""Size limits checked before any parsing: an upload too large, and an XLSX file (a zip) whose
members would inflate past a cap (a "zip bomb"). The caps are settings
(`CONSIGNMENT_IMPORT_MAX_BYTES`, `CONSIGNMENT_IMPORT_MAX_XLSX_BYTES`), read at each upload so
that a test or a deployment can change them."""

import io
import zipfile

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _



def max_upload_bytes() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_BYTES


def max_xlsx_bytes() -> int:
    return settings.CONSIGNMENT_IMPORT_MAX_XLSX_BYTES


class TooLarge(ValueError):
    pass


def check_upload_size(size: int) -> None:
    if size > max_upload_bytes():
        raise TooLarge(
            _("文件有 %(size)s，超过了 %(limit)s 的上限，请分成几个文件导入。")
            % {"size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())}
        )


def check_xlsx_size(data: bytes) -> None:
    """Sum the declared sizes of the zip members; refuse before openpyxl inflates anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        raise ValueError(_("XLSX 文件已损坏，无法打开。")) from None
    if total > max_xlsx_bytes():
        raise TooLarge(
            _("XLSX 文件解压后有 %(size)s，超过了 %(limit)s 的上限，请分成几个文件导入。")
            % {"size": filesizeformat(total), "limit": filesizeformat(max_xlsx_bytes())}
        )
