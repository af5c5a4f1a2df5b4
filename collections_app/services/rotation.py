"""Rotation plans (轮换计划): volumes and book boxes travel through ordered stops.

`rotation_review` says, for every member of a plan, whether it moves on now and why (its stay
is over; it is in demand so it stays one more period; it is on loan or on the way so it waits;
its stop holds more than the plan allows there). `rotation_execute` turns the moves into draft
transfers, one per (from, to) pair, for the librarian to print and dispatch. A member reaches
its next stop when the transfer is received there (see `rotation_arrive`).

A volume on an open transfer (a draft not yet dispatched, or on its way) counts at the
transfer's destination and no longer at its source, so a second run before anything is received
plans nothing new and never sends a capped stop more than its cap. `rotation_run` locks the plan
row, so two runs of one plan at the same moment take turns and the second sees the first's
transfers. Plans are saved through `rotation_plan_save` (at least one stop, no site twice) and
members added through `rotation_add` (volumes in service only, a boxed volume only with its box).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.scope import can_manage_library
from collections_app.errors import Problem, Refused
from collections_app.models import (
    Box,
    Item,
    ItemEvent,
    RotationMember,
    RotationPlan,
    RotationStop,
    Site,
    Transfer,
    TransferLine,
)
from collections_app.services.transfers import transfer_add_items, transfer_create


def _listed(names) -> str:
    """Names in a list, separated the language's way ("、" in Chinese, ", " in English)."""
    return pgettext("list separator", "、").join(names)


class Action:
    MOVE = "move"
    STAY_IN_DEMAND = "stay_in_demand"
    WAIT_ON_LOAN = "wait_on_loan"
    WAIT_IN_TRANSIT = "wait_in_transit"
    WAIT_FULL = "wait_full"
    OUT_OF_SERVICE = "out_of_service"
    ELSEWHERE = "elsewhere"
    NOT_DUE = "not_due"
    FINISHED = "finished"

    LABELS = {
        MOVE: gettext_lazy("前往下一站"),
        STAY_IN_DEMAND: gettext_lazy("借阅需求旺，多留一期"),
        WAIT_ON_LOAN: gettext_lazy("借出中，归还后再走"),
        WAIT_IN_TRANSIT: gettext_lazy("调拨途中或已在调拨单中"),
        WAIT_FULL: gettext_lazy("下一站已满，暂留"),
        OUT_OF_SERVICE: gettext_lazy("不在流通，不再轮换"),
        ELSEWHERE: gettext_lazy("不在本站，请先调回"),
        NOT_DUE: gettext_lazy("未到期"),
        FINISHED: gettext_lazy("已走完全程"),
    }


@dataclass
class Decision:
    member: RotationMember
    action: str
    reason: str
    items: list[Item] = field(default_factory=list)
    next_stop: RotationStop | None = None

    @property
    def label(self):
        return Action.LABELS[self.action]


def _next_stop(stops: list[RotationStop], stop: RotationStop, cyclical: bool):
    index = next(i for i, candidate in enumerate(stops) if candidate.pk == stop.pk)
    if index + 1 < len(stops):
        return stops[index + 1]
    return stops[0] if cyclical and len(stops) > 1 else None


def _loans_since(items_by_member: dict[int, list[Item]], members, site_of) -> dict[int, int]:
    """Checkouts of each member's items at its current stop since it arrived there: one query
    for the whole plan, counted per member here."""
    counts = {member.pk: 0 for member in members}
    if not members:
        return counts
    member_of = {item.pk: m.pk for m in members for item in items_by_member[m.pk]}
    arrived = {member.pk: member.arrived_at for member in members}
    checkouts = ItemEvent.objects.filter(
        item__in=list(member_of),
        kind=ItemEvent.Kind.CHECKED_OUT,
        at__gte=min(arrived.values()),
    ).values_list("item_id", "from_site_id", "at")
    for item_id, site_id, at in checkouts:
        member = member_of[item_id]
        if site_id == site_of[member] and at >= arrived[member]:
            counts[member] += 1
    return counts


