"""Where a returned volume goes next: stay here, go home, go back to its display, or travel to
a waiting reader's pickup site.

Items that must travel are collected on one open draft transfer per (source, destination,
reason): a desk returning thirty books of the central library at a service point fills one
draft, dispatched once with the weekly van, instead of thirty one-book transfers. The draft
already reserves its items (one open transfer per item), and checkout at the same desk takes a
book back off a return draft when a reader wants it right away.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from collections_app.models import Item, Site, Transfer, TransferLine
from collections_app.services.transfers import transfer_add_items, transfer_create

# Transfers for holds keep the item's home: a copy fetched for a reader goes home after the loan.
HOLD_REASON = Transfer.Reason.HOLD

# Drafts the desk fills by itself; a checkout may take a book back off them.
DESK_REASONS = (Transfer.Reason.RETURN_HOME, Transfer.Reason.DISPLAY, HOLD_REASON)


class Action:
    SHELVE = "shelve"  # it belongs here: back on the shelf
    DISPLAY = "display"  # a running display here holds it
    SEND_HOME = "send_home"  # on the return-home draft to its home site
    SEND_DISPLAY = "send_display"  # on a draft back to the display that holds it elsewhere
    HOLD_SHELF = "hold_shelf"  # trapped for a reader who picks it up here
    HOLD_TRANSFER = "hold_transfer"  # trapped for a reader, travelling to the pickup site


@dataclass
class Routing:
    action: str
    message: str
    destination: Site | None = None
    transfer: Transfer | None = None
    hold: object | None = None

    @property
    def stays(self) -> bool:
        return self.action in (Action.SHELVE, Action.DISPLAY, Action.HOLD_SHELF)


def add_to_batch(*, user, item: Item, source: Site, destination: Site, reason: str) -> Transfer:
    """Put `item` on the open draft from `source` to `destination` for `reason`, creating it."""
    # Serialise the find-or-create per source site so that two desks do not open two drafts.
    Site.objects.select_for_update().filter(pk=source.pk).first()
    transfer = (
        Transfer.objects.filter(
            source=source, destination=destination, reason=reason, status=Transfer.Status.DRAFT
        )
        .order_by("id")
        .first()
    )
    if transfer is None:
        transfer = transfer_create(
            user=user,
            source=source,
            destination=destination,
            reason=reason,
            note=_("还书台自动汇总"),
        )
    transfer_add_items(user=user, transfer=transfer, items=[item])
    return transfer


def shelf_routing(item: Item, site: Site) -> Routing:
    """For an item available at `site` that nobody waits for: keep it, or which draft to use."""
    display = item.display
    if display is not None and display.is_running():
        if display.site_id == site.pk:
            return Routing(
                Action.DISPLAY,
                _("放回本站的“%(display)s”。") % {"display": display.name},
            )
        if display.site.is_active:
            return Routing(
                Action.SEND_DISPLAY,
                _("送回“%(site)s”的“%(display)s”：已加入调拨单。")
                % {"site": display.site.name, "display": display.name},
                destination=display.site,
            )
    if item.home_site_id == site.pk:
        return Routing(Action.SHELVE, _("属于本站，放回书架。"))
    if not item.home_site.is_active:
        return Routing(
            Action.SHELVE,
            _("所属站点“%(site)s”已停用，先留在本站上架。") % {"site": item.home_site.name},
        )
    return Routing(
        Action.SEND_HOME,
        _("送回所属站点“%(site)s”：已加入调拨单。") % {"site": item.home_site.name},
        destination=item.home_site,
    )


def route_on_shelf(*, user, item: Item, site: Site) -> Routing:
    """Route a just-returned item that no hold claimed; writes the draft line when it travels."""
    routing = shelf_routing(item, site)
    if routing.action == Action.SEND_HOME:
        routing.transfer = add_to_batch(
            user=user,
            item=item,
            source=site,
            destination=routing.destination,
            reason=Transfer.Reason.RETURN_HOME,
        )
    elif routing.action == Action.SEND_DISPLAY:
        routing.transfer = add_to_batch(
            user=user,
            item=item,
            source=site,
            destination=routing.destination,
            reason=Transfer.Reason.DISPLAY,
        )
    return routing


def current_routing(item: Item, site: Site) -> Routing:
    """What was decided for an item already returned here: a second scan hears it again."""
    from circulation.models import Hold

    hold = Hold.objects.trapped().filter(item=item).select_related("patron", "pickup_site").first()
    line = (
        TransferLine.objects.filter(item=item, is_open=True)
        .select_related("transfer__destination")
        .first()
    )
    if hold is not None:
        if hold.pickup_site_id == site.pk:
            return Routing(Action.HOLD_SHELF, hold_shelf_message(hold), hold=hold)
        return Routing(
            Action.HOLD_TRANSFER,
            hold_transfer_message(hold),
            destination=hold.pickup_site,
            transfer=line.transfer if line else None,
            hold=hold,
        )
    if line is not None and line.transfer.destination is not None:
        transfer = line.transfer
        return Routing(
            Action.SEND_DISPLAY if transfer.reason == Transfer.Reason.DISPLAY else Action.SEND_HOME,
            _("放入发往“%(site)s”的调拨单 #%(id)s。")
            % {"site": transfer.destination.name, "id": transfer.pk},
            destination=transfer.destination,
            transfer=transfer,
        )
    routing = shelf_routing(item, site)
    if not routing.stays:
        return Routing(Action.SHELVE, _("先放在本站书架。"))
    return routing


def hold_shelf_message(hold) -> str:
    return _("放到预约架：为读者 %(name)s（%(card)s）保留。") % {
        "name": hold.patron.name,
        "card": hold.patron.card_number,
    }


def hold_transfer_message(hold) -> str:
    return _("读者 %(name)s 预约了这本书：送往取书站点“%(site)s”，已加入调拨单。") % {
        "name": hold.patron.name,
        "site": hold.pickup_site.name,
    }
