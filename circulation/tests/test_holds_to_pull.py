"""Holds to pull (待取预约书): the list a site's desk works from, and `hold_pull`, which traps a
free copy taken off this site's shelf for the reader waiting longest at another site."""

from datetime import date, timedelta
from functools import partial

import pytest
from django.db import connection
from django.utils import timezone

from circulation.integrity import find_violations
from circulation.models import Hold, Patron
from circulation.selectors import hold_fetch_site, holds_to_pull
from circulation.services.holds import hold_place, hold_pull
from circulation.services.loans import loan_checkout, loan_return
from circulation.services.routing import Action
from collections_app.errors import Refused
from collections_app.models import Display, Item, Transfer, TransferLine
from collections_app.services.holdings import holdings_add
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
)
from conftest import at_once, make_item


def copy_of(book: Item, site, barcode, **fields) -> Item:
    """Another copy of `book`'s title, standing at `site`."""
    item = Item.objects.create(
        library=book.library,
        barcode=barcode,
        title=book.title,
        consignment=book.consignment,
        owner=book.owner,
        call_number=book.call_number,
        home_site=site,
        current_site=site,
        **fields,
    )
    holdings_add(item_ids=[item.pk])
    return item


def reader(site, card, name="读者"):
    return Patron.objects.create(
        library=site.library,
        card_number=card,
        name=name,
        category=Patron.Category.ADULT,
        home_site=site,
    )


@pytest.fixture
def book(sui_consignment, sui_branch):
    """One copy of 白鹿原 on the branch's shelf."""
    return make_item(sui_consignment, sui_branch, "NL50000001", title="白鹿原", clc="I247.5")


def place(user, patron, book, site, when):
    hold = hold_place(user=user, patron=patron, title=book.title, pickup_site=site, now=when)
    return hold


@pytest.fixture
def now():
    return timezone.now()


def test_the_list_pairs_the_oldest_waiting_holds_with_one_copy_each(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    second = copy_of(book, sui_branch, "NL50000002")
    third_reader = reader(sui_central, "SX000009", "张三")
    # Three readers wait at two other sites; the branch has two free copies.
    newest = place(sui_librarian, third_reader, book, sui_central, now - timedelta(days=1))
    oldest = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=5))
    middle = place(sui_librarian, wang, book, sui_central, now - timedelta(days=3))
    pulls = holds_to_pull(sui_branch, now=now)
    assert [hold.pk for hold in pulls] == [oldest.pk, middle.pk]
    assert [hold.pull_item.pk for hold in pulls] == [book.pk, second.pk]
    assert [hold.waited for hold in pulls] == [5, 3]
    assert newest.pk not in {hold.pk for hold in pulls}
    # No copy stands at the pickup sites, so nothing to pull there.
    assert holds_to_pull(sui_central, now=now) == []
    assert holds_to_pull(xiaolin_site, now=now) == []


def test_the_list_leaves_out_copies_lent_travelling_or_trapped_and_holds_expired(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    hold = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=2))
    assert [h.pk for h in holds_to_pull(sui_branch, now=now)] == [hold.pk]
    # Expired by the next day past its date.
    assert holds_to_pull(sui_branch, now=hold.expires_at + timedelta(minutes=1)) == []
    # Lent: not on the shelf.
    loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=book.barcode)
    assert holds_to_pull(sui_branch, now=now) == []


def test_a_copy_on_a_draft_transfer_is_not_offered(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, book, now
):
    from collections_app.services.transfers import transfer_add_items, transfer_create

    place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=2))
    draft = transfer_create(
        user=sui_librarian,
        source=sui_branch,
        destination=sui_central,
        reason=Transfer.Reason.ROTATION,
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=[book])
    assert holds_to_pull(sui_branch, now=now) == []
    with pytest.raises(Refused, match="调拨单"):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)