def rotation_review(*, plan: RotationPlan, now=None) -> list[Decision]:
    now = now or timezone.now()
    stops = list(plan.stops.select_related("site").order_by("position"))
    if not stops:
        return []
    members = list(
        plan.members.filter(is_finished=False).select_related("stop__site", "item", "box")
    )
    items_by_member = _member_items(members)
    site_of = {member.pk: member.stop.site_id for member in members}
    loans = _loans_since(items_by_member, members, site_of)
    heading_to = dict(
        TransferLine.objects.filter(
            is_open=True,
            item__in=[item.pk for items in items_by_member.values() for item in items],
        ).values_list("item_id", "transfer__destination_id")
    )
    on_open_transfer = set(heading_to)
    load = _volumes_per_stop(stops, members, items_by_member, heading_to)
    decisions = []
    for member in sorted(members, key=lambda m: (m.stop.position, m.arrived_at, m.pk)):
        items = items_by_member[member.pk]
        decisions.append(
            _decide(plan, stops, member, items, loans[member.pk], on_open_transfer, load, now)
        )
    return decisions


def _decide(plan, stops, member, items, loans, on_open_transfer, load, now) -> Decision:
    stop = member.stop
    volumes = len(items)
    if stop.capacity is not None and load[stop.pk] > stop.capacity:
        due, why = True, _("本站超出容量上限 %(cap)s 册") % {"cap": stop.capacity}
    elif stop.stay_loans is not None and loans >= stop.stay_loans:
        due, why = (
            True,
            _("本站已借出 %(n)s 次，达到 %(cap)s 次") % {"n": loans, "cap": stop.stay_loans},
        )
    elif stop.stay_days is not None:
        stay = timedelta(days=stop.stay_days * (1 + member.extended))
        due = now - member.arrived_at >= stay
        why = _("已停留 %(days)s 天") % {"days": (now - member.arrived_at).days}
    else:
        due, why = False, ""
    if not due:
        return Decision(member, Action.NOT_DUE, why, items)
    nxt = _next_stop(stops, stop, plan.is_cyclical)
    if nxt is None:
        return Decision(member, Action.FINISHED, _("单程计划的最后一站"), items)
    if member.extended == 0 and stop.stay_days is not None and loans >= plan.demand_loans:
        return Decision(
            member,
            Action.STAY_IN_DEMAND,
            _("本期借出 %(n)s 次（阈值 %(cap)s）") % {"n": loans, "cap": plan.demand_loans},
            items,
        )
    # A volume lost or written off since it joined, or one that stands somewhere else, would
    # make the whole run refuse: it stays out of the moves, said why.
    gone = [item for item in items if item.is_out_of_service]
    if gone:
        return Decision(
            member,
            Action.OUT_OF_SERVICE,
            _listed(
                _("%(name)s（%(kind)s）")
                % {"name": item.barcode, "kind": item.get_status_display()}
                for item in gone
            ),
            items,
        )
    if any(item.is_on_loan for item in items):
        return Decision(member, Action.WAIT_ON_LOAN, why, items, nxt)
    if any(item.pk in on_open_transfer or item.is_in_transit for item in items):
        return Decision(member, Action.WAIT_IN_TRANSIT, why, items, nxt)
    astray = [item for item in items if item.current_site_id != stop.site_id]
    if astray:
        return Decision(
            member,
            Action.ELSEWHERE,
            "、".join(item.barcode for item in astray),
            items,
            nxt,
        )
    if nxt.capacity is not None and load[nxt.pk] + volumes > nxt.capacity:
        return Decision(
            member,
            Action.WAIT_FULL,
            _("“%(site)s”已有 %(n)s 册，上限 %(cap)s")
            % {"site": nxt.site.name, "n": load[nxt.pk], "cap": nxt.capacity},
            items,
            nxt,
        )
    load[nxt.pk] += volumes
    load[stop.pk] -= volumes
    return Decision(member, Action.MOVE, why, items, nxt)


