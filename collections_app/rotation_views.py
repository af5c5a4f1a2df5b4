"""Rotation plans and suggested moves: review what is due, then create the transfers."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, ProtectedError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import can_manage_library, can_plan_rotations, get_scoped_or_404, scoped
from accounts.submissions import AlreadySubmitted, new_key, submitted_once
from collections_app import move_planning as planner
from collections_app.errors import Refused
from collections_app.forms import RotationAddForm, RotationPlanForm, rotation_stop_formset
from collections_app.models import Box, Item, RotationPlan, Site, clc_top_names
from collections_app.scanning import refusal_text
from collections_app.services.rotation import (
    Action,
    rotation_add,
    rotation_execute,
    rotation_review,
)
from collections_app.services.suggestions import suggestions_accept

MIN_LISTED_MOVE = 5


def _plans_for(user):
    # A plan lists volumes at every stop: county staff's view, not a service point's.
    if not can_plan_rotations(user):
        return RotationPlan.objects.none()
    return scoped(RotationPlan.objects.select_related("library"), user)


def _get_plan_for_user(request, pk):
    return get_scoped_or_404(_plans_for(request.user), request.user, pk=pk)


def _managed_library(user):
    if user.library_id is None or not can_manage_library(user, user.library):
        raise PermissionDenied
    return user.library


@login_required
def rotation_list(request):
    plans = _plans_for(request.user)
    return render(request, "collections_app/rotation/list.html", {"plans": plans})


@login_required
def rotation_edit(request, pk=None):
    library = _managed_library(request.user)
    plan = _get_plan_for_user(request, pk) if pk else RotationPlan(library=library)
    form = RotationPlanForm(request.POST or None, instance=plan)
    stops = rotation_stop_formset(library, request.POST or None, instance=plan, prefix="stops")
    if request.method == "POST" and form.is_valid() and stops.is_valid():
        # Saving a plan again changes nothing; creating one twice would make two plans.
        key = form.cleaned_data["submission"] if pk is None else ""
        try:
            with submitted_once(
                request.user, key, "rotation-plan", fallback=reverse("collections:rotation-list")
            ) as claim:
                plan = _save_plan(form, stops, library)
                claim.done(reverse("collections:rotation-detail", args=[plan.pk]))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except ProtectedError:
            form.add_error(None, _("要删除的站点上还有轮换中的图书，不能删除。"))
        else:
            messages.success(request, _("轮换计划已保存。"))
            return redirect("collections:rotation-detail", pk=plan.pk)
    return render(
        request, "collections_app/rotation/edit.html", {"form": form, "stops": stops, "plan": plan}
    )


@transaction.atomic
def _save_plan(form, stops, library):
    plan = form.save()
    kept = []
    for stop_form in stops.forms:
        if not stop_form.cleaned_data:
            continue
        if stop_form.cleaned_data.get("DELETE"):
            if stop_form.instance.pk:
                stop_form.instance.delete()
            continue
        kept.append(stop_form)
    # Stops are renumbered 1..n in the order shown; move the old numbers out of the way first.
    plan.stops.update(position=F("position") + 1000)
    for position, stop_form in enumerate(kept, start=1):
        stop = stop_form.save(commit=False)
        stop.plan = plan
        stop.library = library
        stop.position = position
        stop.save()
    return plan


@login_required
def rotation_detail(request, pk):
    plan = _get_plan_for_user(request, pk)
    decisions = rotation_review(plan=plan)
    summary = dict.fromkeys(Action.LABELS.values(), 0)
    for decision in decisions:
        summary[decision.label] += len(decision.items)
    return render(
        request,
        "collections_app/rotation/detail.html",
        {
            "plan": plan,
            "stops": plan.stops.select_related("site").order_by("position"),
            "decisions": decisions,
            "summary": {label: n for label, n in summary.items() if n},
            "moves": sum(1 for d in decisions if d.action == Action.MOVE),
            "can_manage": can_manage_library(request.user, plan.library),
        },
    )


@login_required
@require_POST
def rotation_run(request, pk):
    plan = _get_plan_for_user(request, pk)
    if not can_manage_library(request.user, plan.library):
        raise PermissionDenied
    try:
        transfers = rotation_execute(user=request.user, plan=plan)
    except Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(
            request,
            _("已生成 %(n)s 张轮换调拨单（草稿），请打印拣书单后发出。") % {"n": len(transfers)},
        )
    return redirect("collections:rotation-detail", pk=plan.pk)


@login_required
@require_POST
def rotation_add_items(request, pk):
    plan = _get_plan_for_user(request, pk)
    if not can_manage_library(request.user, plan.library):
        raise PermissionDenied
    form = RotationAddForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请扫描或粘贴图书或书箱条码，每行一个。"))
        return redirect("collections:rotation-detail", pk=plan.pk)
    listed = form.cleaned_data["barcodes"]
    codes = listed.values
    boxes = list(Box.objects.filter(library=plan.library, code__in=codes))
    items = list(Item.objects.filter(library=plan.library, barcode__in=codes))
    known = {item.barcode for item in items} | {box.code for box in boxes}
    # One bad line is reported with its line number; the rest of the list still goes in.
    problems = [
        _("第 %(line)s 行：%(code)s 条码格式不符") % {"line": bad.line, "code": bad.code}
        for bad in listed.invalid
    ] + [
        _("第 %(line)s 行：%(code)s 不是本馆的图书或书箱条码")
        % {"line": entry.line, "code": entry.code}
        for entry in listed.codes
        if entry.code not in known
    ]
    if problems:
        shown = "；".join(str(problem) for problem in problems[:20])
        more = len(problems) - 20
        if more > 0:
            shown += _("；另有 %(n)s 条") % {"n": more}
        messages.error(request, shown)
    if not (items or boxes):
        return redirect("collections:rotation-detail", pk=plan.pk)
    try:
        added = rotation_add(plan=plan, items=items, boxes=boxes)
    except Refused as refused:
        messages.error(request, refusal_text(refused))
    else:
        messages.success(request, _("已加入 %(n)s 项。") % {"n": added})
    return redirect("collections:rotation-detail", pk=plan.pk)


@login_required
def suggestion_list(request):
    library = _managed_library(request.user)
    idle_days = _int(request.GET.get("idle_days"), 90, 7, 3650)
    window_days = _int(request.GET.get("window_days"), 180, 30, 730)
    inputs = planner.gather(library, window_days=window_days, idle_days=idle_days)
    plan = planner.plan_moves(inputs, idle_days=idle_days)
    names = clc_top_names()
    for suggestion in plan.suggestions:
        suggestion.clc_name = names.get(suggestion.clc_top, "")
    # A trip across the county for two books is rarely worth it: list the small moves apart.
    shown = [s for s in plan.suggestions if s.count >= MIN_LISTED_MOVE]
    small = [s for s in plan.suggestions if s.count < MIN_LISTED_MOVE]
    return render(
        request,
        "collections_app/rotation/suggestions.html",
        {
            "plan": plan,
            "shown": shown,
            "small": small,
            "small_volumes": sum(s.count for s in small),
            "min_listed": MIN_LISTED_MOVE,
            "idle_days": idle_days,
            "window_days": window_days,
            "submission": new_key(),
        },
    )


@login_required
@require_POST
def suggestion_accept(request):
    library = _managed_library(request.user)
    sites = {site.pk: site for site in Site.objects.filter(library=library)}
    moves = []
    for value in request.POST.getlist("move"):
        try:
            source, destination, clc_top, count, idle_days = value.split(":")
            moves.append(
                (sites[int(source)], sites[int(destination)], clc_top, int(count), int(idle_days))
            )
        except (KeyError, ValueError):
            messages.error(request, _("建议已失效，请刷新后重试。"))
            return redirect("collections:suggestions")
    try:
        with submitted_once(
            request.user,
            request.POST.get("submission", ""),
            "suggestions",
            fallback=reverse("collections:transfer-list"),
        ) as claim:
            transfers = suggestions_accept(user=request.user, moves=moves)
            claim.done(reverse("collections:transfer-list"))
    except AlreadySubmitted as first:
        messages.info(request, first.message)
        return redirect(first.url)
    except Refused as refused:
        messages.error(request, str(refused))
        return redirect("collections:suggestions")
    messages.success(
        request, _("已生成 %(n)s 张调拨单（草稿），请核对后发出。") % {"n": len(transfers)}
    )
    return redirect("collections:transfer-list")


def _int(value, default, low, high):
    try:
        return min(high, max(low, int(value)))
    except (TypeError, ValueError):
        return default