def test_a_copy_on_a_running_display_is_offered_only_after_the_shelf_copies(
    sui_librarian, suixian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    showcase = Display.objects.create(
        library=suixian, site=sui_branch, name="精品展柜", starts_on=date(2020, 1, 1)
    )
    shown = copy_of(book, sui_branch, "NL50000000", display=showcase)  # a lower id, shown
    first = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=4))
    pulls = holds_to_pull(sui_branch, now=now)
    assert [(h.pk, h.pull_item.pk) for h in pulls] == [(first.pk, book.pk)]
    second = place(sui_librarian, wang, book, sui_central, now - timedelta(days=1))
    pulls = holds_to_pull(sui_branch, now=now)
    assert [(h.pk, h.pull_item.pk) for h in pulls] == [(first.pk, book.pk), (second.pk, shown.pk)]
    assert pulls[1].pull_item.on_display


def test_another_library_sees_nothing_of_these_holds(
    sui_librarian, zengdu_central, sui_branch, xiaolin_site, li, book, now
):
    place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=1))
    assert holds_to_pull(zengdu_central, now=now) == []
    assert len(holds_to_pull(sui_branch, now=now)) == 1


def test_pulling_a_copy_traps_it_and_puts_it_on_the_hold_draft_to_the_pickup_site(
    sui_librarian, sui_branch, xiaolin_site, li, book, now
):
    hold = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=1))
    assert hold.is_waiting
    routing = hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)
    assert routing.action == Action.HOLD_TRANSFER
    assert routing.destination == xiaolin_site and "李强" in routing.message
    hold.refresh_from_db()
    assert (hold.status, hold.item_id, hold.trapped_at) == ("trapped", book.pk, now)
    line = TransferLine.objects.get(item=book, is_open=True)
    assert (line.transfer.source, line.transfer.destination, line.transfer.reason) == (
        sui_branch,
        xiaolin_site,
        "hold",
    )
    assert holds_to_pull(sui_branch, now=now) == []
    assert find_violations() == []
    with pytest.raises(Refused, match="已为另一条预约留书"):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)


def test_pulling_goes_to_the_reader_waiting_longest_as_the_list_says(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    later = place(sui_librarian, wang, book, sui_central, now - timedelta(days=1))
    earlier = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=6))
    assert holds_to_pull(sui_branch, now=now)[0].pk == earlier.pk
    routing = hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)
    assert routing.hold.pk == earlier.pk
    later.refresh_from_db()
    assert later.is_waiting
    assert find_violations() == []


def test_a_copy_freed_at_the_pickup_site_by_a_cancelled_draft_is_kept_for_the_reader_at_once(
    sui_librarian, sui_central, sui_branch, li, book, now
):
    """The reader asks for pickup at the branch while its only copy there is promised to a
    rotation draft; the draft is cancelled and the copy, back on the shelf off any transfer,
    is kept for the reader there and then, as a copy received or returned here would be —
    nothing is left for the pull list."""
    draft = transfer_create(
        user=sui_librarian, source=sui_branch, destination=sui_central, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=draft, items=[book])
    hold = place(sui_librarian, li, book, sui_branch, now)
    assert hold.is_waiting
    transfer_cancel(user=sui_librarian, transfer=draft)
    hold.refresh_from_db()
    assert (hold.status, hold.item_id) == ("trapped", book.pk)
    assert list(holds_to_pull(sui_branch, now=timezone.now())) == []
    assert not TransferLine.objects.filter(item=book, is_open=True).exists()
    assert find_violations() == []


@pytest.mark.parametrize(
    ("barcode", "words"),
    [
        ("", "没有读到条码"),
        ("X" * 40, "条码太长"),
        ("NL59999999", "没有条码为"),
    ],
)
def test_it_refuses_a_scan_it_cannot_read(sui_librarian, sui_branch, barcode, words):
    with pytest.raises(Refused, match=words):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=barcode)


