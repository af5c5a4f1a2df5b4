"""Checkout, return anywhere, renewal.

Each locks the item row first (SELECT … FOR UPDATE; a checkout locks the reader before it),
re-checks its state, and writes the loan and the item's transition (status and history row, by
`item_transition`) in one transaction. The partial unique index `one_open_loan_per_item` is the
last word if anything slips past: two desks scanning the same book at once meet at the item
lock, and the second one is told the book is already on loan.

The time of a loan, a return or a renewal is read once the locks are held, never before: a
return that waited for a checkout of the same book must not close the loan before it began, and
an item's history must stay in the order things happened. Every refusal of the desk lives here,
so that the API and every other entry point refuse the same things.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.scope import can_work_at_site
from circulation import desk_locks
from circulation.due_dates import due_at
from circulation.models import Hold, Loan, Patron
from circulation.services.holds import hold_trap_on_return
from circulation.services.routing import (
    DESK_REASONS,
    HOLD_REASON,
    Routing,
    current_routing,
    route_on_shelf,
)
from circulation.services.rules import loan_rule_for
from collections_app.barcodes import MAX_LENGTH, normalise_barcode
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent, Site, Transfer, TransferLine
from collections_app.services.items import item_transition
from sharedloan.prepared import insert_one


@dataclass
class Checkout:
    loan: Loan
    item: Item
    already: bool = False  # the same scan again: the loan it made the first time
    hold: Hold | None = None  # the reader's hold this loan fills


@dataclass
class Return:
    item: Item
    routing: Routing
    loan: Loan | None = None
    already: bool = False  # returned before: the routing is said again, nothing is written


def _require_desk(user, site: Site) -> None:
    if not can_work_at_site(user, site):
        raise Refused(
            _("您不能在“%(site)s”办理借还。") % {"site": site.name}, code="site_not_allowed"
        )
    if not site.is_active:
        raise Refused(
            _("站点“%(site)s”已停用，不能办理借还。") % {"site": site.name}, code="site_inactive"
        )


def _day(moment) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d")


def _code(raw) -> str:
    code = normalise_barcode(raw)
    if not code:
        raise Refused(_("请扫描或输入图书条码。"), code="barcode_invalid")
    if len(code) > MAX_LENGTH:
        raise Refused(
            _("条码太长（最多 %(n)s 位），请检查后重新扫描。") % {"n": MAX_LENGTH},
            code="barcode_invalid",
        )
    return code


def _items_locked():
    return Item.objects.select_for_update(of=("self",)).select_related(
        "title", "display__site", "home_site", "current_site"
    )


def _lock_item(items) -> Item | None:
    """The one item of `items` (a locking queryset), locked. When it moved to another site
    while the lock was awaited, PostgreSQL re-checks the joins of select_related against the
    site rows read before the wait and drops the item; asked again, it is found where it is."""
    return items.first() or items.first()


def _not_found(library_id: int, code: str) -> Refused:
    if Patron.objects.filter(library_id=library_id, card_number=code).exists():
        return Refused(
            _("%(code)s 是读者证号，不是图书条码。") % {"code": code}, code="item_not_found"
        )
    return Refused(
        _("找不到条码为 %(code)s 的图书，请核对条码。") % {"code": code}, code="item_not_found"
    )


def _foreign(item: Item) -> Refused:
    # Said without the title: a desk must not learn what another county holds.
    return Refused(
        _("条码 %(code)s 不是本馆的图书，不能在这里借还，请交给所属图书馆。")
        % {"code": item.barcode},
        code="item_not_ours",
    )


def _shelf_refusal(item: Item, site: Site) -> str | None:
    """Why an item that is not on loan cannot be lent at `site`, or None."""
    if item.is_in_transit:
        return _("《%(title)s》正在调拨途中，请先在接收站点验收入库再借出。") % {
            "title": item.title.title
        }
    if item.is_out_of_service:
        return _("《%(title)s》的状态是“%(status)s”，不能借出。") % {
            "title": item.title.title,
            "status": item.get_status_display(),
        }
    if item.current_site_id != site.pk:
        return _(
            "系统记录《%(title)s》在“%(where)s”，不在本站，不能在这里借出。请核对或先调拨。"
        ) % {
            "title": item.title.title,
            "where": item.current_site.name,
        }
    return None


def _shelf_code(item: Item) -> str:
    """The stable code of `_shelf_refusal`'s reason, for the API's clients."""
    if item.is_in_transit:
        return "item_in_transit"
    if item.is_out_of_service:
        return "item_out_of_service"
    return "item_not_here"


def loan_checkout(
    *,
    user,
    site: Site,
    barcode: str,
    patron: Patron | None = None,
    card_number: str | None = None,
    now=None,
    reader: Patron | None = None,
) -> Checkout:
    """Lend the item with `barcode` at `site` to `patron` (or the reader with `card_number`).

    A reader lending themselves a volume at a self-service point passes `reader` (and no staff
    `user`): in place of the desk's right to work at `site`, readers.services has checked that
    the county librarian opened self-service there; every other refusal is the desk's."""
    code = _code(barcode)
    by_reader = reader is not None  # `reader` is the locked patron further down
    if not by_reader:
        _require_desk(user, site)
    else:
        patron = reader
        if not site.is_active:
            raise Refused(
                _("站点“%(site)s”已停用，不能办理借还。") % {"site": site.name},
                code="site_inactive",
            )
    if patron is not None and patron.library_id != site.library_id:
        raise Refused(_("这位读者不是本馆的读者。"), code="patron_not_found")
    with transaction.atomic():
        if patron is not None:
            reader = desk_locks.lock_patron(patron_id=patron.pk)
        else:
            reader = desk_locks.lock_patron(
                library_id=site.library_id, card_number=normalise_barcode(card_number)
            )
        if reader is None:
            raise Refused(_("找不到这位读者，请重新扫描读者证。"), code="patron_not_found")
        patron = reader
        item = desk_locks.lock_item_for_checkout(code)
        if item is None:
            raise _not_found(site.library_id, code)
        if item.library_id != site.library_id:
            raise _foreign(item)
        if item.is_on_loan:
            loan = Loan.objects.open().filter(item=item).first()
            if loan is not None and loan.patron_id == patron.pk:
                loan.patron = patron
                return Checkout(loan=loan, item=item, already=True)
            raise Refused(
                _("《%(title)s》已借给其他读者，应还日期 %(due)s。")
                % {"title": item.title.title, "due": _day(loan.due_at) if loan else "—"},
                code="item_on_loan",
            )
        # After the locks: the counts see every loan committed while this checkout waited, and
        # the loan starts after the return it may have waited for.
        now = now or timezone.now()
        lookups = desk_locks.count_for_checkout(patron=patron, item=item, site=site, now=now)
        if patron.is_suspended:
            raise Refused(
                _("读者证已暂停，不能借书。%(reason)s") % {"reason": patron.suspended_reason},
                code="patron_suspended",
            )
        refusal = _shelf_refusal(item, site)
        if refusal and by_reader and not item.is_out_of_service:
            # The desk's words tell staff what to do next; a reader alone at a self-service
            # point can only leave the book to staff.
            refusal = _(
                "《%(title)s》在系统里不在本站的书架上（可能正在调拨或刚送到还没验收），"
                "不能自助借出，请把书交给馆员。"
            ) % {"title": item.title.title}
        if refusal:
            raise Refused(refusal, code=_shelf_code(item))

        holds = []
        if item.has_hold:
            holds = list(
                Hold.objects.select_for_update().filter(
                    Q(item=item, status=Hold.Status.TRAPPED)
                    | Q(patron=patron, title_id=item.title_id, status__in=Hold.OPEN)
                )
            )
        trapped = next((h for h in holds if h.item_id == item.pk and h.is_trapped), None)
        if trapped is not None and trapped.patron_id != patron.pk:
            raise Refused(
                _("《%(title)s》已为预约的读者保留，不能借给其他读者。")
                % {"title": item.title.title},
                code="kept_for_hold",
            )
        line = None
        if item.on_transfer:
            line = (
                TransferLine.objects.filter(item=item, is_open=True)
                .select_related("transfer")
                .first()
            )
        if line is not None:
            transfer = line.transfer
            desk_draft = (
                transfer.status == Transfer.Status.DRAFT and transfer.reason in DESK_REASONS
            )
            if not desk_draft or (transfer.reason == HOLD_REASON and trapped is None):
                if by_reader:
                    raise Refused(
                        _("《%(title)s》要调往别的站点，不能自助借出，请把书留在书架上。")
                        % {"title": item.title.title},
                        code="item_on_transfer",
                    )
                raise Refused(
                    _("《%(title)s》已列入调拨单 #%(id)s，请先从调拨单移除再借出。")
                    % {"title": item.title.title, "id": transfer.pk},
                    code="item_on_transfer",
                )

        rule = loan_rule_for(
            library_id=site.library_id,
            category=patron.category,
            site_kind=site.kind,
            candidates=lookups.rules,
        )
        if patron.loans_out >= rule.max_items:
            raise Refused(
                _("读者已借 %(out)s 册，达到%(category)s读者的上限 %(max)s 册，请先归还。")
                % {
                    "out": patron.loans_out,
                    "category": patron.get_category_display(),
                    "max": rule.max_items,
                },
                code="loan_limit_reached",
            )
        if patron.loans_overdue and rule.blocks_when_overdue:
            raise Refused(
                _("读者有 %(n)s 册图书逾期未还，按借阅规则须先归还才能再借。")
                % {"n": patron.loans_overdue},
                code="overdue_block",
            )

        if line is not None:
            # Off the return draft: a reader here wants it now.
            line.delete()
        display = item.display
        loan = Loan(
            library_id=site.library_id,
            item=item,
            patron=patron,
            site=site,
            display=display if display is not None and display.site_id == site.pk else None,
            checked_out_at=now,
            due_at=due_at(
                site=site,
                start=now,
                days=rule.loan_days,
                closed_days_ahead=lookups.closed_days_ahead,
            ),
        )
        _insert_loan(loan)
        item_transition(
            items=[item],
            kind=ItemEvent.Kind.CHECKED_OUT,
            to_status=Item.Status.ON_LOAN,
            user=user,
            at=now,
            note=_("读者自助借书") if by_reader else "",
            last_loan_at=now,
        )
        filled = [hold.pk for hold in holds if hold.patron_id == patron.pk]
        if filled:
            Hold.objects.filter(pk__in=filled).update(status=Hold.Status.FULFILLED, closed_at=now)
        return Checkout(
            loan=loan,
            item=item,
            hold=next((hold for hold in holds if hold.pk in filled), None),
        )