def _member_items(members) -> dict[int, list[Item]]:
    by_member: dict[int, list[Item]] = {member.pk: [] for member in members}
    box_member = {member.box_id: member.pk for member in members if member.box_id}
    for member in members:
        if member.item_id:
            by_member[member.pk].append(member.item)
    if box_member:
        for item in Item.objects.filter(box__in=box_member).order_by("pk"):
            by_member[box_member[item.box_id]].append(item)
    return by_member


def _volumes_per_stop(stops, members, items_by_member, heading_to) -> dict[int, int]:
    """The plan's volumes in service per stop: where each stands, or, when it is on an open
    transfer, the stop at the transfer's destination (none when the plan does not stop there)."""
    stop_at: dict[int, int] = {}
    for stop in stops:
        stop_at.setdefault(stop.site_id, stop.pk)
    load: dict[int, int] = defaultdict(int)
    for member in members:
        for item in items_by_member[member.pk]:
            if item.is_out_of_service:
                continue  # takes no shelf room
            if item.pk not in heading_to:
                load[member.stop_id] += 1
            elif heading_to[item.pk] in stop_at:
                load[stop_at[heading_to[item.pk]]] += 1
    return load


@dataclass
class RotationRun:
    decisions: list[Decision]
    transfers: list[Transfer]

    @property
    def moving(self) -> int:
        return sum(len(d.items) for d in self.decisions if d.action == Action.MOVE)


def rotation_run(*, user, plan: RotationPlan, now=None) -> RotationRun:
    """Review the plan and draft a transfer for every (from, to) pair of members due to move
    on; nothing else changes until receipt. The review runs after the plan row is locked, so a
    second run at the same moment waits and then finds those members already on their way."""
    with transaction.atomic():
        plan = RotationPlan.objects.select_for_update().get(pk=plan.pk)
        if not can_manage_library(user, plan.library):
            raise Refused(_("只有县馆馆员可以执行轮换计划。"), code="librarian_only")
        decisions = rotation_review(plan=plan, now=now)
        extended = [d.member.pk for d in decisions if d.action == Action.STAY_IN_DEMAND]
        groups: dict[tuple, list[Item]] = defaultdict(list)
        for decision in decisions:
            if decision.action == Action.MOVE:
                key = (decision.member.stop.site, decision.next_stop.site)
                groups[key].extend(decision.items)
        transfers = []
        RotationMember.objects.filter(pk__in=extended).update(extended=1)
        for (source, destination), items in sorted(
            groups.items(), key=lambda group: (group[0][0].pk, group[0][1].pk)
        ):
            transfer = transfer_create(
                user=user,
                source=source,
                destination=destination,
                reason=Transfer.Reason.ROTATION,
                note=_("轮换计划：%(plan)s") % {"plan": plan.name},
            )
            transfer_add_items(user=user, transfer=transfer, items=items)
            transfers.append(transfer)
    return RotationRun(decisions, transfers)


def rotation_execute(*, user, plan: RotationPlan, now=None) -> list[Transfer]:
    """Draft transfers for every member due to move on (see `rotation_run`)."""
    return rotation_run(user=user, plan=plan, now=now).transfers


@dataclass(frozen=True)
class StopSpec:
    """One stop of a plan as the librarian lists it; `stop` is the saved stop it edits."""

    site: Site
    stay_days: int | None = None
    stay_loans: int | None = None
    capacity: int | None = None
    stop: RotationStop | None = None


