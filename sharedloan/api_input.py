"""API input that no database column can hold: the NUL character.

PostgreSQL refuses NUL in text, so a code or a name with one in it would fail deep inside a
lookup (a DataError, a 500) instead of being answered. No code, barcode or name contains it, so
the API answers such a request at the door: a NUL in the address names nothing (404), one in the
query or the body is bad input (400, in the errors' one shape). File uploads are not read here:
a spreadsheet or a MARC file has NUL bytes of its own, and the importers read them.
"""

import re
from urllib.parse import unquote_to_bytes

from django.utils.translation import gettext as _
from rest_framework.exceptions import NotFound

from sharedloan.api_errors import error_response

API_PREFIX = "/api/"
TEXT_BODIES = ("application/json", "application/x-www-form-urlencoded")
JSON_NUL = re.compile(rb"(?<!\\)\\u0000", re.IGNORECASE)


def _body_has_nul(request) -> bool:
    content_type = request.content_type or ""
    if content_type not in TEXT_BODIES:
        return False
    body = request.body
    if content_type == "application/json":
        return b"\x00" in body or JSON_NUL.search(body) is not None
    return b"\x00" in unquote_to_bytes(body)


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info.startswith(API_PREFIX):
            if "\x00" in request.path_info:
                return error_response(404, "not_found", str(NotFound.default_detail))
            query = request.META.get("QUERY_STRING", "").encode("latin-1", "replace")
            if b"\x00" in unquote_to_bytes(query) or _body_has_nul(request):
                return error_response(
                    400, "invalid", _("请求中含有空字符，没有哪一项数据能含有它。")
                )
        return self.get_response(request)
