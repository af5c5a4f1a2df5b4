"""Transfers: volumes moving between the sites of a county library, or back to the lender.

draft → dispatched → received, or cancelled. A draft already reserves its items (one open
transfer per item is a partial unique index on the lines), so a printed pick list is never
contested. Every service locks the rows it changes in id order, re-checks, writes, and records
the item history in the same transaction; bulk work is all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_manage_library, can_work_at_site, scoped
from collections_app.barcodes import normalise_barcode
from collections_app.errors import Problem, Refused
from collections_app.models import Box, Display, Item, ItemEvent, Site, Transfer, TransferLine
from collections_app.selectors import transferable_items, trapped_for_readers
from collections_app.services.arrivals import rotation_arrive
from collections_app.services.items import item_transition, item_transition_many

CHUNK = 5000

# Reasons after which the destination becomes the item's home: where a return sends it back.
REHOMING_REASONS = {
    Transfer.Reason.ALLOCATION,
    Transfer.Reason.ROTATION,
    Transfer.Reason.RETURN_HOME,
}


# What the transfer rules read of a locked item; other fields load on demand.
LOCKED_FIELDS = (
    "id",
    "library_id",
    "barcode",
    "status",
    "current_site_id",
    "home_site_id",
    "display_id",
    "box_id",
)


def _chunks(values: Sequence, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def lock_items(ids: Iterable[int]) -> list[Item]:
    """Lock the items in id order (so two transactions never wait on each other in a cycle)."""
    ids = sorted(set(ids))
    items: list[Item] = []
    for chunk in _chunks(ids):
        items.extend(
            Item.objects.select_for_update()
            .filter(pk__in=chunk)
            .only(*LOCKED_FIELDS)
            .order_by("pk")
        )
    return items


def _lock_transfer(transfer: Transfer) -> Transfer:
    return Transfer.objects.select_for_update().get(pk=transfer.pk)


def _require_sender(user, site: Site) -> None:
    if not can_work_at_site(user, site):
        raise Refused(
            _("您不能从“%(site)s”发出图书。") % {"site": site.name}, code="site_not_allowed"
        )


def item_refusal(item: Item, source: Site) -> str | None:
    """Why this item cannot go on a transfer from `source`, or None when it can."""
    problem = item_problem(item, source)
    return problem.message if problem else None


def item_status_code(item: Item) -> str:
    """The stable code of why an item that is not on the shelf cannot be taken from it."""
    if item.is_on_loan:
        return "item_on_loan"
    if item.is_in_transit:
        return "item_in_transit"
    return "item_out_of_service"


def item_problem(item: Item, source: Site) -> Problem | None:
    """`item_refusal` as a refused row, with the stable code of its reason (the desk's codes:
    the same rule has the same name wherever it refuses)."""
    if item.library_id != source.library_id:
        return Problem(item.barcode, _("不是本馆的图书"), "item_not_ours")
    if item.is_on_loan:
        return Problem(item.barcode, _("已借出，归还后才能调拨"), "item_on_loan")
    if item.is_in_transit:
        return Problem(item.barcode, _("正在调拨途中"), "item_in_transit")
    if item.is_out_of_service:
        return Problem(
            item.barcode,
            _("状态为“%(status)s”，不能调拨") % {"status": item.get_status_display()},
            "item_out_of_service",
        )
    if item.current_site_id != source.pk:
        return Problem(
            item.barcode,
            _("不在发出站点，当前在“%(site)s”") % {"site": item.current_site.name},
            "item_not_here",
        )
    return None


def transfer_create(
    *,
    user,
    source: Site,
    destination: Site | None,
    reason: str,
    note: str = "",
) -> Transfer:
    _require_sender(user, source)
    if reason == Transfer.Reason.RETURN_TO_LENDER:
        if destination is not None:
            raise Refused(_("归还国图的调拨单没有接收站点。"), code="destination_unexpected")
        if not can_manage_library(user, source.library):
            raise Refused(_("只有县馆馆员可以办理归还国图。"), code="librarian_only")
    else:
        if destination is None:
            raise Refused(_("请选择接收站点。"), code="destination_required")
        if destination.library_id != source.library_id:
            raise Refused(_("只能在本馆的站点之间调拨。"), code="site_not_ours")
        if destination.pk == source.pk:
            raise Refused(_("接收站点不能与发出站点相同。"), code="destination_is_source")
        if not destination.is_active:
            raise Refused(
                _("站点“%(site)s”已停用。") % {"site": destination.name}, code="site_inactive"
            )
    return Transfer.objects.create(
        library_id=source.library_id,
        source=source,
        destination=destination,
        reason=reason,
        note=note,
        created_by=user,
    )


def transfer_add_items(*, user, transfer: Transfer, items: Iterable[Item]) -> int:
    """Put items on a draft transfer: all of them, or none with every refusal listed."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        _require_sender(user, transfer.source)
        if transfer.status != Transfer.Status.DRAFT:
            raise Refused(_("只能向草稿状态的调拨单添加图书。"), code="transfer_not_draft")
        locked = lock_items(item.pk for item in items)
        problems = [problem for item in locked if (problem := item_problem(item, transfer.source))]
        if transfer.reason != Transfer.Reason.HOLD:
            # A copy kept for a reader travels only on the hold transfer to their pickup site.
            trapped = trapped_for_readers(item.pk for item in locked)
            problems += [
                Problem(item.barcode, _("已为预约的读者留书，不能另作调拨"), "kept_for_hold")
                for item in locked
                if item.pk in trapped
            ]
        if problems:
            raise Refused(
                _("%(count)s 册图书不能调拨，未做任何更改。") % {"count": len(problems)},
                problems,
                code="items_not_transferable",
            )
        already_here = set()
        if transfer.lines.exists():
            already_here = set(
                transfer.lines.filter(item__in=[item.pk for item in locked]).values_list(
                    "item_id", flat=True
                )
            )
        lines = [
            TransferLine(library_id=transfer.library_id, transfer=transfer, item=item)
            for item in locked
            if item.pk not in already_here
        ]
        try:
            with transaction.atomic():
                TransferLine.objects.bulk_create(lines, batch_size=CHUNK)
        except IntegrityError:
            # The partial unique index refused: some items are on another open transfer.
            raise Refused(
                _("有图书已在其他未完结的调拨单中，未做任何更改。"),
                _open_elsewhere(transfer, locked),
                code="items_not_transferable",
            ) from None
        return len(lines)


