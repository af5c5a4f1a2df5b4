"""A copy received at a pickup site fills the hold waiting there: the transfer receipt (and a
book box received with one scan) traps it for the reader who has waited longest, as a return
there would, and a copy that travelled there trapped for a reader is ready on arrival."""

from datetime import timedelta
from functools import partial

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from circulation.integrity import find_violations
from circulation.models import Hold, Patron
from circulation.services.holds import hold_cancel, hold_place, hold_ready, pullable_holds
from circulation.services.loans import loan_checkout, loan_return
from circulation.services.patrons import patron_set_pin
from circulation.services.routing import Action
from collections_app.models import Box, Item
from collections_app.services.boxes import box_pack, box_send
from collections_app.services.holdings import holdings_add
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import at_once, make_item


@pytest.fixture
def book(sui_consignment, sui_central):
    """One copy of 白鹿原 at the central library."""
    return make_item(sui_consignment, sui_central, "NL60000001", title="白鹿原", clc="I247.5")


def copy_of(book: Item, site, barcode) -> Item:
    item = Item.objects.create(
        library=book.library,
        barcode=barcode,
        title=book.title,
        consignment=book.consignment,
        owner=book.owner,
        call_number=book.call_number,
        home_site=site,
        current_site=site,
    )
    holdings_add(item_ids=[item.pk])
    return item


def reader(site, card, name):
    return Patron.objects.create(
        library=site.library,
        card_number=card,
        name=name,
        category=Patron.Category.ADULT,
        home_site=site,
    )


def wait_for(user, patron, book, site, days_ago):
    """A hold placed `days_ago` while every copy is away, so it waits."""
    when = timezone.now() - timedelta(days=days_ago)
    hold = hold_place(user=user, patron=patron, title=book.title, pickup_site=site, now=when)
    assert hold.is_waiting
    return hold


def send(user, items, source, destination, reason="rotation"):
    transfer = transfer_create(user=user, source=source, destination=destination, reason=reason)
    transfer_add_items(user=user, transfer=transfer, items=items)
    return transfer_dispatch(user=user, transfer=transfer)


def receive(user, transfer, site, barcodes, **kwargs):
    return transfer_receive(user=user, transfer=transfer, site=site, barcodes=barcodes, **kwargs)


def test_a_copy_received_at_the_pickup_site_is_trapped_for_the_reader_waiting_longest(
    sui_librarian, sui_central, sui_branch, wang, li, book
):
    transfer = send(sui_librarian, [book], sui_central, sui_branch)
    newer = wait_for(sui_librarian, wang, book, sui_branch, days_ago=1)
    older = wait_for(sui_librarian, li, book, sui_branch, days_ago=4)
    receipt = receive(sui_librarian, transfer, sui_branch, [book.barcode])
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.status, older.item_id) == ("trapped", book.pk)
    assert hold_ready(older)
    assert newer.is_waiting
    assert "李强" in receipt.held[book.barcode]
    with pytest.raises(Exception, match="已为预约的读者保留"):
        loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=book.barcode)
    loan_checkout(user=sui_librarian, site=sui_branch, patron=li, barcode=book.barcode)
    older.refresh_from_db()
    assert older.status == "fulfilled"
    assert find_violations() == []


def test_two_copies_received_fill_two_holds_in_the_order_they_were_placed(
    sui_librarian, sui_central, sui_branch, wang, li, book
):
    second = copy_of(book, sui_central, "NL60000002")
    transfer = send(sui_librarian, [book, second], sui_central, sui_branch)
    third = reader(sui_branch, "SX000077", "张三")
    first_hold = wait_for(sui_librarian, li, book, sui_branch, days_ago=9)
    second_hold = wait_for(sui_librarian, wang, book, sui_branch, days_ago=5)
    last_hold = wait_for(sui_librarian, third, book, sui_branch, days_ago=2)
    receive(sui_librarian, transfer, sui_branch, [second.barcode, book.barcode])
    holds = {h.pk: h for h in Hold.objects.all()}
    assert {holds[first_hold.pk].item_id, holds[second_hold.pk].item_id} == {book.pk, second.pk}
    assert holds[last_hold.pk].is_waiting
    assert find_violations() == []


