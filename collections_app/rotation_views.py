"""Rotation plans and suggested moves: review what is due, then create the transfers."""

import hashlib
from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.scope import can_manage_library, can_plan_rotations, get_scoped_or_404, scoped
from accounts.submissions import AlreadySubmitted, new_key, submitted_once
from collections_app import move_planning as planner
from collections_app.demand_signals import titles_in_demand
from collections_app.errors import Refused
from collections_app.forms import RotationAddForm, RotationPlanForm, rotation_stop_formset
from collections_app.models import Box, Item, RotationPlan, Site, Transfer, clc_top_names
from collections_app.scanning import refusal_text
from collections_app.services.rotation import (
    Action,
    StopSpec,
    rotation_add,
    rotation_execute,
    rotation_plan_save,
    rotation_review,
)
from collections_app.services.suggestions import suggestions_accept
from collections_app.services.transfers import transfer_add_items, transfer_create

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
    # A saved plan is edited by whoever may manage its library (as its page and its run ask);
    # a new one belongs to the user's own library.
    if pk:
        plan = _get_plan_for_user(request, pk)
        if not can_manage_library(request.user, plan.library):
            raise PermissionDenied
        library = plan.library
    else:
        library = _managed_library(request.user)
        plan = RotationPlan(library=library)
    form = RotationPlanForm(request.POST or None, instance=plan)
    stops = rotation_stop_formset(library, request.POST or None, instance=plan, prefix="stops")
    if request.method == "POST" and form.is_valid() and stops.is_valid():
        # Saving a plan again changes nothing; creating one twice would make two plans.
        key = form.cleaned_data["submission"] if pk is None else ""
        try:
            with submitted_once(
                request.user, key, "rotation-plan", fallback=reverse("collections:rotation-list")
            ) as claim:
                plan = rotation_plan_save(user=request.user, plan=plan, stops=_stop_specs(stops))
                claim.done(reverse("collections:rotation-detail", args=[plan.pk]))
        except AlreadySubmitted as first:
            messages.info(request, first.message)
            return redirect(first.url)
        except Refused as refused:
            if not pk:
                plan.pk = None  # nothing was saved: the page stays a new plan
            form.add_error(None, refused.message)
            for problem in refused.problems:
                form.add_error(None, str(problem))
        else:
            messages.success(request, _("轮换计划已保存。"))
            return redirect("collections:rotation-detail", pk=plan.pk)
    return render(
        request, "collections_app/rotation/edit.html", {"form": form, "stops": stops, "plan": plan}
    )


def _stop_specs(stops) -> list[StopSpec]:
    """The stops in the order shown; blank rows and rows marked for deletion are left out (the
    service deletes a saved stop it is not given)."""
    # The saved stops as they are, not as the bound forms changed them.
    saved = {stop.pk: stop for stop in stops.instance.stops.all()} if stops.instance.pk else {}
    specs = []
    for stop_form in stops.forms:
        data = stop_form.cleaned_data
        if not data or data.get("DELETE"):
            continue
        specs.append(
            StopSpec(
                site=data["site"],
                stay_days=data.get("stay_days"),
                stay_loans=data.get("stay_loans"),
                capacity=data.get("capacity"),
                stop=saved.get(stop_form.instance.pk),
            )
        )
    return specs


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
    """The button on the plan's page shows what a run would do now; only the confirmation sent
    from that page runs it. A confirmation sent twice runs once."""
    plan = _get_plan_for_user(request, pk)
    if not can_manage_library(request.user, plan.library):
        raise PermissionDenied
    decisions = rotation_review(plan=plan)
    seen = _run_fingerprint(decisions)
    if request.POST.get("confirm") != seen:
        return _run_confirmation(request, plan, decisions, changed="confirm" in request.POST)
    detail = reverse("collections:rotation-detail", args=[plan.pk])
    try:
        with submitted_once(
            request.user, request.POST.get("submission", ""), "rotation-run", fallback=detail
        ) as claim:
            transfers = rotation_execute(user=request.user, plan=plan)
            claim.done(detail)
    except AlreadySubmitted as first:
        messages.info(request, first.message)
        return redirect(first.url)
    except Refused as refused:
        messages.error(request, refusal_text(refused))
    else:
        if transfers:
            messages.success(request, _created_transfers_message(transfers))
        else:
            messages.info(request, _("没有需要前往下一站的图书，未生成调拨单。"))
    return redirect(detail)


