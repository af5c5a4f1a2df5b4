"""Holds (预约): a reader asks for a title; the next copy returned anywhere in the library is
trapped for the reader at the pickup site, travelling there on a transfer when it must.

A trapped copy keeps the item status `available` (it sits on a shelf or travels on a transfer
like any other); `Hold.item` with status `trapped` is what reserves it, and checkout refuses it
to anyone else. Holds that wait too long, or copies not picked up in time, expire.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import update_change_reason

from accounts.scope import can_cancel_hold, can_work_at_site
from circulation.models import Hold, Loan, Patron
from circulation.services.routing import (
    HOLD_REASON,
    Action,
    Routing,
    add_to_batch,
    hold_shelf_message,
    hold_transfer_message,
)
from circulation.services.rules import loan_rule_for
from collections_app.barcodes import MAX_LENGTH, normalise_barcode
from collections_app.errors import Refused
from collections_app.models import Item, Site, Title, TransferLine
from collections_app.services.transfers import item_status_code

# How long a waiting hold stays valid when the desk does not say otherwise.
HOLD_VALID_DAYS = 90

# The change reason in a hold's history when the reader placed or cancelled it online, where
# there is no staff account to record as its author.
READER_ONLINE = "reader online"


def hold_place(
    *,
    user,
    patron: Patron,
    title: Title,
    pickup_site: Site,
    valid_days: int = HOLD_VALID_DAYS,
    now=None,
    reader: Patron | None = None,
) -> Hold:
    """Place a hold; a free copy already on the shelf at the pickup site is trapped at once.
    Staff place holds for pickup where they work the desk: librarians at any site of their
    library, site staff at their own sites. A reader signed in online (`reader`, no staff
    `user`) places their own, for pickup at any active site of their library."""
    if title.library_id != patron.library_id or pickup_site.library_id != patron.library_id:
        raise Refused(_("只能预约本馆的图书，并在本馆站点取书。"), code="hold_other_library")
    if reader is not None:
        if reader.pk != patron.pk:
            raise Refused(_("只能为自己预约。"), code="hold_not_own")
    elif not can_work_at_site(user, pickup_site):
        raise Refused(
            _("您不能办理在“%(site)s”取书的预约。") % {"site": pickup_site.name},
            code="site_not_allowed",
        )
    if not pickup_site.is_active:
        raise Refused(
            _("站点“%(site)s”已停用。") % {"site": pickup_site.name}, code="site_inactive"
        )
    with transaction.atomic():
        patron = Patron.objects.select_for_update().get(pk=patron.pk)
        _lock_titles([title.pk])
        now = now or timezone.now()
        if patron.is_suspended:
            raise Refused(_("读者证已暂停，不能预约。"), code="patron_suspended")
        rule = loan_rule_for(
            library_id=patron.library_id, category=patron.category, site_kind=pickup_site.kind
        )
        if not rule.holds_allowed:
            raise Refused(
                _("按本馆借阅规则，%(category)s读者不能预约。")
                % {"category": patron.get_category_display()},
                code="holds_not_allowed",
            )
        if Loan.objects.open().filter(patron=patron, item__title=title).exists():
            raise Refused(_("读者已经借着这本书，不需要预约。"), code="already_borrowed")
        lendable = Item.objects.filter(
            title=title,
            status__in=[Item.Status.AVAILABLE, Item.Status.ON_LOAN, Item.Status.IN_TRANSIT],
        )
        if not lendable.exists():
            raise Refused(_("本馆没有这本书可以流通的副本，不能预约。"), code="no_lendable_copy")
        try:
            with transaction.atomic():
                hold = Hold.objects.create(
                    library_id=patron.library_id,
                    patron=patron,
                    title=title,
                    pickup_site=pickup_site,
                    placed_at=now,
                    expires_at=now + timedelta(days=valid_days),
                )
        except IntegrityError:
            raise Refused(_("读者已经预约了这本书。"), code="hold_already_placed") from None
        if reader is not None:
            update_change_reason(hold, READER_ONLINE)
        _trap_from_shelf(hold, now)
        return hold


def hold_title(*, library, code: str) -> Title:
    """The title a hold is placed on, as the desk scans it: a copy's barcode, else an ISBN
    that names one title of the library."""
    code = normalise_barcode(code)
    item = Item.objects.select_related("title").filter(library=library, barcode=code).first()
    if item is not None:
        return item.title
    digits = code.replace("-", "").upper()
    titles = list(Title.objects.filter(library=library, isbn=digits)[:2])
    if len(titles) == 1:
        return titles[0]
    if titles:
        raise Refused(_("这个 ISBN 对应多个书目，请扫描其中一册的条码。"), code="isbn_ambiguous")
    raise Refused(
        _("找不到条码或 ISBN 为 %(code)s 的图书。") % {"code": code[:40]}, code="title_not_found"
    )


def _lock_titles(title_ids) -> None:
    """Take the titles' row locks (in id order) before a hold is placed, or before a copy that
    has just come onto a shelf looks for a waiting hold: a hold placed at the same moment as a
    copy's return or receipt then sees the copy on the shelf, or the copy sees the hold —
    never neither. `no_key`: items and holds may still be added under the title meanwhile."""
    list(
        Title.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(set(title_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _trap_from_shelf(hold: Hold, now) -> None:
    """Trap a free copy standing on the shelf at the pickup site, if there is one."""
    busy = TransferLine.objects.filter(is_open=True).values("item_id")
    trapped = Hold.objects.trapped().values("item_id")
    candidate = (
        Item.objects.select_for_update(skip_locked=True)
        .filter(
            title_id=hold.title_id,
            current_site_id=hold.pickup_site_id,
            status=Item.Status.AVAILABLE,
        )
        .exclude(pk__in=busy)
        .exclude(pk__in=trapped)
        .order_by("pk")
        .first()
    )
    if candidate is not None:
        _trap(hold, candidate, now)


def _trap(hold: Hold, item: Item, now) -> None:
    hold.status = Hold.Status.TRAPPED
    hold.item = item
    hold.trapped_at = now
    hold.save(update_fields=["status", "item", "trapped_at"])


def hold_trap_on_return(*, user, item: Item, site: Site, now) -> Routing | None:
    """Called by the return service with the item locked and just back on a shelf at `site`:
    give it to the first reader waiting for its title, or return None."""
    _lock_titles([item.title_id])
    hold = (
        Hold.objects.select_for_update(skip_locked=True)
        .filter(
            library_id=item.library_id,
            title_id=item.title_id,
            status=Hold.Status.WAITING,
            expires_at__gt=now,
        )
        .order_by("placed_at", "id")
        .first()
    )
    if hold is None:
        return None
    pickup = Site.objects.get(pk=hold.pickup_site_id)
    if pickup.pk != site.pk and not pickup.is_active:
        return None
    return _trap_and_route(user=user, hold=hold, item=item, site=site, pickup=pickup, now=now)


def hold_trap_on_receipt(*, user, items: list[Item], site: Site, now) -> dict[int, str]:
    """Registered with the transfer receipt (see `CirculationConfig.ready`), with `items` locked
    and just arrived on the shelf at `site`: each copy goes to the reader who has waited longest
    for its title with pickup here, as a return here would; a copy that travelled here trapped
    for a reader is now ready. Also run when a dispatched transfer is cancelled, with `site` its
    source. Returns {item id: what the receiver does with it}."""
    ids = [item.pk for item in items]
    # Read once (the caller holds the items' locks): their titles to lock, and which stand free.
    standing = list(
        Item.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", "title_id", "status", "current_site_id")
    )
    _lock_titles(title_id for _pk, title_id, _status, _site in standing)
    kept = {
        hold.item_id: hold
        for hold in Hold.objects.trapped()
        .filter(item__in=ids)
        .select_related("patron", "pickup_site")
    }
    busy = set(
        TransferLine.objects.filter(item__in=ids, is_open=True).values_list("item_id", flat=True)
    )
    for item_id, hold in list(kept.items()):
        if hold.pickup_site_id != site.pk and item_id not in busy:
            # Kept for a reader elsewhere, but its journey there ended here (its hold transfer
            # cancelled, or the copy taken off the draft): the hold waits again, first in line
            # by when it was placed, with the time it had left when its copy was found, and
            # the copy is free for a reader here or for the pull list.
            if hold.trapped_at is not None:
                hold.expires_at = max(hold.expires_at, now + (hold.expires_at - hold.trapped_at))
            hold.status, hold.item, hold.trapped_at = Hold.Status.WAITING, None, None
            hold.save(update_fields=["status", "item", "trapped_at", "expires_at"])
            del kept[item_id]
    free: dict[int, list[int]] = {}
    for pk, title_id, status, site_id in standing:
        on_shelf_here = status == Item.Status.AVAILABLE and site_id == site.pk
        if on_shelf_here and pk not in kept and pk not in busy:
            free.setdefault(title_id, []).append(pk)
    waiting = (
        Hold.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            library_id=site.library_id,
            title_id__in=free.keys(),
            status=Hold.Status.WAITING,
            pickup_site_id=site.pk,
            expires_at__gt=now,
        )
        .select_related("patron", "pickup_site")
        .order_by("placed_at", "id")
    )
    for hold in waiting if free else ():
        copies = free[hold.title_id]
        if copies:
            _trap(hold, Item(pk=copies.pop(0)), now)
            kept[hold.item_id] = hold
    return {
        item_id: hold_shelf_message(hold)
        for item_id, hold in kept.items()
        if hold.pickup_site_id == site.pk
    }


def _trap_and_route(*, user, hold: Hold, item: Item, site: Site, pickup: Site, now) -> Routing:
    """Trap `item`, standing at `site`, for `hold`: onto the hold shelf here, or onto the hold
    draft to the pickup site that the desk dispatches with its other drafts."""
    _trap(hold, item, now)
    hold.pickup_site = pickup
    hold.patron = Patron.objects.get(pk=hold.patron_id)
    if pickup.pk == site.pk:
        return Routing(Action.HOLD_SHELF, hold_shelf_message(hold), hold=hold)
    transfer = add_to_batch(
        user=user, item=item, source=site, destination=pickup, reason=HOLD_REASON
    )
    return Routing(
        Action.HOLD_TRANSFER,
        hold_transfer_message(hold),
        destination=pickup,
        transfer=transfer,
        hold=hold,
    )


def free_copies(library_id: int):
    """Copies of a library that a hold may take from a shelf: available, on no open transfer
    (a draft already promises them elsewhere) and trapped for nobody."""
    return (
        Item.objects.filter(library_id=library_id, status=Item.Status.AVAILABLE)
        .exclude(pk__in=TransferLine.objects.filter(is_open=True).values("item_id"))
        .exclude(pk__in=Hold.objects.trapped().values("item_id"))
    )


def pullable_holds(library_id: int, now, *, here: Site | None = None):
    """Waiting holds that a free copy on some shelf may fill: still valid, for pickup at an
    active site with no free copy of its own (that copy is the reader's) — or, with `here`,
    for pickup at `here` (a copy freed here after the hold was placed, off a cancelled draft,
    was never trapped)."""
    at_pickup = free_copies(library_id).filter(
        title_id=OuterRef("title_id"), current_site_id=OuterRef("pickup_site_id")
    )
    without_own_copy = ~Exists(at_pickup)
    if here is not None:
        without_own_copy |= Q(pickup_site_id=here.pk)
    return (
        Hold.objects.waiting()
        .filter(library_id=library_id, expires_at__gt=now, pickup_site__is_active=True)
        .filter(without_own_copy)
        .order_by("placed_at", "id")
    )


def hold_pull(*, user, site: Site, barcode: str, now=None) -> Routing:
    """Take a free copy off the shelf at `site` for the reader who has waited longest for its
    title (the list of holds to pull shows the same pairing): trapped here when that reader
    picks up here, else put on the hold draft to the pickup site, as a returned copy would be."""
    code = normalise_barcode(barcode or "")
    if not code:
        raise Refused(_("没有读到条码，请重新扫描。"), code="barcode_invalid")
    if len(code) > MAX_LENGTH:
        raise Refused(_("条码太长，请检查后重新扫描。"), code="barcode_invalid")
    if not can_work_at_site(user, site):
        raise Refused(
            _("您不能在“%(site)s”办理借还。") % {"site": site.name}, code="site_not_allowed"
        )
    if not site.is_active:
        raise Refused(_("站点“%(site)s”已停用。") % {"site": site.name}, code="site_inactive")
    with transaction.atomic():
        # The item first, then the hold: the order in which return and checkout lock them.
        item = (
            Item.objects.select_for_update()
            .filter(library_id=site.library_id, barcode=code)
            .first()
        )
        if item is None:
            raise Refused(
                _("本馆没有条码为 %(code)s 的图书。") % {"code": code}, code="item_not_found"
            )
        now = now or timezone.now()
        # What the volume is doing first (as the desk says it): a copy on loan is on no shelf.
        if not item.is_available:
            raise Refused(
                _("这册书现在%(status)s，不能调取。") % {"status": item.get_status_display()},
                code=item_status_code(item),
            )
        if item.current_site_id != site.pk:
            raise Refused(_("这册书不在本站，不能在这里调取。"), code="item_not_here")
        if Hold.objects.trapped().filter(item=item).exists():
            raise Refused(_("这册书已为另一条预约留书。"), code="kept_for_hold")
        if TransferLine.objects.filter(item=item, is_open=True).exists():
            raise Refused(
                _("这册书已在一张调拨单上，请先从调拨单上取下。"), code="item_on_transfer"
            )
        hold = (
            pullable_holds(site.library_id, now, here=site)
            .filter(title_id=item.title_id)
            .select_for_update(skip_locked=True, of=("self",))
            .first()
        )
        if hold is None:
            raise Refused(_("没有读者在等这本书，放回书架即可。"), code="no_reader_waiting")
        pickup = Site.objects.get(pk=hold.pickup_site_id)
        return _trap_and_route(user=user, hold=hold, item=item, site=site, pickup=pickup, now=now)


def _close(hold: Hold, status: str, now) -> None:
    hold.status = status
    hold.closed_at = now
    hold.save(update_fields=["status", "closed_at"])


def _release(item_id: int | None, now) -> None:
    """A trapped copy is free again: the next reader waiting at the site where it stands gets
    it; otherwise it is an ordinary copy on that shelf (staff reshelve or send it home)."""
    if item_id is None:
        return
    item = Item.objects.select_for_update().get(pk=item_id)
    if not item.is_available or TransferLine.objects.filter(item=item, is_open=True).exists():
        return
    # As a copy coming onto a shelf: a hold placed at this moment sees the copy or is seen.
    _lock_titles([item.title_id])
    following = (
        Hold.objects.select_for_update()
        .filter(
            library_id=item.library_id,
            title_id=item.title_id,
            status=Hold.Status.WAITING,
            pickup_site_id=item.current_site_id,
            expires_at__gt=now,
        )
        .order_by("placed_at", "id")
        .first()
    )
    if following is not None:
        _trap(following, item, now)


def hold_cancel(*, user, hold: Hold, now=None, reader: Patron | None = None) -> Hold:
    """Cancel a hold; a copy trapped for it passes to the next reader waiting at that site.
    A reader signed in online (`reader`, no staff `user`) cancels only their own."""
    with transaction.atomic():
        hold = _lock_hold_and_item(hold.pk)
        if reader is not None:
            if hold.patron_id != reader.pk:
                raise Refused(_("只能取消自己的预约。"), code="hold_not_own")
            hold._change_reason = READER_ONLINE
        elif not can_cancel_hold(user, hold):
            raise Refused(
                _("您只能取消在您的站点取书、或在您的站点办证的读者的预约。"),
                code="site_not_allowed",
            )
        now = now or timezone.now()
        if not hold.is_open:
            raise Refused(
                _("这条预约已经结束（%(status)s）。") % {"status": hold.get_status_display()},
                code="hold_not_active",
            )
        item_id = hold.item_id if hold.is_trapped else None
        _close(hold, Hold.Status.CANCELLED, now)
        _release(item_id, now)
        return hold


def _lock_hold_and_item(pk: int) -> Hold:
    """Lock the trapped item before the hold, in the order checkout and return lock them."""
    item_id = Hold.objects.filter(pk=pk).values_list("item_id", flat=True).first()
    if item_id is not None:
        Item.objects.select_for_update().filter(pk=item_id).first()
    return Hold.objects.select_for_update().get(pk=pk)


def holds_expire(*, now=None, dry_run: bool = False) -> dict[str, int]:
    """Expire waiting holds past their date, and trapped copies not picked up in time (counted
    from when the copy became available at the pickup site)."""
    now = now or timezone.now()
    counts = {"waiting": 0, "trapped": 0}
    with transaction.atomic():
        stale = Hold.objects.waiting().filter(expires_at__lte=now)
        if dry_run:
            counts["waiting"] = stale.count()
        else:
            counts["waiting"] = stale.update(status=Hold.Status.EXPIRED, closed_at=now)
        ready = (
            Hold.objects.trapped().select_related("item", "patron", "pickup_site").order_by("id")
        )
        rules = {}
        for hold in ready:
            item = hold.item
            if not (item.is_available and item.current_site_id == hold.pickup_site_id):
                continue
            key = (hold.library_id, hold.patron.category, hold.pickup_site.kind)
            if key not in rules:
                rules[key] = loan_rule_for(
                    library_id=key[0], category=key[1], site_kind=key[2]
                ).hold_pickup_days
            since = max(item.status_changed_at, hold.trapped_at)
            if since + timedelta(days=rules[key]) > now:
                continue
            counts["trapped"] += 1
            if not dry_run:
                hold = _lock_hold_and_item(hold.pk)
                if hold.is_trapped and hold.item_id == item.pk:
                    _close(hold, Hold.Status.EXPIRED, now)
                    _release(item.pk, now)
    return counts


def hold_ready(hold: Hold) -> bool:
    """A trapped copy is ready for pickup once it stands at the pickup site, off any transfer."""
    item = hold.item
    return (
        hold.is_trapped
        and item is not None
        and item.is_available
        and item.current_site_id == hold.pickup_site_id
    )


def holds_refuse_extra_receipt(*, items, destination) -> dict[int, str]:
    """Registered with the transfer receipt (see `CirculationConfig.ready`): a copy trapped for a
    reader stays at, or travels on its hold transfer to, the pickup site, so another transfer's
    destination may not take it in as an extra volume."""
    trapped = Hold.objects.trapped().filter(item__in=[item.pk for item in items])
    return {
        item_id: _("已为读者预约留书，须留在取书站点“%(site)s”") % {"site": site}
        for item_id, site in trapped.values_list("item_id", "pickup_site__name")
    }
