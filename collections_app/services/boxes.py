"""Travelling book boxes (流动书箱): packed once, sent and received with one scan."""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.scope import can_work_at_site
from collections_app.errors import Problem, Refused
from collections_app.models import Box, Item, Site, Transfer
from collections_app.services.transfers import (
    item_refusal,
    lock_items,
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)


def box_pack(*, user, box: Box, items: Iterable[Item]) -> int:
    """Put items in a box: all of them at one site the user works at, none in another box."""
    with transaction.atomic():
        held_at = Site.objects.filter(pk__in=box.items.values("current_site"))
        if any(not can_work_at_site(user, site) for site in held_at):
            raise Refused(_("书箱“%(box)s”不在您的站点，不能往里装书。") % {"box": box.name})
        locked = lock_items(item.pk for item in items)
        problems = []
        for item in locked:
            if item.library_id != box.library_id:
                problems.append(Problem(item.barcode, _("不是本馆的图书")))
            elif item.box_id and item.box_id != box.pk:
                problems.append(Problem(item.barcode, _("已在另一个书箱中")))
            elif not can_work_at_site(user, item.current_site):
                problems.append(Problem(item.barcode, _("不在您的站点")))
        if problems:
            raise Refused(_("有图书不能装箱，未做任何更改。"), problems)
        return Item.objects.filter(pk__in=[item.pk for item in locked]).update(box=box)


def box_unpack(*, user, box: Box, items: Iterable[Item] | None = None) -> int:
    contents = box.items.all() if items is None else box.items.filter(pk__in=[i.pk for i in items])
    sites = Site.objects.filter(pk__in=contents.values("current_site"))
    if any(not can_work_at_site(user, site) for site in sites):
        raise Refused(_("书箱不在您的站点，不能拆箱。"))
    return contents.update(box=None)


def box_send(*, user, box: Box, destination: Site, reason=Transfer.Reason.ROTATION) -> Transfer:
    """One transfer with every item of the box, dispatched at once."""
    items = list(box.items.select_related("current_site"))
    if not items:
        raise Refused(_("书箱“%(box)s”是空的。") % {"box": box.name})
    sources = {item.current_site_id for item in items}
    if len(sources) > 1:
        raise Refused(_("书箱“%(box)s”的图书分散在多个站点，请先清点。") % {"box": box.name})
    source = items[0].current_site
    problems = [Problem(item.barcode, why) for item in items if (why := item_refusal(item, source))]
    if problems:
        raise Refused(_("书箱中有图书不能发出，未做任何更改。"), problems)
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