def rotation_plan_save(*, user, plan: RotationPlan, stops: Sequence[StopSpec]) -> RotationPlan:
    """Create or change a plan and its stops, in the order given (renumbered 1..n). Saved stops
    left out of `stops` are deleted, unless volumes of the plan are at them. A plan needs at
    least one stop, each with a stay, at an active site of the plan's library, and no site
    twice: a volume arriving at a site must know which stop it reached."""
    if not can_manage_library(user, plan.library):
        raise Refused(_("只有县馆馆员可以编辑轮换计划。"), code="librarian_only")
    problems = []
    seen: dict[int, int] = {}
    for position, spec in enumerate(stops, start=1):
        where = _("第 %(n)s 站") % {"n": position}
        if spec.site.library_id != plan.library_id:
            problems.append(Problem(where, _("不是本馆的站点")))
        elif spec.site.pk in seen:
            problems.append(
                Problem(
                    where,
                    _("“%(site)s”已是第 %(n)s 站，同一站点不能出现两次")
                    % {"site": spec.site.name, "n": seen[spec.site.pk]},
                )
            )
        elif not spec.site.is_active and (spec.stop is None or spec.stop.site_id != spec.site.pk):
            problems.append(Problem(where, _("站点“%(site)s”已停用") % {"site": spec.site.name}))
        if spec.stay_days is None and spec.stay_loans is None:
            problems.append(Problem(where, _("请填写停留天数或停留至借出次数")))
        if spec.stop is not None and spec.stop.plan_id != plan.pk:
            problems.append(Problem(where, _("不是本计划的站点")))
        seen.setdefault(spec.site.pk, position)
    if not stops:
        raise Refused(_("轮换计划至少要有一个站点。"), code="rotation_plan_no_stops")
    if problems:
        raise Refused(
            _("轮换计划有 %(n)s 处问题，未保存。") % {"n": len(problems)},
            problems,
            code="rotation_plan_invalid",
        )
    with transaction.atomic():
        if plan.pk:
            RotationPlan.objects.select_for_update().filter(pk=plan.pk).first()
        plan.save()
        kept = {spec.stop.pk for spec in stops if spec.stop is not None}
        try:
            with transaction.atomic():
                plan.stops.exclude(pk__in=kept).delete()
        except ProtectedError:
            raise Refused(
                _("要删除的站点上还有轮换中的图书，不能删除。"), code="rotation_stop_in_use"
            ) from None
        # Move the old numbers out of the way first: (plan, position) is unique.
        plan.stops.update(position=F("position") + 1000)
        for position, spec in enumerate(stops, start=1):
            stop = spec.stop or RotationStop(library_id=plan.library_id, plan=plan)
            stop.site = spec.site
            stop.position = position
            stop.stay_days = spec.stay_days
            stop.stay_loans = spec.stay_loans
            stop.capacity = spec.capacity
            stop.save()
    return plan


def rotation_add(
    *,
    plan: RotationPlan,
    items: Iterable[Item] = (),
    boxes: Iterable[Box] = (),
    stop: RotationStop | None = None,
    user=None,
) -> int:
    """Put items or boxes on a plan, at the stop where they are now (or the first stop): all of
    them, or none with every refusal listed. A volume that is lost, withdrawn, damaged, back
    with the lender or not yet received cannot rotate; a volume in a book box rotates with its
    box; nothing is on two plans, or on one plan twice."""
    if user is not None and not can_manage_library(user, plan.library):
        raise Refused(_("只有县馆馆员可以编辑轮换计划。"), code="librarian_only")
    items, boxes = list(items), list(boxes)
    with transaction.atomic():
        plan = RotationPlan.objects.select_for_update().get(pk=plan.pk)
        stops = list(plan.stops.order_by("position"))
        if not stops:
            raise Refused(_("轮换计划还没有站点。"), code="rotation_plan_no_stops")
        # As they are now, not as the page that listed them saw them.
        items = list(Item.objects.filter(pk__in=[item.pk for item in items]).order_by("pk"))
        problems = _member_problems(plan, items, boxes)
        if problems:
            raise Refused(
                _("%(n)s 项不能加入轮换计划，未做任何更改。") % {"n": len(problems)},
                problems,
                code="items_not_rotatable",
            )
        by_site: dict[int, RotationStop] = {}
        for candidate in stops:
            by_site.setdefault(candidate.site_id, candidate)
        members = []
        for item in items:
            at = stop or by_site.get(item.current_site_id, stops[0])
            members.append(
                RotationMember(library_id=plan.library_id, plan=plan, item=item, stop=at)
            )
        for box in boxes:
            site_id = box.items.values_list("current_site", flat=True).first()
            at = stop or by_site.get(site_id, stops[0])
            members.append(RotationMember(library_id=plan.library_id, plan=plan, box=box, stop=at))
        try:
            with transaction.atomic():
                RotationMember.objects.bulk_create(members)
        except IntegrityError:
            # Another librarian put one of them on a plan a moment ago.
            raise Refused(
                _("有图书或书箱已在某个轮换计划中。"), code="items_not_rotatable"
            ) from None
        return len(members)