def _open_elsewhere(transfer: Transfer, items: list[Item]) -> list[Problem]:
    barcodes = {item.pk: item.barcode for item in items}
    rows = (
        TransferLine.objects.filter(item__in=list(barcodes), is_open=True)
        .exclude(transfer=transfer)
        .values_list("item_id", "transfer_id")
    )
    return [
        Problem(
            barcodes[item_id], _("已在调拨单 #%(id)s 中") % {"id": transfer_id}, "item_on_transfer"
        )
        for item_id, transfer_id in rows
    ]


def transfer_add_matching(*, user, transfer: Transfer, count: int, **filters) -> int:
    """Add up to `count` items from the source that match the filters of
    `selectors.transferable_items` ("200 class I volumes idle for 90 days")."""
    if count < 1:
        raise Refused(_("请填写要调拨的册数。"), code="count_required")
    items = list(
        transferable_items(transfer.source, **filters).exclude(transfer_lines__transfer=transfer)[
            :count
        ]
    )
    if not items:
        raise Refused(_("发出站点没有符合条件的在架图书。"), code="no_matching_items")
    return transfer_add_items(user=user, transfer=transfer, items=items)


def transfer_remove_items(*, user, transfer: Transfer, items: Iterable[Item]) -> int:
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        _require_sender(user, transfer.source)
        if transfer.status != Transfer.Status.DRAFT:
            raise Refused(_("只能从草稿状态的调拨单移除图书。"), code="transfer_not_draft")
        lines = transfer.lines.filter(item__in=[item.pk for item in items])
        taken_off = lock_items(lines.values_list("item_id", flat=True))
        deleted, _rows = lines.delete()
        _back_on_shelf(user, taken_off, transfer.source, timezone.now())
        return deleted