def _insert_loan(loan: Loan) -> None:
    """One fixed INSERT, prepared on PostgreSQL (the ORM built it anew for every checkout), and
    no simple-history row: the item history (ItemEvent) is the record of a checkout, and later
    edits of the loan in the admin keep their history."""
    insert_one(loan)


def loan_return(*, user, site: Site, barcode: str, now=None) -> Return:
    """Take a volume back at any site of its library and say where it goes next."""
    code = _code(barcode)
    _require_desk(user, site)
    with transaction.atomic():
        item = _lock_item(_items_locked().filter(barcode=code))
        if item is None:
            raise _not_found(site.library_id, code)
        if item.library_id != site.library_id:
            raise _foreign(item)
        if not item.is_on_loan:
            return _not_lent(item, site)
        now = now or timezone.now()
        # The item lock guards its open loan: every service that changes a loan locks the
        # item first.
        loan = Loan.objects.get(item=item, returned_at__isnull=True)
        Loan.objects.filter(pk=loan.pk).update(returned_at=now, return_site=site)
        loan.returned_at = now
        loan.return_site = site
        item_transition(
            items=[item],
            kind=ItemEvent.Kind.RETURNED,
            to_status=Item.Status.AVAILABLE,
            to_site=site,
            user=user,
            at=now,
        )
        # Whether a reader waits is asked after the title's lock, not with the item's: a hold
        # placed at this moment is then either seen here or sees this copy on the shelf.
        routing = hold_trap_on_return(user=user, item=item, site=site, now=now)
        if routing is None:
            routing = route_on_shelf(user=user, item=item, site=site)
        return Return(item=item, routing=routing, loan=loan)