def _member_problems(plan: RotationPlan, items: list[Item], boxes: list[Box]) -> list[Problem]:
    item_ids = [item.pk for item in items]
    box_ids = [box.pk for box in boxes]
    planned_items = dict(
        RotationMember.objects.filter(item__in=item_ids).values_list("item_id", "plan__name")
    )
    planned_boxes = dict(
        RotationMember.objects.filter(box__in=box_ids).values_list("box_id", "plan__name")
    )
    # Volumes already on a plan on their own may not also ride in a box on a plan.
    planned_in_box = dict(
        RotationMember.objects.filter(item__box__in=box_ids).values_list(
            "item__box_id", "item__barcode"
        )
    )
    box_codes = dict(
        Box.objects.filter(pk__in={i.box_id for i in items if i.box_id}).values_list("pk", "code")
    )
    problems = []
    for item in items:
        if item.library_id != plan.library_id:
            problems.append(Problem(item.barcode, _("不是本馆的图书")))
        elif item.is_out_of_service:
            problems.append(
                Problem(
                    item.barcode,
                    _("状态为“%(status)s”，不能参加轮换") % {"status": item.get_status_display()},
                )
            )
        elif item.box_id:
            problems.append(
                Problem(
                    item.barcode,
                    _("在流动书箱 %(box)s 中，请把整个书箱加入计划")
                    % {"box": box_codes[item.box_id]},
                )
            )
        elif item.pk in planned_items:
            problems.append(
                Problem(
                    item.barcode,
                    _("已在轮换计划“%(plan)s”中") % {"plan": planned_items[item.pk]},
                )
            )
    lost = defaultdict(list)
    for box_id, barcode, status in Item.objects.filter(
        box__in=box_ids, status__in=Item.OUT_OF_SERVICE
    ).values_list("box_id", "barcode", "status"):
        lost[box_id].append(
            _("%(name)s（%(kind)s）") % {"name": barcode, "kind": Item.Status(status).label}
        )
    for box in boxes:
        if box.library_id != plan.library_id:
            problems.append(Problem(box.code, _("不是本馆的书箱")))
        elif not box.items.exists():
            problems.append(Problem(box.code, _("书箱是空的")))
        elif lost.get(box.pk):
            problems.append(
                Problem(
                    box.code,
                    _("书箱中有不能流通的图书：%(items)s") % {"items": _listed(lost[box.pk])},
                )
            )
        elif box.pk in planned_boxes:
            problems.append(
                Problem(box.code, _("已在轮换计划“%(plan)s”中") % {"plan": planned_boxes[box.pk]})
            )
        elif box.pk in planned_in_box:
            problems.append(
                Problem(
                    box.code,
                    _("箱中图书 %(barcode)s 已单独在轮换计划中")
                    % {"barcode": planned_in_box[box.pk]},
                )
            )
    return problems