def transfer_dispatch(*, user, transfer: Transfer) -> Transfer:
    """Send the items on their way: each goes in transit, all or nothing."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        _require_sender(user, transfer.source)
        if transfer.status != Transfer.Status.DRAFT:
            raise Refused(
                _("调拨单 #%(id)s 已不是草稿，不能再发出。") % {"id": transfer.pk},
                code="transfer_not_draft",
            )
        item_ids = list(transfer.lines.values_list("item_id", flat=True))
        if not item_ids:
            raise Refused(_("调拨单中还没有图书。"), code="transfer_empty")
        items = lock_items(item_ids)
        problems = [problem for item in items if (problem := item_problem(item, transfer.source))]
        if problems:
            raise Refused(
                _("%(count)s 册图书已不能发出，未做任何更改。") % {"count": len(problems)},
                problems,
                code="items_not_transferable",
            )
        now = timezone.now()
        # A volume in transit stays at its source until it is received; the history row names
        # the transfer, and through it the destination.
        item_transition_many(
            item_ids=item_ids,
            kind=ItemEvent.Kind.DISPATCHED,
            to_status=Item.Status.IN_TRANSIT,
            transfer=transfer,
            user=user,
            at=now,
        )
        transfer.status = Transfer.Status.DISPATCHED
        transfer.dispatched_at = now
        transfer.save(update_fields=["status", "dispatched_at"])
        return transfer


def transfer_cancel(*, user, transfer: Transfer) -> Transfer:
    """Cancel a draft or a dispatched transfer; items still on the way go back to available at
    the source, as they were before dispatch."""
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        _require_sender(user, transfer.source)
        if not transfer.is_open:
            raise Refused(
                _("调拨单 #%(id)s 已完结，不能取消。") % {"id": transfer.pk},
                code="transfer_closed",
            )
        pending = transfer.lines.filter(state=TransferLine.State.PENDING)
        back = lock_items(pending.values_list("item_id", flat=True))
        if transfer.is_dispatched:
            item_transition(
                items=back,
                kind=ItemEvent.Kind.TRANSFER_CANCELLED,
                to_status=Item.Status.AVAILABLE,
                transfer=transfer,
                user=user,
            )
        transfer.lines.filter(is_open=True).update(is_open=False)
        transfer.status = Transfer.Status.CANCELLED
        transfer.cancelled_at = timezone.now()
        transfer.save(update_fields=["status", "cancelled_at"])
        _back_on_shelf(user, back, transfer.source, transfer.cancelled_at)
        return transfer


def _back_on_shelf(user, items: list[Item], site, now) -> None:
    """Volumes taken off a transfer (cancelled, or lines removed from a draft) stand on the
    source's shelf, off any transfer: as on arrival anywhere, the arrival hooks run — a reader
    waiting there gets one, and a copy that was kept for a reader elsewhere is free for that
    reader's hold again (`circulation.services.holds.hold_trap_on_receipt`)."""
    for hook in ARRIVAL_HOOKS if items else ():
        hook(user=user, items=items, site=site, now=now)


@dataclass
class Receipt:
    """What one receipt call did, scan by scan, for the receiving page."""

    received: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    completed: bool = False
    # Barcode → what to do with a copy kept for a reader at the destination (the hold shelf).
    held: dict[str, str] = field(default_factory=dict)


# Rules that other apps add to the receipt of extra volumes. Circulation depends on this app and
# not the reverse, so it registers here what only it knows (a copy trapped for a reader must stay
# where the reader will collect it). A check takes the locked items and the destination and
# returns {item id: why it cannot arrive}.
ExtraReceiptCheck = Callable[..., dict[int, str]]
EXTRA_RECEIPT_CHECKS: list[ExtraReceiptCheck] = []


def register_extra_receipt_check(check: ExtraReceiptCheck) -> ExtraReceiptCheck:
    if check not in EXTRA_RECEIPT_CHECKS:
        EXTRA_RECEIPT_CHECKS.append(check)
    return check


