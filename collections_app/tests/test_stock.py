"""Marking volumes missing, damaged, withdrawn or found again (collections_app.services.stock)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from circulation.models import Hold, LoanRule, Patron
from circulation.services.loans import loan_checkout
from collections_app.errors import Refused
from collections_app.models import Box, Display, Item, ItemEvent
from collections_app.services.boxes import box_pack
from collections_app.services.displays import display_place
from collections_app.services.stock import item_mark
from collections_app.services.transfers import transfer_add_items, transfer_create
from conftest import make_item


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL2000000{n}") for n in range(3)]


@pytest.fixture
def reader(sui_central):
    LoanRule.objects.create(
        library=sui_central.library, category="adult", loan_days=30, max_items=5
    )
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX900001",
        name="张三",
        category="adult",
        home_site=sui_central,
    )


def statuses(items):
    return [Item.objects.get(pk=item.pk).status for item in items]


def test_marking_missing_writes_each_volume_history(sui_librarian, shelf):
    assert item_mark(user=sui_librarian, items=shelf[:2], status="missing", note="盘点未见") == 2
    assert statuses(shelf) == ["missing", "missing", "available"]
    events = ItemEvent.objects.filter(kind="status_changed")
    assert sorted(events.values_list("item_id", "from_status", "to_status", "note", "user")) == [
        (item.pk, "available", "missing", "盘点未见", sui_librarian.pk) for item in shelf[:2]
    ]


def test_a_found_volume_comes_back_on_the_shelf(sui_librarian, shelf):
    item_mark(user=sui_librarian, items=shelf[:1], status="missing")
    assert item_mark(user=sui_librarian, items=shelf[:1], status="available") == 1
    assert statuses(shelf[:1]) == ["available"]
    last = ItemEvent.objects.filter(item=shelf[0]).last()
    assert (last.from_status, last.to_status) == ("missing", "available")


def test_marking_twice_changes_nothing_the_second_time(sui_librarian, shelf):
    item_mark(user=sui_librarian, items=shelf, status="damaged")
    assert item_mark(user=sui_librarian, items=shelf, status="damaged") == 0
    assert ItemEvent.objects.count() == 3


def test_a_volume_on_loan_is_refused_and_nothing_is_marked(
    sui_librarian, sui_central, shelf, reader
):
    loan_checkout(user=sui_librarian, site=sui_central, barcode=shelf[1].barcode, patron=reader)
    with pytest.raises(Refused) as refused:
        item_mark(user=sui_librarian, items=shelf, status="missing")
    assert [problem.where for problem in refused.value.problems] == [shelf[1].barcode]
    assert "归还" in refused.value.problems[0].message
    assert statuses(shelf) == ["available", "on_loan", "available"]
    assert not ItemEvent.objects.filter(kind="status_changed").exists()


def test_a_volume_on_an_open_transfer_is_refused(sui_librarian, sui_central, xiaolin_site, shelf):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:1])
    with pytest.raises(Refused) as refused:
        item_mark(user=sui_librarian, items=shelf[:1], status="withdrawn")
    assert f"#{transfer.pk}" in refused.value.problems[0].message
    assert statuses(shelf[:1]) == ["available"]


def test_a_copy_trapped_for_a_reader_is_refused(sui_librarian, sui_central, shelf, reader):
    now = timezone.now()
    Hold.objects.create(
        library=sui_central.library,
        patron=reader,
        title=shelf[0].title,
        pickup_site=sui_central,
        status="trapped",
        item=shelf[0],
        trapped_at=now,
        expires_at=now + timedelta(days=30),
    )
    with pytest.raises(Refused) as refused:
        item_mark(user=sui_librarian, items=shelf[:1], status="missing")
    assert "预约" in refused.value.problems[0].message


@pytest.mark.parametrize("status", ["expected", "returned_to_lender", "in_transit"])
def test_volumes_other_services_own_are_refused(sui_librarian, shelf, status):
    Item.objects.filter(pk=shelf[0].pk).update(status=status)
    with pytest.raises(Refused):
        item_mark(user=sui_librarian, items=shelf[:1], status="available")
    assert statuses(shelf[:1]) == [status]


@pytest.mark.parametrize("status", ["on_loan", "in_transit", "expected", "nonsense"])
def test_only_the_stock_statuses_can_be_set(sui_librarian, shelf, status):
    with pytest.raises(Refused):
        item_mark(user=sui_librarian, items=shelf, status=status)
    assert statuses(shelf) == ["available"] * 3


def test_another_county_cannot_mark_our_volumes(zengdu_librarian, xiaolin_volunteer, shelf):
    for user in (zengdu_librarian, xiaolin_volunteer):
        with pytest.raises(Refused):
            item_mark(user=user, items=shelf, status="missing")
    assert statuses(shelf) == ["available"] * 3


def test_a_volume_out_of_service_leaves_its_display_and_box(sui_librarian, sui_central, shelf):
    display = Display.objects.create(
        library=sui_central.library,
        site=sui_central,
        name="国图文献专架",
        starts_on=timezone.localdate(),
    )
    display_place(user=sui_librarian, display=display, items=shelf[:1])
    box = Box.objects.create(library=sui_central.library, code="BX001", name="一号书箱")
    box_pack(user=sui_librarian, box=box, items=shelf[1:2])
    item_mark(user=sui_librarian, items=shelf[:2], status="damaged")
    assert list(
        Item.objects.filter(pk__in=[shelf[0].pk, shelf[1].pk]).values_list("display", "box")
    ) == [(None, None), (None, None)]
