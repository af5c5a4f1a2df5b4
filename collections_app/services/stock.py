"""Marking volumes missing, damaged or withdrawn, and found again: what a stock check (盘点) or a
superuser's correction finds, written with each volume's history row.

A volume on loan is returned at the desk, a volume on a transfer is received or the transfer
cancelled; those have their own services, so marking refuses them instead of going around them.
A trapped hold's copy is refused too: its reader is waiting for that very copy. All or nothing:
one refused volume stops the whole list, with every refusal listed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.scope import can_manage_library
from collections_app.errors import Problem, Refused
from collections_app.models import Item, ItemEvent, Library, TransferLine
from collections_app.selectors import trapped_for_readers
from collections_app.services.items import item_transition
from collections_app.services.transfers import lock_items

# What a volume may be marked as, and the states it may be marked from: available means "found
# again" (or repaired, or taken back into the collection).
MARKS = (
    Item.Status.MISSING,
    Item.Status.DAMAGED,
    Item.Status.WITHDRAWN,
    Item.Status.AVAILABLE,
)
MARKABLE_FROM = MARKS


def _refusal(item: Item, status: str, open_transfers: dict[int, int], trapped: set[int]):
    if item.is_on_loan:
        return _("已借出，请先办理归还")
    if item.pk in open_transfers:
        return _("在未完结的调拨单 #%(id)s 中，请先接收或取消调拨") % {
            "id": open_transfers[item.pk]
        }
    if item.is_in_transit:
        return _("正在调拨途中")
    if item.status not in MARKABLE_FROM:
        return _("状态为“%(status)s”，不能在这里更改") % {"status": item.get_status_display()}
    if item.pk in trapped and status != Item.Status.AVAILABLE:
        return _("已为预约读者留书，请先取消预约")
    return None


def item_mark(*, user, items: Iterable[Item], status: str, note: str = "") -> int:
    """Mark volumes as `status` and return how many changed. Volumes already in that status are
    left as they are (marking twice is harmless); a volume that goes out of service leaves its
    display and its box, where it no longer stands."""
    label = dict(Item.Status.choices).get(status, status)
    if status not in MARKS:
        raise Refused(
            _("不能把图书标记为“%(status)s”。") % {"status": label}, code="status_not_markable"
        )
    note = note.strip()[:200]
    with transaction.atomic():
        locked = lock_items(item.pk for item in items)
        if not locked:
            raise Refused(_("请选择图书。"), code="items_required")
        ids = [item.pk for item in locked]
        libraries = Library.objects.in_bulk({item.library_id for item in locked})
        open_transfers = dict(
            TransferLine.objects.filter(item__in=ids, is_open=True).values_list(
                "item_id", "transfer_id"
            )
        )
        trapped = trapped_for_readers(ids)
        problems = []
        for item in locked:
            if not can_manage_library(user, libraries[item.library_id]):
                problems.append(Problem(item.barcode, _("不是您管理的图书馆的图书")))
            elif reason := _refusal(item, status, open_transfers, trapped):
                problems.append(Problem(item.barcode, reason))
        if problems:
            raise Refused(
                _("%(count)s 册图书不能标记为“%(status)s”，未做任何更改。")
                % {"count": len(problems), "status": label},
                problems,
                code="items_not_markable",
            )
        changing = [item for item in locked if item.status != status]
        fields = {} if status == Item.Status.AVAILABLE else {"display": None, "box": None}
        return item_transition(
            items=changing,
            kind=ItemEvent.Kind.STATUS_CHANGED,
            to_status=status,
            user=user,
            note=note,
            **fields,
        )