# What other apps do with the volumes that have just arrived on a shelf at the destination.
# Circulation registers the trap of waiting holds there (a copy arriving at a reader's pickup
# site is kept for them, as a return there would be). A hook takes the locked items, the site and
# the time and returns {item id: what the receiver does with it}.
ArrivalHook = Callable[..., dict[int, str]]
ARRIVAL_HOOKS: list[ArrivalHook] = []


def register_arrival_hook(hook: ArrivalHook) -> ArrivalHook:
    if hook not in ARRIVAL_HOOKS:
        ARRIVAL_HOOKS.append(hook)
    return hook


def transfer_receive(
    *,
    user,
    transfer: Transfer,
    site: Site | None,
    barcodes: Sequence[str] = (),
    damaged: Iterable[str] = (),
    finish: bool = False,
) -> Receipt:
    """Scan items in at the destination. Lines not yet scanned stay open (a partial receipt)
    unless `finish`, which records them as missing. A volume of the library that is not on the
    transfer arrives as extra when the receiver could see it, it is on the shelf and on no other
    open transfer, no reader is waiting for it elsewhere, and its book box (if any) arrives
    whole; otherwise the receipt says why not. Scanning the same barcode twice is harmless."""
    damaged = {normalise_barcode(code) for code in damaged}
    barcodes = [code for code in map(normalise_barcode, barcodes) if code]
    receipt = Receipt()
    with transaction.atomic():
        transfer = _lock_transfer(transfer)
        _require_receiver(user, transfer, site)
        if not transfer.is_dispatched:
            raise Refused(
                _("调拨单 #%(id)s 的状态是“%(status)s”，不能接收。")
                % {"id": transfer.pk, "status": transfer.get_status_display()},
                code="transfer_not_dispatched",
            )
        barcodes = _open_boxes(transfer, barcodes)
        lines = {
            line.item.barcode: line
            for line in transfer.lines.select_related("item").filter(item__barcode__in=barcodes)
        }
        extras = dict(
            Item.objects.filter(library=transfer.library, barcode__in=barcodes)
            .exclude(barcode__in=lines)
            .values_list("barcode", "pk")
        )
        # A boxed volume arrives with its whole box: lock the rest of the box with it.
        boxes = set(
            Item.objects.filter(pk__in=extras.values(), box__isnull=False).values_list(
                "box_id", flat=True
            )
        )
        box_mates = Item.objects.filter(box__in=boxes).values_list("pk", flat=True)
        items = {
            item.pk: item
            for item in lock_items(
                [line.item_id for line in lines.values()]
                + list(extras.values())
                + (list(box_mates) if boxes else [])
            )
        }
        refusals = _extra_refusals(user, transfer, [items[pk] for pk in extras.values()])
        now = timezone.now()
        arrivals: dict[tuple[str, str], list[Item]] = {}
        settled: dict[str, list[int]] = {}
        extra_lines = []
        for code in dict.fromkeys(barcodes):
            line = lines.get(code)
            if line is not None:
                item = items[line.item_id]
                if line.state != TransferLine.State.PENDING:
                    receipt.already.append(code)
                    continue
                is_damaged = code in damaged
                status = _arrival_status(transfer, is_damaged)
                arrivals.setdefault((status, ""), []).append(item)
                state = TransferLine.State.DAMAGED if is_damaged else TransferLine.State.RECEIVED
                settled.setdefault(state, []).append(line.pk)
                (receipt.damaged if is_damaged else receipt.received).append(code)
            elif code in extras:
                item = items[extras[code]]
                if item.pk in refusals:
                    receipt.problems.append(
                        Problem(
                            code,
                            _("不在本单中，不能作为多出接收：%(reason)s")
                            % {"reason": refusals[item.pk]},
                            "extra_not_receivable",
                        )
                    )
                    continue
                status = _arrival_status(transfer, code in damaged)
                arrivals.setdefault((status, _("多出")), []).append(item)
                extra_lines.append(
                    TransferLine(
                        library_id=transfer.library_id,
                        transfer=transfer,
                        item=item,
                        state=TransferLine.State.EXTRA,
                        is_open=False,
                    )
                )
                receipt.extra.append(code)
            else:
                receipt.problems.append(Problem(code, _("不是本馆的图书条码"), "item_not_found"))
        for state, line_ids in settled.items():
            TransferLine.objects.filter(pk__in=line_ids).update(state=state, is_open=False)
        TransferLine.objects.bulk_create(extra_lines, batch_size=CHUNK)
        for (status, note), arrived in arrivals.items():
            _arrive(user, transfer, arrived, status, now, note)
        if finish:
            _record_missing(user, transfer, now, receipt)
        arrived = receipt.received + receipt.damaged + receipt.extra
        if arrived and transfer.destination is not None:
            rotation_arrive(
                items=list(Item.objects.filter(barcode__in=arrived)),
                site=transfer.destination,
                now=now,
            )
            on_shelf = [
                item
                for (status, _note), group in arrivals.items()
                if status == Item.Status.AVAILABLE
                for item in group
            ]
            barcodes_of = {item.pk: item.barcode for item in on_shelf}
            for hook in ARRIVAL_HOOKS if on_shelf else ():
                for pk, message in hook(
                    user=user, items=on_shelf, site=transfer.destination, now=now
                ).items():
                    receipt.held[barcodes_of[pk]] = message
        if not transfer.lines.filter(state=TransferLine.State.PENDING).exists():
            transfer.status = Transfer.Status.RECEIVED
            transfer.received_at = now
            transfer.save(update_fields=["status", "received_at"])
            transfer.lines.filter(is_open=True).update(is_open=False)
            receipt.completed = True
    return receipt


