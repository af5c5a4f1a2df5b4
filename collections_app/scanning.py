"""How scan endpoints answer: JSON to the page's script (static/js/scan.js), or, without
JavaScript, a message and a redirect back to the page."""

from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from collections_app.errors import Refused
from sharedloan.negotiation import wants_json


def scan_answer(request, payload: dict, back_to: str):
    if wants_json(request):
        return JsonResponse(payload)
    level = messages.SUCCESS if payload["ok"] else messages.ERROR
    messages.add_message(request, level, payload["message"])
    return redirect(back_to)


def scan_form_error(form) -> str:
    """What to say when a scan form does not validate: the barcode's own error if any."""
    errors = form.errors.get("barcode")
    return str(errors[0]) if errors else _("请扫描或输入条码。")


def refusal_text(refused: Refused, limit: int = 20) -> str:
    """The refusal and its first problems in one line, for a message or a scan log."""
    details = "；".join(str(problem) for problem in refused.problems[:limit])
    more = len(refused.problems) - limit
    if more > 0:
        details += _("；另有 %(n)s 条") % {"n": more}
    return f"{refused.message} {details}".strip()
