"""Displays (国图文献专架, 精品展柜): volumes kept at a site on purpose while a display runs."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import can_work_at_site
from collections_app.errors import Problem, Refused
from collections_app.models import Display, Item, ItemEvent
from collections_app.services.items import item_transition
from collections_app.services.transfers import lock_items


def display_create(
    *, user, library, site, name: str, kind: str, starts_on, ends_on=None
) -> Display:
    if site.library_id != library.pk or not can_work_at_site(user, site):
        raise Refused(
            _("您不能管理“%(site)s”的专架。") % {"site": site.name}, code="site_not_allowed"
        )
    if ends_on is not None and ends_on < starts_on:
        raise Refused(_("结束日期不能早于开始日期。"), code="ends_before_start")
    return Display.objects.create(
        library=library, site=site, name=name, kind=kind, starts_on=starts_on, ends_on=ends_on
    )


def display_place(*, user, display: Display, items: Iterable[Item]) -> int:
    """Put items on a display at its site. Items elsewhere go there first by a transfer
    (reason: display); an item already on another display moves to this one."""
    if not can_work_at_site(user, display.site):
        raise Refused(
            _("您不能管理“%(site)s”的专架。") % {"site": display.site.name},
            code="site_not_allowed",
        )
    if display.ends_on and display.ends_on < timezone.localdate():
        raise Refused(_("专架“%(name)s”已结束。") % {"name": display.name}, code="display_ended")
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
            raise Refused(
                _("有图书不能上架，未做任何更改。"), problems, code="items_not_displayable"
            )
        # A display changes where a volume stands on the site, not its status.
        return item_transition(
            items=[item for item in locked if item.display_id != display.pk],
            kind=ItemEvent.Kind.DISPLAYED,
            user=user,
            note=display.name,
            display=display,
        )


def display_remove(*, user, display: Display, items: Iterable[Item] | None = None) -> int:
    if not can_work_at_site(user, display.site):
        raise Refused(
            _("您不能管理“%(site)s”的专架。") % {"site": display.site.name},
            code="site_not_allowed",
        )
    with transaction.atomic():
        on_display = display.items.all()
        if items is not None:
            on_display = on_display.filter(pk__in=[item.pk for item in items])
        return item_transition(
            items=lock_items(on_display.values_list("pk", flat=True)),
            kind=ItemEvent.Kind.UNDISPLAYED,
            user=user,
            note=display.name,
            display=None,
        )