@pytest.mark.parametrize("case", ["nobody waits", "another pickup site", "expired", "damaged"])
def test_nothing_is_trapped_when_no_reader_waits_here(
    sui_librarian, sui_central, sui_branch, xiaolin_site, li, book, case
):
    transfer = send(sui_librarian, [book], sui_central, sui_branch)
    hold = None
    if case == "another pickup site":
        hold = wait_for(sui_librarian, li, book, xiaolin_site, days_ago=3)
    elif case in ("expired", "damaged"):
        hold = wait_for(sui_librarian, li, book, sui_branch, days_ago=3)
    if case == "expired":
        Hold.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    damaged = [book.barcode] if case == "damaged" else []
    receipt = receive(sui_librarian, transfer, sui_branch, [book.barcode], damaged=damaged)
    assert receipt.held == {}
    assert not Hold.objects.trapped().exists()
    if hold is not None:
        hold.refresh_from_db()
        assert hold.status == "waiting" and hold.item_id is None
    book.refresh_from_db()
    assert book.current_site == sui_branch
    assert find_violations() == []


def test_a_copy_sent_trapped_for_a_hold_is_ready_on_receipt_and_traps_nobody_else(
    sui_librarian, xiaolin_volunteer, sui_central, sui_branch, xiaolin_site, wang, li, book
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    hold = wait_for(sui_librarian, li, book, sui_branch, days_ago=2)
    third = reader(sui_branch, "SX000078", "张三")
    other = wait_for(sui_librarian, third, book, sui_branch, days_ago=1)
    done = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode=book.barcode)
    transfer = done.routing.transfer
    assert transfer.reason == "hold"
    transfer_dispatch(user=xiaolin_volunteer, transfer=transfer)
    receipt = receive(sui_librarian, transfer, sui_branch, [book.barcode])
    hold.refresh_from_db()
    other.refresh_from_db()
    assert hold.item_id == book.pk and hold_ready(hold)
    assert other.is_waiting
    assert "李强" in receipt.held[book.barcode]
    assert find_violations() == []


def test_a_cancelled_journey_back_to_a_reader_waiting_at_the_source_traps_the_copy_there(
    sui_librarian, sui_central, sui_branch, li, book
):
    transfer = send(sui_librarian, [book], sui_central, sui_branch)
    hold = wait_for(sui_librarian, li, book, sui_central, days_ago=2)
    transfer_cancel(user=sui_librarian, transfer=transfer)
    hold.refresh_from_db()
    book.refresh_from_db()
    assert (book.status, book.current_site) == ("available", sui_central)
    assert (hold.status, hold.item_id) == ("trapped", book.pk) and hold_ready(hold)
    assert find_violations() == []


def test_a_copy_on_its_way_to_a_reader_that_is_called_back_frees_the_hold_to_wait_again(
    sui_librarian, xiaolin_volunteer, sui_central, sui_branch, xiaolin_site, wang, li, book
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    hold = wait_for(sui_librarian, li, book, sui_branch, days_ago=2)
    transfer = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode=book.barcode)
    transfer = transfer_dispatch(user=xiaolin_volunteer, transfer=transfer.routing.transfer)
    transfer_cancel(user=xiaolin_volunteer, transfer=transfer)
    hold.refresh_from_db()
    book.refresh_from_db()
    # Not left trapped to a copy that stands at the wrong site off any transfer (which
    # check_integrity refuses): the reader waits again and the pull list offers the copy.
    assert (book.status, book.current_site) == ("available", xiaolin_site)
    assert (hold.status, hold.item_id, hold.trapped_at) == ("waiting", None, None)
    assert list(pullable_holds(book.library_id, timezone.now())) == [hold]
    assert find_violations() == []


def test_a_book_box_received_with_one_scan_fills_the_holds_waiting_there(
    sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, li, book, sui_consignment
):
    box = Box.objects.create(library=book.library, code="BOX-060", name="六十号流动书箱")
    other = make_item(sui_consignment, sui_central, "NL60000009", title="围城", clc="I246.5")
    box_pack(user=sui_librarian, box=box, items=[book, other])
    transfer = box_send(user=sui_librarian, box=box, destination=xiaolin_site)
    hold = wait_for(sui_librarian, li, book, xiaolin_site, days_ago=3)
    receipt = receive(xiaolin_volunteer, transfer, xiaolin_site, [box.code])
    assert receipt.completed
    hold.refresh_from_db()
    assert hold.item_id == book.pk and hold_ready(hold)
    assert list(receipt.held) == [book.barcode]
    assert find_violations() == []


