"""Pages for moving volumes: transfers, the transit dashboard, pick lists and receipt scanning.

Thin views: scope → form → service → redirect or render. Scan endpoints answer JSON to the
page's script (static/js/scan.js) and fall back to a redirect with a message without it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import (
    can_move_volumes,
    can_see_staff_names,
    can_work_at_site,
    get_scoped_or_404,
    scoped,
)
from accounts.submissions import AlreadySubmitted, submitted_once
from collections_app import selectors
from collections_app.errors import Refused
from collections_app.forms import ScanForm, TransferCreateForm, TransferFillForm
from collections_app.models import Item, Transfer, TransferLine
from collections_app.scanning import refusal_text, scan_answer, scan_form_error
from collections_app.services import transfers as services


def _get_transfer_for_user(request, pk):
    return get_scoped_or_404(
        Transfer.objects.select_related("library", "source", "destination", "created_by"),
        request.user,
        pk=pk,
    )


def _working_library(user):
    """The library a user moves volumes in; read-only roles have none."""
    if not can_move_volumes(user):
        raise PermissionDenied
    return user.library


def _detail(transfer):
    return reverse("collections:transfer-detail", args=[transfer.pk])


def _list_url():
    return reverse("collections:transfer-list")


def _receive_url(transfer):
    return reverse("collections:transfer-receive", args=[transfer.pk])


def _require_sender(user, transfer):
    if not can_work_at_site(user, transfer.source):
        raise PermissionDenied


@login_required
def transfer_list(request):
    state = request.GET.get("state", "open")
    transfers = scoped(Transfer.objects.all(), request.user).select_related(
        "source", "destination", "library"
    )
    if state == "open":
        transfers = transfers.open()
    elif state in Transfer.Status.values:
        transfers = transfers.filter(status=state)
    page = Paginator(selectors.with_line_counts(transfers), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "collections_app/transfers/list.html",
        {"page": page, "state": state, "states": Transfer.Status.choices},
    )


@login_required
def transfer_new(request):
    library = _working_library(request.user)
    form = TransferCreateForm(request.POST or None, user=request.user, library=library)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        key = data.pop("submission")
        try:
            with submitted_once(request.user, key, "transfer", fallback=_list_url()) as claim:
                transfer = services.transfer_create(user=request.user, **data)
                claim.done(_detail(transfer))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            return redirect("collections:transfer-detail", pk=transfer.pk)
    return render(request, "collections_app/transfers/new.html", {"form": form})


@login_required
def transfer_detail(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    lines = transfer.lines.select_related("item__title", "item__display").order_by(
        "item__call_number", "item__barcode"
    )
    can_send = can_work_at_site(request.user, transfer.source)
    ctx = {
        "transfer": transfer,
        "lines": lines,
        "counts": selectors.line_counts(transfer),
        "can_send": can_send,
        "can_receive": transfer.destination is not None
        and can_work_at_site(request.user, transfer.destination),
        "fill_form": TransferFillForm(user=request.user, library=transfer.library)
        if can_send and transfer.status == Transfer.Status.DRAFT
        else None,
        "scan_form": ScanForm(),
        "overdue_days": selectors.transit_overdue_days(),
        "shows_staff": can_see_staff_names(request.user, transfer.library),
    }
    return render(request, "collections_app/transfers/detail.html", ctx)


@login_required
@require_POST
def transfer_add_scan(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    _require_sender(request.user, transfer)
    form = ScanForm(request.POST)
    if not form.is_valid():
        payload = {"ok": False, "message": scan_form_error(form)}
        return scan_answer(request, payload, _detail(transfer))
    barcode = form.cleaned_data["barcode"]
    item = Item.objects.filter(library=transfer.library, barcode=barcode).first()
    if item is None:
        payload = {
            "ok": False,
            "barcode": barcode,
            "message": _("%(code)s：不是本馆的图书条码") % {"code": barcode},
        }
        return scan_answer(request, payload, _detail(transfer))
    try:
        added = services.transfer_add_items(user=request.user, transfer=transfer, items=[item])
    except Refused as refused:
        payload = {"ok": False, "barcode": barcode, "message": refusal_text(refused)}
    else:
        message = _("已加入：%(code)s %(title)s") if added else _("已在本单中：%(code)s %(title)s")
        payload = {
            "ok": True,
            "barcode": barcode,
            "message": message % {"code": barcode, "title": item.title.title},
        }
        if added:
            payload["line"] = _line_row(request, transfer, item)
    payload["counts"] = selectors.line_counts(transfer)
    return scan_answer(request, payload, _detail(transfer))


def _line_row(request, transfer, item) -> str:
    """The new line as the list renders it, so the page's list grows with its counts."""
    line = transfer.lines.select_related("item__title").get(item=item)
    return render_to_string(
        "collections_app/transfers/_line_row.html",
        {"transfer": transfer, "line": line, "can_send": True},
        request=request,
    )


