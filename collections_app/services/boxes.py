"""Travelling book boxes (流动书箱): packed once, sent and received with one scan."""

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.scope import can_manage_library, can_work_at_site
from collections_app.barcodes import is_barcode, normalise_barcode
from collections_app.errors import Problem, Refused
from collections_app.models import Box, Item, ItemEvent, Library, Site, Transfer, TransferLine
from collections_app.services.items import item_transition
from collections_app.services.transfers import (
    item_problem,
    item_status_code,
    lock_items,
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)


def box_create(*, user, library: Library, code: str, name: str) -> Box:
    """A new box with its label code; a code already in use is refused, also in a race."""
    if not can_manage_library(user, library):
        raise Refused(_("只有县馆馆员可以登记流动书箱。"), code="librarian_only")
    code = normalise_barcode(code)
    if not is_barcode(code):
        raise Refused(
            _("书箱条码只能由字母、数字和连字符组成，3 到 32 位。"), code="barcode_invalid"
        )
    try:
        with transaction.atomic():
            return Box.objects.create(library=library, code=code, name=name.strip())
    except IntegrityError:
        raise Refused(
            _("书箱条码“%(code)s”已被使用。") % {"code": code}, code="box_code_taken"
        ) from None


def box_pack(*, user, box: Box, items: Iterable[Item]) -> int:
    """Put items in a box: all of them on the shelf at the one site where the box stands (and
    the user works), on no transfer, none in another box. A box stands on one site and travels
    whole, so nothing is packed into a box that is on its way."""
    with transaction.atomic():
        box = Box.objects.select_for_update().get(pk=box.pk)
        held_at = list(Site.objects.filter(pk__in=box.items.values("current_site")))
        if any(not can_work_at_site(user, site) for site in held_at):
            raise Refused(
                _("书箱“%(box)s”不在您的站点，不能往里装书。") % {"box": box.name},
                code="site_not_allowed",
            )
        if TransferLine.objects.filter(item__box=box, is_open=True).exists():
            raise Refused(
                _("书箱“%(box)s”在调拨单上，到达后才能装书。") % {"box": box.name},
                code="box_on_transfer",
            )
        locked = lock_items(item.pk for item in items)
        busy = set(
            TransferLine.objects.filter(
                item__in=[item.pk for item in locked], is_open=True
            ).values_list("item_id", flat=True)
        )
        box_site = held_at[0].pk if held_at else None
        problems = []
        for item in locked:
            if item.library_id != box.library_id:
                problems.append(Problem(item.barcode, _("不是本馆的图书"), "item_not_ours"))
            elif item.box_id and item.box_id != box.pk:
                problems.append(Problem(item.barcode, _("已在另一个书箱中"), "item_in_other_box"))
            elif not can_work_at_site(user, item.current_site):
                problems.append(Problem(item.barcode, _("不在您的站点"), "site_not_allowed"))
            elif not item.is_available:
                problems.append(
                    Problem(
                        item.barcode,
                        _("状态为“%(status)s”") % {"status": item.get_status_display()},
                        item_status_code(item),
                    )
                )
            elif item.pk in busy:
                problems.append(Problem(item.barcode, _("已在调拨单上"), "item_on_transfer"))
            elif box_site is not None and item.current_site_id != box_site:
                problems.append(
                    Problem(
                        item.barcode,
                        _("与书箱不在同一站点（书箱在“%(site)s”）") % {"site": held_at[0].name},
                        "item_not_here",
                    )
                )
        if not problems:
            sites = {item.current_site_id for item in locked}
            if box_site is None and len(sites) > 1:
                problems = [
                    Problem(item.barcode, _("要装箱的图书分散在多个站点"), "items_scattered")
                    for item in locked
                ]
        if problems:
            raise Refused(_("有图书不能装箱，未做任何更改。"), problems, code="items_not_packable")
        item_transition(
            items=[item for item in locked if item.box_id != box.pk],
            kind=ItemEvent.Kind.STATUS_CHANGED,
            user=user,
            note=_("装入流动书箱 %(code)s") % {"code": box.code},
            box=box,
        )
        return len(locked)


def box_unpack(*, user, box: Box, items: Iterable[Item] | None = None) -> int:
    with transaction.atomic():
        box = Box.objects.select_for_update().get(pk=box.pk)
        contents = box.items.all()
        if items is not None:
            contents = contents.filter(pk__in=[item.pk for item in items])
        sites = Site.objects.filter(pk__in=contents.values("current_site"))
        if any(not can_work_at_site(user, site) for site in sites):
            raise Refused(_("书箱不在您的站点，不能拆箱。"), code="site_not_allowed")
        if TransferLine.objects.filter(item__box=box, is_open=True).exists():
            raise Refused(
                _("书箱“%(box)s”在调拨单上，到达后才能拆箱。") % {"box": box.name},
                code="box_on_transfer",
            )
        return item_transition(
            items=lock_items(contents.values_list("pk", flat=True)),
            kind=ItemEvent.Kind.STATUS_CHANGED,
            user=user,
            note=_("从流动书箱 %(code)s 取出") % {"code": box.code},
            box=None,
        )


def box_send(*, user, box: Box, destination: Site, reason=Transfer.Reason.ROTATION) -> Transfer:
    """One transfer with every item of the box, dispatched at once."""
    items = list(box.items.select_related("current_site"))
    if not items:
        raise Refused(_("书箱“%(box)s”是空的。") % {"box": box.name}, code="box_empty")
    lines = TransferLine.objects.filter(item__box=box, is_open=True).select_related("item")
    if lines:
        # Sent already, or a volume put on a transfer by hand: the box travels on one transfer.
        raise Refused(
            _("书箱“%(box)s”中有图书已在调拨单上，未做任何更改。") % {"box": box.name},
            [
                Problem(
                    line.item.barcode,
                    _("已在调拨单 #%(id)s 中") % {"id": line.transfer_id},
                    "item_on_transfer",
                )
                for line in lines.order_by("item__barcode")
            ],
            code="box_on_transfer",
        )
    sources = {item.current_site_id for item in items}
    if len(sources) > 1:
        raise Refused(
            _("书箱“%(box)s”的图书分散在多个站点，请先清点。") % {"box": box.name},
            code="items_scattered",
        )
    source = items[0].current_site
    problems = [problem for item in items if (problem := item_problem(item, source))]
    if problems:
        raise Refused(
            _("书箱中有图书不能发出，未做任何更改。"), problems, code="items_not_transferable"
        )
    with transaction.atomic():
        transfer = transfer_create(
            user=user,
            source=source,
            destination=destination,
            reason=reason,
            note=_("流动书箱 %(code)s") % {"code": box.code},
        )
        transfer_add_items(user=user, transfer=transfer, items=items)
        return transfer_dispatch(user=user, transfer=transfer)
