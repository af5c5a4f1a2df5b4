"""Rotation plans (轮换计划): volumes and book boxes travel through ordered stops.

`rotation_review` says, for every member of a plan, whether it moves on now and why (its stay
is over; it is in demand so it stays one more period; it is on loan or on the way so it waits;
its stop holds more than the plan allows there). `rotation_execute` turns the moves into draft
transfers, one per (from, to) pair, for the librarian to print and dispatch. A member reaches
its next stop when the transfer is received there (see `rotation_arrive`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from collections_app.errors import Refused
from collections_app.models import (
    Item,
    ItemEvent,
    RotationMember,
    RotationPlan,
    RotationStop,
    Transfer,
    TransferLine,
)
from collections_app.services.transfers import transfer_add_items, transfer_create


class Action:
    MOVE = "move"
    STAY_IN_DEMAND = "stay_in_demand"
    WAIT_ON_LOAN = "wait_on_loan"
    WAIT_IN_TRANSIT = "wait_in_transit"
    WAIT_FULL = "wait_full"
    NOT_DUE = "not_due"
    FINISHED = "finished"

    LABELS = {
        MOVE: gettext_lazy("前往下一站"),
        STAY_IN_DEMAND: gettext_lazy("借阅需求旺，多留一期"),
        WAIT_ON_LOAN: gettext_lazy("借出中，归还后再走"),
        WAIT_IN_TRANSIT: gettext_lazy("调拨途中或已在调拨单中"),
        WAIT_FULL: gettext_lazy("下一站已满，暂留"),
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
    on_open_transfer = set(
        TransferLine.objects.filter(
            is_open=True,
            item__in=[item.pk for items in items_by_member.values() for item in items],
        ).values_list("item_id", flat=True)
    )
    load = _volumes_per_stop(members, items_by_member)
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
    if any(item.is_on_loan for item in items):
        return Decision(member, Action.WAIT_ON_LOAN, why, items, nxt)
    if any(item.pk in on_open_transfer or item.is_in_transit for item in items):
        return Decision(member, Action.WAIT_IN_TRANSIT, why, items, nxt)
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


def _volumes_per_stop(members, items_by_member) -> dict[int, int]:
    load: dict[int, int] = defaultdict(int)
    for member in members:
        load[member.stop_id] += len(items_by_member[member.pk])
    return load


def rotation_execute(*, user, plan: RotationPlan, now=None) -> list[Transfer]:
    """Draft transfers for every member due to move on; nothing else changes until receipt."""
    decisions = rotation_review(plan=plan, now=now)
    extended = [d.member.pk for d in decisions if d.action == Action.STAY_IN_DEMAND]
    groups: dict[tuple, list[Item]] = defaultdict(list)
    for decision in decisions:
        if decision.action == Action.MOVE:
            key = (decision.member.stop.site, decision.next_stop.site)
            groups[key].extend(decision.items)
    transfers = []
    with transaction.atomic():
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
    return transfers


def rotation_add(
    *, plan: RotationPlan, items=(), boxes=(), stop: RotationStop | None = None
) -> int:
    """Put items or boxes on a plan, at the stop where they are now (or the first stop)."""
    stops = list(plan.stops.order_by("position"))
    if not stops:
        raise Refused(_("轮换计划还没有站点。"))
    by_site = {s.site_id: s for s in stops}
    members = []
    for item in items:
        at = stop or by_site.get(item.current_site_id, stops[0])
        members.append(RotationMember(library_id=plan.library_id, plan=plan, item=item, stop=at))
    for box in boxes:
        site_id = box.items.values_list("current_site", flat=True).first()
        at = stop or by_site.get(site_id, stops[0])
        members.append(RotationMember(library_id=plan.library_id, plan=plan, box=box, stop=at))
    taken = RotationMember.objects.filter(item__in=[m.item_id for m in members if m.item_id])
    taken_boxes = RotationMember.objects.filter(box__in=[m.box_id for m in members if m.box_id])
    if taken.exists() or taken_boxes.exists():
        raise Refused(_("有图书或书箱已在某个轮换计划中。"))
    RotationMember.objects.bulk_create(members)
    return len(members)