def test_it_refuses_a_copy_standing_at_another_site_or_out(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=1))
    with pytest.raises(Refused, match="不在本站"):
        hold_pull(user=sui_librarian, site=sui_central, barcode=book.barcode, now=now)
    loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=book.barcode)
    with pytest.raises(Refused, match="不能调取"):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)
    # Scanned at another site, a copy on loan is said to be on loan, as the desk says it.
    with pytest.raises(Refused, match="不能调取") as refused:
        hold_pull(user=sui_librarian, site=sui_central, barcode=book.barcode, now=now)
    assert refused.value.code == "item_on_loan"


def test_it_refuses_a_copy_nobody_waits_for(sui_librarian, sui_branch, book):
    with pytest.raises(Refused, match="没有读者在等这本书"):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode)
    assert not TransferLine.objects.exists()


def test_it_refuses_a_copy_of_another_library_and_staff_of_another_site(
    sui_librarian,
    zengdu_librarian,
    xiaolin_volunteer,
    zengdu_item,
    sui_branch,
    zengdu_central,
    xiaolin_site,
    li,
    book,
    now,
):
    place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=1))
    with pytest.raises(Refused, match="没有条码为"):
        hold_pull(user=sui_librarian, site=sui_branch, barcode=zengdu_item.barcode, now=now)
    with pytest.raises(Refused, match="不能在"):
        hold_pull(user=xiaolin_volunteer, site=sui_branch, barcode=book.barcode, now=now)
    with pytest.raises(Refused, match="不能在"):
        hold_pull(user=zengdu_librarian, site=sui_branch, barcode=book.barcode, now=now)
    assert Hold.objects.get().is_waiting


def test_the_reader_hears_where_the_copy_will_be_fetched_from(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, wang, book, now
):
    first = place(sui_librarian, li, book, xiaolin_site, now - timedelta(days=2))
    assert hold_fetch_site(first, now=now) == sui_branch
    # The second reader waits behind the first for the branch's only copy.
    second = place(sui_librarian, wang, book, sui_central, now - timedelta(days=1))
    assert hold_fetch_site(second, now=now) is None
    hold_pull(user=sui_librarian, site=sui_branch, barcode=book.barcode, now=now)
    first.refresh_from_db()
    assert hold_fetch_site(first, now=now) is None  # trapped: on its way


def test_a_returned_copy_still_goes_to_the_waiting_reader(
    sui_librarian, sui_branch, xiaolin_site, li, wang, book, now
):
    """The return-trap is unchanged by the pull's shared routing."""
    loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=book.barcode)
    hold = place(sui_librarian, li, book, xiaolin_site, now)
    done = loan_return(user=sui_librarian, site=sui_branch, barcode=book.barcode)
    assert done.routing.action == Action.HOLD_TRANSFER
    hold.refresh_from_db()
    assert hold.is_trapped


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_desks_pulling_one_copy_for_two_holds_trap_it_once(
    sui_librarian, sui_consignment, sui_central, sui_branch, xiaolin_site, loan_rules
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    for round_number in range(10):
        book = make_item(sui_consignment, sui_branch, f"NL5100{round_number:04}", title="白鹿原")
        now = timezone.now()
        for card, pickup, days in (("A", xiaolin_site, 2), ("B", sui_central, 1)):
            hold_place(
                user=sui_librarian,
                patron=reader(sui_central, f"SXR{round_number}{card}"),
                title=book.title,
                pickup_site=pickup,
                now=now - timedelta(days=days),
            )
        # Two desks scan the same copy at the same moment.
        scan = partial(hold_pull, user=sui_librarian, site=sui_branch, barcode=book.barcode)
        outcomes = at_once(scan, scan)
        refused = [o for o in outcomes if isinstance(o, Refused)]
        won = [o for o in outcomes if not isinstance(o, Exception)]
        assert len(won) == 1 and len(refused) == 1, outcomes
        assert won[0].destination == xiaolin_site  # the reader waiting longest
        assert Hold.objects.filter(item=book, status="trapped").count() == 1
        assert TransferLine.objects.filter(item=book, is_open=True).count() == 1
    assert find_violations() == []