def _open_boxes(transfer: Transfer, barcodes: list[str]) -> list[str]:
    """A box label scanned at receipt stands for every item of the box on this transfer; a box
    with nothing on this transfer stands for all its items, which may arrive together as
    extra."""
    boxes = dict(
        Box.objects.filter(library=transfer.library, code__in=barcodes).values_list("code", "pk")
    )
    if not boxes:
        return barcodes
    contents: dict[int, list[str]] = {}
    for box_id, barcode in transfer.lines.filter(item__box__in=boxes.values()).values_list(
        "item__box", "item__barcode"
    ):
        contents.setdefault(box_id, []).append(barcode)
    elsewhere = [pk for pk in boxes.values() if pk not in contents]
    for box_id, barcode in Item.objects.filter(box__in=elsewhere).values_list("box", "barcode"):
        contents.setdefault(box_id, []).append(barcode)
    expanded = []
    for code in barcodes:
        expanded.extend(sorted(contents.get(boxes[code], [])) if code in boxes else [code])
    return expanded


def _extra_refusals(user, transfer: Transfer, extras: list[Item]) -> dict[int, str]:
    """Why each of `extras` (locked: scanned at the destination, not on the transfer) may not
    arrive as extra, by item id. Every reason is checked on locked rows, so a checkout or
    another transfer that wins the race is seen here."""
    if not extras:
        return {}
    if transfer.destination is None:
        return {item.pk: _("归还国图的调拨单不接收单外的图书") for item in extras}
    ids = [item.pk for item in extras]
    # Scope first: a volume the receiver may not see is not described any further.
    visible = set(scoped(Item.objects.filter(pk__in=ids), user).values_list("pk", flat=True))
    elsewhere = dict(
        TransferLine.objects.filter(item__in=ids, is_open=True)
        .exclude(transfer=transfer)
        .values_list("item_id", "transfer_id")
    )
    refusals: dict[int, str] = {}
    for item in extras:
        if item.pk not in visible:
            refusals[item.pk] = _("您无权查看这册图书（不在您工作的站点），请交县馆馆员处理")
        elif item.pk in elsewhere:
            refusals[item.pk] = _("已在调拨单 #%(id)s 中，请按该调拨单接收，或先从该单中移出") % {
                "id": elsewhere[item.pk]
            }
        elif item.is_on_loan:
            refusals[item.pk] = _("处于借出状态，请先办理归还")
        elif not item.is_available:
            refusals[item.pk] = _("状态为“%(status)s”") % {"status": item.get_status_display()}
    for check in EXTRA_RECEIPT_CHECKS:
        candidates = [item for item in extras if item.pk not in refusals]
        if candidates:
            for pk, reason in check(items=candidates, destination=transfer.destination).items():
                refusals.setdefault(pk, reason)
    _refuse_split_boxes(transfer, extras, refusals)
    return refusals


