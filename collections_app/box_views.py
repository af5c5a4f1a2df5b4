"""Travelling book boxes and displays: pack or place by scanning, send a box with one click."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Min
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import (
    can_manage_library,
    can_move_volumes,
    can_work_at_site,
    can_work_with_box,
    get_scoped_or_404,
    scoped,
)
from accounts.submissions import AlreadySubmitted, submitted_once
from collections_app.errors import Refused
from collections_app.forms import BoxForm, BoxSendForm, DisplayForm, ScanForm
from collections_app.models import Box, Display, Item
from collections_app.scanning import refusal_text, scan_answer, scan_form_error
from collections_app.services.boxes import box_create, box_pack, box_send, box_unpack
from collections_app.services.displays import display_create, display_place, display_remove


def _get_box_for_user(request, code):
    return get_scoped_or_404(Box.objects.select_related("library"), request.user, code=code)


def _require_box_work(request, box):
    """Packing, unpacking and sending: the page offers them by the same predicate (the services
    still check each volume's site)."""
    if not can_work_with_box(request.user, box):
        raise PermissionDenied


def _get_display_for_user(request, pk):
    return get_scoped_or_404(Display.objects.select_related("site__library"), request.user, pk=pk)


@login_required
def box_list(request):
    boxes = (
        scoped(Box.objects.all(), request.user)
        .annotate(volumes=Count("items"), site_id=Min("items__current_site"))
        .select_related("library")
    )
    form = None
    if request.user.library_id and can_manage_library(request.user, request.user.library):
        form = BoxForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                with submitted_once(
                    request.user,
                    data["submission"],
                    "box",
                    fallback=reverse("collections:box-list"),
                ) as claim:
                    box = box_create(
                        user=request.user,
                        library=request.user.library,
                        code=data["code"],
                        name=data["name"],
                    )
                    claim.done(reverse("collections:box-detail", args=[box.code]))
            except AlreadySubmitted as first:
                messages.info(request, first.message)
                return redirect(first.url)
            except Refused as refused:
                form.add_error(None, refused.message)
            else:
                return redirect("collections:box-detail", code=box.code)
    return render(request, "collections_app/boxes/list.html", {"boxes": boxes, "form": form})


@login_required
def box_detail(request, code):
    box = _get_box_for_user(request, code)
    items = box.items.select_related("title", "current_site").order_by("call_number")
    sites = {item.current_site for item in items}
    can_work = can_work_with_box(request.user, box)
    return render(
        request,
        "collections_app/boxes/detail.html",
        {
            "box": box,
            "items": items,
            "sites": sites,
            "can_work": can_work,
            "scan_form": ScanForm(),
            "send_form": BoxSendForm(user=request.user, library=box.library) if can_work else None,
        },
    )


@login_required
@require_POST
def box_pack_scan(request, code):
    box = _get_box_for_user(request, code)
    _require_box_work(request, box)
    form = ScanForm(request.POST)
    if not form.is_valid():
        payload = {"ok": False, "message": scan_form_error(form)}
        return scan_answer(request, payload, reverse("collections:box-detail", args=[box.code]))
    barcode = form.cleaned_data["barcode"]
    item = Item.objects.filter(library=box.library, barcode=barcode).first()
    if item is None:
        payload = {"ok": False, "message": _("%(code)s：不是本馆的图书条码") % {"code": barcode}}
    else:
        try:
            box_pack(user=request.user, box=box, items=[item])
            payload = {
                "ok": True,
                "barcode": barcode,
                "message": _("已装箱：%(code)s %(title)s")
                % {"code": barcode, "title": item.title.title},
                "counts": {"volumes": box.items.count()},
            }
        except Refused as refused:
            payload = {"ok": False, "message": refusal_text(refused)}
    return scan_answer(request, payload, reverse("collections:box-detail", args=[box.code]))


@login_required
@require_POST
def box_unpack_view(request, code):
    box = _get_box_for_user(request, code)
    _require_box_work(request, box)
    try:
        count = box_unpack(user=request.user, box=box)
    except Refused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, _("已拆箱，%(n)s 册图书回到各自书架。") % {"n": count})
    return redirect("collections:box-detail", code=box.code)


@login_required
@require_POST
def box_send_view(request, code):
    box = _get_box_for_user(request, code)
    _require_box_work(request, box)
    form = BoxSendForm(request.POST, user=request.user, library=box.library)
    if not form.is_valid():
        messages.error(request, _("请选择送往的站点。"))
        return redirect("collections:box-detail", code=box.code)
    try:
        transfer = box_send(
            user=request.user, box=box, destination=form.cleaned_data["destination"]
        )
    except Refused as refused:
        messages.error(request, refusal_text(refused))
        return redirect("collections:box-detail", code=box.code)
    messages.success(request, _("书箱已发出，接收站点扫描书箱条码即可整箱接收。"))
    return redirect("collections:transfer-detail", pk=transfer.pk)


@login_required
def display_new(request):
    if not can_move_volumes(request.user):
        raise PermissionDenied
    form = DisplayForm(
        request.POST or None,
        user=request.user,
        library=request.user.library,
        initial={"site": request.GET.get("site"), "starts_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with submitted_once(
                request.user,
                data["submission"],
                "display",
                fallback=reverse("collections:box-list"),
            ) as claim:
                display = display_create(
                    user=request.user,
                    library=request.user.library,
                    site=data["site"],
                    name=data["name"],
                    kind=data["kind"],
                    starts_on=data["starts_on"],
                    ends_on=data["ends_on"],
                )
                claim.done(reverse("collections:display-detail", args=[display.pk]))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except Refused as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("专架已创建，扫描图书条码上架。"))
            return redirect("collections:display-detail", pk=display.pk)
    return render(request, "collections_app/boxes/display_new.html", {"form": form})


@login_required
def display_detail(request, pk):
    display = _get_display_for_user(request, pk)
    return render(
        request,
        "collections_app/boxes/display.html",
        {
            "display": display,
            "items": display.items.select_related("title").order_by("call_number"),
            "can_work": can_work_at_site(request.user, display.site),
            "scan_form": ScanForm(),
        },
    )


@login_required
@require_POST
def display_scan(request, pk):
    display = _get_display_for_user(request, pk)
    if not can_work_at_site(request.user, display.site):
        raise PermissionDenied
    back = reverse("collections:display-detail", args=[display.pk])
    form = ScanForm(request.POST)
    if not form.is_valid():
        return scan_answer(request, {"ok": False, "message": scan_form_error(form)}, back)
    barcode = form.cleaned_data["barcode"]
    item = Item.objects.filter(library=display.library, barcode=barcode).first()
    try:
        if item is None:
            raise Refused(_("%(code)s：不是本馆的图书条码") % {"code": barcode})
        if request.POST.get("action") == "remove":
            display_remove(user=request.user, display=display, items=[item])
            message = _("已下架：%(code)s")
        else:
            display_place(user=request.user, display=display, items=[item])
            message = _("已上架：%(code)s")
        payload = {"ok": True, "barcode": barcode, "message": message % {"code": barcode}}
    except Refused as refused:
        payload = {"ok": False, "message": refusal_text(refused)}
    payload["counts"] = {"volumes": display.items.count()}
    return scan_answer(request, payload, back)