def test_the_reader_sees_the_copy_ready_once_it_is_received(
    client, sui_librarian, sui_central, sui_branch, li, book
):
    transfer = send(sui_librarian, [book], sui_central, sui_branch)
    wait_for(sui_librarian, li, book, sui_branch, days_ago=1)
    patron_set_pin(user=sui_librarian, patron=li, pin="246810")
    library = sui_branch.library.code
    signed = client.post(
        reverse("readers:sign-in", args=[library]), {"card_number": li.card_number, "pin": "246810"}
    )
    assert signed.status_code == 302
    account = reverse("readers:account", args=[library])
    assert "书已到" not in client.get(account).content.decode()
    receive(sui_librarian, transfer, sui_branch, [book.barcode])
    assert f"书已到“{sui_branch.name}”" in client.get(account).content.decode()


def test_the_receiving_page_tells_the_receiver_to_put_the_copy_on_the_hold_shelf(
    client_for, sui_librarian, sui_central, sui_branch, li, book
):
    plain = copy_of(book, sui_central, "NL60000003")
    transfer = send(sui_librarian, [book, plain], sui_central, sui_branch)
    wait_for(sui_librarian, li, book, sui_branch, days_ago=1)
    url = reverse("collections:transfer-receive", args=[transfer.pk])
    fetch = {"HTTP_X_REQUESTED_WITH": "fetch"}
    desk = client_for(sui_librarian)
    kept = desk.post(url, {"barcode": f"{book.barcode[:4]} {book.barcode[4:]}"}, **fetch).json()
    assert kept["ok"] and kept["outcome"] == "received"
    assert "放到预约架" in kept["message"] and "李强" in kept["message"]
    shelved = desk.post(url, {"barcode": plain.barcode}, **fetch).json()
    assert shelved["ok"] and "预约" not in shelved["message"]


def test_the_api_receipt_lists_the_copies_kept_for_readers(
    sui_librarian, sui_central, sui_branch, li, book
):
    plain = copy_of(book, sui_central, "NL60000004")
    transfer = send(sui_librarian, [book, plain], sui_central, sui_branch)
    wait_for(sui_librarian, li, book, sui_branch, days_ago=1)
    api = APIClient()
    api.force_authenticate(sui_librarian)
    body = api.post(
        f"/api/v1/transfers/{transfer.pk}/receive/",
        {"barcodes": [book.barcode, plain.barcode]},
        format="json",
    ).json()
    assert body["completed"]
    assert list(body["held"]) == [book.barcode] and "李强" in body["held"][book.barcode]
    assert find_violations() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_receipt_and_a_return_at_the_pickup_site_at_once_trap_one_copy_for_one_hold(
    sui_librarian, sui_consignment, sui_central, sui_branch, wang, li
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    for round_number in range(8):
        arriving = make_item(sui_consignment, sui_central, f"NL6100{round_number:04}", title="活着")
        lent = copy_of(arriving, sui_branch, f"NL6200{round_number:04}")
        loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=lent.barcode)
        transfer = send(sui_librarian, [arriving], sui_central, sui_branch)
        hold = wait_for(sui_librarian, li, arriving, sui_branch, days_ago=1)
        receipt, returned = at_once(
            partial(receive, sui_librarian, transfer, sui_branch, [arriving.barcode]),
            partial(loan_return, user=sui_librarian, site=sui_branch, barcode=lent.barcode),
        )
        assert not isinstance(receipt, Exception) and not isinstance(returned, Exception)
        hold.refresh_from_db()
        assert hold.is_trapped and hold.item_id in {arriving.pk, lent.pk}
        assert hold_ready(hold)
        # Each desk is told of the hold shelf only for the copy the hold actually keeps.
        assert bool(receipt.held) == (hold.item_id == arriving.pk)
        assert (returned.routing.action == Action.HOLD_SHELF) == (hold.item_id == lent.pk)
        assert Hold.objects.trapped().filter(item__in=[arriving.pk, lent.pk]).count() == 1
        loan_checkout(user=sui_librarian, site=sui_branch, patron=li, barcode=hold.item.barcode)
        loan_return(user=sui_librarian, site=sui_branch, barcode=hold.item.barcode)
    assert find_violations() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("arrival", ["receipt", "return"])
