"""The platform's own error pages: in its layout and language, never Django's debug page.

Each handler renders templates/errors/error.html with what happened and what to do, in the
user's language. The 500 page is rendered without the request's context processors (the
database may be what failed), so it needs nothing but the template.

Under /api/ (any address there, not only the endpoints of /api/v1/) a program is asking, not a
person: each handler answers the API's JSON error shape (sharedloan.api_errors) instead.
"""

import logging

from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _page(request, status, heading, explanation):
    if _is_api(request):
        return _api_error(status)
    context = {"status": status, "heading": heading, "explanation": explanation}
    return render(request, "errors/error.html", context, status=status)


def bad_request(request, exception=None):
    return _page(
        request, 400, _("请求有误"), _("浏览器发来的请求不完整或格式不对，请返回上一页重试。")
    )


def permission_denied(request, exception=None):
    return _page(
        request,
        403,
        _("没有权限"),
        _("您的账号可以查看这里，但不能做这项操作。如需办理，请联系本馆馆员。"),
    )


def page_not_found(request, exception=None):
    return _page(
        request,
        404,
        _("找不到这个页面"),
        _("地址可能有误，或者这项内容不在您的查看范围内。"),
    )


def _api_error(status):
    # Imported here: the logging filter below is loaded before the apps are.
    from rest_framework import exceptions

    from sharedloan.api_errors import error_response

    if status == 400:
        return error_response(400, "bad_request", _("请求有误"))
    if status == 403:
        return error_response(
            403, "permission_denied", str(exceptions.PermissionDenied.default_detail)
        )
    if status == 404:
        return error_response(404, "not_found", str(exceptions.NotFound.default_detail))
    return error_response(status, "server_error", _server_error_explanation())


def _server_error_explanation():
    return _("刚才的操作没有完成，也没有保存任何内容。请稍后再试；问题持续时请联系平台管理员。")


def server_error(request):
    if _is_api(request):
        return _api_error(500)
    html = render_to_string(
        "errors/error.html",
        {
            "status": 500,
            "heading": _("系统出错了"),
            "explanation": _server_error_explanation(),
        },
    )
    return HttpResponse(html, status=500)


def csrf_failure(request, reason=""):
    return _page(
        request,
        403,
        _("页面已过期"),
        _("这个页面打开太久或已在别处退出登录，表单没有提交。请刷新页面后重新填写。"),
    )


class ForbiddenInOneLine(logging.Filter):
    """A 403 is a user trying what their role does not allow, not a fault: log it as one line
    (the path and the status), without the traceback Django attaches."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
