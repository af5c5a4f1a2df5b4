"""Holds: place, trap on return (here or on a transfer), fill, cancel, expire."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from circulation.integrity import find_violations
from circulation.models import Hold
from circulation.services.holds import hold_cancel, hold_place, hold_ready, holds_expire
from circulation.services.loans import loan_checkout, loan_return
from circulation.services.routing import Action
from collections_app.errors import Refused
from collections_app.models import Transfer
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item


@pytest.fixture
def book(sui_consignment, sui_central):
    return make_item(sui_consignment, sui_central, "NL40000001", title="白鹿原", clc="I247.5")


@pytest.fixture
def lent(sui_librarian, sui_central, wang, book):
    return loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)


def test_a_returned_copy_is_trapped_for_the_reader_at_the_pickup_site(
    sui_librarian, sui_central, li, book, lent
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    assert hold.status == "waiting"
    done = loan_return(user=sui_librarian, site=sui_central, barcode=book.barcode)
    assert done.routing.action == Action.HOLD_SHELF
    assert "李强" in done.routing.message
    hold.refresh_from_db()
    assert (hold.status, hold.item_id) == ("trapped", book.pk)
    assert hold_ready(hold)


def test_a_trapped_copy_is_refused_to_others_and_lent_to_its_reader(
    sui_librarian, sui_central, wang, li, book, lent
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    loan_return(user=sui_librarian, site=sui_central, barcode=book.barcode)
    with pytest.raises(Refused, match="已为预约的读者保留"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    done = loan_checkout(user=sui_librarian, site=sui_central, patron=li, barcode=book.barcode)
    assert done.hold == hold
    hold.refresh_from_db()
    assert hold.status == "fulfilled" and hold.closed_at is not None


def test_a_copy_returned_elsewhere_travels_to_the_pickup_site_on_a_hold_transfer(
    sui_librarian, xiaolin_volunteer, sui_central, sui_branch, xiaolin_site, li, book, lent
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_branch)
    done = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode=book.barcode)
    assert done.routing.action == Action.HOLD_TRANSFER
    transfer = Transfer.objects.get()
    assert (transfer.source, transfer.destination, transfer.reason) == (
        xiaolin_site,
        sui_branch,
        "hold",
    )
    hold.refresh_from_db()
    assert hold.is_trapped and not hold_ready(hold)
    transfer_dispatch(user=xiaolin_volunteer, transfer=transfer)
    transfer_receive(
        user=sui_librarian, transfer=transfer, site=sui_branch, barcodes=[book.barcode]
    )
    hold.refresh_from_db()
    assert hold_ready(hold)
    book.refresh_from_db()
    assert book.home_site == sui_central  # a hold transfer does not rehome the copy
    loan_checkout(user=sui_librarian, site=sui_branch, patron=li, barcode=book.barcode)


def test_a_hold_on_a_copy_on_the_shelf_here_is_trapped_at_once(
    sui_librarian, sui_central, li, book
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    assert hold.is_trapped and hold.item == book


def test_a_reader_holds_a_title_once(sui_librarian, sui_central, li, book, lent):
    hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    with pytest.raises(Refused, match="已经预约"):
        hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)


def test_holds_follow_the_rule(sui_librarian, sui_central, li, book, lent, loan_rules):
    for rule in loan_rules:
        rule.holds_allowed = False
        rule.save()
    with pytest.raises(Refused, match="不能预约"):
        hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)


def test_a_reader_does_not_hold_a_book_they_have(sui_librarian, sui_central, wang, book, lent):
    with pytest.raises(Refused, match="已经借着"):
        hold_place(user=sui_librarian, patron=wang, title=book.title, pickup_site=sui_central)


def test_cancelling_a_trapped_hold_passes_the_copy_to_the_next_reader(
    sui_librarian, sui_central, wang, li, book, lent
):
    first = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    loan_return(user=sui_librarian, site=sui_central, barcode=book.barcode)
    second = hold_place(user=sui_librarian, patron=wang, title=book.title, pickup_site=sui_central)
    hold_cancel(user=sui_librarian, hold=first)
    second.refresh_from_db()
    assert second.is_trapped and second.item == book


def test_holds_expire_when_waiting_too_long_or_not_picked_up(
    sui_librarian, sui_central, wang, li, book, lent
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    loan_return(user=sui_librarian, site=sui_central, barcode=book.barcode)
    assert holds_expire(dry_run=True) == {"waiting": 0, "trapped": 0}
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert holds_expire(dry_run=True) == {"waiting": 0, "trapped": 1}
        assert Hold.objects.get().is_trapped
        assert holds_expire() == {"waiting": 0, "trapped": 1}
    hold.refresh_from_db()
    assert hold.status == "expired"
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    late = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    with time_machine.travel(timezone.now() + timedelta(days=91)):
        assert holds_expire() == {"waiting": 1, "trapped": 0}
    late.refresh_from_db()
    assert late.status == "expired"


# Site staff: holds at their sites, or of readers registered there


@pytest.fixture
def holds_of_three_kinds(sui_librarian, sui_central, xiaolin_site, wang, li, book, lent):
    """wang (registered at the central library) picking up at the central library and at the
    service point; li (registered at the service point) picking up at the central library."""
    other = make_item(book.consignment, sui_central, "NL40000002", title="围城", clc="I246.5")
    third = make_item(book.consignment, sui_central, "NL40000003", title="边城", clc="I246.5")
    loan_checkout(user=sui_librarian, site=sui_central, patron=li, barcode=other.barcode)
    loan_checkout(user=sui_librarian, site=sui_central, patron=li, barcode=third.barcode)
    return {
        "elsewhere": hold_place(
            user=sui_librarian, patron=wang, title=other.title, pickup_site=sui_central
        ),
        "pickup here": hold_place(
            user=sui_librarian, patron=wang, title=third.title, pickup_site=xiaolin_site
        ),
        "reader of here": hold_place(
            user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central
        ),
    }


def test_site_staff_cancel_only_holds_of_their_sites(xiaolin_volunteer, holds_of_three_kinds):
    with pytest.raises(Refused, match="只能取消在您的站点取书"):
        hold_cancel(user=xiaolin_volunteer, hold=holds_of_three_kinds["elsewhere"])
    hold_cancel(user=xiaolin_volunteer, hold=holds_of_three_kinds["pickup here"])
    hold_cancel(user=xiaolin_volunteer, hold=holds_of_three_kinds["reader of here"])
    statuses = {name: Hold.objects.get(pk=h.pk).status for name, h in holds_of_three_kinds.items()}
    assert statuses == {
        "elsewhere": "waiting",
        "pickup here": "cancelled",
        "reader of here": "cancelled",
    }


def test_librarians_cancel_any_hold_of_their_library_only(
    sui_librarian, zengdu_librarian, holds_of_three_kinds
):
    with pytest.raises(Refused):
        hold_cancel(user=zengdu_librarian, hold=holds_of_three_kinds["elsewhere"])
    hold_cancel(user=sui_librarian, hold=holds_of_three_kinds["elsewhere"])


def test_site_staff_place_holds_for_pickup_at_their_own_sites(
    xiaolin_volunteer, sui_central, xiaolin_site, li, book, lent
):
    with pytest.raises(Refused, match="不能办理在“随县图书馆总馆”取书的预约"):
        hold_place(user=xiaolin_volunteer, patron=li, title=book.title, pickup_site=sui_central)
    hold = hold_place(user=xiaolin_volunteer, patron=li, title=book.title, pickup_site=xiaolin_site)
    assert hold.status == "waiting"


def test_a_copy_kept_for_a_reader_goes_on_no_other_transfer(
    sui_librarian, sui_central, sui_branch, li, book
):
    hold = hold_place(user=sui_librarian, patron=li, title=book.title, pickup_site=sui_central)
    hold.refresh_from_db()
    assert hold.item == book
    rotation = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="rotation"
    )
    with pytest.raises(Refused) as refused:
        transfer_add_items(user=sui_librarian, transfer=rotation, items=[book])
    assert "预约" in str(refused.value)
    assert not rotation.lines.exists()
    assert find_violations() == []