def _run_fingerprint(decisions) -> str:
    """What a run would change: the moves and the extended stays. The confirmation carries it,
    so a plan that changed between the look and the click is shown again, not run blind."""
    changes = sorted(
        (decision.member.pk, decision.action, decision.next_stop.pk if decision.next_stop else 0)
        for decision in decisions
        if decision.action in (Action.MOVE, Action.STAY_IN_DEMAND)
    )
    return hashlib.sha256(repr(changes).encode()).hexdigest()[:32]


def _run_confirmation(request, plan, decisions, *, changed):
    routes = defaultdict(list)
    for decision in decisions:
        if decision.action == Action.MOVE:
            routes[(decision.member.stop.site, decision.next_stop.site)].append(decision)
    staying = [d for d in decisions if d.action == Action.STAY_IN_DEMAND]
    return render(
        request,
        "collections_app/rotation/run_confirm.html",
        {
            "plan": plan,
            "routes": [
                {
                    "source": source,
                    "destination": destination,
                    "decisions": moving,
                    "volumes": sum(len(d.items) for d in moving),
                }
                for (source, destination), moving in sorted(
                    routes.items(), key=lambda route: (route[0][0].pk, route[0][1].pk)
                )
            ],
            "staying": staying,
            "fingerprint": _run_fingerprint(decisions),
            "submission": new_key(),
            "changed": changed,
        },
    )


def _created_transfers_message(transfers):
    links = format_html_join(
        "、",
        '<a href="{}">{}</a>',
        (
            (reverse("collections:transfer-detail", args=[transfer.pk]), str(transfer))
            for transfer in transfers
        ),
    )
    return format_html(
        _("已生成 {n} 张轮换调拨单（草稿）：{links}。请打印拣书单后发出。"),
        n=len(transfers),
        links=links,
    )


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
    unknown = [
        (bad.line, _("%(code)s 条码格式不符") % {"code": bad.code}) for bad in listed.invalid
    ] + [
        (entry.line, _("%(code)s 不是本馆的图书或书箱条码") % {"code": entry.code})
        for entry in listed.codes
        if entry.code not in known
    ]
    if unknown:
        messages.error(
            request, _lines_message(_("%(n)s 行未加入：") % {"n": len(unknown)}, unknown)
        )
    if not (items or boxes):
        return redirect("collections:rotation-detail", pk=plan.pk)
    try:
        added = rotation_add(plan=plan, items=items, boxes=boxes, user=request.user)
    except Refused as refused:
        # All or nothing: each refused volume or box is named on its line, nothing went in.
        lines = [
            (listed.line_of(problem.where), f"{problem.where} {problem.message}")
            if problem.where in known
            else (None, str(problem))
            for problem in refused.problems
        ]
        messages.error(request, _lines_message(refused.message, lines))
    else:
        messages.success(request, _("已加入 %(n)s 项。") % {"n": added})
    return redirect("collections:rotation-detail", pk=plan.pk)


def _lines_message(headline, lines, limit=20):
    """A headline and the pasted lines it is about, in the order pasted, as one message."""
    lines = sorted(lines, key=lambda line: (line[0] is None, line[0] or 0))
    shown = [
        _("第 %(line)s 行：%(what)s") % {"line": number, "what": what} if number else what
        for number, what in lines[:limit]
    ]
    if len(lines) > limit:
        shown.append(_("另有 %(n)s 条") % {"n": len(lines) - limit})
    return format_html(
        '{}<ul class="message-lines">{}</ul>',
        headline,
        format_html_join("", "<li>{}</li>", ((line,) for line in shown)),
    )


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
            "demand": titles_in_demand(library, idle_days=idle_days),
        },
    )


@login_required
@require_POST
def suggestion_demand_move(request):
    """Draft a transfer of one idle copy to the site where readers wait for its title."""
    library = _managed_library(request.user)
    item_pk = _int(request.POST.get("item"), 0, 0, 2**62)
    item = get_object_or_404(
        Item.objects.select_related("current_site", "title"), library=library, pk=item_pk
    )
    destination_pk = _int(request.POST.get("destination"), 0, 0, 2**62)
    destination = get_object_or_404(Site, library=library, pk=destination_pk)
    try:
        with transaction.atomic():
            transfer = transfer_create(
                user=request.user,
                source=item.current_site,
                destination=destination,
                reason=Transfer.Reason.ROTATION,
                note=_("读者需求：%(site)s的读者在等《%(title)s》")
                % {"site": destination.name, "title": item.title.title},
            )
            transfer_add_items(user=request.user, transfer=transfer, items=[item])
    except Refused as refused:
        messages.error(request, refusal_text(refused))
        return redirect("collections:suggestions")
    messages.success(request, _("已生成调拨单（草稿），请核对后发出。"))
    return redirect("collections:transfer-detail", pk=transfer.pk)


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
