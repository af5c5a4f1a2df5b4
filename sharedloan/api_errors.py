"""Every error of the REST API in one JSON shape, so that a client branches on a stable `code`
and shows the `message` (Chinese by default, English on `Accept-Language: en`):

    {"code": "item_on_loan", "message": "该册已借出。", "problems": []}
    {"code": "items_not_transferable", "message": "...",
     "problems": [{"where": "SX10004", "code": "item_on_loan", "message": "..."}]}
    {"code": "invalid", "message": "...", "fields": {"barcode": [{"code": ..., "message": ...}]}}
    {"code": "not_found", "message": "未找到。"}

A service's refusal (`Refused`) is 409 Conflict: the request was understood and the rules said
no; its `code` names the rule (all listed in sharedloan.api_schema.REFUSALS), and each refused
row names its own reason, or the refusal's code when it has none more specific. Django's own
Http404 and PermissionDenied are turned into DRF's so that they get the shape.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from collections_app.errors import Refused


def error_response(status_code: int, code: str, message: str) -> JsonResponse:
    """The shape above, for an answer given before a view runs (a middleware)."""
    return JsonResponse(
        {"code": code, "message": message, **({"fields": {}} if code == "invalid" else {})},
        status=status_code,
        json_dumps_params={"ensure_ascii": False},
    )


@csrf_exempt  # as every API view: a token's POST carries no CSRF cookie
def not_found(request, *args, **kwargs) -> JsonResponse:
    """A view for the addresses under /api/v1/ that name no endpoint."""
    return error_response(404, "not_found", str(exceptions.NotFound.default_detail))


def refused_body(refused):
    return {
        "code": refused.code,
        "message": str(refused.message),
        "problems": [
            {
                "where": str(problem.where),
                "code": getattr(problem, "code", "") or refused.code,
                "message": str(problem.message),
            }
            for problem in refused.problems
        ],
    }


def _field_errors(detail):
    if isinstance(detail, dict):
        return {name: _field_errors(value) for name, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(entry, exceptions.ErrorDetail) for entry in detail):
            return [{"code": entry.code, "message": str(entry)} for entry in detail]
        return [_field_errors(entry) for entry in detail]
    return [{"code": getattr(detail, "code", "invalid"), "message": str(detail)}]


def exception_handler(exc, context):
    if isinstance(exc, Refused):
        return Response(refused_body(exc), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "code": "invalid",
            "message": _("请求有误，请按各字段的说明改正后再发。"),
            "fields": _field_errors(detail),
        }
    elif isinstance(exc, exceptions.ParseError):
        # DRF's detail quotes the parser's own English ("JSON parse error - Expecting value").
        response.data = {
            "code": exc.default_code,
            "message": _("请求体的内容与声明的格式不符，无法读取，例如不是有效的 JSON。"),
        }
    else:
        detail = exc.detail
        response.data = {
            "code": getattr(detail, "code", None) or exc.default_code,
            "message": str(detail),
        }
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            response.data["retry_after"] = int(exc.wait)
    return response
