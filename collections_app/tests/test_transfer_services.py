"""Transfers: build, dispatch, receive (partial, damaged, extra, missing), cancel."""

import pytest

from circulation.models import Loan
from collections_app.errors import Refused
from collections_app.models import Item, ItemEvent, Transfer, TransferLine
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_cancel,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL1000000{n}") for n in range(5)]


@pytest.fixture
def draft(sui_librarian, sui_central, xiaolin_site, shelf):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:3])
    return transfer


def refresh(items):
    return {item.barcode: Item.objects.get(pk=item.pk) for item in items}


def test_dispatch_puts_every_item_in_transit_with_its_history(sui_librarian, draft, shelf):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    items = refresh(shelf)
    assert [items[item.barcode].status for item in shelf] == ["in_transit"] * 3 + ["available"] * 2
    events = ItemEvent.objects.filter(transfer=draft, kind="dispatched")
    assert events.count() == 3
    assert set(events.values_list("from_status", "to_status")) == {("available", "in_transit")}


def test_an_item_on_loan_cannot_go_on_a_transfer(sui_librarian, sui_central, xiaolin_site, shelf):
    Item.objects.filter(pk=shelf[0].pk).update(status="on_loan")
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )
    with pytest.raises(Refused) as refused:
        transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf)
    assert [problem.where for problem in refused.value.problems] == [shelf[0].barcode]
    assert "已借出" in refused.value.problems[0].message
    assert not transfer.lines.exists()


def test_an_item_cannot_be_on_two_open_transfers(
    sui_librarian, sui_central, sui_branch, draft, shelf
):
    other = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="rotation"
    )
    with pytest.raises(Refused) as refused:
        transfer_add_items(user=sui_librarian, transfer=other, items=[shelf[0]])
    assert f"#{draft.pk}" in refused.value.problems[0].message


def test_a_partial_receipt_leaves_the_rest_in_transit(
    sui_librarian, xiaolin_volunteer, xiaolin_site, draft, shelf
):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    receipt = transfer_receive(
        user=xiaolin_volunteer, transfer=draft, site=xiaolin_site, barcodes=[shelf[0].barcode]
    )
    assert receipt.received == [shelf[0].barcode] and not receipt.completed
    items = refresh(shelf)
    assert items[shelf[0].barcode].status == "available"
    assert items[shelf[0].barcode].current_site == xiaolin_site
    assert items[shelf[0].barcode].home_site == xiaolin_site
    assert items[shelf[1].barcode].status == "in_transit"
    draft.refresh_from_db()
    assert draft.status == "dispatched"


def test_receipt_with_one_missing_one_damaged_and_one_extra(
    sui_librarian, xiaolin_site, draft, shelf
):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    receipt = transfer_receive(
        user=sui_librarian,
        transfer=draft,
        site=xiaolin_site,
        barcodes=[shelf[0].barcode, shelf[1].barcode, shelf[4].barcode, "NOPE-1"],
        damaged=[shelf[1].barcode],
        finish=True,
    )
    assert receipt.received == [shelf[0].barcode]
    assert receipt.damaged == [shelf[1].barcode]
    assert receipt.extra == [shelf[4].barcode]
    assert receipt.missing == [shelf[2].barcode]
    assert [problem.where for problem in receipt.problems] == ["NOPE-1"]
    assert receipt.completed
    items = refresh(shelf)
    assert items[shelf[1].barcode].status == "damaged"
    assert items[shelf[2].barcode].status == "missing"
    assert items[shelf[4].barcode].current_site == xiaolin_site
    states = dict(draft.lines.values_list("item__barcode", "state"))
    assert states[shelf[4].barcode] == "extra"
    assert not TransferLine.objects.filter(transfer=draft, is_open=True).exists()


def test_a_receipt_only_at_the_destination(sui_librarian, sui_branch, draft, shelf):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    with pytest.raises(Refused, match="小林一中"):
        transfer_receive(
            user=sui_librarian, transfer=draft, site=sui_branch, barcodes=[shelf[0].barcode]
        )


def test_a_volunteer_cannot_receive_at_another_site(
    xiaolin_volunteer, sui_librarian, sui_central, sui_branch, shelf
):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="allocation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:1])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    with pytest.raises(Refused):
        transfer_receive(
            user=xiaolin_volunteer, transfer=transfer, site=sui_branch, barcodes=[shelf[0].barcode]
        )


def test_scanning_an_item_twice_is_harmless(sui_librarian, xiaolin_site, draft, shelf):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    transfer_receive(
        user=sui_librarian, transfer=draft, site=xiaolin_site, barcodes=[shelf[0].barcode]
    )
    again = transfer_receive(
        user=sui_librarian, transfer=draft, site=xiaolin_site, barcodes=[shelf[0].barcode]
    )
    assert again.already == [shelf[0].barcode]
    assert ItemEvent.objects.filter(item=shelf[0], kind="arrived").count() == 1


def test_cancelling_a_dispatched_transfer_restores_the_items(
    sui_librarian, sui_central, draft, shelf
):
    transfer_dispatch(user=sui_librarian, transfer=draft)
    transfer_cancel(user=sui_librarian, transfer=draft)
    items = refresh(shelf)
    assert {items[item.barcode].status for item in shelf} == {"available"}
    assert {items[item.barcode].current_site_id for item in shelf} == {sui_central.pk}
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    assert not draft.lines.filter(is_open=True).exists()


def test_an_item_lent_after_the_draft_stops_the_dispatch(sui_librarian, draft, shelf):
    Item.objects.filter(pk=shelf[0].pk).update(status="on_loan")
    with pytest.raises(Refused) as refused:
        transfer_dispatch(user=sui_librarian, transfer=draft)
    assert [problem.where for problem in refused.value.problems] == [shelf[0].barcode]
    assert Item.objects.filter(status="in_transit").count() == 0
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_return_to_the_lender_ends_with_the_volumes_returned(sui_librarian, sui_central, shelf):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=None, reason="return_to_lender"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:2])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    receipt = transfer_receive(
        user=sui_librarian, transfer=transfer, site=None, barcodes=[i.barcode for i in shelf[:2]]
    )
    assert receipt.completed
    assert set(
        Item.objects.filter(pk__in=[i.pk for i in shelf[:2]]).values_list("status", flat=True)
    ) == {"returned_to_lender"}


def test_a_volunteer_cannot_send_from_the_central_library(
    xiaolin_volunteer, sui_central, xiaolin_site
):
    with pytest.raises(Refused):
        transfer_create(
            user=xiaolin_volunteer, source=sui_central, destination=xiaolin_site, reason="rotation"
        )
    assert not Transfer.objects.exists()
    assert not Loan.objects.exists()
