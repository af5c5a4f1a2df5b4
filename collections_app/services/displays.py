"""Displays (国图文献专架, 精品展柜): volumes kept at a site on purpose while a display runs."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_work_at_site
from collections_app.errors import Problem, Refused
from collections_app.models import Display, Item, ItemEvent
from collections_app.services.history import item_events_record
from collections_app.services.transfers import lock_items


def display_place(*, user, display: Display, items: Iterable[Item]) -> int:
    """Put items on a display at its site. Items elsewhere go there first by a transfer
    (reason: display); an item already on another display moves to this one."""
    if not can_work_at_site(user, display.site):
        raise Refused(_("您不能管理“%(site)s”的专架。") % {"site": display.site.name})
    if display.ends_on and display.ends_on < timezone.localdate():
        raise Refused(_("专架“%(name)s”已结束。") % {"name": display.name})
    with transaction.atomic():
        locked = lock_items(item.pk for item in items)
        problems = []
        for item in locked:
            if item.library_id != display.library_id:
                problems.append(Problem(item.barcode, _("不是本馆的图书")))
            elif item.current_site_id != display.site_id:
                problems.append(Problem(item.barcode, _("不在本站，请先调拨过来")))
            elif item.is_out_of_service or item.is_in_transit:
                problems.append(Problem(item.barcode, item.get_status_display()))
        if problems:
            raise Refused(_("有图书不能上架，未做任何更改。"), problems)
        fresh = [item for item in locked if item.display_id != display.pk]
        _record(user, fresh, ItemEvent.Kind.DISPLAYED, display)
        return Item.objects.filter(pk__in=[item.pk for item in fresh]).update(display=display)


def display_remove(*, user, display: Display, items: Iterable[Item] | None = None) -> int:
    if not can_work_at_site(user, display.site):
        raise Refused(_("您不能管理“%(site)s”的专架。") % {"site": display.site.name})
    with transaction.atomic():
        on_display = display.items.all()
        if items is not None:
            on_display = on_display.filter(pk__in=[item.pk for item in items])
        locked = lock_items(on_display.values_list("pk", flat=True))
        _record(user, locked, ItemEvent.Kind.UNDISPLAYED, display)
        return Item.objects.filter(pk__in=[item.pk for item in locked]).update(display=None)


def _record(user, items: list[Item], kind: str, display: Display) -> None:
    """History rows that keep each item's status: a display changes only where it stands."""
    for status in {item.status for item in items}:
        item_events_record(
            items=[item for item in items if item.status == status],
            kind=kind,
            to_status=status,
            user=user,
            note=display.name,
        )
