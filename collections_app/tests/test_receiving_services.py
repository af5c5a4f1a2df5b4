"""Scanning in and signing off: states, history rows, counts that add up."""

from datetime import date

import pytest
from django.db.models import Count

from circulation.integrity import find_violations
from collections_app.errors import Refused
from collections_app.models import Consignment, Item, ItemEvent, ReceiptEntry
from collections_app.services.receiving import (
    consignment_import,
    consignment_scan,
    consignment_sign_off,
    consignment_start_receiving,
)
from collections_app.tests.manifest_files import DATA, csv_bytes, rows


@pytest.fixture
def receiving(nlc, suixian, sui_central, sui_librarian):
    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )
    consignment_import(user=sui_librarian, consignment=consignment, data=csv_bytes(rows(6)))
    return consignment_start_receiving(user=sui_librarian, consignment=consignment)


def status_counts(consignment):
    return dict(
        Item.objects.filter(consignment=consignment)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )


def test_receiving_cannot_start_before_a_manifest_is_imported(sui_librarian, nlc, suixian):
    empty = Consignment.objects.create(
        library=suixian, lender=nlc, reference="EMPTY", agreement_date=date(2024, 3, 1)
    )
    with pytest.raises(Refused, match="先导入"):
        consignment_start_receiving(user=sui_librarian, consignment=empty)


def test_a_scanned_item_lands_available_at_the_central_library_with_its_history(
    sui_librarian, receiving, sui_central
):
    result = consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000001")
    assert result.outcome == "received"
    item = Item.objects.get(barcode="NL2100000001")
    assert (item.status, item.current_site, item.home_site) == (
        "available",
        sui_central,
        sui_central,
    )
    event = item.events.get(kind="received")
    assert (event.from_status, event.to_status, event.user) == (
        "expected",
        "available",
        sui_librarian,
    )


def test_full_width_scanner_input_is_read_as_the_barcode(sui_librarian, receiving):
    result = consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="ＮＬ２１０００００００２ "
    )
    assert (result.barcode, result.outcome) == ("NL2100000002", "received")


def test_every_scan_is_recorded_even_the_unknown_and_duplicate_ones(sui_librarian, receiving):
    for code in ["NL2100000001", "NL2100000001", "ZZ0001", "!!"]:
        consignment_scan(user=sui_librarian, consignment=receiving, barcode=code)
    assert list(ReceiptEntry.objects.values_list("outcome", flat=True)) == [
        "received",
        "already",
        "extra",
        "invalid",
    ]
    assert ItemEvent.objects.filter(kind="received").count() == 1


def test_an_item_of_another_consignment_is_not_received_into_this_one(
    sui_librarian, receiving, sui_item
):
    result = consignment_scan(user=sui_librarian, consignment=receiving, barcode=sui_item.barcode)
    assert result.outcome == "extra"
    sui_item.refresh_from_db()
    assert sui_item.status == "available"


def test_damage_is_marked_at_the_scan_or_by_scanning_again(sui_librarian, receiving):
    first = consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="NL2100000001", damaged=True
    )
    consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000002")
    second = consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="NL2100000002", damaged=True
    )
    assert (first.outcome, second.outcome) == ("damaged", "damaged")
    assert status_counts(receiving) == {"damaged": 2, "expected": 4}


def test_sign_off_makes_the_unscanned_missing_and_the_counts_add_up(sui_librarian, receiving):
    for code in ["NL2100000001", "NL2100000002", "NL2100000003"]:
        consignment_scan(user=sui_librarian, consignment=receiving, barcode=code)
    consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="NL2100000004", damaged=True
    )
    signed = consignment_sign_off(user=sui_librarian, consignment=receiving)
    assert signed.missing == 2
    assert status_counts(receiving) == {"available": 3, "damaged": 1, "missing": 2}
    assert sum(status_counts(receiving).values()) == 6
    assert ItemEvent.objects.filter(kind="status_changed", to_status="missing").count() == 2
    assert ReceiptEntry.objects.filter(outcome="missing").count() == 2
    receiving.refresh_from_db()
    assert (receiving.status, receiving.signed_off_by) == ("active", sui_librarian)
    with pytest.raises(Refused):
        consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000005")


def test_volunteers_of_a_service_point_cannot_scan_at_the_central_library(
    xiaolin_volunteer, receiving
):
    with pytest.raises(Refused, match="不能在"):
        consignment_scan(user=xiaolin_volunteer, consignment=receiving, barcode="NL2100000001")


def test_expected_items_cannot_be_moved_before_receipt(sui_librarian, receiving, sui_central):
    from collections_app.services.transfers import item_refusal

    item = Item.objects.get(barcode="NL2100000001")
    assert "待验收" in item_refusal(item, sui_central)


def test_the_marc_sample_goes_through_receipt(sui_librarian, nlc, suixian, sui_central):
    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="DP2", agreement_date=date(2024, 3, 1)
    )
    data = (DATA / "derived_dp2_cnmarc_utf8.iso").read_bytes()
    consignment_import(user=sui_librarian, consignment=consignment, data=data)
    consignment_start_receiving(user=sui_librarian, consignment=consignment)
    result = consignment_scan(user=sui_librarian, consignment=consignment, barcode="1683012")
    assert (result.outcome, result.title, result.call_number) == (
        "received",
        "'94中国发展报告",
        "F124/26",
    )


def test_each_scan_and_the_sign_off_leave_every_volume_history_matching_it(
    sui_librarian, receiving, sui_central
):
    consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000001")
    consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="NL2100000002", damaged=True
    )
    consignment_scan(user=sui_librarian, consignment=receiving, barcode="NL2100000001")
    consignment_scan(
        user=sui_librarian, consignment=receiving, barcode="NL2100000001", damaged=True
    )
    consignment_sign_off(user=sui_librarian, consignment=receiving)
    trail = list(
        ItemEvent.objects.filter(item__barcode="NL2100000001")
        .order_by("at", "id")
        .values_list("kind", "from_status", "to_status")
    )
    assert trail == [
        ("imported", "", "expected"),
        ("received", "expected", "available"),
        ("status_changed", "available", "damaged"),
    ]
    assert Item.objects.get(barcode="NL2100000001").home_site == sui_central
    assert find_violations() == []