def _refuse_split_boxes(transfer: Transfer, extras: list[Item], refusals: dict[int, str]) -> None:
    """A book box stands at one site: a boxed volume arrives as extra only when every other
    volume of its box arrives too, in this receipt or on this transfer."""
    boxes = {item.box_id for item in extras if item.box_id and item.pk not in refusals}
    if not boxes:
        return
    arriving = {item.pk for item in extras if item.pk not in refusals}
    arriving |= set(
        transfer.lines.filter(item__box__in=boxes)
        .exclude(state=TransferLine.State.MISSING)
        .values_list("item_id", flat=True)
    )
    contents: dict[int, set[int]] = {}
    for pk, box_id in Item.objects.filter(box__in=boxes).values_list("pk", "box_id"):
        contents.setdefault(box_id, set()).add(pk)
    codes = dict(Box.objects.filter(pk__in=boxes).values_list("pk", "code"))
    for item in extras:
        if item.box_id in boxes and item.pk not in refusals:
            left = contents[item.box_id] - arriving
            if left:
                refusals[item.pk] = _(
                    "在流动书箱 %(box)s 中，须整箱接收（同箱还有 %(n)s 册未到或不能接收）"
                ) % {"box": codes[item.box_id], "n": len(left)}


def _require_receiver(user, transfer: Transfer, site: Site | None) -> None:
    if transfer.destination is None:
        if site is not None or not can_manage_library(user, transfer.library):
            raise Refused(_("归还国图的图书由县馆馆员确认国图已收到。"), code="librarian_only")
        return
    if site is None or site.pk != transfer.destination_id:
        raise Refused(
            _("这张调拨单只能在接收站点“%(site)s”接收。") % {"site": transfer.destination.name},
            code="not_destination",
        )
    if not can_work_at_site(user, site):
        raise Refused(
            _("您不能在“%(site)s”接收图书。") % {"site": site.name}, code="site_not_allowed"
        )


def _arrival_status(transfer: Transfer, damaged: bool) -> str:
    if transfer.destination is None:
        return Item.Status.RETURNED_TO_LENDER
    return Item.Status.DAMAGED if damaged else Item.Status.AVAILABLE


def _arrive(user, transfer: Transfer, items: list[Item], status: str, now, note: str) -> None:
    """The volumes reach the destination (or, returned to the lender, leave the library from
    their source): one transition per change, so a display left behind is cleared too."""
    site = transfer.destination or transfer.source
    fields = {}
    if transfer.reason in REHOMING_REASONS and transfer.destination is not None:
        fields["home_site"] = site
    display_sites = dict(
        Display.objects.filter(
            pk__in={item.display_id for item in items if item.display_id}
        ).values_list("pk", "site_id")
    )
    behind = {pk for pk, display_site in display_sites.items() if display_site != site.pk}
    left_behind = [item for item in items if item.display_id in behind]
    staying = [item for item in items if item.display_id not in behind]
    for group, extra_fields in ((staying, {}), (left_behind, {"display": None})):
        item_transition(
            items=group,
            kind=ItemEvent.Kind.ARRIVED,
            to_status=status,
            to_site=site,
            transfer=transfer,
            user=user,
            at=now,
            note=note,
            **fields,
            **extra_fields,
        )


def _record_missing(user, transfer, now, receipt: Receipt) -> None:
    pending = transfer.lines.filter(state=TransferLine.State.PENDING)
    items = lock_items(pending.values_list("item_id", flat=True))
    item_transition(
        items=items,
        kind=ItemEvent.Kind.STATUS_CHANGED,
        to_status=Item.Status.MISSING,
        transfer=transfer,
        user=user,
        at=now,
        note=_("调拨接收时缺失"),
    )
    pending.update(state=TransferLine.State.MISSING, is_open=False)
    receipt.missing = [item.barcode for item in items]