def test_a_hold_placed_as_a_copy_comes_onto_the_pickup_shelf_gets_that_copy(
    sui_librarian, sui_consignment, sui_central, sui_branch, wang, li, arrival
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    for round_number in range(10):
        home = sui_central if arrival == "receipt" else sui_branch
        copy = make_item(sui_consignment, home, f"NL6300{round_number:04}", title="活着")
        if arrival == "receipt":
            transfer = send(sui_librarian, [copy], sui_central, sui_branch)
            arrive = partial(receive, sui_librarian, transfer, sui_branch, [copy.barcode])
        else:
            loan_checkout(user=sui_librarian, site=sui_branch, patron=wang, barcode=copy.barcode)
            arrive = partial(loan_return, user=sui_librarian, site=sui_branch, barcode=copy.barcode)
        arrived, hold = at_once(
            arrive,
            partial(
                hold_place, user=sui_librarian, patron=li, title=copy.title, pickup_site=sui_branch
            ),
        )
        assert not isinstance(arrived, Exception) and not isinstance(hold, Exception)
        hold.refresh_from_db()
        # Whichever committed first, the other saw it: never a waiting reader beside a free copy.
        assert (hold.status, hold.item_id) == ("trapped", copy.pk), round_number
        loan_checkout(user=sui_librarian, site=sui_branch, patron=li, barcode=copy.barcode)
        loan_return(user=sui_librarian, site=sui_branch, barcode=copy.barcode)
    assert find_violations() == []


@pytest.mark.parametrize("how", ["cancel the draft", "take the copy off the draft"])
def test_a_copy_kept_for_a_reader_elsewhere_that_never_leaves_frees_the_hold(
    sui_librarian, xiaolin_volunteer, sui_central, sui_branch, xiaolin_site, wang, li, book, how
):
    from collections_app.services.transfers import transfer_remove_items

    now = timezone.now()
    lend_at, trap_at = now - timedelta(days=100), now - timedelta(days=10)
    loan_checkout(
        user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode, now=lend_at
    )
    # Placed 95 days ago: its 90 days ran out while its copy was kept for it.
    hold = wait_for(sui_librarian, li, book, sui_branch, days_ago=95)
    draft = loan_return(
        user=xiaolin_volunteer, site=xiaolin_site, barcode=book.barcode, now=trap_at
    ).routing.transfer
    hold.refresh_from_db()
    left = hold.expires_at - hold.trapped_at
    assert hold.status == "trapped" and hold.expires_at < now
    if how == "cancel the draft":
        transfer_cancel(user=xiaolin_volunteer, transfer=draft)
    else:
        transfer_remove_items(user=xiaolin_volunteer, transfer=draft, items=[book])
    hold.refresh_from_db()
    assert (hold.status, hold.item_id) == ("waiting", None)
    # Not robbed of its days by the van that did not go: the time it had left, from now.
    assert hold.expires_at - timezone.now() > left - timedelta(minutes=1)
    assert list(pullable_holds(book.library_id, timezone.now())) == [hold]
    assert find_violations() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_hold_placed_as_a_kept_copy_is_freed_gets_that_copy(
    sui_librarian, sui_consignment, sui_branch, wang
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers, so nothing runs at once")
    for round_number in range(10):
        copy = make_item(sui_consignment, sui_branch, f"NL6400{round_number:04}", title="活着")
        first = hold_place(
            user=sui_librarian, patron=wang, title=copy.title, pickup_site=sui_branch
        )
        assert first.is_trapped
        other = reader(sui_branch, f"SX9{round_number:05}", "赵六")
        cancelled, hold = at_once(
            partial(hold_cancel, user=sui_librarian, hold=first),
            partial(
                hold_place,
                user=sui_librarian,
                patron=other,
                title=copy.title,
                pickup_site=sui_branch,
            ),
        )
        assert not isinstance(cancelled, Exception) and not isinstance(hold, Exception)
        hold.refresh_from_db()
        # The copy the first reader gave up goes to the second: never waiting beside it.
        assert (hold.status, hold.item_id) == ("trapped", copy.pk), round_number
        hold_cancel(user=sui_librarian, hold=hold)
    assert find_violations() == []