def _not_lent(item: Item, site: Site) -> Return:
    """A return scan of a book that is not on loan: the same scan again here (or a second desk
    that raced the first) hears the routing again; elsewhere the desk is told where it was
    returned, or why it cannot be."""
    last = (
        Loan.objects.filter(item=item, returned_at__isnull=False)
        .select_related("return_site")
        .order_by("-returned_at")
        .first()
    )
    if item.is_available and item.current_site_id == site.pk:
        return Return(item=item, routing=current_routing(item, site), loan=last, already=True)
    if item.is_available and last is not None and last.return_site_id == item.current_site_id:
        raise Refused(
            _("《%(title)s》已于 %(when)s 在“%(site)s”归还，不需要再还。")
            % {
                "title": item.title.title,
                "when": date_format(timezone.localtime(last.returned_at), "Y-m-d H:i"),
                "site": last.return_site.name,
            },
            code="already_returned",
        )
    shelf = _shelf_refusal(item, site)
    if shelf:
        raise Refused(shelf, code=_shelf_code(item))
    raise Refused(
        _("《%(title)s》没有借出，不需要归还。") % {"title": item.title.title},
        code="item_not_on_loan",
    )


def loan_renew(*, user, site: Site, barcode: str, now=None, reader: Patron | None = None) -> Loan:
    """Extend a loan from today, unless the rule's renewals are used up or a reader waits.

    A reader renewing online passes `reader` (and no staff `user`): in place of the desk's
    right to work at `site`, the loan must be theirs; every other refusal is the desk's."""
    code = _code(barcode)
    if reader is None:
        _require_desk(user, site)
    with transaction.atomic():
        item = _lock_item(_items_locked().filter(barcode=code))
        if item is None:
            raise _not_found(site.library_id, code)
        if item.library_id != site.library_id:
            raise _foreign(item)
        loan = (
            Loan.objects.open()
            .select_for_update(of=("self",))
            .select_related("patron", "site")
            .filter(item=item)
            .first()
        )
        if loan is None or (reader is not None and loan.patron_id != reader.pk):
            raise Refused(
                _("《%(title)s》没有借出，不能续借。") % {"title": item.title.title},
                code="item_not_on_loan",
            )
        now = now or timezone.now()
        patron = loan.patron
        if patron.is_suspended:
            raise Refused(_("读者证已暂停，不能续借。"), code="patron_suspended")
        rule = loan_rule_for(
            library_id=loan.library_id, category=patron.category, site_kind=loan.site.kind
        )
        if loan.renewals >= rule.max_renewals:
            raise Refused(
                _("《%(title)s》已续借 %(n)s 次，达到上限，请归还。")
                % {"title": item.title.title, "n": loan.renewals},
                code="renewal_limit",
            )
        waiting = (
            Hold.objects.waiting()
            .filter(library_id=loan.library_id, title_id=item.title_id, expires_at__gt=now)
            .exclude(patron=patron)
        )
        if waiting.exists():
            raise Refused(
                _("有读者在预约《%(title)s》，不能续借，请按期归还。")
                % {"title": item.title.title},
                code="hold_waiting",
            )
        new_due = due_at(site=loan.site, start=now, days=rule.loan_days)
        if new_due <= loan.due_at:
            raise Refused(
                _("现在续借不会延长借期（应还日期仍是 %(due)s），请临近到期时再续借。")
                % {"due": _day(loan.due_at)},
                code="renewal_too_early",
            )
        loan.due_at = new_due
        loan.renewals += 1
        loan.save(update_fields=["due_at", "renewals"])
        item_transition(
            items=[item],
            kind=ItemEvent.Kind.RENEWED,
            user=user,
            at=now,
            note=(_("读者在线续借至 %(due)s") if reader is not None else _("续借至 %(due)s"))
            % {"due": _day(new_due)},
        )
        return loan