@login_required
@require_POST
def transfer_fill(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    _require_sender(request.user, transfer)
    form = TransferFillForm(request.POST, user=request.user, library=transfer.library)
    if not form.is_valid():
        errors = "；".join(str(error) for errors in form.errors.values() for error in errors)
        messages.error(request, errors)
        return redirect("collections:transfer-detail", pk=transfer.pk)
    wanted = form.cleaned_data["count"]
    try:
        # Sent twice, "add 200 volumes" would add 400.
        with submitted_once(
            request.user,
            form.cleaned_data["submission"],
            "transfer-fill",
            fallback=_detail(transfer),
        ) as claim:
            added = services.transfer_add_matching(
                user=request.user, transfer=transfer, count=wanted, **form.filters()
            )
            claim.done(_detail(transfer))
    except AlreadySubmitted as first:
        messages.info(request, first.message)
        return redirect(first.url)
    except Refused as refused:
        messages.error(request, refusal_text(refused))
    else:
        if added < wanted:
            messages.warning(
                request,
                _("符合条件的在架图书只有 %(added)s 册，已全部加入（要求 %(wanted)s 册）。")
                % {"added": added, "wanted": wanted},
            )
        else:
            messages.success(request, _("已加入 %(added)s 册。") % {"added": added})
    return redirect("collections:transfer-detail", pk=transfer.pk)


@login_required
@require_POST
def transfer_remove_line(request, pk, line_pk):
    transfer = _get_transfer_for_user(request, pk)
    _require_sender(request.user, transfer)
    line = get_scoped_or_404(
        TransferLine.objects.filter(transfer=transfer), request.user, pk=line_pk
    )
    try:
        services.transfer_remove_items(user=request.user, transfer=transfer, items=[line.item])
    except Refused as refused:
        messages.error(request, refused.message)
    return redirect("collections:transfer-detail", pk=transfer.pk)


@login_required
@require_POST
def transfer_dispatch(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    _require_sender(request.user, transfer)
    try:
        services.transfer_dispatch(user=request.user, transfer=transfer)
    except Refused as refused:
        messages.error(request, refusal_text(refused))
    else:
        messages.success(request, _("调拨单已发出，图书进入在途状态。"))
    return redirect("collections:transfer-detail", pk=transfer.pk)


@login_required
@require_POST
def transfer_cancel(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    _require_sender(request.user, transfer)
    try:
        services.transfer_cancel(user=request.user, transfer=transfer)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("调拨单已取消，图书恢复原状态。"))
    return redirect("collections:transfer-detail", pk=transfer.pk)


@login_required
def transfer_pick_list(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    return render(
        request,
        "collections_app/transfers/pick_list.html",
        {
            "transfer": transfer,
            "groups": selectors.pick_list(transfer),
            "printed_at": timezone.now(),
        },
    )


@login_required
def transfer_receive(request, pk):
    transfer = _get_transfer_for_user(request, pk)
    if transfer.destination is None or not can_work_at_site(request.user, transfer.destination):
        raise PermissionDenied
    if request.method == "POST":
        return _receive_scan(request, transfer)
    return render(
        request,
        "collections_app/transfers/receive.html",
        {
            "transfer": transfer,
            "counts": selectors.line_counts(transfer),
            "scan_form": ScanForm(),
            "pending": transfer.lines.filter(state=TransferLine.State.PENDING)
            .select_related("item__title")
            .order_by("item__call_number"),
        },
    )


def _receive_scan(request, transfer):
    if "finish" in request.POST:
        try:
            receipt = services.transfer_receive(
                user=request.user, transfer=transfer, site=transfer.destination, finish=True
            )
        except Refused as refused:
            messages.error(request, refused.message)
        else:
            messages.success(
                request,
                _("接收完成：%(n)s 册记为缺失。") % {"n": len(receipt.missing)},
            )
        return redirect("collections:transfer-detail", pk=transfer.pk)
    form = ScanForm(request.POST)
    if not form.is_valid():
        payload = {"ok": False, "message": scan_form_error(form)}
        return scan_answer(request, payload, _receive_url(transfer))
    barcode = form.cleaned_data["barcode"]
    damaged = [barcode] if form.cleaned_data["damaged"] else []
    try:
        receipt = services.transfer_receive(
            user=request.user,
            transfer=transfer,
            site=transfer.destination,
            barcodes=[barcode],
            damaged=damaged,
        )
    except Refused as refused:
        payload = {"ok": False, "barcode": barcode, "message": refused.message}
    else:
        payload = _receipt_payload(barcode, receipt)
    payload["counts"] = selectors.line_counts(transfer)
    return scan_answer(request, payload, _receive_url(transfer))


def _receipt_payload(barcode, receipt) -> dict:
    if receipt.problems:
        return {"ok": False, "outcome": "unknown", "message": str(receipt.problems[0])}
    outcomes = [
        ("received", receipt.received, _("已接收")),
        ("damaged", receipt.damaged, _("已接收，记为损坏")),
        ("extra", receipt.extra, _("不在本单中，作为多出图书接收")),
        ("already", receipt.already, _("已扫描过")),
    ]
    for outcome, barcodes, label in outcomes:
        if barcodes:
            shown = (
                barcode
                if len(barcodes) == 1
                else _("书箱 %(code)s（%(n)s 册）")
                % {
                    "code": barcode,
                    "n": len(barcodes),
                }
            )
            message = f"{shown}：{label}"
            # A copy kept for a reader who picks it up here goes on the hold shelf, not the shelf.
            held = [code for code in barcodes if code in receipt.held]
            if held:
                instruction = (
                    receipt.held[held[0]]
                    if len(barcodes) == 1
                    else " ".join(
                        _("%(code)s：%(instruction)s")
                        % {"code": code, "instruction": receipt.held[code]}
                        for code in held
                    )
                )
                message = _("%(outcome)s。%(instruction)s") % {
                    "outcome": message,
                    "instruction": instruction,
                }
            if receipt.completed:
                message += _("。本单已全部接收。")
            return {
                "ok": outcome != "already",
                "outcome": outcome,
                "message": message,
                "barcodes": barcodes,
            }
    return {"ok": False, "outcome": "unknown", "message": _("%(code)s：未识别") % {"code": barcode}}


@login_required
def transit_dashboard(request):
    overdue_days = selectors.transit_overdue_days()
    transfers = selectors.in_transit(request.user)
    return render(
        request,
        "collections_app/transfers/transit.html",
        {
            "transfers": transfers,
            "by_library": selectors.transit_by_library(transfers),
            "by_site": selectors.transit_by_destination(transfers),
            "overdue_days": overdue_days,
            "overdue_count": sum(1 for transfer in transfers if transfer.is_overdue),
        },
    )
